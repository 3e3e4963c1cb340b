"""Shared fixtures: throwaway databases on the real servers, SQLite files, the sandbox stores.

MariaDB (127.0.0.1:3306, root) and PostgreSQL (127.0.0.1:5432, trust) are real servers. Each test
session gets its own database, dropped at the end. When a server is unreachable the tests that need
it are skipped locally, but with ``CI=true`` that is a failure: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync_pipeline_tests.bounds import CALL_BOUND_S

MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The store clients' calls to the sandboxes (in this process and in the push children it starts) may
# take up to the tests' call bound on a loaded machine; 30 s, the default, ran out at load ~55.
os.environ.setdefault("SYNC_HTTP_TIMEOUT_SECONDS", str(int(CALL_BOUND_S)))


def _unavailable(server: str, exc: Exception) -> None:
    message = f"{server} is not reachable ({type(exc).__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it (.ci/run starts it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mariadb_server_url() -> Iterator[str]:
    """A fresh, empty MariaDB database for this test session."""
    name = f"sp_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "server unavailable"
        admin.dispose()
        _unavailable("MariaDB", exc)
    try:
        yield f"{MARIADB_ADMIN_URL.rstrip('/')}/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    name = f"sp_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _unavailable("PostgreSQL", exc)
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_schema(url: str) -> None:
    """Drop every table so each test starts from nothing, within the session's database."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            if engine.dialect.name == "mysql":
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in reversed(meta.sorted_tables):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {engine.dialect.identifier_preparer.quote(table.name)}"
                                     + (" CASCADE" if engine.dialect.name == "postgresql" else "")))
            if engine.dialect.name == "mysql":
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The app DB, once on SQLite and once on PostgreSQL, empty for each test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sync.db'}"
    url: str = request.getfixturevalue("postgres_server_url")
    _empty_schema(url)
    return url


@pytest.fixture
def sqlite_app_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sync.db'}"


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def magento_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty Magento source DB, once on SQLite and once on MariaDB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'magento.db'}"
    url: str = request.getfixturevalue("mariadb_server_url")
    _empty_schema(url)
    return url


@pytest.fixture
def mariadb_url(mariadb_server_url: str) -> str:
    """An empty MariaDB Magento DB (for tests that need MySQL semantics specifically)."""
    _empty_schema(mariadb_server_url)
    return mariadb_server_url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    _empty_schema(postgres_server_url)
    return postgres_server_url
