"""adopt_store_listings on the three sandboxes: a store that already sells is matched to the catalog
by SKU, recorded, reported, left untouched, and then updated (not duplicated) by the next push."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.defs.adopt import adopt_store_listings_job
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.adopt import adopt_store_listings
from sync_pipeline.push.rollback import rollback_push
from sync_pipeline.stores import StoreConfig, StoresFile
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.builders import with_price
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import provision, store_listing
from sync_pipeline_tests.push.test_push_sandbox import PRODUCT_DOCS, factory, push, sandbox_id, writes
from sync_pipeline_tests.push.test_shopify_identity import merchant_product, store_products
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures


@pytest.fixture
def db(sqlite_app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stores(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
           monkeypatch: pytest.MonkeyPatch) -> StoresFile:
    return provision(sandbox_server, tmp_path, monkeypatch)


def seed_store(db: Engine, store: StoreConfig, media: str, skus: list[str]) -> dict[str, str]:
    """Products already on the store, put there outside the pipeline's records (no mapping rows)."""
    client = build_client(store, DbTokenStore(db))
    try:
        return {sku: client.upsert(with_price(store_listing(store, sku, media), "20.00"), None).product_id
                for sku in skus}
    finally:
        client.close()


@pytest.mark.parametrize("store_key", ["shopify-us", "shopee-sg", "tiktok-us"])
def test_existing_products_are_matched_recorded_and_then_updated_not_duplicated(
        db: Engine, sandbox_server: Any, stores: StoresFile, image_host: Any, store_key: str) -> None:  # noqa: F811
    store = stores.by_key(store_key)
    seeded = seed_store(db, store, image_host.url, ["OLD-A", "OLD-B", "STORE-ONLY"])
    save_listings(db, [store_listing(store, sku, image_host.url) for sku in ("OLD-A", "OLD-B", "NEW-E")])
    writes_before = writes(sandbox_server, store)

    report = adopt_store_listings(db, store, factory(db, store), run_id=f"adopt-{store_key}")
    assert report.matched == {"OLD-A": seeded["OLD-A"], "OLD-B": seeded["OLD-B"]}
    assert report.unmatched_on_store == [f"{seeded['STORE-ONLY']} ({', '.join(_skus(store, 'STORE-ONLY'))})"]
    assert (report.unmatched_in_catalog, report.conflicts, report.store_products) == (["NEW-E"], [], 3)
    assert writes(sandbox_server, store) == writes_before  # nothing changed on the store
    mappings = ledger.load_mappings(db, store.key)
    assert {sku: m.external_id for sku, m in mappings.items()} == {"OLD-A": seeded["OLD-A"], "OLD-B": seeded["OLD-B"]}

    pushed = push(db, store)
    assert (pushed.progress.created, pushed.progress.updated, pushed.progress.errors) == (1, 2, 0), \
        pushed.progress.first_errors
    platform, sid = sandbox_id(store)
    assert len(sandbox_server.docs(platform, sid, PRODUCT_DOCS[platform])) == 4  # 3 seeded + NEW-E, no duplicates
    client = build_client(store, DbTokenStore(db))
    remote = client.read_product(mappings["OLD-A"].ref)  # type: ignore[arg-type]
    assert remote is not None and {v.price for v in remote.variants} == {Decimal("10.00")}  # the catalog's price

    again = adopt_store_listings(db, store, factory(db, store))
    assert sorted(again.already_mapped) == ["NEW-E", "OLD-A", "OLD-B"] and again.matched == {}


@pytest.mark.parametrize("store_key", ["shopify-us", "shopee-sg", "tiktok-us"])
def test_one_sku_on_two_store_products_is_a_conflict_never_recorded(
        db: Engine, sandbox_server: Any, stores: StoresFile, image_host: Any, store_key: str) -> None:  # noqa: F811
    store = stores.by_key(store_key)
    first = seed_store(db, store, image_host.url, ["TWICE"])["TWICE"]
    # the merchant listed it twice: another product (own parent SKU and handle) with the same variant SKUs
    twin = dataclasses.replace(store_listing(store, "TWICE", image_host.url), sku="TWICE-COPY", handle="twice-copy")
    client = build_client(store, DbTokenStore(db))
    second = client.upsert(twin, None).product_id
    client.close()
    save_listings(db, [store_listing(store, "TWICE", image_host.url)])
    report = adopt_store_listings(db, store, factory(db, store))
    assert report.matched == {} and report.conflicts == [f"TWICE is on 2 store products: {first}, {second}"]
    assert "TWICE" not in ledger.load_mappings(db, store.key)


def test_rollback_of_the_first_push_gives_the_merchant_their_product_back(
        db: Engine, stores: StoresFile, image_host: Any) -> None:  # noqa: F811
    store = stores.by_key("shopify-us")
    listing = store_listing(store, "SELLING", image_host.url)
    product_id = merchant_product(store, "merchant-own-handle", [v.sku for v in listing.variants],
                                  f"{image_host.url}/media/merchant.png")
    save_listings(db, [listing])
    assert adopt_store_listings(db, store, factory(db, store)).matched == {"SELLING": product_id}
    report = push(db, store, run_id="first-push")
    assert (report.progress.updated, report.progress.created) == (1, 0)
    [ours] = store_products(store)
    assert ours["title"] == listing.title and "sku:SELLING" in ours["tags"]

    undo = rollback_push(db, store, "first-push", factory(db, store))
    assert (undo.restored, undo.failed) == (["SELLING"], {})
    [back] = store_products(store)
    assert (back["id"], back["title"], back["handle"]) == (product_id, "The Merchant's Own Tee", "merchant-own-handle")
    assert sorted(back["tags"]) == ["bestseller", "summer"]
    merchant = build_client(store, DbTokenStore(db)).find_by_sku(listing.variants[0].sku)
    assert merchant is not None and {v.price for v in merchant.variants} == {Decimal("99.00")}
    assert merchant.image_count == 1
    mapping = ledger.load_mappings(db, store.key)["SELLING"]
    assert mapping.external_id == product_id and mapping.content_hash is None  # still adopted, never pushed


def test_the_job_reports_in_dagster(db: Engine, stores: StoresFile, image_host: Any, tmp_path: Path,  # noqa: F811
                                    sqlite_app_db_url: str) -> None:
    store = stores.by_key("shopify-us")
    seed_store(db, store, image_host.url, ["JOB-A"])
    save_listings(db, [store_listing(store, "JOB-A", image_host.url)])
    result = adopt_store_listings_job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        run_config={"ops": {"adopt_store_listings_run": {"config": {"store": "shopify-us"}}}},
        resources={"app_db": AppDatabase(url=sqlite_app_db_url),
                   "stores_config": StoresConfig(path=str(tmp_path / "stores.yaml"))})
    assert result.success
    [materialized] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = materialized.event_specific_data.metadata  # type: ignore[union-attr]
    assert metadata["matched"].value == 1 and metadata["conflicts"].value == "none"


def _skus(store: StoreConfig, sku: str) -> list[str]:
    return sorted({sku, *(v.sku for v in store_listing(store, sku, "http://unused").variants)})
