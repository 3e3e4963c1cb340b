"""The Shopify client against the real sandbox server: every call it makes, and its failure modes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.platforms.shopify.client import ShopifyClient
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

TOKEN = "shpat_test_secret_token_0001"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
LOCATION = "gid://shopify/Location/1"


def listing(sku: str = "TEE-1", title: str = "Organic Cotton Tee", **changes: Any) -> Listing:
    variants = tuple(
        ListingVariant(
            sku=f"{sku}-{size}",
            price=Decimal("19.90") + i,
            compare_at_price=Decimal("25.00"),
            stock_qty=5 + i,
            options={"Size": size},
            image=f"https://img.example/{sku}/{i}.jpg",
        )
        for i, size in enumerate(("S", "M", "L"))
    )
    base = dict(
        store_key="shop-test",
        platform="shopify",
        sku=sku,
        source_id=1,
        action="list",
        title=title,
        description="<p>Soft.</p>",
        price=Decimal("19.90"),
        compare_at_price=Decimal("25.00"),
        currency="USD",
        stock_qty=18,
        images=tuple(f"https://img.example/{sku}/{i}.jpg" for i in range(4)),
        category_id="Apparel & Accessories > Clothing > Shirts & Tops",
        handle=sku.lower(),
        options=("Size",),
        variants=variants,
    )
    base.update(changes)
    return Listing(**base)  # type: ignore[arg-type]


@pytest.fixture
def shop(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> StoreConfig:
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", TOKEN)
    sandbox_server.provision("shopify", "test-shop", {"access_token": TOKEN})
    return StoreConfig(
        key="shop-test",
        platform="shopify",
        name="Test",
        endpoint=sandbox_server.endpoint("shopify", "test-shop"),
        credentials={"access_token": "TEST_SHOPIFY_TOKEN"},
        settings={"api_version": "2026-07", "location_id": LOCATION},
    )


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client(shop: StoreConfig, records: list[CallRecord]) -> ShopifyClient:
    built = build_client(shop, None, observer=records.append, retry=FAST)
    assert isinstance(built, ShopifyClient)
    return built


def products(sandbox_server: RunningSandbox) -> list[dict[str, Any]]:
    return sandbox_server.docs("shopify", "test-shop", "product")


def test_upsert_creates_then_updates_the_same_product(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    ref = client.upsert(listing(), None)
    assert set(ref.variant_ids) == {"TEE-1-S", "TEE-1-M", "TEE-1-L"}
    remote = client.read_product(ref)
    assert remote is not None
    assert (remote.sku, remote.title, remote.status, remote.image_count) == (
        "TEE-1",
        "Organic Cotton Tee",
        "active",
        4,
    )
    by_sku = {v.sku: v for v in remote.variants}
    assert by_sku["TEE-1-M"].price == Decimal("20.90") and by_sku["TEE-1-M"].stock_qty == 6
    assert by_sku["TEE-1-L"].options == {"Size": "L"} and by_sku["TEE-1-L"].compare_at_price == Decimal(
        "25.00"
    )

    again = client.upsert(listing(title="Organic Cotton Tee v2"), ref)
    assert again.product_id == ref.product_id and again.variant_ids == ref.variant_ids  # ids sent, kept
    assert len(products(sandbox_server)) == 1
    assert client.read_product(ref).title == "Organic Cotton Tee v2"  # type: ignore[union-attr]


def media_ids(sandbox_server: RunningSandbox, product_id: str) -> list[str]:
    (product,) = [p for p in products(sandbox_server) if p["id"] == product_id]
    return [m["id"] for m in product["media"]]


def test_updates_keep_the_media_of_unchanged_images(
    client: ShopifyClient, shop: StoreConfig, sandbox_server: RunningSandbox
) -> None:
    ref = client.upsert(listing(), None)
    first = media_ids(sandbox_server, ref.product_id)
    assert len(first) == 4

    # A fresh client (as in the next run) with only the ref the push keeps: the mapping is on the store.
    fresh = ShopifyClient(shop, retry=FAST)
    fresh.upsert(listing(title="Organic Cotton Tee v2"), ref)
    assert media_ids(sandbox_server, ref.product_id) == first  # nothing re-created
    (product,) = products(sandbox_server)
    assert all(m["alt"].startswith("Organic Cotton Tee v2 [src:") for m in product["media"])
    assert [v["mediaId"] for v in product["variants"]] == first[:3]  # variant images point at kept files

    more = (*listing().images, "https://img.example/TEE-1/new.jpg")
    fresh.upsert(listing(images=more), ref)
    after_add = media_ids(sandbox_server, ref.product_id)
    assert after_add[:4] == first and len(after_add) == 5 and after_add[4] not in first

    fresh.upsert(listing(images=more[1:]), ref)  # first image dropped from the listing
    assert media_ids(sandbox_server, ref.product_id) == after_add[1:]


def test_media_a_merchant_added_or_renamed_is_replaced_by_the_listings_images(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    ref = client.upsert(listing(), None)
    first = media_ids(sandbox_server, ref.product_id)
    requests.post(
        f"{sandbox_server.endpoint('shopify', 'test-shop')}/admin/api/2026-07/graphql.json",
        json={
            "query": "mutation S($input: ProductSetInput!, $identifier: ProductSetIdentifiers) "
            "{ productSet(input: $input, identifier: $identifier) { userErrors { message } } }",
            "variables": {
                "identifier": {"id": ref.product_id},
                "input": {"files": [{"id": first[0], "alt": "merchant's words"}, *[{"id": i} for i in first[1:]]]},
            },
        },
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=CALL_BOUND_S,
    ).raise_for_status()
    client.upsert(listing(), ref)
    again = media_ids(sandbox_server, ref.product_id)
    assert again[1:] == first[1:] and again[0] not in first  # no marker: re-created from its URL


def test_simple_product_uses_shopifys_default_option(client: ShopifyClient) -> None:
    simple = listing(sku="MUG-1", options=(), variants=(ListingVariant("MUG-1", Decimal("9.00"), None, 3),))
    remote = client.read_product(client.upsert(simple, None))
    assert remote is not None and [(v.sku, v.options, v.stock_qty) for v in remote.variants] == [
        ("MUG-1", {}, 3)
    ]


def test_lost_response_after_commit_never_duplicates(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    sandbox_server.faults("shopify", "test-shop", drop_after_commit_next=1)
    ref = client.upsert(listing(), None)  # first answer lost, the retry finds the handle and updates
    assert len(products(sandbox_server)) == 1
    assert products(sandbox_server)[0]["id"] == ref.product_id
    assert sandbox_server.calls("shopify", "test-shop")["operations"]["productSet"] == 2


def test_prices_stock_delist_and_delete(client: ShopifyClient) -> None:
    ref = client.upsert(listing(), None)
    cheaper = listing(
        variants=tuple(
            ListingVariant(v.sku, v.price - 5, None, v.stock_qty + 10, v.options) for v in listing().variants
        )
    )
    client.update_prices(ref, cheaper)
    client.update_stock(ref, cheaper)
    remote = client.read_product(ref)
    assert remote is not None
    assert [(v.price, v.compare_at_price, v.stock_qty) for v in remote.variants] == [
        (Decimal("14.90"), None, 15),
        (Decimal("15.90"), None, 16),
        (Decimal("16.90"), None, 17),
    ]
    client.update_stock(ref, listing())  # back to the first levels: a fresh key, so not a replay
    assert [v.stock_qty for v in client.read_product(ref).variants] == [5, 6, 7]  # type: ignore[union-attr]

    client.delist(ref, listing())
    delisted = client.read_product(ref)
    assert delisted is not None and delisted.status == "delisted"
    assert {v.stock_qty for v in delisted.variants} == {0}

    client.delete_product(ref)
    assert client.read_product(ref) is None
    with pytest.raises(PlatformError) as err:
        client.delete_product(ref)
    assert err.value.error_class is ErrorClass.NOT_FOUND


def test_find_by_parent_sku_and_by_variant_sku(client: ShopifyClient) -> None:
    ref = client.upsert(listing(), None)
    found = client.find_by_sku("TEE-1")
    assert found is not None and found.ref.product_id == ref.product_id
    simple = listing(sku="MUG-1", options=(), variants=(ListingVariant("MUG-1", Decimal("9.00"), None, 3),))
    assert client.find_by_sku("MUG-1") is None
    client.upsert(simple, None)
    assert client.find_by_sku("MUG-1") is not None
    assert client.find_by_sku("NOPE") is None


def test_stock_update_for_a_fresh_client_looks_up_inventory_items(
    client: ShopifyClient, shop: StoreConfig
) -> None:
    ref = client.upsert(listing(), None)
    fresh = ShopifyClient(shop, retry=FAST)
    fresh.update_stock(
        ref,
        listing(
            variants=tuple(ListingVariant(v.sku, v.price, None, 42, v.options) for v in listing().variants)
        ),
    )
    assert {v.stock_qty for v in client.read_product(ref).variants} == {42}  # type: ignore[union-attr]


def test_invalid_product_is_not_retried_and_keeps_shopifys_words(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(title="x" * 256), None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "is too long (maximum is 255 characters)" in err.value.message
    assert err.value.platform_code == "INVALID_PRODUCT"
    assert sandbox_server.calls("shopify", "test-shop")["operations"]["productSet"] == 1
    assert products(sandbox_server) == []


def test_throttled_client_waits_and_completes(
    sandbox_server: RunningSandbox, shop: StoreConfig, records: list[CallRecord]
) -> None:
    sandbox_server.provision(
        "shopify", "test-shop", {"access_token": TOKEN, "bucket_size": 60, "restore_rate": 200}
    )
    client = ShopifyClient(shop, observer=records.append, retry=RetryPolicy(attempts=1))
    sandbox_server.faults("shopify", "test-shop", throttle_next=2)
    refs = [client.upsert(listing(sku=f"T-{i}"), None) for i in range(4)]
    assert len({r.product_id for r in refs}) == 4
    assert len(products(sandbox_server)) == 4
    assert client.limiter.maximum == 60  # adopted from throttleStatus
    throttled = [r for r in records if r.platform_code == "THROTTLED"]
    assert len(throttled) == 2
    assert all(r.outcome == "error" and r.error_class == "RATE_LIMITED" for r in throttled)


def test_server_errors_are_retried(client: ShopifyClient, sandbox_server: RunningSandbox) -> None:
    sandbox_server.faults("shopify", "test-shop", server_error_next=2)
    ref = client.upsert(listing(), None)
    assert client.read_product(ref) is not None


def test_server_errors_beyond_the_attempts_are_network_errors(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    sandbox_server.faults("shopify", "test-shop", server_error_next=3)
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(), None)
    assert err.value.error_class is ErrorClass.NETWORK_ERROR and err.value.http_status == 503


def test_internal_server_errors_are_retried_and_logged(
    client: ShopifyClient, sandbox_server: RunningSandbox, records: list[CallRecord]
) -> None:
    sandbox_server.faults("shopify", "test-shop", internal_error_next=2)
    ref = client.upsert(listing(), None)
    assert client.read_product(ref) is not None
    failed = [r for r in records if r.platform_code == "INTERNAL_SERVER_ERROR"]
    assert len(failed) == 2 and all(r.error_class == "NETWORK_ERROR" for r in failed)


def test_internal_server_errors_beyond_the_attempts_are_network_errors(
    client: ShopifyClient, sandbox_server: RunningSandbox
) -> None:
    sandbox_server.faults("shopify", "test-shop", internal_error_next=3)
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(), None)
    assert err.value.error_class is ErrorClass.NETWORK_ERROR
    assert err.value.platform_code == "INTERNAL_SERVER_ERROR" and err.value.http_status == 200
    assert "Internal error. Looks like something went wrong on our end." in err.value.message


def test_malformed_json_is_a_clear_network_error(shop: StoreConfig, sandbox_server: RunningSandbox) -> None:
    client = ShopifyClient(shop, retry=RetryPolicy(attempts=1))
    sandbox_server.faults("shopify", "test-shop", malformed_json_next=1)
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(), None)
    assert err.value.error_class is ErrorClass.NETWORK_ERROR and "malformed JSON" in err.value.message


def test_wrong_token_is_unauthorized_and_no_secret_leaks(
    shop: StoreConfig,
    sandbox_server: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    records: list[CallRecord],
) -> None:
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_wrong_token_9999")
    client = ShopifyClient(shop, observer=records.append, retry=FAST)
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(), None)
    assert err.value.error_class is ErrorClass.UNAUTHORIZED and err.value.http_status == 401
    assert "Invalid API key or access token" in err.value.message
    calls = [r for r in records if not r.amends]
    assert len(calls) == 1  # not retried
    # The call's verdict amends its record: the sync log row carries the class beside the 401.
    assert [(r.http_status, r.error_class) for r in records if r.amends] == [(401, "UNAUTHORIZED")]
    for text in [str(err.value), *(repr(r) for r in records)]:
        assert "shpat_wrong_token_9999" not in text and TOKEN not in text


def test_secrets_never_appear_in_call_records(client: ShopifyClient, records: list[CallRecord]) -> None:
    client.read_product(client.upsert(listing(), None))
    assert records and all(TOKEN not in repr(r) for r in records)
    assert {r.operation for r in records} >= {"productSet", "product"}


def test_stale_variant_ids_are_renewed(client: ShopifyClient, sandbox_server: RunningSandbox) -> None:
    ref = client.upsert(listing(), None)
    stale = type(ref)(ref.product_id, {sku: "gid://shopify/ProductVariant/999999" for sku in ref.variant_ids})
    renewed = client.upsert(listing(), stale)
    assert renewed.product_id == ref.product_id and set(renewed.variant_ids) == set(ref.variant_ids)


def test_cost_bucket_report_credits_restored_points_before_comparing() -> None:
    from sync_pipeline.platforms.ratelimit import CostBucketLimiter

    now = [0.0]
    bucket = CostBucketLimiter(maximum=100, restore_rate=10, clock=lambda: now[0], sleep=lambda s: None)
    bucket.acquire(100)
    now[0] = 5.0  # 50 points restored locally; the server agrees
    bucket.report(currently_available=50, maximum=100, restore_rate=10)
    assert bucket.available == pytest.approx(50)
