"""A product's identity on a store: a handle no other listing of the store shares.

Shopify finds a product by its handle (``productSet`` with ``identifier: {handle}`` is an upsert),
so two catalog products with one handle would become one store product, the second overwriting
the first. Magento does not stop two products from sharing a ``url_key`` (the demo catalog has
such a pair), so handles are assigned over the whole catalog at once:

* products are taken in ``catalog_products.id`` order (the order they entered the catalog, which
  never changes: the catalog never deletes), and the first keeps the slug of its ``url_key``;
* a later product whose slug is taken gets its SKU's slug appended (``duplicated-url-key-dirty-url-1``),
  then a counter if even that is taken. The same catalog always yields the same handles, and a new
  product can never take the handle of one that came before it;
* handles pinned in the stores file (``handles: {SKU: handle}``, e.g. to keep a product's
  existing URL) are used as written, and no generated handle takes one of them. Two pins on one
  handle are a mistake the blocking check ``listing_identity_unique`` reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.listings.shapes import handle_for, slugify
from sync_pipeline.listings.tables import listing_identity_keys, platform_listings

MAX_HANDLE_LENGTH = 255


def assign_handles(products: Iterable[tuple[str, Any, int]], pinned: Mapping[str, str]) -> dict[str, str]:
    """SKU -> handle for ``products`` given as (sku, url_key, source_id) in catalog order."""
    taken = set(pinned.values())
    handles: dict[str, str] = {}
    for sku, url_key, source_id in products:
        if sku in pinned:
            handles[sku] = pinned[sku]
            continue
        base = handle_for(url_key, sku, source_id)
        handle = base
        if handle in taken:
            handle = _with_suffix(base, slugify(sku) or str(source_id))
            counter = 2
            while handle in taken:
                handle = _with_suffix(base, f"{slugify(sku) or source_id}-{counter}")
                counter += 1
        taken.add(handle)
        handles[sku] = handle
    return handles


def catalog_handles(engine: Engine, pinned: Mapping[str, str]) -> dict[str, str]:
    """Every catalog product's handle (see the module docstring); one narrow read of the catalog."""
    table = catalog_products
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.sku, table.c.url_key, table.c.source_id).order_by(table.c.id)
        ).all()
    return assign_handles(((str(r.sku), r.url_key, int(r.source_id or 0)) for r in rows), pinned)


def kept_handles(engine: Engine, store_key: str, pinned: Mapping[str, str], skus: Sequence[str]) -> dict[str, str] | None:
    """The handles of ``skus`` without reading the catalog (the fast path): each product keeps the
    handle its listing in the store already has, when that handle is one ``assign_handles`` makes
    from the product's current url_key and SKU (the slug, or the slug with the SKU's suffix and
    counter). ``None`` when any of them has no listing yet or a handle its url_key no longer gives
    (a new product, a changed url_key): then every handle is assigned again (``catalog_handles``),
    since one product's new handle can move another's. Pins (``handles`` in the stores file) are
    used as written; a change of pins rebuilds the whole store anyway (its rules digest moves)."""
    wanted = sorted(set(skus))
    products, stored = catalog_products, platform_listings
    rows: dict[str, tuple[Any, int]] = {}
    handles: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 900):
            part = wanted[start:start + 900]
            rows.update((str(r.sku), (r.url_key, int(r.source_id or 0))) for r in conn.execute(
                select(products.c.sku, products.c.url_key, products.c.source_id).where(products.c.sku.in_(part))))
            handles.update((str(sku), str(handle or "")) for sku, handle in conn.execute(
                select(stored.c.sku, stored.c.payload["handle"].as_string())
                .where(stored.c.store_key == store_key, stored.c.sku.in_(part))))
    kept: dict[str, str] = {}
    for sku in wanted:
        if sku in pinned:
            kept[sku] = pinned[sku]
            continue
        if sku not in rows or sku not in handles:
            return None
        url_key, source_id = rows[sku]
        if not _assignable(handles[sku], handle_for(url_key, sku, source_id), sku, source_id):
            return None
        kept[sku] = handles[sku]
    return kept


def _assignable(handle: str, base: str, sku: str, source_id: int) -> bool:
    """Whether ``assign_handles`` could have given ``handle`` to a product with this slug and SKU."""
    suffix = slugify(sku) or str(source_id)
    if handle in (base, _with_suffix(base, suffix)):
        return True
    counter = handle.rpartition("-")[2]
    return counter.isdigit() and handle == _with_suffix(base, f"{suffix}-{counter}")


def _with_suffix(base: str, suffix: str) -> str:
    room = MAX_HANDLE_LENGTH - len(suffix) - 1
    return f"{base[:room].rstrip('-')}-{suffix}"


# -- identity keys (table listing_identity_keys) ---------------------------------------------------


def identity_key(value: str) -> str:
    """How the platforms compare a handle or a seller SKU: surrounding spaces and case aside."""
    return value.strip().casefold()


def identity_key_rows(store_key: str, sku: str, handle: str, variant_skus: Iterable[str]) -> list[dict[str, str]]:
    """The rows of one valid listing: its handle, then its variants' SKUs in order."""
    rows = [{"store_key": store_key, "listing_sku": sku, "kind": "handle", "key": identity_key(handle),
             "value": handle}]
    rows += [{"store_key": store_key, "listing_sku": sku, "kind": "sku", "key": identity_key(v), "value": v}
             for v in variant_skus]
    return rows


def write_identity_keys(conn: Connection, store_key: str, listings: Sequence[Any]) -> None:
    """Within the transaction that writes these listings: their keys replaced (none for an invalid
    listing, which the identity audit does not judge). ``listings`` are ``Listing`` objects."""
    if not listings:
        return
    table = listing_identity_keys
    skus = [listing.sku for listing in listings]
    for start in range(0, len(skus), 900):
        conn.execute(delete(table).where(table.c.store_key == store_key,
                                         table.c.listing_sku.in_(skus[start:start + 900])))
    rows = [row for listing in listings if listing.valid
            for row in identity_key_rows(store_key, listing.sku, listing.handle or "",
                                         [v.sku for v in listing.variants])]
    if rows:
        conn.execute(insert(table), rows)


def keys_sharing(engine: Engine, store_key: str, skus: Sequence[str]) -> list[tuple[int, int, str, str, str, str]]:
    """Every key row of the store that shares a key with the listings of ``skus``, theirs included,
    as (listing id, row id, kind, key, value, listing SKU): two indexed look-ups, whatever the
    store's size."""
    table, listings = listing_identity_keys, platform_listings
    wanted = sorted(set(skus))
    own: set[tuple[str, str]] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), 900):
            own.update((kind, key) for kind, key in conn.execute(
                select(table.c.kind, table.c.key).where(table.c.store_key == store_key,
                                                        table.c.listing_sku.in_(wanted[start:start + 900]))))
        shared = (select(listings.c.id, table.c.id, table.c.kind, table.c.key, table.c.value, table.c.listing_sku)
                  .join(listings, (listings.c.store_key == table.c.store_key)
                        & (listings.c.sku == table.c.listing_sku))
                  .where(table.c.store_key == store_key, table.c.kind == bindparam("kind"),
                         table.c.key.in_(bindparam("keys", expanding=True))))
        found: list[tuple[int, int, str, str, str, str]] = []
        for kind in ("handle", "sku"):
            keys = sorted(key for k, key in own if k == kind)
            for start in range(0, len(keys), 900):
                found += [tuple(r) for r in conn.execute(shared, {"kind": kind, "keys": keys[start:start + 900]})]  # type: ignore[misc]
    return sorted(found)
