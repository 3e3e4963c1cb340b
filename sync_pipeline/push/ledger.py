"""The push's rows in the app DB: listings in, mappings, snapshots, dead letters and runs out.

Every write here takes a batch and one transaction: a batch is written whole or not at all, and
nothing is written row by row where a batch would do. The per-store guard (``guard.py``) makes the
push the only writer of a store's rows while it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import utcnow
from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.base import PlatformError, RemoteProduct, RemoteRef
from sync_pipeline.push.plan import MappingStatus, PlannedProduct, PushedHashes, StoreMapping
from sync_pipeline.push.tables import push_dead_letters, push_rollback_snapshots, push_runs, store_mappings

# --- reading --------------------------------------------------------------------------------------


def load_listings(engine: Engine, store_key: str, skus: Sequence[str] | None = None) -> list[Listing]:
    """The store's listings as the listings asset left them (valid and invalid, list and delist)."""
    table = platform_listings
    query = sa.select(table.c.payload, table.c.valid, table.c.reasons).where(table.c.store_key == store_key)
    listings: list[Listing] = []
    with engine.connect() as conn:
        for chunk in _chunks(list(skus), 500) if skus is not None else [None]:
            rows = conn.execute(query if chunk is None else query.where(table.c.sku.in_(chunk)))
            for payload, valid, reasons in rows:
                listing = Listing.from_json(_as_dict(payload))
                # The row's own validity is the authority (a check may have flagged it after shaping).
                if bool(valid) != listing.valid:
                    listing = _with_validity(listing, bool(valid), reasons)
                listings.append(listing)
    return listings


def unknown_skus(engine: Engine, store_keys: Sequence[str], skus: Sequence[str]) -> list[str]:
    """The SKUs among ``skus`` that are neither in the catalog nor listed for any of the stores."""
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in _chunks(sorted(set(skus)), 500):
            found.update(conn.execute(sa.select(catalog_products.c.sku).where(catalog_products.c.sku.in_(chunk)))
                         .scalars())
            found.update(conn.execute(sa.select(platform_listings.c.sku)
                                      .where(platform_listings.c.store_key.in_(list(store_keys)))
                                      .where(platform_listings.c.sku.in_(chunk))).scalars())
    return sorted(set(skus) - found)


def load_mappings(engine: Engine, store_key: str) -> dict[str, StoreMapping]:
    table = store_mappings
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(table.c.store_key == store_key)).mappings()
        return {row["sku"]: _mapping_from_row(row) for row in rows}


def _mapping_from_row(row: Any) -> StoreMapping:
    return StoreMapping(
        sku=row["sku"], status=row["status"], external_id=row["external_id"],
        external_variant_ids=_as_dict(row["external_variant_ids"] or {}),
        content_hash=row["content_hash"], price_hash=row["price_hash"], stock_hash=row["stock_hash"],
        payload_hash=row["payload_hash"], last_payload=_as_dict(row["last_payload"]) if row["last_payload"] else None,
    )


# --- mappings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmed:
    """A product the store confirmed: the mapping row to write."""

    sku: str
    ref: RemoteRef | None
    status: MappingStatus
    hashes: PushedHashes | None
    payload: dict[str, Any] | None
    at: datetime


def mark_pending(conn: Connection, store_key: str, skus: Iterable[str], run_id: str) -> None:
    """Before a create is sent: if the run dies before the answer, the next run looks the SKU up
    on the store instead of creating it a second time."""
    skus = list(skus)
    if not skus:
        return
    table = store_mappings
    existing = set(conn.execute(sa.select(table.c.sku).where(table.c.store_key == store_key)
                                .where(table.c.sku.in_(skus))).scalars())
    fresh = [{"store_key": store_key, "sku": s, "status": MappingStatus.PENDING.value, "external_variant_ids": {},
              "last_run_id": run_id} for s in skus if s not in existing]
    if fresh:
        conn.execute(sa.insert(table), fresh)
    known = [s for s in skus if s in existing]
    if known:
        conn.execute(sa.update(table).where(table.c.store_key == store_key).where(table.c.sku.in_(known))
                     .where(table.c.external_id.is_(None))
                     .values(status=MappingStatus.PENDING.value, last_run_id=run_id))


