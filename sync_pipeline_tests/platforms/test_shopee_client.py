"""The Shopee client against the running sandbox: every flow, every fault, every secret kept."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError, RemoteRef, TokenPair
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.platforms.shopee.api import sign, signature_base_string
from sync_pipeline.platforms.shopee.client import ShopeeClient
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline_tests.platforms.shopee_support import (
    ACCESS_TOKEN,
    PARTNER_ID,
    REFRESH_TOKEN,
    SECRETS,
    SHOP_ID,
    provision_shop,
    shopee_store,
    simple_listing,
    variant_listing,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.2)


class MemoryTokens:
    """A TokenStore that remembers every save (the DB one is tested separately below)."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self.pair = pair
        self.saves: list[TokenPair] = []

    def load(self, store_key: str) -> TokenPair | None:
        return self.pair

    def save(self, store_key: str, pair: TokenPair) -> None:
        self.saves.append(pair)
        self.pair = pair


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> RunningSandbox:
    provision_shop(sandbox_server)
    return sandbox_server


def make_client(
    shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch, tokens: MemoryTokens | None = None,
    records: list[CallRecord] | None = None, **store_args: object,
) -> ShopeeClient:
    store = shopee_store(shop, monkeypatch, **store_args)  # type: ignore[arg-type]
    observer = records.append if records is not None else None
    return ShopeeClient(store, tokens if tokens is not None else MemoryTokens(), observer, FAST_RETRY)


def items(shop: RunningSandbox) -> list[dict[str, object]]:
    return [i for i in shop.docs("shopee", SHOP_ID, "item") if i["item_status"] != "SELLER_DELETE"]


def ops(shop: RunningSandbox) -> dict[str, int]:
    return dict(shop.calls("shopee", SHOP_ID)["operations"])


# -- signing -------------------------------------------------------------------------------------------


def test_signature_base_strings_match_the_published_examples() -> None:
    # contract 3.2 (P-GUIDE): shop, public
    assert (
        signature_base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431, "59777174636562737266615546704c6d", 14701711)
        == "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    )
    assert signature_base_string(2001887, "/api/v2/public/get_shops_by_partner", 1655714431) == (
        "2001887/api/v2/public/get_shops_by_partner1655714431"
    )
    signature = sign("key", "2001887/api/v2/public/get_shops_by_partner1655714431")
    assert len(signature) == 64 and signature == signature.lower()
    assert signature != sign("other-key", "2001887/api/v2/public/get_shops_by_partner1655714431")


# -- create, read, update, delist, delete ----------------------------------------------------------------


