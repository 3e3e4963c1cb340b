"""Connections to the app DB and the Magento DB, on SQLite, PostgreSQL or MySQL/MariaDB alike; the app
DB's one metadata, its one ``create_all`` and its clock.

Each stage owns its tables (``catalog/tables.py``, ``listings/tables.py``, ``push/tables.py``, the
platforms' token storage in ``platforms/tokens.py``), all defined on ``metadata`` below.
"""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, Engine, Integer, MetaData, Numeric, String, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

DEFAULT_DATA_DIR = Path(os.environ.get("SYNC_DATA_DIR", ".data"))

metadata = MetaData()  # every app DB table, each defined in the module of the stage that owns it
MONEY = Numeric(20, 4)  # every money column of the app DB
KEY_LENGTH = 64  # every store key, SKU and run id column of the app DB


def id_column() -> Column[int]:
    """The surrogate primary key of a table whose natural key is a tuple (store, SKU, run...)."""
    return Column("id", Integer, primary_key=True, autoincrement=True)


def key_columns(*names: str) -> list[Column[str]]:
    """Required identifying columns (``store_key``, ``sku``, ``run_id``...), all as wide as a key."""
    return [Column(name, String(KEY_LENGTH), nullable=False) for name in names]

# The modules that define app DB tables. Importing one puts its tables on ``metadata``; one that
# has an ``upgrade(engine)`` brings an app DB made by an older version up to date.
TABLE_MODULES = (
    "sync_pipeline.catalog.tables",
    "sync_pipeline.listings.tables",
    "sync_pipeline.push.tables",
    "sync_pipeline.platforms.tokens",
)


def default_sync_db_url() -> str:
    return f"sqlite:///{(DEFAULT_DATA_DIR / 'sync.db').resolve()}"


def default_magento_db_url() -> str:
    return f"sqlite:///{(DEFAULT_DATA_DIR / 'magento_demo.db').resolve()}"


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs for this project's workload.

    SQLite gets WAL and a busy timeout because Dagster runs several processes against one file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_all(engine: Engine) -> None:
    """Create any missing table and any missing index (an index added to an existing table too);
    safe to call on every run."""
    # Imported here, not above: the table modules import this one for ``metadata``.
    modules = [importlib.import_module(name) for name in TABLE_MODULES]
    metadata.create_all(engine, checkfirst=True)
    _add_missing_columns(engine)
    for module in modules:
        if hasattr(module, "upgrade"):
            module.upgrade(engine)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)


def _add_missing_columns(engine: Engine) -> None:
    """Add the nullable columns added to a table after an app DB was made (e.g. catalog_variants.problem)."""
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


def utcnow() -> datetime:
    """The app DB's clock: naive UTC, as every DateTime column of the app DB stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def redact_url(url: str) -> str:
    """The URL with its password hidden, for logs and errors."""
    return make_url(url).render_as_string(hide_password=True)
