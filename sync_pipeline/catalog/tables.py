"""The app DB's tables: one definition each, shared by every layer that reads or writes them.

Column names of ``catalog_products``, ``catalog_variants``, ``product_import_jobs`` and
``product_import_meta`` are a contract (see ARCHITECTURE.md); add columns, never rename them.
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
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

MONEY = Numeric(20, 4)

catalog_products = Table(
    "catalog_products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("source_id", BigInteger, nullable=False, index=True),
    Column("type_id", String(32), nullable=False, default="simple"),
    Column("title", String(512), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("url_key", String(255)),
    Column("price", MONEY),  # regular price
    Column("special_price", MONEY),  # selling price while a special price is active
    Column("stock_qty", Integer, nullable=False, default=0),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("weight", Numeric(12, 4)),
    Column("categories", JSON, nullable=False, default=list),
    Column("images", JSON, nullable=False, default=list),  # URLs in display order
    Column("attributes", JSON, nullable=False, default=dict),
    Column("content_hash", String(64), nullable=False),
    Column("source_updated_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

catalog_variants = Table(
    "catalog_variants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("parent_sku", String(64), nullable=False, index=True),
    Column("source_id", BigInteger, nullable=False),
    Column("price", MONEY),
    Column("special_price", MONEY),
    Column("stock_qty", Integer, nullable=False, default=0),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("options", JSON, nullable=False, default=dict),  # {"color": "Blue", "size": "M"}
    Column("weight", Numeric(12, 4)),
    Column("image", String(1024)),
    Column("position", Integer, nullable=False, default=0),
)

product_import_jobs = Table(
    "product_import_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),  # queued | running | completed | failed
    Column("params", JSON, nullable=False, default=dict),
    Column("metrics", JSON, nullable=False, default=dict),
    Column("run_id", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("error_message", Text),
    Index("ix_product_import_jobs_status", "status"),
)

product_import_meta = Table(
    "product_import_meta",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text),
)

# The hand-off from magento_products (extract) to catalog_products (upsert): one row per product
# that is due in an import job; emptied when the job finishes, whatever its outcome.
magento_product_staging = Table(
    "magento_product_staging",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_job_id", Integer, nullable=False),
    Column("source_id", BigInteger, nullable=False),
    Column("sku", String(255), nullable=False),
    Column("kind", String(16), nullable=False),  # product | rejected | gone
    Column("record", JSON),  # the SourceProduct as JSON (kind product)
    Column("reason", Text),  # why the row cannot enter the catalog (kind rejected)
    Index("ix_magento_product_staging_job", "import_job_id", "id"),
)

# One row per import lane: who holds it and since when. Taken and released with conditional
# UPDATEs, which are atomic on SQLite, PostgreSQL and MySQL alike, so two processes cannot both win.
product_import_lock = Table(
    "product_import_lock",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("job_id", Integer),  # NULL: free
    Column("phase", String(16)),  # extracting | staged | loading
    Column("heartbeat_at", DateTime),
)

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
)

# --- push bookkeeping (asset store_push) ---------------------------------------------------------

store_mappings = Table(
    "store_mappings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_key", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("external_id", String(128)),
    Column("external_variant_ids", JSON, nullable=False, default=dict),  # variant sku -> id
    Column("status", String(16), nullable=False),  # listed | delisted | error
    Column("payload_hash", String(64)),
    Column("content_hash", String(64)),
    Column("price_hash", String(64)),
    Column("stock_hash", String(64)),
    Column("last_pushed_at", DateTime),
    Column("last_run_id", String(64)),
    UniqueConstraint("store_key", "sku", name="uq_store_mappings_store_sku"),
)




def create_all(engine) -> None:  # type: ignore[no-untyped-def]
    """Create any missing table; safe to call on every run."""
    metadata.create_all(engine, checkfirst=True)

# --- platform tokens (Shopee / TikTok refresh flow) ----------------------------------------------

platform_tokens = Table(
    "platform_tokens",
    metadata,
    Column("store_key", String(64), primary_key=True),
    # Refresh tokens are single-use: the new pair is committed here before it is ever used.
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("access_expires_at", Numeric(20, 3)),
    Column("refresh_expires_at", Numeric(20, 3)),
    Column("updated_at", DateTime, nullable=False),
)
