"""All listings of one store, computed from the catalog and kept in ``platform_listings``.

The catalog is read in chunks of products (keyset on ``catalog_products.id``) with their variants,
so memory stays flat whatever the catalog's size. Each chunk is written in one transaction:
new listings are inserted, listings whose payload hash, validity or reasons changed are updated,
unchanged ones are not touched (their ``updated_at`` keeps telling when they last changed).

The catalog never deletes products (a product that leaves the shop becomes inactive, hence a
delist listing), so neither does this module: a listing whose SKU is no longer in the catalog
is left as it is and counted as ``orphaned`` for a person to look at.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, exists, func, insert, select, update

from sync_pipeline.catalog.product import CatalogProduct, CatalogVariant, UnreadableProduct, product_from_rows
from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.db import utcnow
from sync_pipeline.listings.identity import catalog_handles, kept_handles, write_identity_keys
from sync_pipeline.listings.mapping import apply_store_rules
from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.listings.rules import StoreRules
from sync_pipeline.listings.rules_db import load_rules
from sync_pipeline.listings.shapes import (
    BAD_CATALOG_ROW,
    NO_VARIANT_OF_ITS_OWN,
    NOTES,
    SKU_IN_OTHER_PRODUCT,
    build_listing,
    handle_for,
    reason_code,
)
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.factory import client_class
from sync_pipeline.stores import StoreConfig

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 1000
FROM_APP_DB = object()  # materialize_store_listings' default: the rules last read into the app DB
PREVIEW_ROWS = 10
FIRST_PARENT = "first_parent_sku"  # on a variant row whose SKU several products share

PRODUCT_COLUMNS = (
    "id", "sku", "source_id", "type_id", "title", "description", "url_key", "price", "special_price",
    "stock_qty", "is_active", "weight", "categories", "images", "attributes", "backorders", "source_updated_at",
)  # fmt: skip
VARIANT_COLUMNS = (
    "sku", "parent_sku", "source_id", "price", "special_price", "stock_qty", "is_active", "options", "weight", "image",
    "position", "problem", "backorders",
)  # fmt: skip
Read = CatalogProduct | UnreadableProduct  # what a catalog row becomes (catalog/product.py)


@dataclass(frozen=True)
class PreviewRow:
    sku: str
    master_price: Decimal | None
    store_price: Decimal
    currency: str
    title: str
    valid: bool


@dataclass
class StoreListingsSummary:
    """What one store's materialization did, for the asset's metadata."""

    store_key: str
    listings: int = 0
    valid: int = 0
    invalid: int = 0
    delists: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    orphaned: int = 0
    invalid_by_reason: Counter[str] = field(default_factory=Counter)
    notes_by_reason: Counter[str] = field(default_factory=Counter)
    preview: list[PreviewRow] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Listings inserted or rewritten by this run: what the push will look at."""
        return self.inserted + self.updated


def catalog_chunks(engine: Engine, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[Read]]:
    """The catalog in chunks of typed products (with their variants), in ``id`` order."""
    last_id = 0
    while True:
        with engine.connect() as conn:
            products = [
                dict(row._mapping)
                for row in conn.execute(
                    select(*_product_columns())
                    .where(catalog_products.c.id > last_id)
                    .order_by(catalog_products.c.id)
                    .limit(chunk_size)
                )
            ]
            if not products:
                return
            variants = _variants_of(conn, [p["sku"] for p in products])
        last_id = products[-1]["id"]
        yield [product_from_rows(p, variants[p["sku"]]) for p in products]


def catalog_chunks_of(engine: Engine, skus: Sequence[str], chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[Read]]:
    """The typed products of ``skus`` (those the catalog has), in chunks, in SKU order."""
    wanted = sorted(set(skus))
    for start in range(0, len(wanted), chunk_size):
        found = catalog_products_by_sku(engine, wanted[start:start + chunk_size])
        if found:
            yield [found[sku] for sku in sorted(found)]


def catalog_products_by_sku(engine: Engine, skus: Sequence[str]) -> dict[str, Read]:
    """The typed product of each of ``skus`` that the catalog has."""
    with engine.connect() as conn:
        products = [
            dict(row._mapping)
            for row in conn.execute(select(*_product_columns()).where(catalog_products.c.sku.in_(list(skus))))
        ]
        variants = _variants_of(conn, [p["sku"] for p in products])
    return {p["sku"]: product_from_rows(p, variants[p["sku"]]) for p in products}


def _product_columns() -> list[Any]:
    return [catalog_products.c[name] for name in PRODUCT_COLUMNS]


