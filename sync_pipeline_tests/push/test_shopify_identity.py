"""Product identity on the Shopify sandbox: two catalog products never become one store product,
and a create never takes over a merchant's product unless its SKUs are the listing's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from dagster import materialize
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.defs import catalog as catalog_defs
from sync_pipeline.defs.listings import LISTING_CHECKS, platform_listings
from sync_pipeline.defs.push import store_push
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase, StoresConfig
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.rollback import rollback_push
from sync_pipeline.sandbox.app import provision_from_stores_file
from sync_pipeline.stores import DEMO_STORES_FILE, StoreConfig, StoresFile, load_stores
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import provision, store_listing
from sync_pipeline_tests.push.test_push_sandbox import factory, push
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

MERCHANT_SET = """
mutation MerchantProduct($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier) { product { id } userErrors { field message } }
}"""
PRODUCTS_PAGE = """
query Count($after: String) {
  products(first: 250, after: $after) { nodes { id handle title tags status } pageInfo { hasNextPage endCursor } }
}"""


def graphql(store: StoreConfig, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A call as the merchant's own admin (or any other app) would make it."""
    answer = requests.post(f"{store.endpoint}/admin/api/2026-07/graphql.json", timeout=CALL_BOUND_S,
                           json={"query": document, "variables": variables},
                           headers={"X-Shopify-Access-Token": store.credential("access_token")})
    answer.raise_for_status()
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def store_products(store: StoreConfig) -> list[dict[str, Any]]:
    """Every product on the store, read back page by page."""
    products: list[dict[str, Any]] = []
    after = None
    while True:
        page = graphql(store, PRODUCTS_PAGE, {"after": after})["products"]
        products += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return products
        after = page["pageInfo"]["endCursor"]


def merchant_product(store: StoreConfig, handle: str, skus: list[str], image: str) -> str:
    sizes = [sku.rsplit("-", 1)[1] for sku in skus]
    data = graphql(store, MERCHANT_SET, {"identifier": {"handle": handle}, "input": {
        "handle": handle, "title": "The Merchant's Own Tee", "descriptionHtml": "<p>Hand written</p>",
        "vendor": "Merchant Co", "productType": "Tees", "tags": ["summer", "bestseller"], "status": "ACTIVE",
        "productOptions": [{"name": "Size", "position": 1, "values": [{"name": s} for s in sizes]}],
        "variants": [{"sku": sku, "price": "99.00", "optionValues": [{"optionName": "Size", "name": size}]}
                     for sku, size in zip(skus, sizes, strict=True)],
        "files": [{"originalSource": image, "contentType": "IMAGE", "alt": "merchant photo"}],
    }})
    return str(data["productSet"]["product"]["id"])


