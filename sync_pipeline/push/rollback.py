"""Undo one push run on one store, from the snapshots the run kept before each change.

Products the run created are deleted; products it updated or delisted get the listing as last
pushed before the run sent again (a full update, which also makes a delisted product active).
Merchant products the run adopted (a create that took over a product with the same handle and
SKUs) or first pushed over after ``adopt_store_listings`` get back the state read from the store
before the pipeline wrote over it. A product adopted by that job stays mapped, as never pushed
(the next push updates it again, as after any rollback); one the push itself adopted is forgotten
by the mapping table: it is the merchant's again.
The mapping rows follow, so the next push sees the catalog's listing differ and re-sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import CallObserver, ErrorClass, PlatformError, RemoteRef, StoreClient
from sync_pipeline.push import ledger
from sync_pipeline.push.guard import StorePushGuard
from sync_pipeline.push.plan import Action, MappingStatus
from sync_pipeline.push.synclog import SyncLog
from sync_pipeline.push.tables import push_rollback_snapshots
from sync_pipeline.stores import StoreConfig


@dataclass
class RollbackReport:
    store_key: str
    run_id: str
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # sku -> why

    @property
    def ok(self) -> bool:
        return not self.failed

    def describe(self) -> str:
        return (f"rollback of run {self.run_id} on {self.store_key}: {len(self.deleted)} created products removed, "
                f"{len(self.restored)} restored, {len(self.failed)} failed")


class NothingToRollBack(ValueError):
    """The run id names no push of this store (a typo, another store's run, or already undone)."""


def rollback_push(engine: Engine, store: StoreConfig, run_id: str,
                  client_factory: Callable[[CallObserver], StoreClient], *,
                  rollback_run_id: str | None = None) -> RollbackReport:
    """Raises ``NothingToRollBack`` before any call when the run left nothing to undo on the store."""
    report = RollbackReport(store.key, run_id)
    snapshots = _snapshots(engine, store.key, run_id)
    if not snapshots:
        raise NothingToRollBack(_nothing_to_roll_back(engine, store.key, run_id))
    own_run = rollback_run_id or f"rollback-{run_id}"
    sync_log = SyncLog(engine, own_run, store.key)
    with StorePushGuard(engine, store.key, own_run):
        ledger.start_run(engine, own_run, store.key, "rollback", {"rolled_back_run_id": run_id})
        client = client_factory(sync_log)
        try:
            for snapshot in snapshots:
                with sync_log.serving(snapshot["sku"]):
                    _undo(engine, client, store.key, snapshot, report)
        finally:
            client.close()
            sync_log.flush()
        ledger.finish_run(engine, own_run, store.key, "rollback", "succeeded" if report.ok else "failed",
                          {"restored": len(report.restored), "deleted": len(report.deleted),
                           "failed": len(report.failed)})
    return report


def _nothing_to_roll_back(engine: Engine, store_key: str, run_id: str) -> str:
    table = push_rollback_snapshots
    with engine.connect() as conn:
        undone = conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.store_key == store_key)
                              .where(table.c.run_id == run_id)).scalar_one()
        pushed_elsewhere = sorted(conn.execute(sa.select(table.c.store_key).distinct()
                                               .where(table.c.run_id == run_id)).scalars())
    if undone:
        return f"run '{run_id}' on store '{store_key}' was already rolled back ({undone} products)"
    where = f" (it pushed to: {', '.join(pushed_elsewhere)})" if pushed_elsewhere else " (no such push run)"
    return f"run '{run_id}' changed nothing on store '{store_key}'{where}; nothing to roll back"


def _snapshots(engine: Engine, store_key: str, run_id: str) -> list[dict[str, Any]]:
    table = push_rollback_snapshots
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(table.c.store_key == store_key).where(table.c.run_id == run_id)
                            .where(table.c.rolled_back_at.is_(None)).order_by(table.c.sku)).mappings()
        return [dict(r) for r in rows]


def _undo(engine: Engine, client: StoreClient, store_key: str, snapshot: dict[str, Any],
          report: RollbackReport) -> None:
    sku = snapshot["sku"]
    ref = RemoteRef(snapshot["external_id"], dict(snapshot["external_variant_ids"] or {})) \
        if snapshot["external_id"] else None
    try:
        if snapshot["action"] == ledger.ADOPT_ACTION:
            state = ledger.remote_from_state((snapshot["previous_payload"] or {})["store_state"])
            client.restore(state.ref, state)
            with engine.begin() as conn:
                _mark_rolled_back(conn, snapshot["id"])
                if ledger.adoption_kept(conn, store_key, sku):
                    # Adopted by adopt_store_listings: still the merchant's product, mapped as never pushed.
                    ledger.set_listing_hashes_stale(conn, store_key, sku, {}, MappingStatus.LISTED.value)
                else:
                    ledger.delete_mapping(conn, store_key, sku)
            report.restored.append(sku)
            return
        if snapshot["action"] == Action.CREATE.value:
            _delete_created(client, ref)
            with engine.begin() as conn:
                ledger.delete_mapping(conn, store_key, sku)
                _mark_rolled_back(conn, snapshot["id"])
            report.deleted.append(sku)
            return
        previous = snapshot["previous_payload"]
        if ref is None or not previous:
            report.failed[sku] = "no previous state was kept for this product"
            return
        listing = Listing.from_json(dict(previous))
        client.upsert(listing, ref)
        if snapshot["previous_status"] == MappingStatus.DELISTED.value:
            client.delist(ref, listing)
        with engine.begin() as conn:
            ledger.set_listing_hashes_stale(conn, store_key, sku, {**(snapshot["previous_hashes"] or {}),
                                                                   "payload": dict(previous)},
                                            snapshot["previous_status"] or MappingStatus.LISTED.value)
            _mark_rolled_back(conn, snapshot["id"])
        report.restored.append(sku)
    except PlatformError as exc:
        report.failed[sku] = f"{exc.error_class}: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - one product never stops the rollback
        report.failed[sku] = f"{type(exc).__name__}: {exc}"


def _delete_created(client: StoreClient, ref: RemoteRef | None) -> None:
    if ref is None:
        return
    try:
        client.delete_product(ref)
    except PlatformError as exc:
        if exc.error_class is not ErrorClass.NOT_FOUND:  # already gone is what we wanted
            raise


def _mark_rolled_back(conn: sa.Connection, snapshot_id: int) -> None:
    conn.execute(sa.update(push_rollback_snapshots).where(push_rollback_snapshots.c.id == snapshot_id)
                 .values(rolled_back_at=utcnow()))