def write_confirmed(conn: Connection, store_key: str, run_id: str, confirmed: Sequence[Confirmed]) -> None:
    """Upsert the mapping rows of confirmed products in one statement per kind."""
    if not confirmed:
        return
    table = store_mappings
    rows = [_mapping_values(store_key, run_id, c) for c in confirmed]
    if conn.dialect.name in _UPSERTS:
        # One multi-row INSERT ... ON CONFLICT: an UPDATE per row costs a round trip each, which a
        # bulk load's thousands of confirmations would pay one by one. With RETURNING, SQLAlchemy
        # sends the rows as multi-row VALUES batches ("insertmanyvalues"); without it an upsert goes
        # row by row through the driver's executemany (one round trip per row on psycopg2). A batch
        # must not name a SKU twice (Postgres refuses to update a row twice in one statement): the
        # later confirmation wins, as it would row by row.
        rows = list({r["sku"]: r for r in rows}.values())
        upsert = _UPSERTS[conn.dialect.name](table)
        upsert = upsert.on_conflict_do_update(
            index_elements=["store_key", "sku"],
            set_={k: upsert.excluded[k] for k in rows[0] if k not in {"store_key", "sku"}})
        if conn.dialect.insert_executemany_returning:
            conn.execute(upsert.returning(table.c.sku), rows).all()
        else:
            conn.execute(upsert, rows)
        return
    existing = set(conn.execute(sa.select(table.c.sku).where(table.c.store_key == store_key)
                                .where(table.c.sku.in_([c.sku for c in confirmed]))).scalars())
    inserts = [r for r in rows if r["sku"] not in existing]
    updates = [r for r in rows if r["sku"] in existing]
    if inserts:
        conn.execute(sa.insert(table), inserts)
    if updates:
        values: dict[str, Any] = {k: sa.bindparam(f"v_{k}") for k in updates[0] if k not in {"store_key", "sku"}}
        statement = (sa.update(table).where(table.c.store_key == sa.bindparam("k_store"))
                     .where(table.c.sku == sa.bindparam("k_sku")).values(**values))
        conn.execute(statement, [{"k_store": r["store_key"], "k_sku": r["sku"],
                                  **{f"v_{k}": v for k, v in r.items() if k not in {"store_key", "sku"}}}
                                 for r in updates])


_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _mapping_values(store_key: str, run_id: str, c: Confirmed) -> dict[str, Any]:
    hashes = c.hashes
    return {
        "store_key": store_key, "sku": c.sku, "status": c.status.value,
        "external_id": c.ref.product_id if c.ref else None,
        "external_variant_ids": dict(c.ref.variant_ids) if c.ref else {},
        "payload_hash": hashes.payload_hash if hashes else None,
        "content_hash": hashes.content_hash if hashes else None,
        "price_hash": hashes.price_hash if hashes else None,
        "stock_hash": hashes.stock_hash if hashes else None,
        "last_pushed_at": c.at, "last_run_id": run_id, "last_payload": c.payload,
    }


def mark_failed(conn: Connection, store_key: str, skus_definitely_not_created: Sequence[str]) -> None:
    """A create the store refused (no product exists): the next run creates it without a lookup."""
    if skus_definitely_not_created:
        table = store_mappings
        conn.execute(sa.update(table).where(table.c.store_key == store_key)
                     .where(table.c.sku.in_(list(skus_definitely_not_created)))
                     .where(table.c.external_id.is_(None)).values(status=MappingStatus.ERROR.value))


def set_listing_hashes_stale(conn: Connection, store_key: str, sku: str, previous: Mapping[str, Any],
                             status: str) -> None:
    """After a rollback: the mapping says what is on the store again, so the next push re-sends."""
    table = store_mappings
    conn.execute(sa.update(table).where(table.c.store_key == store_key).where(table.c.sku == sku).values(
        status=status, content_hash=previous.get("content_hash"), price_hash=previous.get("price_hash"),
        stock_hash=previous.get("stock_hash"), payload_hash=previous.get("payload_hash"),
        last_payload=previous.get("payload"), last_pushed_at=utcnow()))


def clear_pushed_hashes(conn: Connection, store_key: str, skus: Sequence[str]) -> None:
    """The store may not have what the mapping's hashes say (a bulk line sent an older listing, a
    product was made but not published): the next push plans a full update of these SKUs."""
    if skus:
        table = store_mappings
        conn.execute(sa.update(table).where(table.c.store_key == store_key).where(table.c.sku.in_(list(skus)))
                     .values(content_hash=None, payload_hash=None, price_hash=None, stock_hash=None))


