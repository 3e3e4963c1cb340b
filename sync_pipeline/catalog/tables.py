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
    # The listing as last pushed (JSON): the rollback's "previous state" and the dry run's field diff.
    Column("last_payload", JSON),
    UniqueConstraint("store_key", "sku", name="uq_store_mappings_store_sku"),
)




def create_all(engine) -> None:  # type: ignore[no-untyped-def]
    """Create any missing table and any missing index (an index added to an existing table too);
    safe to call on every run."""
    metadata.create_all(engine, checkfirst=True)
    _add_missing_columns(engine)
    _variants_keyed_by_parent_and_sku(engine)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)


def _add_missing_columns(engine) -> None:  # type: ignore[no-untyped-def]
    """Add the nullable columns added to a table after an app DB was made (e.g. catalog_variants.problem)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import DBAPIError

    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable or column.server_default is not None:
                continue
            quote = engine.dialect.identifier_preparer.quote
            ddl = (f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} "
                   f"{column.type.compile(dialect=engine.dialect)}")
            try:
                with engine.begin() as conn:
                    conn.execute(text(ddl))
            except DBAPIError:
                # Another process (a second run starting) added it first: fine if it is there now.
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise


def _variants_keyed_by_parent_and_sku(engine) -> None:  # type: ignore[no-untyped-def]
    """Upgrade an app DB made when a variant SKU was unique on its own to the (parent, SKU) key."""
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

# --- the fast path's marks (push/changes.py) -----------------------------------------------------

# Per store: the rules its listings were last fully built with, the newest catalog change they
# include, and the newest listing change a push has taken to the store. What lies beyond the marks
# is what a change-driven run rebuilds, audits and pushes.
store_sync_marks = Table(
    "store_sync_marks",
    metadata,
    Column("store_key", String(64), primary_key=True),
    Column("rules_digest", String(64), nullable=False),
    Column("catalog_seen_at", DateTime),  # newest catalog_products.updated_at the listings include
    Column("listings_pushed_at", DateTime),  # newest platform_listings.updated_at pushed to the store
    Column("updated_at", DateTime, nullable=False),
)

# --- push runs, guard, dead letters, sync log, rollback snapshots (asset store_push) -------------

# One row per (run, store): what a push decided and did, for reports, rollback and the dead-letter age.
push_runs = Table(
    "push_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("store_key", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # push | dry_run | rollback | retry
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("options", JSON, nullable=False, default=dict),
    Column("counts", JSON, nullable=False, default=dict),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("error_message", Text),
    UniqueConstraint("run_id", "store_key", "kind", name="uq_push_runs_run_store_kind"),
)

# At most one push per store: taken by a conditional UPDATE (atomic on every backend), taken over
# only when the holder's heartbeat is older than the stale timeout (a killed process).
push_store_locks = Table(
    "push_store_locks",
    metadata,
    Column("store_key", String(64), primary_key=True),
    Column("run_id", String(64)),  # NULL: free
    Column("holder", String(255)),  # host:pid, for the refusal message
    Column("acquired_at", DateTime),
    Column("heartbeat_at", DateTime),
)

# What still failed after the client's retries; cleared when the SKU is pushed successfully.
push_dead_letters = Table(
    "push_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_key", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),  # the last run that failed it
    Column("action", String(32), nullable=False),
    Column("payload", JSON),
    Column("error_class", String(32), nullable=False),
    Column("platform_code", String(64)),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_failed_at", DateTime, nullable=False),
    Column("last_failed_at", DateTime, nullable=False),
    UniqueConstraint("store_key", "sku", name="uq_push_dead_letters_store_sku"),
)

# Every store call, bodies redacted by the client; pruned by age (retention setting).
push_sync_log = Table(
    "push_sync_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("store_key", String(64), nullable=False),
    Column("sku", String(64)),
    Column("operation", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("http_status", Integer),
    Column("error_class", String(32)),
    Column("platform_code", String(64)),
    Column("latency_ms", Numeric(12, 2)),
    Column("request_body", Text),
    Column("response_body", Text),
    Index("ix_push_sync_log_at", "at"),
    Index("ix_push_sync_log_run_store", "run_id", "store_key"),
)

# The state a product had before a run changed it, so that run can be undone.
push_rollback_snapshots = Table(
    "push_rollback_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("store_key", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("action", String(32), nullable=False),  # create | update_content | update_price | update_stock | delist
    Column("external_id", String(128)),
    Column("external_variant_ids", JSON, nullable=False, default=dict),
    Column("previous_status", String(16)),
    Column("previous_payload", JSON),  # the listing as last pushed (None for a create)
    Column("previous_hashes", JSON, nullable=False, default=dict),
    Column("taken_at", DateTime, nullable=False),
    Column("rolled_back_at", DateTime),
    UniqueConstraint("run_id", "store_key", "sku", name="uq_push_rollback_run_store_sku"),
    Index("ix_push_rollback_store_run", "store_key", "run_id"),
)

# --- first loads through Shopify bulk mutations (push/bulk.py) -----------------------------------

# One row per bulk load of a store: written before anything is staged (the intent), then the
# operation ids as Shopify gives them, so a run killed mid-bulk resumes by polling them.
push_bulk_loads = Table(
    "push_bulk_loads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_key", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),  # the run that started it
    Column("phase", String(16), nullable=False),  # product_set | publish | done | abandoned
    Column("product_set_op", String(128)),  # gid://shopify/BulkOperation/...
    Column("publish_op", String(128)),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),  # lines done of the phase running
    Column("phase_started_at", DateTime, nullable=False),  # before the phase's operation was asked for
    Column("updated_at", DateTime, nullable=False),
    Index("ix_push_bulk_loads_store_phase", "store_key", "phase"),
)

# The load's lines: line number -> SKU, the listing's payload hash as sent, the product made.
push_bulk_lines = Table(
    "push_bulk_lines",
    metadata,
    Column("load_id", Integer, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("product_id", String(128)),
)
