"""store_push through Dagster: metadata, observations while it runs, dry run, definitions shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterEventType, materialize

from sync_pipeline.defs.push import store_push
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import provision, store_listing
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures


def test_store_push_materializes_with_counts(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
                                             monkeypatch: pytest.MonkeyPatch, sqlite_app_db_url: str) -> None:
    stores = provision(sandbox_server, tmp_path, monkeypatch)
    store = stores.by_key("shopee-sg")
    app_db = AppDatabase(url=sqlite_app_db_url)
    save_listings(app_db.engine, [store_listing(store, f"TEE-{i}", image_host.url) for i in range(3)])
    resources = {"app_db": app_db, "stores_config": StoresConfig(path=str(tmp_path / "stores.yaml"))}

    dry = materialize([store_push], partition_key="shopee-sg", resources=resources,
                      run_config={"ops": {"store_push": {"config": {"dry_run": True}}}})
    assert sandbox_server.calls("shopee", "300001")["writes"] == 0
    meta = dry.asset_materializations_for_node("store_push")[0].metadata
    assert meta["dry_run"].value is True and "create 3" in meta["summary"].value

    result = materialize([store_push], partition_key="shopee-sg", resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("store_push")[0].metadata
    assert (meta["created"].value, meta["errors"].value, meta["unchanged"].value) == (3, 0, 0)
    observations = [e for e in result.all_events if e.event_type == DagsterEventType.ASSET_OBSERVATION]
    assert observations and observations[0].asset_key == AssetKey("store_push")


def test_missing_credentials_fail_only_that_store(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch, sqlite_app_db_url: str) -> None:
    stores = provision(sandbox_server, tmp_path, monkeypatch)
    monkeypatch.delenv("PUSH_T_TT_AT")
    app_db = AppDatabase(url=sqlite_app_db_url)
    save_listings(app_db.engine, [store_listing(stores.by_key("tiktok-us"), "TEE-1", image_host.url)])
    result = materialize([store_push], partition_key="tiktok-us", raise_on_error=False, resources={
        "app_db": app_db, "stores_config": StoresConfig(path=str(tmp_path / "stores.yaml"))})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert "PUSH_T_TT_AT" in str(failure.event_specific_data)


def test_definitions_hold_the_push() -> None:
    from sync_pipeline.definitions import defs

    assert defs.resolve_assets_def("store_push").partitions_def is not None
    for name in ("manual_sync", "push_dry_run", "retry_dead_letters", "rollback_push"):
        assert defs.resolve_job_def(name).name == name
