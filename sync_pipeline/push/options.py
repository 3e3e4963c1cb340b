"""What a store's push is asked to do (``PushOptions``) and what it reports while it runs and at
the end (``PushProgress``, ``PushReport``); the engine (``engine.py``) fills them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sync_pipeline.platforms.base import CallObserver, ErrorClass, StoreClient
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.push.guard import DEFAULT_STALE_AFTER
from sync_pipeline.push.synclog import DEFAULT_RETENTION
from sync_pipeline.stores import StoreConfig

DEFAULT_ERROR_THRESHOLD = 0.05
MAX_FIRST_ERRORS = 5
ClientFactory = Callable[[CallObserver], StoreClient]


@dataclass(frozen=True)
class PushOptions:
    max_products: int | None = None  # staged rollout: at most this many writes
    skus: tuple[str, ...] | None = None  # push only these
    dry_run: bool = False  # plan and report, call nothing
    force: bool = False  # send listed products in full even when nothing changed
    rollout_step: int | None = None  # the store's rollout step this push runs (push/rollout.py)
    error_threshold: float = DEFAULT_ERROR_THRESHOLD  # share of failed writes that fails the run
    workers: int | None = None  # None: sized from the store's rate limit
    chunk_size: int = 100
    progress_every: int = 50
    progress_seconds: float = 5.0
    flush_every: int = 50
    flush_seconds: float = 1.0
    sync_log_retention: timedelta = DEFAULT_RETENTION
    stale_lock_after: timedelta = DEFAULT_STALE_AFTER
    kind: str = "push"  # push | retry (dead letters), recorded on push_runs
    requeue_retryable: int = 3  # rounds a product failing on a retryable error is sent again in the run
    requeue_delay_s: float = 1.0  # times the round number

    def as_params(self) -> dict[str, Any]:
        return {"max_products": self.max_products, "skus": list(self.skus) if self.skus is not None else None,
                "dry_run": self.dry_run, "error_threshold": self.error_threshold, "force": self.force,
                "rollout_step": self.rollout_step}


DEFAULT_OPTIONS = PushOptions()


@dataclass
class PushProgress:
    """What a user watches while a store's push runs (and its final figures)."""

    store_key: str
    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    delisted: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: int = 0
    adopted: int = 0  # creates that took over a merchant's product (SKUs matched): not counted as created
    calls: int = 0
    elapsed_s: float = 0.0
    first_errors: list[str] = field(default_factory=list)
    bulk_done: int = 0  # lines of the running bulk mutation done (push/bulk.py), of bulk_total
    bulk_total: int = 0
    bulk_pipeline_s: float = 0.0  # the pipeline's own work in bulk loads: building lines, reading results, rows
    bulk_pipeline_cpu_s: float = 0.0  # the CPU of that work (what load does not inflate)
    bulk_waiting_s: float = 0.0  # staging, starting and polling: the store's time

    def describe(self) -> str:
        bulk = f"bulk lines {self.bulk_done}/{self.bulk_total}, " if self.bulk_total else ""
        return (f"{self.store_key}: {self.done}/{self.total} done, {bulk}created {self.created}, "
                f"adopted {self.adopted}, updated {self.updated}, "
                f"delisted {self.delisted}, unchanged {self.unchanged}, invalid {self.invalid}, "
                f"errors {self.errors}, calls {self.calls}, {self.elapsed_s:.1f}s")

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class PushReport:
    run_id: str
    store_key: str
    dry_run: bool
    plan_counts: dict[str, int]
    field_changes: dict[str, int]
    progress: PushProgress
    writes_planned: int = 0
    skipped_by_limit: int = 0
    aborted: str | None = None  # why the run stopped early (rejected credentials)
    error_threshold: float = DEFAULT_ERROR_THRESHOLD

    @property
    def error_share(self) -> float:
        return self.progress.errors / self.writes_planned if self.writes_planned else 0.0

    @property
    def failed(self) -> bool:
        return self.aborted is not None or self.error_share > self.error_threshold

    def failure_message(self) -> str:
        if self.aborted:
            return f"store '{self.store_key}': push stopped: {self.aborted}"
        return (f"store '{self.store_key}': {self.progress.errors} of {self.writes_planned} writes failed "
                f"({self.error_share:.1%} > threshold {self.error_threshold:.1%}); first errors: "
                + "; ".join(self.progress.first_errors))


ProgressCallback = Callable[[PushProgress], None]


def workers_for(store: StoreConfig) -> int:
    """Enough threads to keep the store's request budget busy at loopback-to-WAN latencies, plus
    those the platform's writes hold while waiting with no request in flight (Shopee's tier wait)."""
    spec = platform_spec(store.platform)
    rps = spec.requests_per_second(store)
    workers = math.ceil(rps * 0.5) + spec.waiting_workers(store, rps)
    return max(4, min(64, workers))


DEAD_LETTER_CLASSES = tuple(c.value for c in ErrorClass) + ("UNEXPECTED",)


def check_error_classes(error_classes: Sequence[str]) -> None:
    """A misspelt class would match no dead letter and retry nothing, silently: refuse it."""
    unknown = sorted(set(error_classes) - set(DEAD_LETTER_CLASSES))
    if unknown:
        raise ValueError(f"unknown error class(es) {', '.join(unknown)}; choose from {', '.join(DEAD_LETTER_CLASSES)}")