def delete_mapping(conn: Connection, store_key: str, sku: str) -> None:
    table = store_mappings
    conn.execute(sa.delete(table).where(table.c.store_key == store_key).where(table.c.sku == sku))


# --- rollback snapshots -------------------------------------------------------------------------


def write_snapshots(conn: Connection, store_key: str, run_id: str, products: Sequence[PlannedProduct],
                    created_refs: Mapping[str, RemoteRef] | None = None) -> None:
    """Keep what each product was before this run touched it (the listing as last pushed)."""
    if not products:
        return
    table = push_rollback_snapshots
    skus = [p.sku for p in products]
    already = set(conn.execute(sa.select(table.c.sku).where(table.c.run_id == run_id)
                               .where(table.c.store_key == store_key).where(table.c.sku.in_(skus))).scalars())
    now = utcnow()
    adopted_states = _adoption_states(conn, store_key, [
        p.sku for p in products if p.mapping is not None and p.mapping.ref is not None and not p.mapping.last_payload])
    rows: list[dict[str, Any]] = []
    for product in products:
        if product.sku in already:
            continue  # the first state this run saw is the one to restore
        if product.sku in adopted_states:  # never pushed over yet: the merchant's state is the one to restore
            ref = product.ref
            rows.append({"run_id": run_id, "store_key": store_key, "sku": product.sku, "action": ADOPT_ACTION,
                         "external_id": ref.product_id if ref else None,
                         "external_variant_ids": dict(ref.variant_ids) if ref else {}, "previous_status": None,
                         "previous_payload": {"store_state": adopted_states[product.sku]}, "previous_hashes": {},
                         "taken_at": now})
            continue
        mapping = product.mapping
        ref = (created_refs or {}).get(product.sku) or product.ref
        rows.append({
            "run_id": run_id, "store_key": store_key, "sku": product.sku, "action": product.action.value,
            "external_id": ref.product_id if ref else None,
            "external_variant_ids": dict(ref.variant_ids) if ref else {},
            "previous_status": mapping.status if mapping and mapping.ref else None,
            "previous_payload": dict(mapping.last_payload) if mapping and mapping.last_payload else None,
            "previous_hashes": {"content_hash": mapping.content_hash, "price_hash": mapping.price_hash,
                                "stock_hash": mapping.stock_hash, "payload_hash": mapping.payload_hash}
            if mapping else {},
            "taken_at": now,
        })
    if rows:
        conn.execute(sa.insert(table), rows)


ADOPT_ACTION = "adopt"


def write_adoption_snapshots(conn: Connection, store_key: str, run_id: str,
                             adopted: Mapping[str, RemoteProduct]) -> None:
    """Keep a merchant's product as read from the store, before the pipeline first writes over it:
    rolling the run back puts that state back (``StoreClient.restore``) instead of deleting it."""
    table = push_rollback_snapshots
    if not adopted:
        return
    already = set(conn.execute(sa.select(table.c.sku).where(table.c.run_id == run_id)
                               .where(table.c.store_key == store_key)
                               .where(table.c.sku.in_(list(adopted)))).scalars())
    rows = [{"run_id": run_id, "store_key": store_key, "sku": sku, "action": ADOPT_ACTION,
             "external_id": remote.ref.product_id, "external_variant_ids": dict(remote.ref.variant_ids),
             "previous_status": None, "previous_payload": {"store_state": remote_state(remote)},
             "previous_hashes": {}, "taken_at": utcnow()}
            for sku, remote in adopted.items() if sku not in already]
    if rows:
        conn.execute(sa.insert(table), rows)


