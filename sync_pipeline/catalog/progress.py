"""An import's figures (the seed's metrics) and the progress notes a long import writes.

Metric meanings, as stored in ``product_import_jobs.metrics``:

* ``total_found``: source rows found due in this import (new, changed, reconciled, rejected);
* ``processed``: of those, how many were handled (equals ``total_found`` when the job completes);
* ``inserted`` / ``updated``: catalog products written for the first time / rewritten;
* ``unchanged``: products whose content is what the catalog already has (same content hash):
  nothing written, as on every re-import of products that did not change;
* ``skipped``: rows with nothing to import and nothing wrong: products no longer sellable in
  Magento that the catalog does not hold as active (never imported, or already inactive);
* ``errors_count``: bad rows, not imported, each with a reason (the first 20 are kept in
  ``skipped_rows``); a product already in the catalog is kept there, inactive;

so ``processed == inserted + updated + unchanged + skipped + errors_count``.
* ``elapsed_ms``: wall time of the import so far;
* ``last_processed_source_id``: the highest Magento entity id the extract read past.

Beyond the seed's keys: ``skipped_rows`` (the first bad rows with reasons), ``variants_skipped``
and ``skipped_variants`` (children of configurables left out of their product, each with its
parent and reason, while the product keeps its other variants) and ``unsynced_types`` (products
of types the pipeline does not sync, counted per type).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sync_pipeline.magento.records import RejectedRow

SKIPPED_ROWS_KEPT = 20
PROGRESS_EVERY_PRODUCTS = 1000
PROGRESS_EVERY_SECONDS = 5.0


@dataclass
class ImportMetrics:
    total_found: int = 0
    processed: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors_count: int = 0
    elapsed_ms: int = 0
    last_processed_source_id: int = 0
    skipped_rows: list[RejectedRow] = field(default_factory=list)
    variants_skipped: int = 0
    skipped_variants: list[dict[str, str]] = field(default_factory=list)
    unsynced_types: dict[str, int] = field(default_factory=dict)

    def reject(self, row: RejectedRow) -> None:
        self.errors_count += 1
        if len(self.skipped_rows) < SKIPPED_ROWS_KEPT:
            self.skipped_rows.append(row)

    def skip_variant(self, parent_sku: str, sku: str, reason: str) -> None:
        self.variants_skipped += 1
        if len(self.skipped_variants) < SKIPPED_ROWS_KEPT:
            self.skipped_variants.append({"parent_sku": parent_sku, "sku": sku, "reason": reason})

    def count_unsynced(self, by_type: dict[str, int]) -> None:
        for type_id, count in by_type.items():
            self.unsynced_types[type_id] = self.unsynced_types.get(type_id, 0) + count

    def as_json(self) -> dict[str, Any]:
        """The job row's ``metrics``: the seed's keys, plus the first skipped rows with reasons."""
        data = asdict(self)
        data["skipped_rows"] = [
            {"source_id": r.source_id, "sku": r.sku, "reason": r.reason} for r in self.skipped_rows
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportMetrics:
        rows = [RejectedRow(int(r["source_id"]), str(r["sku"]), str(r["reason"]))
                for r in data.get("skipped_rows", [])]
        known = {k: int(v) for k, v in data.items() if k in _COUNTERS}
        return cls(**known, skipped_rows=rows,
                   skipped_variants=[{k: str(v) for k, v in row.items()} for row in data.get("skipped_variants", [])],
                   unsynced_types={str(k): int(v) for k, v in (data.get("unsynced_types") or {}).items()})


_COUNTERS = frozenset(
    ("total_found", "processed", "inserted", "updated", "unchanged", "skipped", "errors_count", "elapsed_ms",
     "last_processed_source_id", "variants_skipped")
)


@dataclass(frozen=True)
class Progress:
    """A progress note: which stage, how many products so far, and the figures."""

    stage: str  # extract | load
    done: int
    metrics: ImportMetrics
    elapsed_s: float

    def describe(self) -> str:
        m = self.metrics
        return (
            f"{self.stage}: {self.done} products after {self.elapsed_s:.1f}s "
            f"(found {m.total_found}, inserted {m.inserted}, updated {m.updated}, unchanged {m.unchanged}, "
            f"skipped {m.skipped}, errors {m.errors_count}, last source id {m.last_processed_source_id})"
        )


ProgressCallback = Callable[[Progress], None]


class ProgressReporter:
    """Calls back every ``every_products`` products or ``every_seconds``, whichever comes first."""

    def __init__(
        self,
        stage: str,
        callback: ProgressCallback | None,
        every_products: int = PROGRESS_EVERY_PRODUCTS,
        every_seconds: float = PROGRESS_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stage = stage
        self._callback = callback
        self._every_products = every_products
        self._every_seconds = every_seconds
        self._clock = clock
        self._started = clock()
        self._last_time = self._started
        self._last_done = 0
        self.done = 0

    def advance(self, count: int, metrics: ImportMetrics) -> None:
        self.done += count
        now = self._clock()
        due = (self.done - self._last_done >= self._every_products
               or now - self._last_time >= self._every_seconds)
        if due:
            self._report(metrics, now)

    def finish(self, metrics: ImportMetrics) -> None:
        self._report(metrics, self._clock())

    def elapsed_ms(self) -> int:
        return int((self._clock() - self._started) * 1000)

    def _report(self, metrics: ImportMetrics, now: float) -> None:
        self._last_time = now
        self._last_done = self.done
        if self._callback is not None:
            self._callback(Progress(self._stage, self.done, metrics, now - self._started))
