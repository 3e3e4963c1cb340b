"""Fault injection per sandbox store: deterministic under a seed so tests are reproducible."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Fault(StrEnum):
    SERVER_ERROR = "server_error"  # a 5xx answer in the platform's shape, nothing written
    THROTTLE = "throttle"  # the platform's rate-limit answer, nothing written
    DROP_AFTER_COMMIT = "drop_after_commit"  # the write is stored, the connection is closed unanswered
    MALFORMED_JSON = "malformed_json"  # the write is stored, the body is cut mid-JSON
    # The platform's own "internal error" answer where it has one distinct from an edge 5xx (Shopify:
    # HTTP 200 with a top-level INTERNAL_SERVER_ERROR); nothing written. Elsewhere it is the 5xx answer.
    INTERNAL_ERROR = "internal_error"


@dataclass
class FaultPlan:
    """What goes wrong for one store. Counts fire first (``*_next``), then rates apply at random.

    ``only_writes`` limits faults to write operations, so a test can fault creates while reads work.
    """

    seed: int = 0
    latency_ms: int = 0
    server_error_rate: float = 0.0
    throttle_rate: float = 0.0
    server_error_next: int = 0
    throttle_next: int = 0
    drop_after_commit_next: int = 0
    malformed_json_next: int = 0
    internal_error_next: int = 0
    only_writes: bool = False
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultPlan:
        allowed = {k for k in cls.__dataclass_fields__ if not k.startswith("_")}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}

    def before(self, is_write: bool) -> Fault | None:
        """A fault that replaces the answer without touching state (decided before handling)."""
        if self.only_writes and not is_write:
            return None
        with self._lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return Fault.THROTTLE
            if self.server_error_next > 0:
                self.server_error_next -= 1
                return Fault.SERVER_ERROR
            if self.internal_error_next > 0:
                self.internal_error_next -= 1
                return Fault.INTERNAL_ERROR
            roll = self._rng.random()
            if roll < self.throttle_rate:
                return Fault.THROTTLE
            if roll < self.throttle_rate + self.server_error_rate:
                return Fault.SERVER_ERROR
        return None

    def after(self, is_write: bool) -> Fault | None:
        """A fault applied after the handler committed: the client does not learn the outcome."""
        if not is_write and self.only_writes:
            return None
        with self._lock:
            if is_write and self.drop_after_commit_next > 0:
                self.drop_after_commit_next -= 1
                return Fault.DROP_AFTER_COMMIT
            if self.malformed_json_next > 0:
                self.malformed_json_next -= 1
                return Fault.MALFORMED_JSON
        return None
