"""Put listings into ``platform_listings`` as the listings asset would (payload + hashes)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.listings.identity import write_identity_keys
from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.tables import platform_listings


def save_listings(engine: Engine, listings: Iterable[Listing]) -> None:
    """Replace the rows of these (store, sku) pairs with the given listings."""
    listings = list(listings)
    table = platform_listings
    with engine.begin() as conn:
        for listing in listings:
            conn.execute(sa.delete(table).where(table.c.store_key == listing.store_key)
                         .where(table.c.sku == listing.sku))
        if listings:
            conn.execute(sa.insert(table), [_row(listing) for listing in listings])
        for store_key in {listing.store_key for listing in listings}:
            write_identity_keys(conn, store_key, [listing for listing in listings if listing.store_key == store_key])


def _row(listing: Listing) -> dict[str, object]:
    return {
        "store_key": listing.store_key, "sku": listing.sku, "source_id": listing.source_id,
        "platform": listing.platform, "action": listing.action, "valid": listing.valid,
        "reasons": list(listing.reasons), "title": listing.title, "price": listing.price,
        "compare_at_price": listing.compare_at_price, "currency": listing.currency,
        "stock_qty": listing.stock_qty, "payload": listing.to_json(), "updated_at": utcnow(),
        **listing.hashes(),
    }
