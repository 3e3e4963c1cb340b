"""Small pieces the client throughput benchmarks share."""

from __future__ import annotations

import threading
from collections import Counter

from sync_pipeline.platforms.base import CallRecord, TokenPair


class MemoryTokenStore:
    """Tokens kept in memory: a benchmark's shop lives only as long as the run."""

    def __init__(self) -> None:
        self.pairs: dict[str, TokenPair] = {}

    def load(self, store_key: str) -> TokenPair | None:
        return self.pairs.get(store_key)

    def save(self, store_key: str, pair: TokenPair) -> None:
        self.pairs[store_key] = pair


class CallCounter:
    """Counts HTTP calls by (operation, outcome, status) from the client's call records."""

    def __init__(self) -> None:
        self.outcomes: Counter[tuple[str, str, int | None]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, record: CallRecord) -> None:
        if record.latency_ms == 0.0:
            return  # a failure noted after the response was read: the call itself is already counted
        with self._lock:
            self.outcomes[(record.operation, record.outcome, record.http_status)] += 1
