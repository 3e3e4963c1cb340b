"""The product state report: one row per catalog SKU, one column group per store.

A store's sync state says what a person needs to know about the SKU there:

* ``synced``: on the store, and the store holds what the listing says now;
* ``not synced``: no listing built yet, never pushed, or changes waiting for the next push (the
  reason says which);
* ``error``: the last push of it failed (a dead letter, or the mapping is marked error);
* ``delisted``: taken off the store (inactive in the catalog);
* ``invalid``: the listing breaks a rule of the store and is never pushed; the reason says which.

A configurable's children that Magento cannot sell (disabled, no stock row, no price) are left out
of it on every store while the product keeps its other variants: ``variants_left_out`` names each
with its reason (``catalog_variants.problem``, written by the import).

"Waiting for the next push" is decided by the push's own plan (``push.plan.decide``), so the report
and the push never disagree about what is in step.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.push import ledger
from sync_pipeline.push.plan import Action, MappingStatus, StoreMapping, check_owned_fields, decide
from sync_pipeline.push.synclog import logged_calls
from sync_pipeline.stores import StoreConfig

CHUNK = 500


class SyncState(StrEnum):
    NOT_SYNCED = "not synced"
    SYNCED = "synced"
    ERROR = "error"
    DELISTED = "delisted"
    INVALID = "invalid"


@dataclass(frozen=True)
class StoreState:
    store_key: str
    state: SyncState
    reason: str = ""
    price: Decimal | None = None
    currency: str | None = None
    title: str | None = None
    external_id: str | None = None
    last_synced_at: datetime | None = None


@dataclass(frozen=True)
class ProductState:
    sku: str
    title: str
    master_price: Decimal | None
    is_active: bool
    stores: tuple[StoreState, ...] = field(default_factory=tuple)
    variants_left_out: tuple[tuple[str, str], ...] = ()  # (variant SKU, reason), in variant order

    def store(self, key: str) -> StoreState:
        return next(s for s in self.stores if s.store_key == key)


@dataclass(frozen=True)
class RecentError:
    store_key: str
    at: datetime
    operation: str
    error_class: str | None
    message: str


# --- reading ---------------------------------------------------------------------------------------


def product_states(engine: Engine, stores: Sequence[StoreConfig], skus: Sequence[str]) -> list[ProductState]:
    """The state of these SKUs (unknown SKUs are left out), in SKU order."""
    return [state for chunk in _chunks(sorted(set(skus))) for state in _states(engine, stores, chunk)]


def iter_product_states(engine: Engine, stores: Sequence[StoreConfig]) -> Iterator[ProductState]:
    """Every catalog product's state, in SKU order, read a chunk of SKUs at a time."""
    after = ""
    while True:
        with engine.connect() as conn:
            chunk = list(conn.execute(
                sa.select(catalog_products.c.sku).where(catalog_products.c.sku > after)
                .order_by(catalog_products.c.sku).limit(CHUNK)).scalars())
        if not chunk:
            return
        yield from _states(engine, stores, chunk)
        after = chunk[-1]


def search_skus(engine: Engine, text: str, limit: int = 20) -> list[str]:
    """SKUs whose SKU or master title contains ``text`` (any case), SKU matches first."""
    needle = f"%{text.strip().lower()}%"
    table = catalog_products
    with engine.connect() as conn:
        by_sku = list(conn.execute(sa.select(table.c.sku).where(sa.func.lower(table.c.sku).like(needle))
                                   .order_by(table.c.sku).limit(limit)).scalars())
        by_title = list(conn.execute(sa.select(table.c.sku).where(sa.func.lower(table.c.title).like(needle))
                                     .order_by(table.c.sku).limit(limit)).scalars())
    return list(dict.fromkeys(by_sku + by_title))[:limit]


def recent_errors(engine: Engine, sku: str, limit: int = 5) -> list[RecentError]:
    """The SKU's last failed store calls (from the sync log), newest first."""
    return [RecentError(row["store_key"], row["at"], row["operation"], row["error_class"],
                        (row["response_body"] or "")[:300])
            for row in logged_calls(engine, sku=sku, failed_only=True, limit=limit)]


def dead_letters_of(engine: Engine, sku: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "payload"} for row in ledger.dead_letters(engine, sku=sku)]


def _states(engine: Engine, stores: Sequence[StoreConfig], skus: Sequence[str]) -> list[ProductState]:
    keys = [store.key for store in stores]
    with engine.connect() as conn:
        products = conn.execute(
            sa.select(catalog_products.c.sku, catalog_products.c.title, catalog_products.c.price,
                      catalog_products.c.is_active).where(catalog_products.c.sku.in_(skus))
            .order_by(catalog_products.c.sku)).all()
        listings = _by_store_sku(conn.execute(sa.select(platform_listings).where(
            platform_listings.c.sku.in_(skus), platform_listings.c.store_key.in_(keys))).mappings())
        mappings = _by_store_sku(ledger.mappings_for(conn, keys, skus))
        letters = _by_store_sku(ledger.dead_letters_for(conn, keys, skus))
        left_out = _variants_left_out(conn, skus)
    owned = {store.key: check_owned_fields(store.owned_fields) for store in stores}
    return [
        ProductState(
            sku=row.sku, title=row.title, master_price=row.price, is_active=bool(row.is_active),
            stores=tuple(
                store_state(key, listings.get((key, row.sku)), mappings.get((key, row.sku)),
                            letters.get((key, row.sku)), owned[key])
                for key in keys
            ),
            variants_left_out=tuple(left_out.get(row.sku, ())),
        )
        for row in products
    ]