@pytest.fixture
def db(sqlite_app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shopify_us(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
               monkeypatch: pytest.MonkeyPatch) -> StoreConfig:
    stores: StoresFile = provision(sandbox_server, tmp_path, monkeypatch)
    return stores.by_key("shopify-us")


def test_a_merchant_product_with_our_skus_is_adopted_and_rollback_gives_it_back(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listing = store_listing(shopify_us, "TEE-ADOPT", image_host.url)
    product_id = merchant_product(shopify_us, listing.handle, [v.sku for v in listing.variants],
                                  f"{image_host.url}/media/merchant.png")
    save_listings(db, [listing])

    report = push(db, shopify_us, run_id="adopting")
    assert (report.progress.adopted, report.progress.created, report.progress.errors) == (1, 0, 0), \
        report.progress.first_errors
    [on_store] = store_products(shopify_us)
    assert on_store["id"] == product_id and on_store["title"] == listing.title  # updated in place, not duplicated
    assert ledger.load_mappings(db, shopify_us.key)["TEE-ADOPT"].external_id == product_id

    undo = rollback_push(db, shopify_us, "adopting", factory(db, shopify_us))
    assert (undo.restored, undo.deleted, undo.failed) == (["TEE-ADOPT"], [], {})
    client = build_client(shopify_us, DbTokenStore(db))
    [back] = store_products(shopify_us)
    assert back["id"] == product_id and back["title"] == "The Merchant's Own Tee"
    assert sorted(back["tags"]) == ["bestseller", "summer"]
    merchant = client.find_by_sku(listing.variants[0].sku)
    assert merchant is not None and {v.price for v in merchant.variants} == {Decimal("99.00")}
    assert merchant.image_count == 1 and merchant.raw["vendor"] == "Merchant Co"
    assert "TEE-ADOPT" not in ledger.load_mappings(db, shopify_us.key)  # the merchant's again


def test_a_merchant_product_on_our_handle_with_other_skus_is_never_written(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listing = store_listing(shopify_us, "TEE-TAKEN", image_host.url)
    product_id = merchant_product(shopify_us, listing.handle, ["OTHER-S", "OTHER-M"],
                                  f"{image_host.url}/media/merchant.png")
    save_listings(db, [listing, store_listing(shopify_us, "TEE-FREE", image_host.url)])

    report = push(db, shopify_us, error_threshold=1.0)
    assert (report.progress.created, report.progress.adopted, report.progress.errors) == (1, 0, 1)
    [letter] = ledger.dead_letters(db, shopify_us.key)
    assert (letter["sku"], letter["platform_code"]) == ("TEE-TAKEN", "HANDLE_TAKEN")
    assert "did not create" in letter["message"] and "OTHER-M, OTHER-S" in letter["message"]
    products = {p["handle"]: p for p in store_products(shopify_us)}
    assert set(products) == {listing.handle, "tee-free"}
    assert products[listing.handle]["id"] == product_id
    assert products[listing.handle]["title"] == "The Merchant's Own Tee"  # untouched


def test_our_own_product_found_on_the_handle_is_updated_not_duplicated(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listing = store_listing(shopify_us, "TEE-OURS", image_host.url)
    save_listings(db, [listing])
    assert push(db, shopify_us).progress.created == 1
    with db.begin() as conn:  # the confirmation was lost: the app DB forgot the product
        ledger.delete_mapping(conn, shopify_us.key, "TEE-OURS")
    again = push(db, shopify_us)
    assert (again.progress.created, again.progress.adopted, again.progress.errors) == (1, 0, 0)
    assert len(store_products(shopify_us)) == 1


# ---- make demo, twice, on both Shopify demo stores --------------------------------------------


def _demo_stores_file(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    raw = yaml.safe_load(DEMO_STORES_FILE.read_text(encoding="utf-8"))
    shopify = [s for s in raw["stores"] if s["platform"] == "shopify"]
    for store in shopify:
        store["endpoint"] = store["endpoint"].replace("http://127.0.0.1:8765", sandbox.url)
        monkeypatch.setenv(store["credentials"]["access_token"], f"shpat_identity_{store['key']}")
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": shopify}), encoding="utf-8")
    assert all(o.sandbox_store for o in provision_from_stores_file(sandbox.sandbox, path, base_url=sandbox.url))
    return path


def test_demo_catalog_twice_every_shopify_store_holds_what_it_created(
        sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        sqlite_app_db_url: str) -> None:
    magento_url = f"sqlite:///{tmp_path / 'magento.db'}"
    engine = make_engine(magento_url)
    generate_catalog(engine, products=400, seed=7, dirty=True, today=date.today())  # make demo's catalog
    engine.dispose()
    stores_file = _demo_stores_file(sandbox_server, tmp_path, monkeypatch)
    resources = {"app_db": AppDatabase(url=sqlite_app_db_url), "stores_config": StoresConfig(path=str(stores_file)),
                 "magento_db": MagentoDatabase(url=magento_url,
                                               media_base_url="https://media.example/catalog/product")}
    assert materialize([catalog_defs.magento_products, catalog_defs.catalog_products], resources=resources).success
    for store in load_stores(stores_file).stores:
        created = []
        for _ in range(2):
            result = materialize([platform_listings, *LISTING_CHECKS, store_push], partition_key=store.key,
                                 resources=resources)
            assert result.success
            meta = result.asset_materializations_for_node("store_push")[0].metadata
            created.append(meta["created"].value)
        on_store = store_products(store)
        handles = [p["handle"] for p in on_store]
        assert created[0] > 40 and created[1] == 0
        assert len(on_store) == created[0]  # the store holds exactly what the table says was created
        assert "duplicated-url-key" in handles and "duplicated-url-key-dirty-url-1" in handles
        assert len(set(handles)) == len(handles)
