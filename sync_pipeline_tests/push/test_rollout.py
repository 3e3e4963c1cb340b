"""The staged-rollout policy read from a store's push history (real app DB, SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import yaml

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.push import ledger
from sync_pipeline.push.rollout import next_step, record_spot_check
from sync_pipeline.stores import DEMO_STORES_FILE, StoresFileError, load_stores

STEPS = (2, 10, 50)


def _push(engine: object, run_id: str, step: int, *, errors: int = 0, status: str = "succeeded",
          spot_check: bool | None = True, store: str = "shop-a") -> None:
    ledger.start_run(engine, run_id, store, "push", {"rollout_step": step, "dry_run": False})  # type: ignore[arg-type]
    ledger.finish_run(engine, run_id, store, "push", status, {"errors": errors})  # type: ignore[arg-type]
    if spot_check is not None:
        record_spot_check(engine, run_id, store, spot_check)  # type: ignore[arg-type]


def test_each_step_only_after_the_previous_passed(app_db_url: str) -> None:
    engine = make_engine(app_db_url)
    create_all(engine)
    try:
        first = next_step(engine, "shop-a", STEPS)
        assert (first.index, first.max_products) == (0, 2) and "step 1 of 3" in first.describe()
        _push(engine, "r1", 0)
        assert next_step(engine, "shop-a", STEPS).max_products == 10
        _push(engine, "r2", 1, errors=1)  # an error: the step is repeated
        again = next_step(engine, "shop-a", STEPS)
        assert again.max_products == 10 and "1 error(s)" in again.reason
        _push(engine, "r3", 1, spot_check=False)
        assert "spot-check failed" in next_step(engine, "shop-a", STEPS).reason
        _push(engine, "r4", 1, spot_check=None)  # the check did not run: not passed
        assert "spot-check not run" in next_step(engine, "shop-a", STEPS).reason
        _push(engine, "r5", 1, status="failed")
        assert "the last run failed" in next_step(engine, "shop-a", STEPS).reason
        _push(engine, "r6", 1)
        _push(engine, "r7", 2)
        done = next_step(engine, "shop-a", STEPS)
        assert done.complete and done.max_products is None and done.describe().startswith("complete")
        _push(engine, "r8", 3)
        assert next_step(engine, "shop-a", STEPS).complete  # stays complete
        assert next_step(engine, "shop-b", STEPS).index == 0  # per store
        # pushes outside the policy (a manual --max-products) do not move the rollout
        ledger.start_run(engine, "r9", "shop-b", "push", {"max_products": 2})
        ledger.finish_run(engine, "r9", "shop-b", "push", "succeeded", {"errors": 0})
        assert next_step(engine, "shop-b", STEPS).index == 0
    finally:
        engine.dispose()


def test_rollout_in_the_stores_file_must_grow(tmp_path: object) -> None:
    from pathlib import Path

    data = yaml.safe_load(DEMO_STORES_FILE.read_text())
    data["stores"][0]["rollout"] = [2, 10, 50]
    good = Path(str(tmp_path)) / "good.yaml"
    good.write_text(yaml.safe_dump(data))
    assert load_stores(good).stores[0].rollout == (2, 10, 50)
    assert all(not s.rollout for s in load_stores(DEMO_STORES_FILE).stores)  # the demo declares none
    data["stores"][0]["rollout"] = [10, 2]
    bad = Path(str(tmp_path)) / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(StoresFileError, match="rollout"):
        load_stores(bad)