def test_simple_listing_round_trip(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listing = simple_listing(shop)
    ref = client.upsert(listing, None)
    assert ref.variant_ids == {listing.sku: "0"}

    product = client.read_product(ref)
    assert product is not None
    assert (product.sku, product.title, product.status, product.image_count) == (
        listing.sku, listing.title, "active", 2
    )
    assert [(v.sku, v.price, v.stock_qty) for v in product.variants] == [(listing.sku, Decimal("19.9"), 7)]

    found = client.find_by_sku(listing.sku)
    assert found is not None and found.ref.product_id == ref.product_id
    assert client.find_by_sku("MS-TEE") is None  # search_item matches keywords; the client wants the exact SKU

    changed = dataclasses.replace(listing, title="Cotton Crew Tee Relaxed Fit", price=Decimal("21.50"),
                                  variants=(dataclasses.replace(listing.variants[0], price=Decimal("21.50"), stock_qty=2),))
    assert client.upsert(changed, ref) == ref
    product = client.read_product(ref)
    assert product is not None and product.title == "Cotton Crew Tee Relaxed Fit"
    assert [(v.price, v.stock_qty) for v in product.variants] == [(Decimal("21.5"), 2)]
    assert len(items(shop)) == 1


def test_variant_listing_creates_tiers_and_models(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listing = variant_listing(shop, colors=("Blue", "Black"), sizes=("M", "L"))
    ref = client.upsert(listing, None)
    assert set(ref.variant_ids) == {v.sku for v in listing.variants}

    product = client.read_product(ref)
    assert product is not None
    remote = {v.sku: (v.options, v.price, v.stock_qty) for v in product.variants}
    assert remote == {v.sku: (v.options, v.price, v.stock_qty) for v in listing.variants}
    (item,) = items(shop)
    assert [t["name"] for t in item["tier_variation"]] == ["Color", "Size"]  # type: ignore[index]
    # the first tier's options carry the variant images
    assert all("image" in o for o in item["tier_variation"][0]["option_list"])  # type: ignore[index]


def test_update_keeps_models_when_the_structure_holds_and_reinitialises_when_it_changes(
    shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(shop, monkeypatch)
    listing = variant_listing(shop, colors=("Blue", "Black"))
    ref = client.upsert(listing, None)

    cheaper = dataclasses.replace(
        listing, variants=tuple(dataclasses.replace(v, price=v.price - 10) for v in listing.variants)
    )
    same = client.upsert(cheaper, ref)
    assert same.variant_ids == ref.variant_ids  # same models, updated in place
    assert "product.init_tier_variation" in ops(shop) and ops(shop)["product.init_tier_variation"] == 1

    wider = variant_listing(shop, colors=("Blue", "Black", "Red"))
    new_ref = client.upsert(wider, ref)
    assert ops(shop)["product.init_tier_variation"] == 2
    assert set(new_ref.variant_ids) == {v.sku for v in wider.variants}
    assert not set(new_ref.variant_ids.values()) & set(ref.variant_ids.values())  # old model ids are gone
    product = client.read_product(new_ref)
    assert product is not None and len(product.variants) == 3


def test_prices_stock_delist_relist_and_delete(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listing = variant_listing(shop)
    ref = client.upsert(listing, None)

    repriced = dataclasses.replace(
        listing, variants=tuple(dataclasses.replace(v, price=Decimal("30.05"), stock_qty=9) for v in listing.variants)
    )
    client.update_prices(ref, repriced)
    client.update_stock(RemoteRef(ref.product_id), repriced)  # model ids read back when the ref lacks them
    product = client.read_product(ref)
    assert product is not None
    assert {(v.price, v.stock_qty) for v in product.variants} == {(Decimal("30.05"), 9)}

    client.delist(ref, listing)
    product = client.read_product(ref)
    assert product is not None and product.status == "delisted"
    assert {v.stock_qty for v in product.variants} == {0}

    client.upsert(listing, ref)  # listing again relists
    product = client.read_product(ref)
    assert product is not None and product.status == "active"

    client.delete_product(ref)
    assert client.read_product(ref) is None
    assert client.find_by_sku(listing.sku) is None
    client.delete_product(ref)  # a retried rollback does not fail


def test_partial_stock_failure_names_the_failing_variant(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listing = variant_listing(shop)
    ref = client.upsert(listing, None)
    good, bad = listing.variants
    broken = dataclasses.replace(listing, variants=(dataclasses.replace(good, stock_qty=5),
                                                    dataclasses.replace(bad, stock_qty=5_000_000)))
    with pytest.raises(PlatformError) as err:
        client.update_stock(ref, broken)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT
    assert bad.sku in err.value.message and good.sku not in err.value.message
    product = client.read_product(ref)
    assert product is not None
    assert {v.sku: v.stock_qty for v in product.variants}[good.sku] == 5  # the good model was applied


def test_images_are_uploaded_once_per_url(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    first = simple_listing(shop, "SKU-A", images=3)
    second = dataclasses.replace(simple_listing(shop, "SKU-B"), images=first.images)  # the same three URLs
    ref = client.upsert(first, None)
    client.upsert(second, None)
    client.upsert(first, ref)
    uploads = shop.calls("shopee", f"partner-{PARTNER_ID}")["operations"]
    assert uploads == {"media_space.upload_image": 1}  # three files in one call, reused afterwards
    assert len(shop.docs("shopee", f"partner-{PARTNER_ID}", "image")) == 3


def test_missing_image_is_an_invalid_product(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listing = dataclasses.replace(simple_listing(shop, images=1), images=(f"{shop.url}/no-such-media/x.png",))
    with pytest.raises(PlatformError) as err:
        client.upsert(listing, None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT and "image not found" in err.value.message
    assert "product.add_item" not in ops(shop)


# -- failures --------------------------------------------------------------------------------------------


def test_invalid_product_is_not_retried_and_keeps_shopee_words(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    with pytest.raises(PlatformError) as err:
        client.upsert(simple_listing(shop, title="T" * 121), None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT
    assert err.value.platform_code == "error_title_exceeds_max_length"
    assert "exceeds 120" in err.value.message
    assert ops(shop)["product.add_item"] == 1


def test_throttled_calls_wait_and_complete(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    shop.faults("shopee", SHOP_ID, throttle_next=2)
    ref = client.upsert(simple_listing(shop), None)
    assert client.read_product(ref) is not None
    assert len(items(shop)) == 1


def test_shop_rate_limit_is_respected_by_many_threads(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provision_shop(sandbox_server, requests_per_second=20, burst=20)
    client = make_client(sandbox_server, monkeypatch, requests_per_second=20)
    ref = client.upsert(simple_listing(sandbox_server), None)
    before = sum(ops(sandbox_server).values())
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _n: client.read_product(ref), range(30)))
    assert all(r is not None for r in results)
    # the client paced itself: the shop never had to throttle (a 429 would be counted as a retry)
    assert sum(ops(sandbox_server).values()) == before + 30


def test_server_errors_are_retried(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    shop.faults("shopee", SHOP_ID, server_error_next=2)
    ref = client.upsert(simple_listing(shop), None)
    assert ref.product_id == str(items(shop)[0]["item_id"])


def test_dropped_add_item_response_never_duplicates(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    shop.faults("shopee", SHOP_ID, drop_after_commit_next=1, only_writes=True)
    listing = variant_listing(shop)
    ref = client.upsert(listing, None)
    (item,) = items(shop)  # exactly one item with the SKU
    assert ref.product_id == str(item["item_id"])
    assert ops(shop)["product.add_item"] == 1  # found by search_item instead of sent again
    assert ops(shop)["product.search_item"] >= 1
    product = client.read_product(ref)
    assert product is not None and {v.sku for v in product.variants} == {v.sku for v in listing.variants}


def test_repeated_sku_adopts_the_existing_item(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    first = client.upsert(simple_listing(shop), None)
    again = client.upsert(simple_listing(shop, title="Cotton Crew Tee New Title"), None)  # push lost its map
    assert again.product_id == first.product_id
    assert len(items(shop)) == 1 and items(shop)[0]["item_name"] == "Cotton Crew Tee New Title"


def test_malformed_json_is_a_clear_network_error(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    ref = client.upsert(simple_listing(shop), None)
    shop.faults("shopee", SHOP_ID, malformed_json_next=3)
    with pytest.raises(PlatformError) as err:
        client.read_product(ref)
    assert err.value.error_class is ErrorClass.NETWORK_ERROR and "malformed JSON" in err.value.message


def test_wrong_partner_key_is_unauthorized_without_retry(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch, partner_key="not-the-partner-key")
    with pytest.raises(PlatformError) as err:
        client.find_by_sku("ANY")
    assert (err.value.error_class, err.value.platform_code) == (ErrorClass.UNAUTHORIZED, "error_sign")
    assert ops(shop) == {"product.search_item": 1}


# -- tokens ----------------------------------------------------------------------------------------------


def test_expired_token_is_refreshed_once_saved_first_and_the_call_replayed(
    shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = MemoryTokens()
    client = make_client(shop, monkeypatch, tokens)
    ref = client.upsert(simple_listing(shop), None)
    shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    with ThreadPoolExecutor(4) as pool:  # several threads notice the expiry at once
        products = list(pool.map(lambda _n: client.read_product(ref), range(8)))
    assert all(p is not None for p in products)
    assert ops(shop)["auth.access_token.get"] == 1
    (saved,) = tokens.saves
    assert saved.access_token != ACCESS_TOKEN and saved.refresh_token != REFRESH_TOKEN
    assert saved.access_expires_at is not None


def test_new_pair_is_never_used_before_it_is_saved(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    class FailingSave(MemoryTokens):
        def save(self, store_key: str, pair: TokenPair) -> None:
            raise RuntimeError("app DB is down")

    client = make_client(shop, monkeypatch, FailingSave())
    ref = client.upsert(simple_listing(shop), None)
    shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    before = ops(shop).get("product.get_item_base_info", 0)
    with pytest.raises(RuntimeError, match="app DB is down"):
        client.read_product(ref)
    assert ops(shop)["product.get_item_base_info"] == before + 1  # only the call with the expired token


def test_refreshed_pair_lands_in_the_app_db(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch, app_db_url: str) -> None:
    engine = sa.create_engine(app_db_url)
    try:
        store = DbTokenStore(engine)
        client = ShopeeClient(shopee_store(shop, monkeypatch), store, retry=FAST_RETRY)
        ref = client.upsert(simple_listing(shop), None)
        shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
        assert client.read_product(ref) is not None
        saved = store.load("shopee-test")
        assert saved is not None and saved.refresh_token != REFRESH_TOKEN

        # A new process starts from the stored pair, not from the environment's spent refresh token.
        shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
        fresh = ShopeeClient(shopee_store(shop, monkeypatch), store, retry=FAST_RETRY)
        assert fresh.read_product(ref) is not None
        assert ops(shop)["auth.access_token.get"] == 2
    finally:
        engine.dispose()


def test_spent_refresh_token_is_unauthorized(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_client(shop, monkeypatch)
    ref = first.upsert(simple_listing(shop), None)
    shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    assert first.read_product(ref) is not None  # spends the environment's refresh token
    stale = make_client(shop, monkeypatch)  # no token store: falls back to the spent pair
    with pytest.raises(PlatformError) as err:
        stale.read_product(ref)
    assert err.value.error_class is ErrorClass.UNAUTHORIZED and "refresh_token" in err.value.message


def test_no_secret_reaches_exceptions_or_call_records(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[CallRecord] = []
    tokens = MemoryTokens()
    client = make_client(shop, monkeypatch, tokens, records)
    ref = client.upsert(variant_listing(shop), None)
    shop.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    client.update_stock(ref, variant_listing(shop))
    errors: list[str] = []
    for bad in (simple_listing(shop, "X" * 3, title="T" * 200),):
        try:
            client.upsert(bad, None)
        except PlatformError as exc:
            errors.append(str(exc) + repr(exc) + exc.message)
    shop.faults("shopee", SHOP_ID, malformed_json_next=3)
    try:
        client.read_product(ref)
    except PlatformError as exc:
        errors.append(str(exc))
    secrets = [*SECRETS, *(t.access_token for t in tokens.saves), *(t.refresh_token for t in tokens.saves)]
    assert tokens.saves and len(errors) == 2 and any(r.operation == "shopee.auth.access_token.get" for r in records)
    dumped = "\n".join(errors + [repr(r) for r in records] + [repr(ref)])
    for secret in secrets:
        assert secret not in dumped


def test_thread_safe_creates_of_many_listings(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch)
    listings = [variant_listing(shop, f"SKU-{n:03d}", images=2) for n in range(12)]
    lock = threading.Lock()
    refs: list[RemoteRef] = []

    def push(listing: object) -> None:
        ref = client.upsert(listing, None)  # type: ignore[arg-type]
        with lock:
            refs.append(ref)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(push, listings))
    assert len(refs) == 12 and len(items(shop)) == 12
    assert sorted(str(i["item_sku"]) for i in items(shop)) == sorted(lst.sku for lst in listings)
    assert ops(shop)["logistics.get_channel_list"] == 1  # read once per client


def test_variations_wait_for_the_new_item_to_settle(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # The client and the sandbox share the sandbox's clock, and the client's waits move it: the
    # wait is certain to be long enough, and no test time is spent sleeping.
    provision_shop(sandbox_server, tier_variation_delay_seconds=600)
    store = shopee_store(sandbox_server, monkeypatch, tier_variation_wait_seconds=600)
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        sandbox_server.advance_clock(seconds)

    client = ShopeeClient(store, MemoryTokens(), None, FAST_RETRY, clock=sandbox_server.sandbox.clock, sleep=wait)
    ref = client.upsert(variant_listing(sandbox_server), None)
    assert len(ref.variant_ids) == 2
    assert ops(sandbox_server)["product.init_tier_variation"] == 1  # waited instead of being refused
    assert 0 < sum(waits) <= 600


def test_factory_builds_the_shopee_client(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = build_client(shopee_store(shop, monkeypatch), MemoryTokens(), retry=FAST_RETRY)
    assert isinstance(client, ShopeeClient) and client.limiter.rate == 500
    assert client.find_by_sku("NOTHING-HERE") is None


def test_default_rate_is_ten_requests_per_second_paced_evenly(shop: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(shop, monkeypatch, requests_per_second=None)
    assert (client.limiter.rate, client.limiter.capacity) == (10.0, 1.0)
