"""The Shopee emulator over real HTTP, driven by hand-signed requests (independent of the client)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import requests

from sync_pipeline.sandbox.app import provision_from_stores_file
from sync_pipeline.sandbox.core import placeholder_png
from sync_pipeline.sandbox.shopee.emulator import ShopeeEmulator, signature_base_string
from sync_pipeline.stores import DEMO_STORES_FILE
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.shopee_support import (
    ACCESS_TOKEN,
    PARTNER_ID,
    PARTNER_KEY,
    REFRESH_TOKEN,
    SHOP_ID,
    provision_shop,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox


class Shop:
    """Hand-made Shopee calls: common params in the query, HMAC over the documented base string."""

    def __init__(self, sandbox: RunningSandbox, access_token: str = ACCESS_TOKEN) -> None:
        self.sandbox = sandbox
        self.access_token = access_token

    def params(self, path: str, *, public: bool = False, timestamp: int | None = None, key: str = PARTNER_KEY,
               token: str | None = None) -> dict[str, Any]:
        stamp = self.sandbox.now() if timestamp is None else timestamp  # the sandbox's clock, tests move it
        token = self.access_token if token is None else token
        base = f"{PARTNER_ID}{path}{stamp}" + ("" if public else f"{token}{SHOP_ID}")
        params: dict[str, Any] = {"partner_id": PARTNER_ID, "timestamp": stamp,
                                  "sign": hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()}
        if not public:
            params.update(access_token=token, shop_id=SHOP_ID)
        return params

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None,
             **sign_args: Any) -> tuple[int, dict[str, Any]]:
        params = {**self.params(path, **sign_args), **(query or {})}
        response = requests.request(method, self.sandbox.endpoint("shopee") + path, params=params,
                                    data=None if body is None else json.dumps(body),
                                    headers={"Content-Type": "application/json"}, timeout=CALL_BOUND_S)
        return response.status_code, response.json()

    def ok(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        status, envelope = self.call(method, path, body, query)
        assert (status, envelope["error"]) == (200, ""), envelope
        assert set(envelope) == {"request_id", "error", "message", "warning", "response"}
        return envelope["response"]  # type: ignore[no-any-return]

    def upload(self, *images: bytes) -> list[str]:
        path = "/api/v2/media_space/upload_image"
        response = requests.post(self.sandbox.endpoint("shopee") + path, params=self.params(path, public=True),
                                 files=[("image", (f"{n}.png", data, "image/png")) for n, data in enumerate(images)],
                                 timeout=CALL_BOUND_S)
        envelope = response.json()
        assert envelope["error"] == "", envelope
        return [entry["image_info"]["image_id"] for entry in envelope["response"]["image_info_list"]]

    def add_item(self, sku: str = "SKU-1", **changes: Any) -> tuple[int, dict[str, Any]]:
        body = {
            "item_name": "Canvas Tote Bag Natural", "description": "A sturdy canvas tote bag for daily errands.",
            "original_price": 12.5, "weight": 0.4, "category_id": 100021, "item_sku": sku,
            "image": {"image_id_list": self.upload(placeholder_png(sku))},
            "logistic_info": [{"logistic_id": 10001, "enabled": True}], "seller_stock": [{"stock": 4}],
        }
        body.update(changes)
        return self.call("POST", "/api/v2/product/add_item", body)


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    provision_shop(sandbox_server)
    return Shop(sandbox_server)


def test_base_string_follows_the_published_order() -> None:
    assert signature_base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431,
                                 "59777174636562737266615546704c6d", 14701711) == (
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    )


def test_signed_call_gets_the_envelope_and_limits(shop: Shop) -> None:
    limits = shop.ok("GET", "/api/v2/product/get_item_limit")
    assert limits["item_name_length_limit"] == {"min_limit": 5, "max_limit": 120}
    assert limits["item_image_count_limit"]["max_limit"] == 9


@pytest.mark.parametrize(
    ("change", "status", "error", "message"),
    [
        ({"key": "wrong-key"}, 403, "error_sign", "Wrong sign."),
        ({"token": "not-a-token"}, 403, "error_sign", "Wrong sign."),  # signed with the real token
        ({"timestamp_offset": -301}, 400, "error_param", "Invalid timestamp"),
        ({"timestamp_offset": 400}, 400, "error_param", "Invalid timestamp"),
        ({"public": True}, 403, "error_sign", "Wrong sign."),  # a shop call signed like a public one
    ],
)
def test_bad_signatures_and_stale_timestamps(shop: Shop, change: dict[str, Any], status: int, error: str,
                                             message: str) -> None:
    path = "/api/v2/product/get_item_limit"
    change = dict(change)
    if "timestamp_offset" in change:  # relative to now when the test runs, not when it was collected
        change["timestamp"] = shop.sandbox.now() + change.pop("timestamp_offset")
    params = shop.params(path, **change)
    if change.get("token"):
        params["sign"] = shop.params(path)["sign"]
    params.setdefault("access_token", ACCESS_TOKEN)
    params.setdefault("shop_id", SHOP_ID)
    response = requests.get(shop.sandbox.endpoint("shopee") + path, params=params, timeout=CALL_BOUND_S)
    body = response.json()
    assert (response.status_code, body["error"], body["message"]) == (status, error, message)
    assert body["request_id"]


def test_missing_sign_wrong_token_and_unknown_shop(shop: Shop) -> None:
    path = "/api/v2/product/get_item_limit"
    url = shop.sandbox.endpoint("shopee") + path
    params = shop.params(path)
    del params["sign"]
    assert requests.get(url, params=params, timeout=CALL_BOUND_S).json()["message"] == "There is no sign in query."
    status, body = Shop(shop.sandbox, access_token="wrong-token").call("GET", path)
    assert (status, body["error"], body["message"]) == (403, "error_auth", "Invalid access_token.")
    params = {**shop.params(path), "shop_id": "999"}
    assert requests.get(url, params=params, timeout=CALL_BOUND_S).json()["error"] == "error_shop"


def test_tokens_expire_and_refresh_tokens_work_once(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server, token_lifetime_seconds=3600)
    shop = Shop(sandbox_server)
    shop.ok("GET", "/api/v2/product/get_item_limit")
    sandbox_server.advance_clock(3000)  # well inside the lifetime, however slow the machine: still good
    shop.ok("GET", "/api/v2/product/get_item_limit")
    sandbox_server.advance_clock(601)  # the configured lifetime has passed, with no sleep to race
    assert shop.call("GET", "/api/v2/product/get_item_limit")[1]["error"] == "error_auth"

    body = {"refresh_token": REFRESH_TOKEN, "partner_id": PARTNER_ID, "shop_id": int(SHOP_ID)}
    status, answer = shop.call("POST", "/api/v2/auth/access_token/get", body, public=True)
    assert status == 200 and answer["error"] == "" and answer["expire_in"] == 3600
    assert answer["access_token"] != ACCESS_TOKEN and answer["refresh_token"] != REFRESH_TOKEN
    Shop(sandbox_server, answer["access_token"]).ok("GET", "/api/v2/product/get_item_limit")

    status, again = shop.call("POST", "/api/v2/auth/access_token/get", body, public=True)
    assert (status, again["error"], again["message"]) == (403, "error_auth", "Invalid refresh_token.")


def test_expire_tokens_fault_expires_the_current_token_now(shop: Shop) -> None:
    shop.ok("GET", "/api/v2/product/get_item_limit")
    admin = requests.post(f"{shop.sandbox.url}/_sandbox/expire-tokens/shopee/{SHOP_ID}", timeout=CALL_BOUND_S)
    assert admin.status_code == 200
    assert shop.call("GET", "/api/v2/product/get_item_limit")[1]["message"] == "Invalid access_token."


def test_add_item_validates_and_guards_repeated_skus(shop: Shop) -> None:
    status, created = shop.add_item("TOTE-1")
    assert created["error"] == "" and created["response"]["item_status"] == "NORMAL"
    assert shop.add_item("TOTE-1")[1]["error"] == "error_repeated_mtsku"
    assert shop.add_item("TOTE-2", item_name="T" * 121)[1]["error"] == "error_title_exceeds_max_length"
    assert shop.add_item("TOTE-3", item_name="Tote")[1]["error"] == "error_item_name_is_too_short"
    assert shop.add_item("TOTE-4", item_name="")[1]["error"] == "error_nil_name_new_item"
    hashtags = "Tote " + " ".join(f"#tag{n}" for n in range(19))
    assert shop.add_item("TOTE-5", description=hashtags)[1]["error"] == "error_desc_hash_tag_over_limit"
    bad_image = shop.add_item("TOTE-6", image={"image_id_list": ["not-uploaded"]})[1]
    assert bad_image["error"] == "error_param" and "image_id" in bad_image["message"]
    assert shop.add_item("TOTE-7", original_price=1.999)[1]["error"] == "error_param"  # 2 decimals allowed
    unknown_channel = [{"logistic_id": 1, "enabled": True}]  # real-stores 4, Shopee rule 3
    assert shop.add_item("TOTE-8", logistic_info=unknown_channel)[1]["error"] == "error_invalid_logistic_info"
    listed = shop.ok("GET", "/api/v2/product/get_item_list", offset=0, page_size=10, item_status="NORMAL")
    assert listed["total_count"] == 1 and listed["has_next_page"] is False


def test_tier_variation_waits_for_the_item_and_partial_stock(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server, tier_variation_delay_seconds=600)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("HOOD")[1]["response"]["item_id"]
    tiers = {
        "item_id": item_id,
        "standardise_tier_variation": [{"variation_id": 0, "variation_name": "Size", "variation_group_id": 0,
                                        "variation_option_list": [{"variation_option_id": 0, "variation_option_name": o}
                                                                  for o in ("M", "L")]}],
        "model": [{"tier_index": [i], "original_price": 20.0, "model_sku": f"HOOD-{s}", "seller_stock": [{"stock": 1}]}
                  for i, s in enumerate("ML")],
    }
    status, early = shop.call("POST", "/api/v2/product/init_tier_variation", tiers)
    assert early["error"] == "error_busi_item_not_ready"
    sandbox_server.advance_clock(600)  # the wait has passed, without racing a sleep
    models = shop.ok("POST", "/api/v2/product/init_tier_variation", tiers)["model"]
    ids = {m["model_sku"]: m["model_id"] for m in models}
    answer = shop.ok("POST", "/api/v2/product/update_stock", {
        "item_id": item_id,
        "stock_list": [{"model_id": ids["HOOD-M"], "seller_stock": [{"stock": 8}]},
                       {"model_id": ids["HOOD-L"], "seller_stock": [{"stock": -1}]},
                       {"model_id": 1, "seller_stock": [{"stock": 1}]}],
    })
    assert [s["model_id"] for s in answer["success_list"]] == [ids["HOOD-M"]]
    assert {f["model_id"] for f in answer["failure_list"]} == {ids["HOOD-L"], 1}
    listed = shop.ok("GET", "/api/v2/product/get_model_list", item_id=item_id)
    stock = {m["model_sku"]: m["stock_info_v2"]["summary_info"]["total_available_stock"] for m in listed["model"]}
    assert stock == {"HOOD-M": 8, "HOOD-L": 1}
    three_tiers = {**tiers, "standardise_tier_variation": tiers["standardise_tier_variation"] * 3}
    assert shop.call("POST", "/api/v2/product/init_tier_variation", three_tiers)[1]["error"] == "error_param"


def test_search_by_sku_base_info_unlist_and_delete(shop: Shop) -> None:
    first = shop.add_item("BAG-10")[1]["response"]["item_id"]
    shop.add_item("BAG-100")
    found = shop.ok("GET", "/api/v2/product/search_item", item_sku="BAG-10", page_size=10)
    assert found["total_count"] == 2  # a keyword match, as the real search: clients check the exact SKU
    info = shop.ok("GET", "/api/v2/product/get_item_base_info", item_id_list=str(first))["item_list"][0]
    assert (info["item_sku"], info["has_model"], info["price_info"][0]["original_price"]) == ("BAG-10", False, 12.5)
    unlisted = shop.ok("POST", "/api/v2/product/unlist_item", {"item_list": [{"item_id": first, "unlist": True},
                                                                            {"item_id": 1, "unlist": True}]})
    assert unlisted["success_list"] == [{"item_id": first, "unlist": True}] and len(unlisted["failure_list"]) == 1
    shop.ok("POST", "/api/v2/product/delete_item", {"item_id": first})
    assert shop.call("POST", "/api/v2/product/delete_item", {"item_id": first})[1]["error"] == "error_item_not_found"
    assert shop.ok("GET", "/api/v2/product/search_item", item_sku="BAG-10", page_size=10)["total_count"] == 1
    assert shop.add_item("BAG-10")[1]["error"] == ""  # a deleted item frees its SKU
    status, body = shop.call("GET", "/api/v2/product/search_item", query={"page_size": 10})
    assert body["error"] == "error_param"


def test_upload_image_takes_multipart_images_only(shop: Shop) -> None:
    ids = shop.upload(placeholder_png("a"), placeholder_png("b"))
    assert len(ids) == 2 and len(set(ids)) == 2
    path = "/api/v2/media_space/upload_image"
    url = shop.sandbox.endpoint("shopee") + path
    not_image = requests.post(url, params=shop.params(path, public=True), files=[("image", ("a.txt", b"hello"))],
                              timeout=CALL_BOUND_S).json()
    assert not_image["error"] == "error_param" and "JPG" in not_image["message"]
    too_many = requests.post(url, params=shop.params(path, public=True),
                             files=[("image", (f"{n}.png", placeholder_png(str(n)))) for n in range(9)], timeout=CALL_BOUND_S)
    assert too_many.json()["error"] == "error_param"
    shop_signed = requests.post(url, params=shop.params(path), files=[("image", ("a.png", placeholder_png("a")))],
                                timeout=CALL_BOUND_S)
    assert shop_signed.json()["error"] == "error_sign"  # media uploads use public signing


def test_throttle_above_the_shops_rate_and_fault_shapes(sandbox_server: RunningSandbox) -> None:
    # A refill every 1000 s: the third call is over the burst however slow the first two were.
    provision_shop(sandbox_server, requests_per_second=0.001, burst=2)
    shop = Shop(sandbox_server)
    answers = [shop.call("GET", "/api/v2/product/get_item_limit") for _ in range(3)]
    assert [a[1]["error"] for a in answers] == ["", "", "error_too_many_request"]
    assert answers[2][0] == 429

    provision_shop(sandbox_server)
    sandbox_server.faults("shopee", SHOP_ID, server_error_next=1, throttle_next=1)
    throttled = shop.call("GET", "/api/v2/product/get_item_limit")
    failed = shop.call("GET", "/api/v2/product/get_item_limit")
    assert (throttled[0], throttled[1]["error"]) == (429, "error_too_many_request")
    assert (failed[0], failed[1]["error"], failed[1]["message"]) == (500, "error_server", "Something wrong. Please try later.")


def test_provisioning_from_a_stores_file_entry(sandbox_server: RunningSandbox) -> None:
    emulator = sandbox_server.sandbox.emulator("shopee")
    assert isinstance(emulator, ShopeeEmulator)
    credentials = {"partner_id": str(PARTNER_ID), "partner_key": PARTNER_KEY,
                   "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}
    store, config = emulator.sandbox_store("", {"shop_id": 200001}, credentials, {"requests_per_second": 20})
    assert store == "200001" and config["requests_per_second"] == 20
    stored = emulator.provision(store, config)
    assert stored["token_lifetime_seconds"] == 4 * 3600  # contract 3.3 default
    with pytest.raises(ValueError, match="unknown_key|Extra inputs"):
        emulator.provision(store, {**config, "unknown_key": 1})
    with pytest.raises(ValueError, match="shop_id"):
        emulator.sandbox_store("", {}, credentials, {})


def test_demo_stores_file_provisions_the_shopee_shop(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"DEMO_SHOPEE_PARTNER_ID": "2001887", "DEMO_SHOPEE_PARTNER_KEY": "demo-key",
                        "DEMO_SHOPEE_SG_ACCESS_TOKEN": "demo-access", "DEMO_SHOPEE_SG_REFRESH_TOKEN": "demo-refresh"}.items():
        monkeypatch.setenv(name, value)
    outcomes = provision_from_stores_file(sandbox_server.sandbox, DEMO_STORES_FILE)
    shopee = [o for o in outcomes if o.platform == "shopee"]
    assert [(o.store_key, o.sandbox_store) for o in shopee] == [("shopee-sg", "200001")]
    stored = sandbox_server.sandbox.state.get_store("shopee", "200001")
    assert stored is not None and stored["partner_id"] == 2001887 and stored["requests_per_second"] == 20
