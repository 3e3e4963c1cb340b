"""Resources: how the Dagster layer reaches the Magento DB, the app DB and the stores file.

Each is configured from its environment variable (see ARCHITECTURE.md); with none set, the
embedded default (SQLite files under ``.data/`` and the demo stores file) is used.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

from dagster import ConfigurableResource, EnvVar
from pydantic import PrivateAttr
from sqlalchemy import Engine

from sync_pipeline.db import create_all, default_magento_db_url, default_sync_db_url, make_engine
from sync_pipeline.stores import StoresFile, load_stores, stores_file_path


class _Database(ConfigurableResource):  # type: ignore[type-arg]
    """One engine per resource, opened on first use and disposed after the step."""

    url: str

    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._opened(make_engine(self.url))
        return self._engine

    def _opened(self, engine: Engine) -> Engine:
        return engine

    def teardown_after_execution(self, context: Any) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class AppDatabase(_Database):
    """The app DB (catalog, listings, mappings, logs): PostgreSQL in production, SQLite by default."""

    def _opened(self, engine: Engine) -> Engine:
        create_all(engine)
        return engine


class MagentoDatabase(_Database):
    """The Magento 2 catalog DB (MySQL/MariaDB through pymysql; SQLite for the demo), read-only."""

    store_code: str = "default"
    media_base_url: str | None = None  # None: read from core_config_data


class StoresConfig(ConfigurableResource):  # type: ignore[type-arg]
    """The stores file: every store, its platform, price and title rules, credentials by env name."""

    path: str

    @cached_property
    def stores(self) -> StoresFile:
        return load_stores(self.path)


def _env(name: str, default: str | None) -> Any:
    """An ``EnvVar`` when the variable is set (resolved at launch, never printed), else the default."""
    return EnvVar(name) if os.environ.get(name) else default


def default_resources() -> dict[str, Any]:
    return {
        "app_db": AppDatabase(url=_env("SYNC_DB_URL", default_sync_db_url())),
        "magento_db": MagentoDatabase(
            url=_env("MAGENTO_DB_URL", default_magento_db_url()),
            store_code=_env("MAGENTO_STORE_CODE", "default"),
            media_base_url=_env("MAGENTO_MEDIA_BASE_URL", None),
        ),
        "stores_config": StoresConfig(path=str(stores_file_path())),
    }
