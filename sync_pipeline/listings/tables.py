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
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sync_pipeline.db import MONEY, metadata

# --- per-store listings (asset platform_listings) -----------------------------------------------

platform_listings = Table(
    "platform_listings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_key", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
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
