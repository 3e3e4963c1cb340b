"""Handles unique per store, and the blocking check that no two listings share a handle or SKU."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster import AssetSelection, materialize
from sqlalchemy import select

from sync_pipeline.db import make_engine
from sync_pipeline.defs.listings import listing_identity_unique
from sync_pipeline.defs.listings import platform_listings as listings_asset
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.listings.identity import assign_handles
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.stores import DEMO_STORES_FILE, StoresFileError, load_stores
from sync_pipeline_tests.listings.catalog_rows import insert_catalog, product_row


def test_first_product_keeps_the_slug_later_ones_get_their_sku() -> None:
    products = [("A-1", "Same Key", 1), ("B-2", "same-key", 2), ("C-3", None, 3), ("D-4", "same key", 4)]
    handles = assign_handles(products, {})
    assert handles == {"A-1": "same-key", "B-2": "same-key-b-2", "C-3": "c-3", "D-4": "same-key-d-4"}
    assert assign_handles(products, {}) == handles  # deterministic
    # a product added later never moves the handles of those before it
    assert {k: v for k, v in assign_handles([*products, ("E-5", "same-key", 5)], {}).items() if k != "E-5"} == handles


def test_suffix_collisions_get_a_counter_and_pins_are_kept() -> None:
    products = [("X", "k", 1), ("Y", "k-x", 2), ("X ", "k", 3)]  # "X " slugs to "x" like "X"
    handles = assign_handles(products, {})
    assert handles == {"X": "k", "Y": "k-x", "X ": "k-x-2"}
    pinned = assign_handles([("A", "k", 1), ("B", "other", 2)], {"B": "k"})
    assert pinned == {"A": "k-a", "B": "k"}  # the pin wins; generated handles avoid it
    assert len(set(assign_handles([(f"S{i}", "dup", i) for i in range(50)], {}).values())) == 50


def _stores_file(tmp_path: Path, handles: dict[str, str]) -> Path:
    raw = yaml.safe_load(DEMO_STORES_FILE.read_text(encoding="utf-8"))
    raw["stores"][0]["handles"] = handles
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_pinned_handles_must_be_slugs(tmp_path: Path) -> None:
    with pytest.raises(StoresFileError, match="store 'shopify-us', field 'handles'.*TEE"):
        load_stores(_stores_file(tmp_path, {"TEE": "Not A Handle"}))


def _seed_duplicated_url_key(db_url: str) -> None:
    engine = make_engine(db_url)
    insert_catalog(engine, [product_row("DIRTY-URL-1", 10, url_key="duplicated-url-key"),
                            product_row("DIRTY-URL-2", 11, url_key="duplicated-url-key"),
                            product_row("PLAIN", 12)])
    engine.dispose()


def _handles(db_url: str, store_key: str) -> dict[str, str]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(platform_listings.c.sku, platform_listings.c.payload)
                            .where(platform_listings.c.store_key == store_key)).all()
    engine.dispose()
    return {row.sku: row.payload["handle"] for row in rows}


def _run(db_url: str, stores_file: Path, store_key: str) -> tuple[bool, object]:
    resources = {"app_db": AppDatabase(url=db_url), "stores_config": StoresConfig(path=str(stores_file))}
    result = materialize([listings_asset, listing_identity_unique], partition_key=store_key, resources=resources,
                         selection=AssetSelection.all(), raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    return result.success, evaluation


@pytest.mark.parametrize("store_key", ["shopify-us", "shopify-eu"])
def test_duplicated_url_key_products_get_two_handles_and_the_check_passes(sqlite_app_db_url: str, store_key: str) -> None:
    _seed_duplicated_url_key(sqlite_app_db_url)
    ok, evaluation = _run(sqlite_app_db_url, DEMO_STORES_FILE, store_key)
    assert ok and evaluation.passed, evaluation.metadata  # type: ignore[attr-defined]
    assert _handles(sqlite_app_db_url, store_key) == {
        "DIRTY-URL-1": "duplicated-url-key", "DIRTY-URL-2": "duplicated-url-key-dirty-url-2",
        "PLAIN": "plain-jacket"}


def test_identity_check_blocks_a_store_file_that_forces_a_collision(sqlite_app_db_url: str, tmp_path: Path) -> None:
    _seed_duplicated_url_key(sqlite_app_db_url)
    forced = _stores_file(tmp_path, {"PLAIN": "same-page", "DIRTY-URL-2": "same-page"})
    ok, evaluation = _run(sqlite_app_db_url, forced, "shopify-us")
    assert not ok and not evaluation.passed  # type: ignore[attr-defined]
    assert evaluation.metadata["failures"].value == 1  # type: ignore[attr-defined]
    assert "handle 'same-page' is also" in evaluation.metadata["examples"].value  # type: ignore[attr-defined]


def test_identity_check_blocks_seller_skus_equal_but_for_case(sqlite_app_db_url: str) -> None:
    engine = make_engine(sqlite_app_db_url)
    insert_catalog(engine, [product_row("TEE-1", 1), product_row("tee-1", 2)])
    engine.dispose()
    ok, evaluation = _run(sqlite_app_db_url, DEMO_STORES_FILE, "shopee-sg")
    assert not ok and "seller SKU 'tee-1' is also in TEE-1" in evaluation.metadata["examples"].value  # type: ignore[attr-defined]


def test_every_handle_assign_handles_makes_is_recognised_as_assignable() -> None:
    from sync_pipeline.listings.identity import _assignable
    from sync_pipeline.listings.shapes import handle_for

    products = [("X", "k", 1), ("Y", "k-x", 2), ("X ", "k", 3), *((f"S{i}", "k", 10 + i) for i in range(4))]
    for sku, handle in assign_handles(products, {}).items():
        url_key, source_id = next((u, i) for s, u, i in products if s == sku)
        assert _assignable(handle, handle_for(url_key, sku, source_id), sku, source_id), (sku, handle)
    assert not _assignable("k-x", "k-y", "X", 1)  # another url_key: assigned again
    assert not _assignable("k-x-z", "k", "X", 1) and not _assignable("k-x-", "k", "X", 1)


def test_the_fast_path_keeps_the_listings_handles_and_reassigns_on_a_new_url_key(sqlite_app_db_url: str) -> None:
    from sqlalchemy import update

    from sync_pipeline.catalog.tables import catalog_products
    from sync_pipeline.listings.identity import kept_handles

    _seed_duplicated_url_key(sqlite_app_db_url)
    ok, _ = _run(sqlite_app_db_url, DEMO_STORES_FILE, "shopify-us")
    assert ok
    engine = make_engine(sqlite_app_db_url)
    try:
        handles = _handles(sqlite_app_db_url, "shopify-us")
        assert kept_handles(engine, "shopify-us", {}, ["DIRTY-URL-2", "PLAIN"]) == {
            "DIRTY-URL-2": handles["DIRTY-URL-2"], "PLAIN": handles["PLAIN"]}
        assert kept_handles(engine, "shopify-us", {"PLAIN": "pinned"}, ["PLAIN"]) == {"PLAIN": "pinned"}
        assert kept_handles(engine, "shopify-eu-missing", {}, ["PLAIN"]) is None  # no listing yet
        with engine.begin() as conn:
            conn.execute(update(catalog_products).where(catalog_products.c.sku == "DIRTY-URL-1")
                         .values(url_key="brand-new-key"))
        # Its handle moves, and with it possibly others': every handle is assigned again.
        assert kept_handles(engine, "shopify-us", {}, ["DIRTY-URL-1"]) is None
    finally:
        engine.dispose()
