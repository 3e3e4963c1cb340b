"""Connections to the app DB and the Magento DB, on SQLite, PostgreSQL or MySQL/MariaDB alike."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_DATA_DIR = Path(os.environ.get("SYNC_DATA_DIR", ".data"))


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


def utcnow() -> datetime:
    """The app DB's clock: naive UTC, as every DateTime column of the app DB stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def redact_url(url: str) -> str:
    """The URL with its password hidden, for logs and errors."""
    return make_url(url).render_as_string(hide_password=True)
