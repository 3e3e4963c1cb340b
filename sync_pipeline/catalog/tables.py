"""The catalog's tables: the normalized products and variants, the import jobs, cursor, staging and guard.

Column names of ``catalog_products``, ``catalog_variants``, ``product_import_jobs`` and
``product_import_meta`` are a contract (see ARCHITECTURE.md); add columns, never rename them.
Every stage defines its own tables on the one ``db.metadata``; ``db.create_all`` creates them all.
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
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sync_pipeline.db import MONEY, metadata

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
    # Magento takes backorders: sellable at stock 0; each store decides whether to list it (stock.py).
    Column("backorders", Boolean),
    Column("source_updated_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # The fast path asks "changed since the store's mark?" after every import (push/changes.py).
    Index("ix_catalog_products_updated_at", "updated_at"),
)

catalog_variants = Table(
    "catalog_variants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # One simple child can be a variant of several configurables (Magento allows it): the key is the pair.
    Column("sku", String(64), nullable=False, index=True),
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
    # Why a configurable's child is not sold (disabled, no stock row, no price); NULL when it can be.
    Column("problem", String(64)),
    Column("backorders", Boolean),  # as on catalog_products
    UniqueConstraint("parent_sku", "sku", name="uq_catalog_variants_parent_sku"),
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


def upgrade(engine: Engine) -> None:
    """Upgrade an app DB made when a variant SKU was unique on its own to the (parent, SKU) key
    (``db.create_all`` runs it after creating what is missing)."""
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    old_unique = [u["name"] for u in inspector.get_unique_constraints("catalog_variants")
                  if u["column_names"] == ["sku"]]
    old_unique += [i["name"] for i in inspector.get_indexes("catalog_variants")
                   if i.get("unique") and i["column_names"] == ["sku"]]
    if not old_unique:
        return
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # SQLite cannot drop a column's inline UNIQUE: rebuild the table (same columns, new key).
            conn.execute(text("ALTER TABLE catalog_variants RENAME TO catalog_variants_before_upgrade"))
            for index in inspector.get_indexes("catalog_variants"):
                if index["name"]:
                    conn.execute(text(f'DROP INDEX IF EXISTS "{index["name"]}"'))
            catalog_variants.create(conn)
            columns = ", ".join(c.name for c in catalog_variants.columns)
            conn.execute(text(f"INSERT INTO catalog_variants ({columns}) "
                              f"SELECT {columns} FROM catalog_variants_before_upgrade"))
            conn.execute(text("DROP TABLE catalog_variants_before_upgrade"))
            return
        for name in dict.fromkeys(n for n in old_unique if n):
            if conn.dialect.name == "postgresql":
                conn.execute(text(f'ALTER TABLE catalog_variants DROP CONSTRAINT IF EXISTS "{name}"'))
                conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
            else:
                conn.execute(text(f"ALTER TABLE catalog_variants DROP INDEX `{name}`"))
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_catalog_variants_sku ON catalog_variants (sku)"))
        conn.execute(text("ALTER TABLE catalog_variants ADD CONSTRAINT uq_catalog_variants_parent_sku "
                          "UNIQUE (parent_sku, sku)"))