def _variants_left_out(conn: sa.Connection, skus: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    v = catalog_variants
    rows = conn.execute(sa.select(v.c.parent_sku, v.c.sku, v.c.problem)
                        .where(v.c.parent_sku.in_(skus), v.c.problem.is_not(None))
                        .order_by(v.c.parent_sku, v.c.position, v.c.sku)).tuples()
    found: dict[str, list[tuple[str, str]]] = {}
    for parent, sku, problem in rows:
        found.setdefault(parent, []).append((sku, problem))
    return found


def left_out_text(product: ProductState) -> str:
    """"SKU-52 (no price); SKU-53 (disabled)", or "" when every variant can be sold."""
    return "; ".join(f"{sku} ({why})" for sku, why in product.variants_left_out)


def store_state(store_key: str, listing: Mapping[str, Any] | None, mapping: Mapping[str, Any] | None,
                dead_letter: Mapping[str, Any] | None, owned: frozenset[str]) -> StoreState:
    """One SKU on one store, from its listing row, mapping row and dead letter (any may be missing)."""
    shown: dict[str, Any] = {"store_key": store_key}
    if listing is not None:
        shown |= {"price": listing["price"], "currency": listing["currency"], "title": listing["title"]}
    if mapping is not None:
        shown |= {"external_id": mapping["external_id"], "last_synced_at": mapping["last_pushed_at"]}
    state, reason = _decide_state(listing, mapping, dead_letter, owned)
    return StoreState(state=state, reason=reason, **shown)


def _decide_state(listing: Mapping[str, Any] | None, mapping: Mapping[str, Any] | None,
                  dead_letter: Mapping[str, Any] | None, owned: frozenset[str]) -> tuple[SyncState, str]:
    if listing is None:
        return SyncState.NOT_SYNCED, "no listing built for this store yet"
    if not listing["valid"]:
        return SyncState.INVALID, "; ".join(str(r) for r in listing["reasons"] or []) or "invalid listing"
    if dead_letter is not None:
        return SyncState.ERROR, f"{dead_letter['error_class']}: {dead_letter['message']}"[:300]
    if mapping is None:
        if listing["action"] == "delist":
            return SyncState.DELISTED, "inactive in the catalog; never listed"
        return SyncState.NOT_SYNCED, "never pushed"
    if mapping["status"] == MappingStatus.ERROR:
        return SyncState.ERROR, "the last push of this product failed"
    if mapping["status"] == MappingStatus.PENDING:
        return SyncState.NOT_SYNCED, "a create was sent and is not confirmed yet"
    planned = decide(Listing.from_json(dict(listing["payload"])), _mapping(mapping), owned).action
    if mapping["status"] == MappingStatus.DELISTED and planned == Action.UNCHANGED:
        return SyncState.DELISTED, ""
    if planned == Action.UNCHANGED:
        return SyncState.SYNCED, ""
    return SyncState.NOT_SYNCED, f"waiting for the next push ({planned.value.replace('_', ' ')})"


def _mapping(row: Mapping[str, Any]) -> StoreMapping:
    return StoreMapping(
        sku=row["sku"], status=row["status"], external_id=row["external_id"],
        external_variant_ids=dict(row["external_variant_ids"] or {}), content_hash=row["content_hash"],
        price_hash=row["price_hash"], stock_hash=row["stock_hash"], payload_hash=row["payload_hash"],
        last_payload=row["last_payload"],
    )


def _by_store_sku(rows: Iterable[Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(row["store_key"], row["sku"]): row for row in rows}


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


# --- summaries and export --------------------------------------------------------------------------


def state_counts(states: Iterable[ProductState]) -> dict[str, dict[str, int]]:
    """store key -> sync state -> products, every state present (zero when none)."""
    counted: dict[str, Counter[str]] = {}
    for product in states:
        for store in product.stores:
            counted.setdefault(store.store_key, Counter())[store.state.value] += 1
    return {key: {state.value: counts.get(state.value, 0) for state in SyncState} for key, counts in counted.items()}


STORE_COLUMNS = ("price", "title", "external_id", "state", "reason", "last_synced_at")


def csv_header(store_keys: Sequence[str]) -> list[str]:
    return ["sku", "title", "master_price", "is_active", "variants_left_out"] + [
        f"{key}:{column}" for key in store_keys for column in STORE_COLUMNS]


def csv_row(product: ProductState) -> list[str]:
    row = [product.sku, product.title, _text(product.master_price), "yes" if product.is_active else "no",
           left_out_text(product)]
    for store in product.stores:
        row += [_text(store.price), store.title or "", store.external_id or "", store.state.value, store.reason,
                store.last_synced_at.isoformat(sep=" ", timespec="seconds") if store.last_synced_at else ""]
    return row


def write_csv(states: Iterable[ProductState], store_keys: Sequence[str], out: IO[str]) -> int:
    """Write the report as CSV (one row per SKU); returns the number of products written."""
    writer = csv.writer(out)
    writer.writerow(csv_header(store_keys))
    written = 0
    for product in states:
        writer.writerow(csv_row(product))
        written += 1
    return written


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value}"
