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

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, select

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.listings.shapes import handle_for, slugify

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


def _with_suffix(base: str, suffix: str) -> str:
    room = MAX_HANDLE_LENGTH - len(suffix) - 1
    return f"{base[:room].rstrip('-')}-{suffix}"
