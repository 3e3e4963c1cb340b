"""Drift: products changed or deleted on a store behind the pipeline's back.

Every product the pipeline believes is listed is read back from the store and compared with the
listing as last pushed, by the push's own comparison (``push.verify.compare``), so the nightly
reconciliation and the push's spot check agree on what "in step" means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import PlatformError, RemoteRef, StoreClient
from sync_pipeline.push import ledger
from sync_pipeline.push.verify import compare

MISSING = "product: missing on the store"
# The clients map each platform's words to these; live or in review is in step, anything else is drift.
LIVE_STATUSES = frozenset({"active", "pending"})


@dataclass
class DriftReport:
    store_key: str
    checked: int = 0
    deleted: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # sku -> what differs
    unreadable: dict[str, str] = field(default_factory=dict)  # sku -> why the read failed

    @property
    def drifted(self) -> int:
        return len(self.deleted) + len(self.changed)

    @property
    def in_step(self) -> bool:
        return not self.drifted and not self.unreadable


def read_back_drift(engine: Engine, store_key: str, client: StoreClient, owned: frozenset[str] = frozenset(),
                limit: int | None = None, on_progress: Callable[[int], None] | None = None) -> DriftReport:
    """Read back every listed product of the store (or the first ``limit`` by SKU) and report drift."""
    rows = ledger.listed_mappings(engine, store_key, limit)
    report = DriftReport(store_key)
    for row in rows:
        ref = RemoteRef(row.external_id, dict(row.external_variant_ids or {}))
        try:
            remote = client.read_product(ref)
        except PlatformError as exc:
            report.unreadable[row.sku] = f"{exc.error_class}: {exc}"[:200]
            continue
        report.checked += 1
        problems = compare(Listing.from_json(dict(row.last_payload)), remote, owned)
        if remote is not None and remote.status.lower() not in LIVE_STATUSES:
            problems.append(f"status: store has {remote.status!r}")
        if MISSING in problems:
            report.deleted.append(row.sku)
        elif problems:
            report.changed[row.sku] = problems
        if on_progress is not None and report.checked % 100 == 0:
            on_progress(report.checked)
    return report
