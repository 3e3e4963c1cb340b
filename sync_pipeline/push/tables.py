"""The push's tables: the store mappings, runs, guard, dead letters, sync log, rollback snapshots and
the fast path's marks. Read and written through ``push/ledger.py`` and the push's own modules.

Defined on the one ``db.metadata``; ``db.create_all`` creates them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, Numeric, String, Table, Text, UniqueConstraint

from sync_pipeline.db import id_column, key_columns, metadata

# --- push bookkeeping (asset store_push) ---------------------------------------------------------

store_mappings = Table(
    "store_mappings",
    metadata,
    id_column(),
    *key_columns("store_key", "sku"),
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
    id_column(),
    *key_columns("run_id", "store_key"),
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
    id_column(),
    *key_columns("store_key", "sku", "run_id"),  # run_id: the last run that failed it
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
    id_column(),
    Column("at", DateTime, nullable=False),
    *key_columns("run_id", "store_key"),
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
    id_column(),
    *key_columns("run_id", "store_key", "sku"),
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
    id_column(),
    *key_columns("store_key", "run_id"),  # run_id: the run that started it
    Column("phase", String(16), nullable=False),  # product_set | publish | done | abandoned
    Column("product_set_op", String(128)),  # gid://shopify/BulkOperation/...
    Column("publish_op", String(128)),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),  # lines done of the phase running
    Column("phase_started_at", DateTime, nullable=False),  # before the phase's operation was asked for
    Column("updated_at", DateTime, nullable=False),
    Index("ix_push_bulk_loads_store_phase", "store_key", "phase"),
)

# The load's lines: line number -> SKU and the listing's payload hash as sent.
push_bulk_lines = Table(
    "push_bulk_lines",
    metadata,
    Column("load_id", Integer, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("payload_hash", String(64), nullable=False),
)