def _adoption_states(conn: Connection, store_key: str, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The store state kept when each SKU was adopted (``adopt_store_listings``), newest first."""
    if not skus:
        return {}
    table = push_rollback_snapshots
    rows = conn.execute(sa.select(table.c.sku, table.c.previous_payload).where(table.c.store_key == store_key)
                        .where(table.c.action == ADOPT_ACTION).where(table.c.sku.in_(list(skus)))
                        .where(table.c.rolled_back_at.is_(None)).order_by(table.c.id.desc()))
    states: dict[str, dict[str, Any]] = {}
    for sku, payload in rows:
        state = _as_dict(payload).get("store_state")
        if state and sku not in states:
            states[sku] = state
    return states


def adoption_kept(conn: Connection, store_key: str, sku: str) -> bool:
    return sku in _adoption_states(conn, store_key, [sku])


def remote_state(remote: RemoteProduct) -> dict[str, Any]:
    return {"product_id": remote.ref.product_id, "variant_ids": dict(remote.ref.variant_ids), "sku": remote.sku,
            "title": remote.title, "status": remote.status, "image_count": remote.image_count,
            "handle": remote.handle, "raw": remote.raw}


def remote_from_state(state: Mapping[str, Any]) -> RemoteProduct:
    return RemoteProduct(ref=RemoteRef(state["product_id"], dict(state.get("variant_ids") or {})),
                         sku=state.get("sku") or "", title=state.get("title") or "", status=state.get("status") or "",
                         image_count=int(state.get("image_count") or 0), variants=(),
                         raw=dict(state.get("raw") or {}), handle=state.get("handle"))


# --- dead letters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    sku: str
    action: str
    payload: dict[str, Any] | None
    error_class: str
    platform_code: str | None
    message: str
    attempts: int
    at: datetime

    @classmethod
    def from_error(cls, product: PlannedProduct, error: BaseException, attempts: int) -> Failed:
        if isinstance(error, PlatformError):
            error_class, code, message = error.error_class.value, error.platform_code, error.message
        else:
            error_class, code, message = "UNEXPECTED", None, f"{type(error).__name__}: {error}"
        return cls(product.sku, product.action.value, product.listing.to_json(), error_class, code,
                   message[:2000], max(attempts, 1), utcnow())


def write_dead_letters(conn: Connection, store_key: str, run_id: str, failures: Sequence[Failed]) -> None:
    if not failures:
        return
    table = push_dead_letters
    existing = {row.sku: row for row in conn.execute(
        sa.select(table.c.sku, table.c.attempts).where(table.c.store_key == store_key)
        .where(table.c.sku.in_([f.sku for f in failures])))}
    inserts, updates = [], []
    for f in failures:
        values = {"run_id": run_id, "action": f.action, "payload": f.payload, "error_class": f.error_class,
                  "platform_code": f.platform_code, "message": f.message, "last_failed_at": f.at}
        if f.sku in existing:
            updates.append({"k_sku": f.sku, "v_attempts": existing[f.sku].attempts + f.attempts,
                            **{f"v_{k}": v for k, v in values.items()}})
        else:
            inserts.append({"store_key": store_key, "sku": f.sku, "attempts": f.attempts,
                            "first_failed_at": f.at, **values})
    if inserts:
        conn.execute(sa.insert(table), inserts)
    if updates:
        keys = [k[2:] for k in updates[0] if k.startswith("v_")]
        conn.execute(sa.update(table).where(table.c.store_key == store_key)
                     .where(table.c.sku == sa.bindparam("k_sku"))
                     .values(**{k: sa.bindparam(f"v_{k}") for k in keys}), updates)


def clear_dead_letters(conn: Connection, store_key: str, skus: Sequence[str]) -> None:
    if skus:
        table = push_dead_letters
        for chunk in _chunks(list(skus), 500):
            conn.execute(sa.delete(table).where(table.c.store_key == store_key).where(table.c.sku.in_(chunk)))


def dead_letter_skus(engine: Engine, store_key: str, *, skus: Sequence[str] | None = None,
                     error_classes: Sequence[str] | None = None) -> list[str]:
    table = push_dead_letters
    query = sa.select(table.c.sku).where(table.c.store_key == store_key)
    if skus:
        query = query.where(table.c.sku.in_(list(skus)))
    if error_classes:
        query = query.where(table.c.error_class.in_(list(error_classes)))
    with engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


def dead_letters(engine: Engine, store_key: str | None = None, *, sku: str | None = None) -> list[dict[str, Any]]:
    """The dead letters, by store and SKU: all, one store's, or one SKU's in every store."""
    table = push_dead_letters
    query = sa.select(table).order_by(table.c.store_key, table.c.sku)
    if store_key is not None:
        query = query.where(table.c.store_key == store_key)
    if sku is not None:
        query = query.where(table.c.sku == sku)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class DeadLetterTally:
    """One store's dead letters of a query: how many, the latest failure, the attempts summed."""

    store_key: str
    count: int
    latest_failure: datetime | None
    attempts: int


def dead_letter_tallies(engine: Engine, *, error_classes: Sequence[str], failed_before: datetime,
                        max_attempts: int) -> list[DeadLetterTally]:
    """Per store (by key), its dead letters of ``error_classes`` that last failed by ``failed_before``
    and were tried fewer than ``max_attempts`` times."""
    table = push_dead_letters
    query = (
        sa.select(table.c.store_key, sa.func.count(), sa.func.max(table.c.last_failed_at), sa.func.sum(table.c.attempts))
        .where(table.c.error_class.in_(list(error_classes)))
        .where(table.c.last_failed_at <= failed_before)
        .where(table.c.attempts < max_attempts)
        .group_by(table.c.store_key)
        .order_by(table.c.store_key)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [DeadLetterTally(row[0], int(row[1]), row[2], int(row[3] or 0)) for row in rows]


def mappings_for(conn: Connection, store_keys: Sequence[str], skus: Sequence[str]) -> list[sa.RowMapping]:
    """The mapping rows of ``skus`` in ``store_keys`` (a SKU's trail)."""
    return _rows_for(conn, store_mappings, store_keys, skus)


def dead_letters_for(conn: Connection, store_keys: Sequence[str], skus: Sequence[str]) -> list[sa.RowMapping]:
    """The dead letters of ``skus`` in ``store_keys`` (a SKU's trail)."""
    return _rows_for(conn, push_dead_letters, store_keys, skus)


def _rows_for(conn: Connection, table: sa.Table, store_keys: Sequence[str], skus: Sequence[str]) -> list[sa.RowMapping]:
    query = sa.select(table).where(table.c.sku.in_(list(skus)), table.c.store_key.in_(list(store_keys)))
    return list(conn.execute(query).mappings())


# --- mappings as the checks read them ----------------------------------------------------------------


def valid_listing_mappings(engine: Engine, store_key: str) -> list[Any]:
    """(sku, external_id, status) of each mapping whose listing is valid."""
    m, listing = store_mappings, platform_listings
    query = (sa.select(m.c.sku, m.c.external_id, m.c.status)
             .join(listing, sa.and_(listing.c.store_key == m.c.store_key, listing.c.sku == m.c.sku))
             .where(m.c.store_key == store_key).where(listing.c.valid.is_(True)))
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def listed_mappings(engine: Engine, store_key: str, limit: int | None = None) -> list[Any]:
    """(sku, external_id, external_variant_ids, last_payload) of the store's listed products, by
    SKU (the first ``limit``): what was last pushed, and where it lives."""
    m = store_mappings
    query = (sa.select(m.c.sku, m.c.external_id, m.c.external_variant_ids, m.c.last_payload)
             .where(m.c.store_key == store_key).where(m.c.status == "listed")
             .where(m.c.external_id.is_not(None)).where(m.c.last_payload.is_not(None)).order_by(m.c.sku))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


# --- runs -------------------------------------------------------------------------------------------


def start_run(engine: Engine, run_id: str, store_key: str, kind: str, options: Mapping[str, Any]) -> None:
    table = push_runs
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.run_id == run_id).where(table.c.store_key == store_key)
                     .where(table.c.kind == kind))
        conn.execute(sa.insert(table).values(run_id=run_id, store_key=store_key, kind=kind, status="running",
                                             options=dict(options), counts={}, started_at=utcnow()))


def finish_run(engine: Engine, run_id: str, store_key: str, kind: str, status: str, counts: Mapping[str, Any],
               error_message: str | None = None) -> None:
    table = push_runs
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.run_id == run_id).where(table.c.store_key == store_key)
                     .where(table.c.kind == kind)
                     .values(status=status, counts=dict(counts), finished_at=utcnow(), error_message=error_message))


def latest_finished_push(engine: Engine, store_key: str) -> Any | None:
    """(counts, options, run_id) of the store's latest push or retry that is no longer running."""
    table = push_runs
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.counts, table.c.options, table.c.run_id)
                            .where(table.c.store_key == store_key)
                            .where(table.c.kind.in_(["push", "retry"])).where(table.c.status != "running")
                            .order_by(table.c.started_at.desc(), table.c.id.desc()).limit(1)).first()


# --- helpers ----------------------------------------------------------------------------------------


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # some drivers hand JSON back as text
        import json

        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


def _with_validity(listing: Listing, valid: bool, reasons: Any) -> Listing:
    import dataclasses

    return dataclasses.replace(listing, valid=valid, reasons=tuple(reasons or listing.reasons))
