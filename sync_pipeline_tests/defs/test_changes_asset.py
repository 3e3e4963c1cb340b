"""``catalog_changes_pushed`` through Dagster (``materialize``) on the app DB and the sandbox stores:
it records each store's listings and push partitions as materialized, and fails naming a store
that was not pushed while the others are."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterEventType, materialize
from sqlalchemy import Engine

from sync_pipeline.defs.changes import catalog_changes_pushed
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.push.guard import StorePushGuard
from sync_pipeline.stores import StoresFile
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.test_changes import SKUS, Catalog, catalog, stores  # noqa: F401 - fixtures
from sync_pipeline_tests.push.test_push_sandbox import db  # noqa: F401 - fixture
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures


def _resources(db: Engine, tmp_path: Path) -> dict[str, Any]:  # noqa: F811
    return {"app_db": AppDatabase(url=db.url.render_as_string(hide_password=False)),
            "stores_config": StoresConfig(path=str(tmp_path / "stores.yaml"))}


def _partitions(result: Any, asset: str) -> set[str]:
    return {e.event_specific_data.materialization.partition for e in result.all_events
            if e.event_type == DagsterEventType.ASSET_MATERIALIZATION
            and e.event_specific_data.materialization.asset_key == AssetKey(asset)}


@pytest.mark.slow
def test_changes_reach_every_store_in_one_step_and_a_locked_store_fails_the_run(
    db: Engine, stores: StoresFile, catalog: Catalog, tmp_path: Path  # noqa: F811
) -> None:
    result = materialize([catalog_changes_pushed], resources=_resources(db, tmp_path))
    assert result.success
    keys = {s.key for s in stores.stores}
    assert _partitions(result, "platform_listings") == keys and _partitions(result, "store_push") == keys
    (own,) = [m for m in result.asset_materializations_for_node("catalog_changes_pushed")
              if m.asset_key == AssetKey("catalog_changes_pushed")]
    metadata = own.metadata
    assert metadata["skus_pushed"].value == len(SKUS) * len(keys) and metadata["failed_stores"].value == 0
    (check,) = result.get_asset_check_evaluations()
    assert check.passed

    catalog.update("FAST-04", stock_qty=1)
    locked = stores.stores[1].key
    with StorePushGuard(db, locked, "someone-else", timedelta(hours=1)):
        failed = materialize([catalog_changes_pushed], resources=_resources(db, tmp_path), raise_on_error=False)
    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert locked in str(failure.event_specific_data.error.message)
    # The other stores went through and were recorded; the locked one was not.
    assert _partitions(failed, "store_push") == keys - {locked}

    again = materialize([catalog_changes_pushed], resources=_resources(db, tmp_path))
    assert again.success and _partitions(again, "store_push") == {locked}


@pytest.mark.slow
def test_one_warning_per_run_when_refreshed_tokens_would_be_stored_in_clear(
    db: Engine, stores: StoresFile, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """As store_push does: every store pushed in one run, one warning for the run; none with a key."""
    import logging

    from cryptography.fernet import Fernet
    from dagster import instance_for_test

    def warnings_of_one_run() -> int:
        with instance_for_test() as instance:
            result = materialize([catalog_changes_pushed], resources=_resources(db, tmp_path), instance=instance)
            assert result.success
            return sum(1 for entry in instance.all_logs(result.run_id)
                       if entry.level == logging.WARNING and "SYNC_SECRET_KEY" in entry.user_message)

    assert len(stores.stores) > 1
    monkeypatch.delenv("SYNC_SECRET_KEY", raising=False)
    assert warnings_of_one_run() == 1
    monkeypatch.setenv("SYNC_SECRET_KEY", Fernet.generate_key().decode())
    assert warnings_of_one_run() == 0


def test_the_fast_path_runs_the_rule_of_every_blocking_listing_check() -> None:
    """A blocking check added to platform_listings must gate the fast path's push as well."""
    from sync_pipeline.defs.listings import LISTING_CHECKS
    from sync_pipeline.push.changes import BLOCKING_AUDITS, STORE_WIDE_AUDITS, WARNING_AUDITS

    blocking = {spec.name for check in LISTING_CHECKS for spec in check.check_specs if spec.blocking}
    assert blocking == set(BLOCKING_AUDITS) | set(STORE_WIDE_AUDITS)
    warnings = {spec.name for check in LISTING_CHECKS for spec in check.check_specs if not spec.blocking}
    # The image reachability check asks image hosts over HTTP: it stays with store_sync's checks
    # (cached by URL), not in the fast path's in-step audits.
    assert warnings - {"listing_images_reachable"} == set(WARNING_AUDITS)
