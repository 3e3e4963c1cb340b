"""The ``platform_listings`` asset and its checks, run through ``materialize()`` with real resources."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, AssetSelection, materialize
from sqlalchemy import update

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import make_engine
from sync_pipeline.defs.listings import (
    LISTING_CHECKS,
    listing_has_three_images,
    listing_prices_match_rule,
    platform_listings,
)
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.listings.tables import platform_listings as listings_table
from sync_pipeline.stores import DEMO_STORES_FILE, load_stores
from sync_pipeline_tests.listings.catalog_rows import configurable, insert_catalog, product_row
from sync_pipeline_tests.listings.rules_support import seed_open_rules

STORE_KEYS = load_stores().keys()


def resources(db_url: str, stores_file: Path | str = DEMO_STORES_FILE) -> dict[str, object]:
    return {"app_db": AppDatabase(url=db_url), "stores_config": StoresConfig(path=str(stores_file))}


def partition_tag(key: str) -> dict[str, str]:
    """Runs the checks of one partition alone. (``materialize(partition_key=...)`` refuses a
    selection with no asset in it in Dagster 1.13; the run tag is what it would set anyway.)"""
    return {"dagster/partition": key}


def seed(db_url: str) -> None:
    engine = make_engine(db_url)
    product, variants = configurable("CFG", 1)
    insert_catalog(engine, [product, product_row("SIM", 2), product_row("NOIMG", 3, images=[]),
                            product_row("OFF", 4, is_active=False)], variants)
    engine.dispose()


@pytest.mark.parametrize("store_key", STORE_KEYS)
def test_each_partition_materializes_with_metadata_and_passing_checks(
    app_db_url: str, store_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DEMO_SHOPIFY_US_TOKEN", "DEMO_SHOPEE_PARTNER_KEY", "DEMO_TIKTOK_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)  # listings never need a store's credentials
    seed(app_db_url)
    # Listings never need credentials, but a Shopee/TikTok store's are judged against its rules,
    # read beforehand (store_catalog_rules; here seeded: this test is not about them).
    engine = make_engine(app_db_url)
    seed_open_rules(engine, load_stores().stores)
    engine.dispose()
    result = materialize([platform_listings, *LISTING_CHECKS], partition_key=store_key, resources=resources(app_db_url))
    assert result.success
    metadata = result.asset_materializations_for_node("platform_listings")[0].metadata
    assert {k: metadata[k].value for k in ("listings", "valid", "invalid", "delists", "changed")} == {
        "listings": 4, "valid": 3, "invalid": 1, "delists": 1, "changed": 4,
    }
    assert "| no_image | 1 |" in metadata["invalid_by_reason"].value
    preview = metadata["preview"].value
    assert preview.splitlines()[0] == "| SKU | master price | store price | title | valid |"
    assert len(preview.splitlines()) == 2 + 4
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {c.check_key.name for c in LISTING_CHECKS}
    # The catalog rows' images live on img.example, which does not exist: the image check says so
    # (a warning), every other check passes.
    images = evaluations.pop("listing_images_reachable")
    assert not images.passed and images.severity == AssetCheckSeverity.WARN
    assert "img.example" in images.metadata["examples"].value and "unreachable" in images.metadata["examples"].value
    assert all(e.passed for e in evaluations.values()), {n: e.metadata for n, e in evaluations.items()}

    again = materialize([platform_listings], partition_key=store_key, resources=resources(app_db_url))
    assert again.asset_materializations_for_node("platform_listings")[0].metadata["changed"].value == 0


def test_blocking_price_check_fails_when_the_catalog_moved_on(sqlite_app_db_url: str) -> None:
    seed(sqlite_app_db_url)
    assert materialize([platform_listings], partition_key="shopee-sg", resources=resources(sqlite_app_db_url)).success
    engine = make_engine(sqlite_app_db_url)
    with engine.begin() as conn:
        conn.execute(update(catalog_products).where(catalog_products.c.sku == "SIM").values(price=123))
    engine.dispose()
    result = materialize(
        [platform_listings, listing_prices_match_rule],
        selection=AssetSelection.checks(listing_prices_match_rule),
        tags=partition_tag("shopee-sg"),
        resources=resources(sqlite_app_db_url),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR
    assert evaluation.metadata["failures"].value == 1
    assert not result.success  # blocking: the run stops, nothing downstream would push


def test_image_check_only_warns(sqlite_app_db_url: str) -> None:
    seed(sqlite_app_db_url)
    assert materialize([platform_listings], partition_key="shopify-us", resources=resources(sqlite_app_db_url)).success
    engine = make_engine(sqlite_app_db_url)
    with engine.begin() as conn:
        row = conn.execute(listings_table.select().where(listings_table.c.sku == "SIM")).one()
        payload = {**row.payload, "images": ["https://i/1.jpg"]}
        conn.execute(update(listings_table).where(listings_table.c.id == row.id).values(payload=payload))
    engine.dispose()
    result = materialize(
        [platform_listings, listing_has_three_images],
        selection=AssetSelection.checks(listing_has_three_images),
        tags=partition_tag("shopify-us"),
        resources=resources(sqlite_app_db_url),
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert result.success and not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN


def test_a_store_missing_from_the_stores_file_fails_with_a_clear_message(sqlite_app_db_url: str, tmp_path: Path) -> None:
    text = DEMO_STORES_FILE.read_text(encoding="utf-8")
    only_shopify = tmp_path / "stores.yaml"
    only_shopify.write_text(text[: text.index("  - key: shopify-eu")], encoding="utf-8")
    seed(sqlite_app_db_url)
    ok = materialize([platform_listings], partition_key="shopify-us", resources=resources(sqlite_app_db_url, only_shopify))
    assert ok.success
    failed = materialize([platform_listings], partition_key="tiktok-us",
                         resources=resources(sqlite_app_db_url, only_shopify), raise_on_error=False)
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    assert "store 'tiktok-us' is not in" in str(failure.event_specific_data.error.message)


def test_definitions_include_the_asset_and_its_checks() -> None:
    from sync_pipeline.definitions import defs

    assets_def = defs.resolve_assets_def("platform_listings")
    assert assets_def.partitions_def is not None
    assert set(assets_def.partitions_def.get_partition_keys()) == set(STORE_KEYS)
    graph = defs.resolve_asset_graph()
    check_names = {key.name for key in graph.asset_check_keys if key.asset_key.path == ["platform_listings"]}
    assert check_names == {c.check_key.name for c in LISTING_CHECKS}
