"""The pilot flow on the demo catalog (its deliberately bad rows included): the first canary of a
store is one clean simple product and one with variants, pushed to the sandbox store; a store with
a rollout policy widens step by step, each after a clean step and a passed spot-check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import materialize

from sync_pipeline.db import make_engine
from sync_pipeline.defs import catalog
from sync_pipeline.defs.listings import platform_listings
from sync_pipeline.defs.push import store_push, store_push_spot_check
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase, StoresConfig
from sync_pipeline.demo import DEMO_CREDENTIALS
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.push import ledger
from sync_pipeline.push.plan import build_plan
from sync_pipeline.sandbox.app import build_sandbox, provision_from_stores_file
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import DEMO_STORES_FILE

STORE = "shopify-eu"


@pytest.fixture
def pilot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_app_db_url: str) -> Iterator[dict[str, Any]]:
    for name, value in DEMO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    magento_url = f"sqlite:///{tmp_path / 'magento.db'}"
    engine = make_engine(magento_url)
    generated = generate_catalog(engine, products=60, seed=7, dirty=True, today=date.today())
    engine.dispose()
    sandbox = build_sandbox(tmp_path / "sandbox.db")
    server = SandboxServer(sandbox).start()
    port = server.url.rsplit(":", 1)[1]
    data = yaml.safe_load(DEMO_STORES_FILE.read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    for store in data["stores"]:
        if store["key"] == STORE:
            store["rollout"] = [2, 5]
    stores_file = tmp_path / "stores.yaml"
    stores_file.write_text(yaml.safe_dump(data))
    provision_from_stores_file(sandbox, stores_file)
    resources = {
        "magento_db": MagentoDatabase(url=magento_url, media_base_url=f"{server.url}/_sandbox/media/catalog/product"),
        "app_db": AppDatabase(url=sqlite_app_db_url), "stores_config": StoresConfig(path=str(stores_file)),
    }
    try:
        assert materialize([catalog.magento_products, catalog.catalog_products], resources=resources).success
        for key in ("shopify-us", STORE):
            assert materialize([platform_listings], partition_key=key, resources=resources).success
        yield {"resources": resources, "generated": generated}
    finally:
        resources["app_db"].engine.dispose()
        server.stop()
        sandbox.state.close()


def test_first_canary_is_a_clean_simple_product_and_one_with_variants(pilot: dict[str, Any]) -> None:
    resources = pilot["resources"]
    engine = resources["app_db"].engine
    listings = ledger.load_listings(engine, "shopify-us", None)
    in_sku_order = [p.listing for p in build_plan("shopify-us", listings, {}).writes[:2]]
    # what SKU order alone would send first: the demo's deliberately bad rows (repaired on the way)
    assert all(listing.sku.startswith("DIRTY-") for listing in in_sku_order)
    assert any(listing.handle == listing.sku.lower() for listing in in_sku_order)  # its URL key was empty
    canary = build_plan("shopify-us", listings, {}, max_products=2).writes
    assert [len(p.listing.variants) > 1 for p in canary] == [False, True]
    for product in canary:
        listing = product.listing
        assert listing.valid and not listing.reasons and listing.images and listing.stock_qty > 0
        assert listing.handle != listing.sku.lower()  # a URL key of its own
    result = materialize([store_push], partition_key="shopify-us", resources=resources,
                         run_config={"ops": {"store_push": {"config": {"max_products": 2}}}})
    meta = result.asset_materializations_for_node("store_push")[0].metadata
    assert (meta["created"].value, meta["errors"].value) == (2, 0)
    assert set(ledger.load_mappings(engine, "shopify-us")) == {p.sku for p in canary}


def test_rollout_policy_widens_step_by_step(pilot: dict[str, Any]) -> None:
    resources = pilot["resources"]

    def push() -> dict[str, Any]:
        result = materialize([store_push, store_push_spot_check], partition_key=STORE, resources=resources)
        assert result.success
        (check,) = result.get_asset_check_evaluations()
        assert check.passed, check.metadata
        meta = result.asset_materializations_for_node("store_push")[0].metadata
        return {k: v.value for k, v in meta.items()}

    first = push()
    assert first["created"] == 2 and first["rollout_step"].startswith("step 1 of 2: at most 2 products")
    second = push()
    assert second["created"] == 5 and second["rollout_step"].startswith("step 2 of 2: at most 5 products")
    third = push()
    assert third["rollout_step"].startswith("complete") and third["errors"] == 0
    assert third["created"] == third["writes_planned"] > 0 and third["skipped_by_limit"] == 0
