"""The listings stage's tables: each store's listings, the image check's cache, the stores' catalog rules.

Defined on the one ``db.metadata``; ``db.create_all`` creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sync_pipeline.db import MONEY, id_column, key_columns, metadata

# --- per-store listings (asset platform_listings) -----------------------------------------------

platform_listings = Table(
    "platform_listings",
    metadata,
    id_column(),
    *key_columns("store_key", "sku"),
    Column("source_id", BigInteger, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("action", String(16), nullable=False),  # list | delist
    Column("valid", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False, default=list),
    Column("title", String(512), nullable=False),
    Column("price", MONEY),
    Column("compare_at_price", MONEY),
    Column("currency", String(3), nullable=False),
    Column("stock_qty", Integer, nullable=False, default=0),
    Column("payload", JSON, nullable=False),  # the Listing as JSON (see listings/model.py)
    Column("payload_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),  # title, description, images, options...
    Column("price_hash", String(64), nullable=False),
    Column("stock_hash", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("store_key", "sku", name="uq_platform_listings_store_sku"),
    # The fast path's "listings changed since the store's last push" (push/changes.py).
    Index("ix_platform_listings_store_updated", "store_key", "updated_at"),
)

# Each valid listing's identity as the platforms compare it (listings/identity.py): its handle and
# its seller (variant) SKUs, stripped and casefolded, one row each, written with the listing. The
# identity audit of a few changed listings looks their keys up here instead of reading the store.
listing_identity_keys = Table(
    "listing_identity_keys",
    metadata,
    id_column(),
    *key_columns("store_key", "listing_sku"),
    Column("kind", String(8), nullable=False),  # handle | sku
    Column("key", String(512), nullable=False),  # the value stripped and casefolded
    Column("value", String(512), nullable=False),  # as written in the listing
    Index("ix_listing_identity_keys_key", "store_key", "kind", "key"),
    Index("ix_listing_identity_keys_listing", "store_key", "listing_sku"),
)

# The image reachability check's cache (listings/images.py): one row per image URL, with the
# validators the host sent, so a later run asks conditionally (304) or not at all.
image_url_checks = Table(
    "image_url_checks",
    metadata,
    Column("url_hash", String(64), primary_key=True),  # sha256 of the URL: URLs outgrow an index key
    Column("url", Text, nullable=False),
    Column("status", Integer, nullable=False),  # the last answer (a 304 is stored as the 200 it confirms)
    Column("etag", String(512)),
    Column("last_modified", String(64)),
    Column("checked_at", DateTime, nullable=False),
)

# --- the stores' own catalog rules (asset store_catalog_rules) ----------------------------------

store_catalog_rules = Table(
    "store_catalog_rules",
    metadata,
    Column("store_key", String(64), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("rules", JSON),  # the last good read (listings/rules.py StoreRules.to_json); NULL: never read
    Column("read_at", DateTime),  # when the last good read happened
    Column("attempted_at", DateTime, nullable=False),
    Column("last_error", Text),  # why the latest attempt failed; NULL when it succeeded
)


def upgrade(engine: Engine) -> None:
    """Fill ``listing_identity_keys`` on an app DB made before it (``db.create_all`` runs this after
    creating the table): the keys of every valid listing, read once from the stored payloads. An
    empty table beside valid listings means exactly that; two processes doing it at once leave
    duplicate rows, which the identity audit reads as one."""
    from sqlalchemy import insert, select

    from sync_pipeline.listings.identity import identity_key_rows

    with engine.connect() as conn:
        if conn.execute(select(listing_identity_keys.c.id).limit(1)).first() is not None:
            return
        if conn.execute(select(platform_listings.c.id).where(platform_listings.c.valid.is_(True)).limit(1)).first() is None:
            return
    last_id = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(platform_listings.c.id, platform_listings.c.store_key, platform_listings.c.sku,
                       platform_listings.c.payload)
                .where(platform_listings.c.valid.is_(True), platform_listings.c.id > last_id)
                .order_by(platform_listings.c.id).limit(2000)).all()
            if not rows:
                return
            last_id = rows[-1].id
            keys = [key for row in rows for key in identity_key_rows(
                row.store_key, row.sku, str((row.payload or {}).get("handle") or ""),
                [str(v.get("sku") or "") for v in (row.payload or {}).get("variants") or []])]
            if keys:
                conn.execute(insert(listing_identity_keys), keys)