def _variants_of(conn: Connection, parent_skus: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Variant rows per parent; a row whose SKU other products share names its first parent."""
    by_parent: dict[str, list[dict[str, Any]]] = {sku: [] for sku in parent_skus}
    variant_cols = [catalog_variants.c[name] for name in VARIANT_COLUMNS]
    for row in conn.execute(select(*variant_cols).where(catalog_variants.c.parent_sku.in_(list(parent_skus)))):
        by_parent[row.parent_sku].append(dict(row._mapping))
    skus = {v["sku"] for rows in by_parent.values() for v in rows}
    first = _first_parents(conn, sorted(skus)) if skus else {}
    for rows in by_parent.values():
        for v in rows:
            if v["sku"] in first:
                v[FIRST_PARENT] = first[v["sku"]]
    return by_parent


def _first_parents(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """For each of ``skus`` that is a variant of several products: the parent with the lowest Magento id."""
    parents: dict[str, list[tuple[int, str]]] = {}
    query = (select(catalog_variants.c.sku, catalog_products.c.source_id, catalog_products.c.sku.label("parent"))
             .join(catalog_products, catalog_products.c.sku == catalog_variants.c.parent_sku)
             .where(catalog_variants.c.sku.in_(bindparam("skus", expanding=True))))
    for start in range(0, len(skus), 900):
        for sku, source_id, parent in conn.execute(query, {"skus": list(skus[start:start + 900])}).tuples():
            parents.setdefault(sku, []).append((int(source_id), parent))
    return {sku: min(found)[1] for sku, found in parents.items() if len(found) > 1}


def one_product_per_sku(product: CatalogProduct, store: StoreConfig) -> tuple[tuple[CatalogVariant, ...], list[str]]:
    """The variants this store sells in ``product``, and a note for each one left to another product.

    A child of two configurables is a variant of both where the platform allows one SKU in two
    products; elsewhere it stays with its first parent (lowest Magento id) only.
    """
    if client_class(store.platform).sku_in_several_products:
        return product.variants, []
    kept, notes = [], []
    for v in product.variants:
        if v.first_parent is not None and v.first_parent != product.sku:
            notes.append(f"{SKU_IN_OTHER_PRODUCT}: {v.sku} is sold under {v.first_parent}")
        else:
            kept.append(v)
    return tuple(kept), notes


def materialize_store_listings(
    engine: Engine,
    store: StoreConfig,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    now: datetime | None = None,
    progress: Callable[[StoreListingsSummary], None] | None = None,
    skus: Sequence[str] | None = None,
    rules: StoreRules | None | object = FROM_APP_DB,
) -> StoreListingsSummary:
    """Compute every listing of ``store`` and upsert the ones that changed (see the module doc).

    With ``skus``, only those products' listings (the fast path after an import); orphaned
    listings are then not counted, which needs a look at the whole store. ``rules``: the store's
    catalog rules (``store_catalog_rules``, by default as last read into the app DB); listings that
    fail them are invalid."""
    summary = StoreListingsSummary(store_key=store.key)
    stamp = (now or utcnow()).replace(tzinfo=None)
    # The fast path keeps the changed products' handles from their listings when it can; else (and
    # for a full rebuild) every handle is assigned over the whole catalog.
    handles = (kept_handles(engine, store.key, store.handles, skus) if skus is not None else None)
    if handles is None:
        handles = catalog_handles(engine, store.handles)
    store_rules = load_rules(engine, store.key) if rules is FROM_APP_DB else rules
    assert store_rules is None or isinstance(store_rules, StoreRules)
    chunks = catalog_chunks(engine, chunk_size) if skus is None else catalog_chunks_of(engine, skus, chunk_size)
    for chunk in chunks:
        listings = [
            (product, listing_or_reason(product, store, handles.get(product.sku), store_rules)) for product in chunk
        ]
        with engine.begin() as conn:
            _write_chunk(conn, store.key, [listing for _, listing in listings], stamp, summary)
        for product, listing in listings:
            _count(summary, product, listing)
        if progress is not None:
            progress(summary)
    if skus is None:
        summary.orphaned = count_orphaned(engine, store.key)
    return summary


def listing_or_reason(
    product: Read, store: StoreConfig, handle: str | None = None, rules: StoreRules | None = None
) -> Listing:
    """``build_listing`` with the store's mapping and rules applied, or - for a catalog row that
    could not be read, or a product the shaper cannot shape - an invalid listing that names the error.

    One unreadable catalog row must never stop the other products of the partition.
    """
    try:
        if isinstance(product, UnreadableProduct):
            return _unreadable(product, product.error, store, handle)
        kept, notes = one_product_per_sku(product, store)
        if not kept and notes:  # every variant is sold under another product: nothing of its own to list
            listing = build_listing(product, store, handle)
            listing = replace(listing, valid=False, reasons=(*listing.reasons, *notes, NO_VARIANT_OF_ITS_OWN))
        else:
            listing = build_listing(product, store, handle, kept)
            if notes:
                listing = replace(listing, reasons=(*listing.reasons, *notes))
        return apply_store_rules(listing, product.attributes, store, rules)
    except (ArithmeticError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return _unreadable(product, f"{type(exc).__name__}: {exc}", store, handle)


def _unreadable(product: Read, error: str, store: StoreConfig, handle: str | None) -> Listing:
    log.warning("store %s: catalog row %s cannot be shaped: %s", store.key, product.sku, error)
    return Listing(
        store_key=store.key,
        platform=store.platform.value,
        sku=product.sku,
        source_id=product.source_id,
        action="list",
        title=product.title[:255],
        description="",
        price=Decimal(0),
        compare_at_price=None,
        currency=store.currency,
        stock_qty=0,
        images=(),
        category_id=None,
        handle=handle or handle_for(None, product.sku, product.source_id),
        variants=(ListingVariant(sku=product.sku, price=Decimal(0), compare_at_price=None, stock_qty=0),),
        valid=False,
        reasons=(f"{BAD_CATALOG_ROW}: {error}"[:500],),
    )


def count_orphaned(engine: Engine, store_key: str) -> int:
    """Listings of the store whose SKU the catalog no longer has (kept, never deleted)."""
    in_catalog = exists().where(catalog_products.c.sku == platform_listings.c.sku)
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(platform_listings)
                .where(platform_listings.c.store_key == store_key, ~in_catalog)
            ).scalar_one()
        )


def _write_chunk(
    conn: Connection, store_key: str, listings: Sequence[Listing], stamp: datetime, summary: StoreListingsSummary
) -> None:
    existing = {
        row.sku: (row.payload_hash, row.valid, list(row.reasons or []))
        for row in conn.execute(
            select(
                platform_listings.c.sku,
                platform_listings.c.payload_hash,
                platform_listings.c.valid,
                platform_listings.c.reasons,
            ).where(
                platform_listings.c.store_key == store_key,
                platform_listings.c.sku.in_([listing.sku for listing in listings]),
            )
        )
    }
    new_rows, changed_rows, written = [], [], []
    for listing in listings:
        hashes = listing.hashes()
        before = existing.get(listing.sku)
        if before is None:
            new_rows.append(listing_row(listing, stamp, hashes))
        elif before != (hashes["payload_hash"], listing.valid, list(listing.reasons)):
            changed_rows.append({**listing_row(listing, stamp, hashes), "b_store_key": store_key, "b_sku": listing.sku})
        else:
            continue
        written.append(listing)
    write_identity_keys(conn, store_key, written)
    if new_rows:
        conn.execute(insert(platform_listings), new_rows)
    if changed_rows:
        conn.execute(
            update(platform_listings)
            .where(
                and_(
                    platform_listings.c.store_key == bindparam("b_store_key"),
                    platform_listings.c.sku == bindparam("b_sku"),
                )
            )
            .values({name: bindparam(name) for name in changed_rows[0] if not name.startswith("b_")}),
            changed_rows,
        )
    summary.inserted += len(new_rows)
    summary.updated += len(changed_rows)
    summary.unchanged += len(listings) - len(new_rows) - len(changed_rows)


def listing_row(listing: Listing, stamp: datetime, hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``platform_listings`` row of a listing: the payload JSON, its hashes and a few columns to query."""
    return {
        "store_key": listing.store_key,
        "sku": listing.sku,
        "source_id": listing.source_id,
        "platform": listing.platform,
        "action": listing.action,
        "valid": listing.valid,
        "reasons": list(listing.reasons),
        "title": listing.title,
        "price": listing.price,
        "compare_at_price": listing.compare_at_price,
        "currency": listing.currency,
        "stock_qty": listing.stock_qty,
        "payload": listing.to_json(),
        **(hashes or listing.hashes()),
        "updated_at": stamp,
    }


def _count(summary: StoreListingsSummary, product: Read, listing: Listing) -> None:
    summary.listings += 1
    if listing.action == "delist":
        summary.delists += 1
    if listing.valid:
        summary.valid += 1
    else:
        summary.invalid += 1
    for reason in listing.reasons:
        code = reason_code(reason)
        if code in NOTES:
            summary.notes_by_reason[code] += 1
        elif not listing.valid:
            summary.invalid_by_reason[code] += 1
    if len(summary.preview) < PREVIEW_ROWS:
        summary.preview.append(
            PreviewRow(
                sku=listing.sku,
                master_price=_master_price(product),
                store_price=listing.price,
                currency=listing.currency,
                title=listing.title,
                valid=listing.valid,
            )
        )


def _master_price(product: Read) -> Decimal | None:
    """The catalog's selling price: the special price while it is the lower one."""
    if isinstance(product, UnreadableProduct):
        return None
    return min((p for p in (product.price, product.special_price) if p is not None), default=None)
