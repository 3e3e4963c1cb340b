"""TikTokClient against the running TikTok sandbox: contract, behaviour under faults, secrets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError, RemoteRef, TokenPair
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.platforms.tiktok import client as tiktok_client
from sync_pipeline.platforms.tiktok.client import TikTokClient, idempotency_key
from sync_pipeline.platforms.tiktok.wire import sign
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.sandbox.tiktok.emulator import tiktok_sign
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.platforms.tiktok_fixtures import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    WAREHOUSE,
    ImageHost,
    image_host,
    listing,
    shop_config,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

__all__ = ["image_host"]  # the fixture, re-exported for pytest

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


class MemoryTokenStore:
    def __init__(self, events: list[tuple[str, str]] | None = None) -> None:
        self.pairs: dict[str, TokenPair] = {}
        self.events = events if events is not None else []
        self.saves = 0

    def load(self, store_key: str) -> TokenPair | None:
        return self.pairs.get(store_key)

    def save(self, store_key: str, pair: TokenPair) -> None:
        self.saves += 1
        self.events.append(("save", pair.access_token))
        self.pairs[store_key] = pair


class Recorder:
    def __init__(self, events: list[tuple[str, str]] | None = None) -> None:
        self.records: list[CallRecord] = []
        self.events = events if events is not None else []
        self._lock = threading.Lock()

    def __call__(self, record: CallRecord) -> None:
        if record.amends:
            return  # the verdict on the call just recorded, not another call
        with self._lock:
            self.records.append(record)
            self.events.append(("call", record.operation))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"TT_APP_KEY": APP_KEY, "TT_APP_SECRET": APP_SECRET, "TT_ACCESS": ACCESS_TOKEN,
                        "TT_REFRESH": REFRESH_TOKEN}.items():
        monkeypatch.setenv(name, value)


def store_config(url: str, qps: float = 1000, **settings: Any) -> StoreConfig:
    return StoreConfig(
        key="tiktok-test",
        platform="tiktok",  # type: ignore[arg-type]
        name="TikTok test",
        endpoint=f"{url}/tiktok",
        credentials={"app_key": "TT_APP_KEY", "app_secret": "TT_APP_SECRET", "access_token": "TT_ACCESS",
                     "refresh_token": "TT_REFRESH"},
        settings={"shop_cipher": CIPHER, "warehouse_id": WAREHOUSE, "auth_endpoint": f"{url}/tiktok-auth",
                  "audit_wait_seconds": 5, **settings},
        rate_limit={"requests_per_second": qps},  # type: ignore[arg-type]
    )


ClientFactory = Callable[..., TikTokClient]


@pytest.fixture
def make_client(sandbox_server: RunningSandbox, env: None) -> ClientFactory:
    def build(*, shop: dict[str, Any] | None = None, tokens: Any = None, observer: Any = None,
              qps: float = 1000, retry: RetryPolicy = FAST_RETRY, **kwargs: Any) -> TikTokClient:
        sandbox_server.provision("tiktok", CIPHER, shop if shop is not None else shop_config())
        config = store_config(sandbox_server.url, qps=qps, **kwargs.pop("settings", {}))
        return TikTokClient(config, tokens if tokens is not None else MemoryTokenStore(), observer=observer,
                            retry=retry, **kwargs)

    return build


def products(sandbox_server: RunningSandbox) -> list[dict[str, Any]]:
    return sandbox_server.docs("tiktok", CIPHER, "products")


# -- signature ------------------------------------------------------------------------------


def test_client_signature_matches_the_published_example() -> None:
    assert sign("abc000def111", "/authorization/202309/shops", {"app_key": "123456", "timestamp": "1234567890"}) == (
        "c8767e4fd7a1b48a0ce3fd23197f058159ce11b53f1ae1ad6d1ec931a1da5540"
    )


@settings(max_examples=50, deadline=None)
@given(
    params=st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=8), st.text(max_size=12), max_size=5),
    body=st.binary(max_size=40),
    secret=st.text(min_size=1, max_size=16),
)
def test_client_and_sandbox_read_the_signature_rule_alike(params: dict[str, str], body: bytes, secret: str) -> None:
    assert sign(secret, "/product/202309/products", params, body) == tiktok_sign(
        secret, "/product/202309/products", params, body
    )


def test_idempotency_key_is_stable_per_content_and_changes_with_it() -> None:
    assert idempotency_key(listing()) == idempotency_key(listing())
    assert idempotency_key(listing()) == idempotency_key(listing(price="99.00"))  # price is not content
    assert idempotency_key(listing()) != idempotency_key(listing(title="Another hoodie title"))
    assert len(idempotency_key(listing())) <= 128


# -- the product lifecycle --------------------------------------------------------------------------


def test_create_read_update_and_find(make_client: ClientFactory, image_host: ImageHost,
                                     sandbox_server: RunningSandbox) -> None:
    client = make_client()
    item = listing(images=(image_host.image("a"), image_host.image("b")))
    ref = client.upsert(item, None)
    assert set(ref.variant_ids) == {"MH01-S", "MH01-M", "MH01-L"}

    remote = client.read_product(ref)
    assert remote is not None
    assert (remote.sku, remote.title, remote.image_count) == ("MH01", item.title, 2)
    assert {v.sku: (v.price, v.compare_at_price, v.stock_qty, v.options) for v in remote.variants} == {
        v.sku: (v.price, v.compare_at_price, v.stock_qty, v.options) for v in item.variants
    }
    stored = products(sandbox_server)[0]
    assert stored["external_product_id"] == "MH01" and stored["idempotency_key"] == idempotency_key(item)

    smaller = listing(images=(image_host.image("b"),), variants=2, title="Chaz Kangeroo Hoodie, Fleece")
    new_ref = client.upsert(smaller, ref)
    assert new_ref.product_id == ref.product_id
    assert new_ref.variant_ids == {k: v for k, v in ref.variant_ids.items() if k != "MH01-L"}
    remote = client.read_product(new_ref)
    assert remote is not None and remote.title == smaller.title and remote.image_count == 1
    assert len(products(sandbox_server)) == 1

    found = client.find_by_sku("MH01-M")
    assert found is not None and found.ref.product_id == ref.product_id
    assert client.find_by_sku("NOPE") is None
    # three image uploads for two distinct URLs: each URL is uploaded once per client
    assert sandbox_server.calls("tiktok", CIPHER)["operations"]["image.upload"] == 2


def test_simple_product_is_found_by_its_sku(make_client: ClientFactory, image_host: ImageHost) -> None:
    client = make_client()
    ref = client.upsert(listing("SIMPLE-1", images=(image_host.image("s"),), variants=1), None)
    found = client.find_by_sku("SIMPLE-1")
    assert found is not None and found.ref == ref and found.variants[0].options == {}


def test_prices_and_stock_wait_for_the_audit(make_client: ClientFactory, image_host: ImageHost,
                                             sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # An hour of audit on the sandbox's clock, which the client reads and its waits move: the first
    # price update is refused for certain, and the client's polling is what ends the audit.
    monkeypatch.setattr(tiktok_client, "AUDIT_POLL_SECONDS", 600.0)
    polls: list[float] = []

    def wait(seconds: float) -> None:
        polls.append(seconds)
        sandbox_server.advance_clock(seconds)

    client = make_client(shop=shop_config(audit_delay_seconds=3600), settings={"audit_wait_seconds": 7200},
                         clock=sandbox_server.sandbox.clock, sleep=wait)
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    cheaper = listing(images=item.images, price="45.50", stock=3)
    client.update_prices(ref, cheaper)
    assert 3000 <= sum(polls) <= 3600  # it waited for PENDING -> ACTIVATE, and no longer than needed
    client.update_stock(ref, cheaper)
    remote = client.read_product(ref)
    assert remote is not None and remote.status == "active"
    assert {v.sku: (v.price, v.stock_qty) for v in remote.variants} == {
        v.sku: (Decimal("45.50"), v.stock_qty) for v in cheaper.variants
    }


def test_a_long_audit_is_a_retryable_not_yet(make_client: ClientFactory, image_host: ImageHost) -> None:
    # A day of audit against a 0.3 s wait: still PENDING when the client gives up, however slow the machine.
    client = make_client(shop=shop_config(audit_delay_seconds=86400), settings={"audit_wait_seconds": 0.3})
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    with pytest.raises(PlatformError) as err:
        client.update_stock(ref, item)
    assert err.value.error_class is ErrorClass.RATE_LIMITED and err.value.platform_code == "12052901"


def test_partial_inventory_failure_names_the_skus(make_client: ClientFactory, image_host: ImageHost,
                                                  sandbox_server: RunningSandbox) -> None:
    client = make_client()
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    sold_out = listing(images=item.images, stock=0)  # MH01-S gets 0: outside 1..99,999 (4.5)
    with pytest.raises(PlatformError) as err:
        client.update_stock(ref, sold_out)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "MH01-S" in err.value.message and "MH01-M" not in err.value.message
    assert err.value.platform_code == "12052055"
    remote = client.read_product(ref)
    assert remote is not None and {v.sku: v.stock_qty for v in remote.variants}["MH01-M"] == 1


def test_delist_relist_and_delete(make_client: ClientFactory, image_host: ImageHost) -> None:
    client = make_client()
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    client.delist(ref, item)
    client.delist(ref, item)  # twice is a no-op
    remote = client.read_product(ref)
    assert remote is not None and remote.status == "delisted"
    client.upsert(item, ref)  # a listed listing brings it back
    remote = client.read_product(ref)
    assert remote is not None and remote.status == "active"
    client.delete_product(ref)
    assert client.read_product(ref) is None
    client.delete_product(ref)  # rollback may run twice
    assert client.find_by_sku("MH01-S") is None


def test_updating_a_deleted_product_is_not_found(make_client: ClientFactory, image_host: ImageHost) -> None:
    client = make_client()
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    client.delete_product(ref)
    with pytest.raises(PlatformError) as err:
        client.upsert(item, ref)
    assert err.value.error_class is ErrorClass.NOT_FOUND and err.value.platform_code == "12052032"


# -- faults ---------------------------------------------------------------------------------


def test_throttling_is_waited_out(make_client: ClientFactory, image_host: ImageHost,
                                  sandbox_server: RunningSandbox) -> None:
    client = make_client()
    sandbox_server.faults("tiktok", CIPHER, throttle_next=2)
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    assert client.read_product(ref) is not None
    assert len(products(sandbox_server)) == 1


def test_server_error_burst_is_retried(make_client: ClientFactory, image_host: ImageHost,
                                       sandbox_server: RunningSandbox) -> None:
    recorder = Recorder()
    client = make_client(observer=recorder)
    sandbox_server.faults("tiktok", CIPHER, server_error_next=2)
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    assert ref.product_id
    failures = [r for r in recorder.records if r.outcome == "error"]
    assert len(failures) == 2 and all(r.http_status == 500 for r in failures)


def test_a_create_repeated_after_a_lost_answer_does_not_duplicate(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox
) -> None:
    item = listing(images=(image_host.image("a"),))
    client = make_client(retry=RetryPolicy(attempts=1))
    client.images.uri(item.images[0], "MAIN_IMAGE")  # upload first, so the next write is the create
    sandbox_server.faults("tiktok", CIPHER, drop_after_commit_next=1, only_writes=True)
    with pytest.raises(PlatformError) as err:
        client.upsert(item, None)  # the store has it; we never heard
    assert err.value.error_class is ErrorClass.NETWORK_ERROR
    # Later (say, the next run, with a new client) the push tries the create again.
    ref = make_client().upsert(item, None)
    assert [p["id"] for p in products(sandbox_server)] == [ref.product_id]


def test_create_answer_lost_is_replayed_by_idempotency_key(make_client: ClientFactory, image_host: ImageHost,
                                                           sandbox_server: RunningSandbox) -> None:
    recorder = Recorder()
    client = make_client(observer=recorder)
    item = listing(images=(image_host.image("a"),))
    client.images.uri(item.images[0], "MAIN_IMAGE")  # upload first, so the next write is the create
    sandbox_server.faults("tiktok", CIPHER, drop_after_commit_next=1, only_writes=True)
    ref = client.upsert(item, None)
    creates = [r for r in recorder.records if r.operation == "product.create"]
    assert [r.outcome for r in creates] == ["error", "ok"]  # lost once, replayed
    assert len(products(sandbox_server)) == 1 and products(sandbox_server)[0]["id"] == ref.product_id


def test_token_expiry_mid_sequence_refreshes_once_and_saves_first(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox
) -> None:
    events: list[tuple[str, str]] = []
    tokens = MemoryTokenStore(events)
    client = make_client(tokens=tokens, observer=Recorder(events))
    item = listing(images=(image_host.image("a"),))
    ref = client.upsert(item, None)
    sandbox_server.sandbox.emulator("tiktok").expire_tokens(CIPHER)
    client.update_prices(ref, listing(images=item.images, price="40.00"))
    client.update_stock(ref, item)
    assert tokens.saves == 1
    ops = [name for kind, name in events if kind == "call"]
    assert ops.count("token.refresh") == 1
    refresh_at = events.index(("call", "token.refresh"))
    assert events[refresh_at + 1][0] == "save"  # saved before the replay used it
    assert events[refresh_at + 2] == ("call", "product.price")
    assert tokens.pairs["tiktok-test"].access_token != ACCESS_TOKEN


def test_refreshed_pair_in_the_db_survives_a_new_client(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox, sqlite_app_db_url: str
) -> None:
    engine = sa.create_engine(sqlite_app_db_url)
    tokens = DbTokenStore(engine)
    client = make_client(tokens=tokens)
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    sandbox_server.sandbox.emulator("tiktok").expire_tokens(CIPHER)
    assert client.read_product(ref) is not None
    # A new process: the environment still holds the rotated-away pair, the DB the live one.
    fresh = TikTokClient(store_config(sandbox_server.url), DbTokenStore(engine), retry=FAST_RETRY)
    assert fresh.read_product(ref) is not None
    saved = DbTokenStore(engine).load("tiktok-test")
    assert saved is not None and saved.refresh_token != REFRESH_TOKEN
    engine.dispose()


def test_concurrent_calls_share_one_refresh(make_client: ClientFactory, image_host: ImageHost,
                                            sandbox_server: RunningSandbox) -> None:
    tokens = MemoryTokenStore()
    client = make_client(tokens=tokens)
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    sandbox_server.sandbox.emulator("tiktok").expire_tokens(CIPHER)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.read_product(ref), range(16)))
    assert all(r is not None for r in results)
    assert tokens.saves == 1
    assert sandbox_server.calls("tiktok-auth", CIPHER)["operations"] == {"token.refresh": 1}


def test_malformed_json_is_a_clear_network_error(make_client: ClientFactory, image_host: ImageHost,
                                                 sandbox_server: RunningSandbox) -> None:
    client = make_client()
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    sandbox_server.faults("tiktok", CIPHER, malformed_json_next=3)
    with pytest.raises(PlatformError) as err:
        client.read_product(ref)
    assert err.value.error_class is ErrorClass.NETWORK_ERROR and "malformed JSON" in err.value.message


def test_invalid_product_is_not_retried(make_client: ClientFactory, image_host: ImageHost,
                                        sandbox_server: RunningSandbox) -> None:
    client = make_client()
    with pytest.raises(PlatformError) as err:
        client.upsert(listing(images=(image_host.image("a"),), title="连帽衫 Hoodie"), None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT
    assert err.value.platform_code == "12052262" and "Chinese" in err.value.message
    assert sandbox_server.calls("tiktok", CIPHER)["operations"]["product.create"] == 1
    assert products(sandbox_server) == []


def test_missing_weight_is_refused_by_the_platform(make_client: ClientFactory, image_host: ImageHost) -> None:
    with pytest.raises(PlatformError) as err:
        make_client().upsert(listing(images=(image_host.image("a"),), weight=None), None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT and "package weight" in err.value.message


def test_unreachable_image_is_reported(make_client: ClientFactory, image_host: ImageHost) -> None:
    with pytest.raises(PlatformError) as err:
        make_client().upsert(listing(images=(f"{image_host.url}/missing.jpg",)), None)
    assert err.value.error_class is ErrorClass.INVALID_PRODUCT and "missing.jpg" in err.value.message


# -- credentials and secrets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"app_secret": "another-secret-value"}, "106001"),  # our signature no longer verifies
        ({"access_token": "TTP_some-other-token"}, "36009004"),
    ],
)
def test_wrong_credentials_are_unauthorized(make_client: ClientFactory, sandbox_server: RunningSandbox,
                                            change: dict[str, str], code: str) -> None:
    recorder = Recorder()
    client = make_client(shop={**shop_config(), **change}, observer=recorder)
    with pytest.raises(PlatformError) as err:
        client.read_product(RemoteRef("1"))
    assert err.value.error_class is ErrorClass.UNAUTHORIZED and err.value.platform_code == code
    assert len(recorder.records) == 1  # one call, observed once; not retried
    for text in [str(err.value)] + [repr(r) for r in recorder.records]:
        for secret in (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN):
            assert secret not in text


def test_skewed_clock_is_refused(make_client: ClientFactory) -> None:
    client = make_client(clock=lambda: time.time() - 600)
    with pytest.raises(PlatformError) as err:
        client.read_product(RemoteRef("1"))
    assert err.value.error_class is ErrorClass.UNAUTHORIZED and err.value.platform_code == "36009004"


def test_no_secret_reaches_call_records(make_client: ClientFactory, image_host: ImageHost,
                                        sandbox_server: RunningSandbox) -> None:
    recorder = Recorder()
    tokens = MemoryTokenStore()
    client = make_client(observer=recorder, tokens=tokens)
    ref = client.upsert(listing(images=(image_host.image("a"),)), None)
    sandbox_server.sandbox.emulator("tiktok").expire_tokens(CIPHER)
    client.read_product(ref)
    new = tokens.pairs["tiktok-test"]
    secrets = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, new.access_token, new.refresh_token)
    assert any(r.operation == "token.refresh" for r in recorder.records)
    for record in recorder.records:
        for secret in secrets:
            assert secret not in repr(record)


def test_refresh_refused_is_unauthorized(make_client: ClientFactory, sandbox_server: RunningSandbox) -> None:
    client = make_client()
    emulator = sandbox_server.sandbox.emulator("tiktok")
    emulator.provision(CIPHER, {**shop_config(), "refresh_token": "TTP_someone-else-rotated-it"})
    emulator.expire_tokens(CIPHER)
    with pytest.raises(PlatformError) as err:
        client.read_product(RemoteRef("1"))
    assert err.value.error_class is ErrorClass.UNAUTHORIZED and REFRESH_TOKEN not in str(err.value)


# -- rate limit -----------------------------------------------------------------------------------


def test_client_keeps_under_the_shops_qps(make_client: ClientFactory, sandbox_server: RunningSandbox) -> None:
    recorder = Recorder()
    client = make_client(shop=shop_config(qps=20), qps=20, observer=recorder, retry=RetryPolicy(attempts=1))
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.read_product(RemoteRef("1")), range(60)))
    elapsed = time.monotonic() - started
    assert all(r.platform_code != "36009002" for r in recorder.records)
    assert elapsed >= 2.5  # 60 calls at 20/s with a burst of 2
    assert sandbox_server.calls("tiktok", CIPHER)["operations"]["product.get"] == 60
