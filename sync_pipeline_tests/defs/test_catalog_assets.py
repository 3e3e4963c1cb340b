"""The catalog assets, checks and the manual import job, run through Dagster with real resources."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import AssetCheckSeverity, Definitions, materialize

from sync_pipeline.catalog.tables import catalog_products as products_table
from sync_pipeline.catalog.tables import catalog_variants as variants_table
from sync_pipeline.catalog.tables import product_import_jobs
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.defs import catalog
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase
from sync_pipeline.magento.generator import generate_catalog

CHECKS = [catalog.catalog_skus_unique, catalog.catalog_active_products_sellable,
          catalog.catalog_products_have_an_image, catalog.catalog_products_have_three_images]


def _resources(magento_url: str, app_url: str) -> dict[str, Any]:
    return {"magento_db": MagentoDatabase(url=magento_url), "app_db": AppDatabase(url=app_url)}


def _metadata(result: Any, asset: str) -> dict[str, Any]:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _checks(result: Any) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _generated(tmp_path: Path, products: int, dirty: bool = False) -> tuple[str, Any]:
    url = f"sqlite:///{tmp_path / 'magento.db'}"
    engine = make_engine(url)
    generated = generate_catalog(engine, products=products, seed=3, dirty=dirty, today=date.today())
    engine.dispose()
    return url, generated


def _jobs(app_url: str) -> list[dict[str, Any]]:
    engine = make_engine(app_url)
    create_all(engine)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(product_import_jobs).order_by(product_import_jobs.c.id)).mappings()]
    engine.dispose()
    return rows


def test_materializing_both_assets_imports_everything_due_and_reports_metrics(tmp_path: Path, app_db_url: str) -> None:
    magento_url, generated = _generated(tmp_path, 60, dirty=True)
    result = materialize([catalog.magento_products, catalog.catalog_products, *CHECKS],
                         resources=_resources(magento_url, app_db_url))
    assert result.success
    extract = _metadata(result, "magento_products")
    loaded = _metadata(result, "catalog_products")
    sellable = len(generated.sellable_ids)
    assert extract["total_found"] == sellable and extract["new"] == sellable
    for key in ("total_found", "processed", "inserted", "updated", "skipped", "errors_count", "elapsed_ms",
                "last_processed_source_id"):
        assert isinstance(loaded[key], int), key
    assert loaded["total_found"] == loaded["processed"] == sellable
    assert loaded["errors_count"] >= len(generated.expected_rejections) > 0
    assert loaded["inserted"] == sellable - loaded["errors_count"]
    assert loaded["last_processed_source_id"] == max(generated.candidate_ids)
    assert loaded["preview"].count("\n") >= 2 and "| sku |" in loaded["preview"]
    assert "reason" in loaded["skipped_rows"] and "price" in loaded["skipped_rows"]
    jobs = _jobs(app_db_url)
    assert [j["status"] for j in jobs] == ["completed"]
    assert jobs[0]["params"]["mode"] == "everything_due" and jobs[0]["run_id"] == result.run_id
    checks = _checks(result)
    assert set(checks) == {"catalog_skus_unique", "catalog_active_products_sellable",
                           "catalog_products_have_an_image", "catalog_products_have_three_images"}
    assert checks["catalog_skus_unique"].passed
    assert checks["catalog_active_products_sellable"].passed
    assert not checks["catalog_products_have_an_image"].passed  # the dirty catalog has a product with no image
    assert checks["catalog_products_have_three_images"].severity == AssetCheckSeverity.WARN


def test_rerun_with_nothing_changed_writes_nothing(tmp_path: Path, sqlite_app_db_url: str) -> None:
    magento_url, _ = _generated(tmp_path, 40)
    resources = _resources(magento_url, sqlite_app_db_url)
    materialize([catalog.magento_products, catalog.catalog_products], resources=resources)
    again = materialize([catalog.magento_products, catalog.catalog_products], resources=resources)
    loaded = _metadata(again, "catalog_products")
    assert (loaded["inserted"], loaded["updated"], loaded["errors_count"]) == (0, 0, 0)


def _import_job(magento_url: str, app_url: str) -> Any:
    return Definitions.merge(catalog.defs, Definitions(resources=_resources(magento_url, app_url))) \
        .resolve_job_def(catalog.MANUAL_IMPORT_JOB)


def test_manual_job_defaults_to_limit_100_and_pages_with_the_config(tmp_path: Path, sqlite_app_db_url: str) -> None:
    magento_url, generated = _generated(tmp_path, 80)
    job = _import_job(magento_url, sqlite_app_db_url)
    assert job.execute_in_process().success
    first = _jobs(sqlite_app_db_url)[-1]
    assert first["params"] == {"limit": 100, "resume_from_last": True, "start_after_id": None, "mode": "manual"}
    run_config = {"ops": {"magento_products": {"config": {"limit": 2, "resume_from_last": False,
                                                          "start_after_id": 0}}}}
    assert job.execute_in_process(run_config=run_config).success
    second = _jobs(sqlite_app_db_url)[-1]
    assert second["params"]["limit"] == 2 and second["metrics"]["total_found"] == 2
    assert second["status"] == "completed"
    assert first["metrics"]["inserted"] == len(generated.sellable_ids)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"limit": 5000}, "limit: Input should be less than or equal to 1000"),
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"resume_from_last": False}, "start_after_id is required when resume_from_last is false"),
    ],
)
def test_manual_job_refuses_bad_config_with_a_clear_message(tmp_path: Path, sqlite_app_db_url: str,
                                                           config: dict[str, Any], message: str) -> None:
    from dagster import DagsterInvalidConfigError, instance_for_test

    from sync_pipeline.definitions import defs

    magento_url, _ = _generated(tmp_path, 5)
    run_config = {"ops": {"magento_products": {"config": config}}}
    # The manual import and the scheduled catalog_sync: each job's config mapping refuses it while
    # the run is being set up, so no run exists.
    for job in (_import_job(magento_url, sqlite_app_db_url), defs.resolve_job_def("catalog_sync")):
        with instance_for_test() as instance:
            with pytest.raises(DagsterInvalidConfigError,
                               match=f"^{job.name} refused before launch, nothing was started: "
                                     f"ops.magento_products.config: .*{message}"):
                job.execute_in_process(run_config=run_config, instance=instance,
                                       resources=_resources(magento_url, sqlite_app_db_url))
            assert instance.get_runs() == []
    # Materialized from the asset graph (no job around it), the step refuses the same settings.
    result = materialize([catalog.magento_products, catalog.catalog_products], run_config=run_config,
                         resources=_resources(magento_url, sqlite_app_db_url), raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("magento_products")
    assert failure is not None and message in failure.user_failure_data.description
    assert _jobs(sqlite_app_db_url) == []  # refused before any job row or read


def test_a_second_import_while_one_runs_is_refused(tmp_path: Path, sqlite_app_db_url: str) -> None:
    from sync_pipeline.catalog import jobs

    magento_url, _ = _generated(tmp_path, 5)
    engine = make_engine(sqlite_app_db_url)
    create_all(engine)
    holder = jobs.create_job(engine, {}, run_id="other-run")
    jobs.start_job(engine, holder)
    engine.dispose()
    result = materialize([catalog.magento_products, catalog.catalog_products],
                         resources=_resources(magento_url, sqlite_app_db_url), raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("magento_products")
    assert failure is not None
    assert "another catalog import is already running" in failure.user_failure_data.description


def _seed_bad_catalog(app_url: str) -> None:
    engine = make_engine(app_url)
    create_all(engine)
    now = datetime(2026, 1, 1)

    def product(sku: str, **values: Any) -> dict[str, Any]:
        row = {"sku": sku, "source_id": 1, "type_id": "simple", "title": "Good", "description": "",
               "price": Decimal("10"), "stock_qty": 1, "is_active": True, "categories": [],
               "images": ["a", "b", "c"], "attributes": {}, "content_hash": "x", "created_at": now,
               "updated_at": now}
        return row | values

    with engine.begin() as conn:
        conn.execute(sa.insert(products_table), [
            product("GOOD"),
            product("good "),  # the same SKU to a store that ignores case and spaces
            product("FREE", price=Decimal("0")),
            product("NONAME", title="  "),
            product("NEG", stock_qty=-2),
            product("LONELY"),  # no variant at all
            product("BARE", images=[]),
            product("FEW", images=["a"]),
        ])
        conn.execute(sa.insert(variants_table), [
            {"sku": sku, "parent_sku": sku, "source_id": 1, "stock_qty": 1, "is_active": True, "options": {},
             "position": 0}
            for sku in ("GOOD", "good ", "FREE", "NONAME", "NEG", "BARE", "FEW")
        ])
    engine.dispose()


def test_checks_fail_on_a_bad_catalog(tmp_path: Path, app_db_url: str) -> None:
    _seed_bad_catalog(app_db_url)
    result = materialize([catalog.catalog_products, *CHECKS], resources={"app_db": AppDatabase(url=app_db_url)},
                         selection=[catalog.catalog_products.key])
    assert result.success  # an ERROR check reports; it does not crash the run
    loaded = _metadata(result, "catalog_products")
    assert loaded["processed"] == 0  # nothing was staged
    checks = _checks(result)
    assert not checks["catalog_skus_unique"].passed
    assert checks["catalog_skus_unique"].metadata["violations"].value == 1
    sellable = checks["catalog_active_products_sellable"]
    assert not sellable.passed and sellable.metadata["violations"].value == 4
    assert "`LONELY`" in sellable.metadata["sample_skus"].value
    one = checks["catalog_products_have_an_image"]
    three = checks["catalog_products_have_three_images"]
    assert (one.passed, one.metadata["violations"].value, one.severity) == (False, 1, AssetCheckSeverity.ERROR)
    assert (three.passed, three.metadata["violations"].value, three.severity) == (False, 2, AssetCheckSeverity.WARN)


def test_checks_pass_on_a_clean_catalog(tmp_path: Path, sqlite_app_db_url: str) -> None:
    magento_url, _ = _generated(tmp_path, 30)
    result = materialize([catalog.magento_products, catalog.catalog_products, *CHECKS],
                         resources=_resources(magento_url, sqlite_app_db_url))
    checks = _checks(result)
    assert checks["catalog_skus_unique"].passed
    assert checks["catalog_active_products_sellable"].passed
    assert checks["catalog_products_have_an_image"].passed


def test_the_code_location_holds_the_catalog_assets_and_job() -> None:
    from sync_pipeline.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"magento_products", "catalog_products"} <= keys
    assert defs.resolve_job_def("magento_import").name == "magento_import"
