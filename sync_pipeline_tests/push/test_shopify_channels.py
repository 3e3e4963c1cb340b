"""Products that sell, on the Shopify sandbox: published where shoppers look, in the taxonomy,
merchant tags kept, and a token without the publishing scope stopping the store by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.rollback import rollback_push
from sync_pipeline.push.verify import spot_check
from sync_pipeline.sandbox.shopify.channels import ALL_SCOPES
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import CREDENTIALS, provision, store_listing
from sync_pipeline_tests.push.test_push_sandbox import factory, push
from sync_pipeline_tests.push.test_shopify_identity import graphql, merchant_product
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

TAGS_ADD = "mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }"
READ = """query R($id: ID!) { product(id: $id) { tags status category { id fullName }
  resourcePublicationsV2(first: 10) { nodes { isPublished publication { id } } } } }"""
PUBLISH = """mutation P($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) { userErrors { message } } }"""


def storefront(store: StoreConfig) -> list[str]:
    """Handles a shopper sees on the Online Store (the storefront's public products.json)."""
    answer = requests.get(f"{store.endpoint}/products.json", params={"limit": 250}, timeout=CALL_BOUND_S)
    answer.raise_for_status()
    return sorted(p["handle"] for p in answer.json()["products"])


@pytest.fixture
def db(sqlite_app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shopify_us(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
               monkeypatch: pytest.MonkeyPatch) -> StoreConfig:
    return provision(sandbox_server, tmp_path, monkeypatch).by_key("shopify-us")


def test_sandbox_keeps_unpublished_and_draft_products_out_of_the_storefront(
        shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    product_id = merchant_product(shopify_us, "quiet-tee", ["Q-S"], f"{image_host.url}/media/q.png")
    assert storefront(shopify_us) == []  # ACTIVE, but productSet never publishes
    errors = graphql(shopify_us, PUBLISH, {"id": product_id, "input": [{"publicationId": "gid://shopify/Publication/2"}]})
    assert errors["publishablePublish"]["userErrors"] == [] and storefront(shopify_us) == []  # Point of Sale only
    graphql(shopify_us, PUBLISH, {"id": product_id, "input": [{"publicationId": "gid://shopify/Publication/1"}]})
    assert storefront(shopify_us) == ["quiet-tee"]
    graphql(shopify_us, "mutation D($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }",
            {"p": {"id": product_id, "status": "DRAFT"}})
    assert storefront(shopify_us) == []


def test_pushed_products_are_published_categorised_and_delists_disappear(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listings = [store_listing(shopify_us, f"PUB-{i}", image_host.url) for i in range(3)]
    save_listings(db, listings)
    report = push(db, shopify_us)
    assert (report.progress.created, report.progress.errors) == (3, 0), report.progress.first_errors
    assert storefront(shopify_us) == ["pub-0", "pub-1", "pub-2"]
    check = spot_check(db, shopify_us.key, build_client(shopify_us, DbTokenStore(db)), 3)
    assert check.passed, check.failures
    ref = ledger.load_mappings(db, shopify_us.key)["PUB-0"].ref
    assert ref is not None
    product = graphql(shopify_us, READ, {"id": ref.product_id})["product"]
    assert product["category"]["fullName"] == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert [n["publication"]["id"] for n in product["resourcePublicationsV2"]["nodes"]] == ["gid://shopify/Publication/1"]

    save_listings(db, [store_listing(shopify_us, "PUB-1", image_host.url, action="delist")])
    assert push(db, shopify_us).progress.delisted == 1
    assert storefront(shopify_us) == ["pub-0", "pub-2"]  # DRAFT: hidden though still published
    save_listings(db, [listings[1]])
    assert push(db, shopify_us).progress.updated == 1
    assert storefront(shopify_us) == ["pub-0", "pub-1", "pub-2"]  # relisted by one status change


def test_spot_check_fails_for_a_listed_product_nobody_can_see(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    save_listings(db, [store_listing(shopify_us, "SEEN", image_host.url)])
    push(db, shopify_us)
    ref = ledger.load_mappings(db, shopify_us.key)["SEEN"].ref
    assert ref is not None
    graphql(shopify_us, "mutation U($id: ID!, $input: [PublicationInput!]!) { publishableUnpublish(id: $id, "
                        "input: $input) { userErrors { message } } }",
            {"id": ref.product_id, "input": [{"publicationId": "gid://shopify/Publication/1"}]})
    check = spot_check(db, shopify_us.key, build_client(shopify_us, DbTokenStore(db)), 1)
    assert not check.passed and "shoppers cannot see it" in check.examples[0]


def test_merchant_tags_survive_updates(db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listing = store_listing(shopify_us, "TAGGED", image_host.url)
    save_listings(db, [listing])
    push(db, shopify_us)
    ref = ledger.load_mappings(db, shopify_us.key)["TAGGED"].ref
    assert ref is not None
    graphql(shopify_us, TAGS_ADD, {"id": ref.product_id, "tags": ["summer-sale", "staff-pick"]})
    save_listings(db, [dataclasses.replace(listing, title=listing.title + " Extra")])
    assert push(db, shopify_us).progress.updated == 1
    tags = graphql(shopify_us, READ, {"id": ref.product_id})["product"]["tags"]
    assert sorted(tags) == ["sku:TAGGED", "staff-pick", "summer-sale"]


def test_an_unknown_category_is_refused_with_its_name(db: Engine, shopify_us: StoreConfig,
                                                      image_host: Any) -> None:  # noqa: F811
    odd = dataclasses.replace(store_listing(shopify_us, "ODD-CAT", image_host.url), category_id="Toys > Kites")
    save_listings(db, [odd])
    report = push(db, shopify_us, error_threshold=1.0)
    [letter] = ledger.dead_letters(db, shopify_us.key)
    assert report.progress.errors == 1 and letter["platform_code"] == "CATEGORY_NOT_FOUND"
    assert "'Toys > Kites' is not in Shopify's product taxonomy" in letter["message"]


def test_a_token_without_write_publications_stops_the_store_naming_the_scope(
        db: Engine, sandbox_server: Any, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    sandbox_server.provision("shopify", "push-us", {
        "access_token": CREDENTIALS["PUSH_T_SHOPIFY_US"],
        "scopes": [s for s in ALL_SCOPES if s != "write_publications"]})
    save_listings(db, [store_listing(shopify_us, f"NOPUB-{i}", image_host.url) for i in range(4)])
    report = push(db, shopify_us, workers=1, chunk_size=1)
    assert report.failed and report.aborted is not None and "write_publications" in report.aborted
    assert report.progress.errors >= 1 and report.progress.created == 0
    assert storefront(shopify_us) == []
    # scope granted: the next run finds its own products by handle and publishes them, no duplicates
    sandbox_server.provision("shopify", "push-us", {"access_token": CREDENTIALS["PUSH_T_SHOPIFY_US"]})
    again = push(db, shopify_us)
    assert again.progress.errors == 0, again.progress.first_errors
    assert storefront(shopify_us) == [f"nopub-{i}" for i in range(4)]


def test_rollback_of_an_adoption_takes_back_only_our_publication_and_tag(
        db: Engine, shopify_us: StoreConfig, image_host: Any) -> None:  # noqa: F811
    listing = store_listing(shopify_us, "MINE", image_host.url)
    merchant_product(shopify_us, listing.handle, [v.sku for v in listing.variants], f"{image_host.url}/media/m.png")
    save_listings(db, [listing])
    assert push(db, shopify_us, run_id="adopt-run").progress.adopted == 1
    assert storefront(shopify_us) == [listing.handle]
    assert rollback_push(db, shopify_us, "adopt-run", factory(db, shopify_us)).ok
    assert storefront(shopify_us) == []  # the merchant had not published it
    [product] = graphql(shopify_us, "{ products(first: 5) { nodes { tags } } }", {})["products"]["nodes"]
    assert sorted(product["tags"]) == ["bestseller", "summer"]


def test_vendor_is_the_brand_renamed_by_the_store(db: Engine, shopify_us: StoreConfig,
                                                  image_host: Any) -> None:  # noqa: F811
    renaming = shopify_us.model_copy(update={"settings": {**shopify_us.settings, "vendors": {"Luma": "Luma Sportswear"}}})
    save_listings(db, [dataclasses.replace(store_listing(shopify_us, "BRANDED", image_host.url), brand="Luma"),
                       dataclasses.replace(store_listing(shopify_us, "OTHER", image_host.url), brand="Nimbus Co.")])
    assert push(db, renaming).progress.created == 2
    vendors = {}
    for sku in ("BRANDED", "OTHER"):
        ref = ledger.load_mappings(db, shopify_us.key)[sku].ref
        assert ref is not None
        vendors[sku] = graphql(shopify_us, "query V($id: ID!) { product(id: $id) { vendor } }",
                               {"id": ref.product_id})["product"]["vendor"]
    assert vendors == {"BRANDED": "Luma Sportswear", "OTHER": "Nimbus Co."}
