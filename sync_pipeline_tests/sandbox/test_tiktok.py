"""The TikTok Shop sandbox over real HTTP: auth, signature, envelope, limits and product rules (4.x)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from sync_pipeline.sandbox.tiktok.emulator import tiktok_sign
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.tiktok_fixtures import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    WAREHOUSE,
    png,
    shop_config,
    signed_call,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

PRODUCTS = "/product/202309/products"


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> RunningSandbox:
    sandbox_server.provision("tiktok", CIPHER, shop_config())
    return sandbox_server


def ok(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0, body
    assert set(body) == {"code", "message", "request_id", "data"}  # 4.4 envelope
    data: dict[str, Any] = body["data"]
    return data


def upload(url: str, shade: int = 1) -> str:
    files = {"data": ("a.png", png(shade=shade)), "use_case": (None, "MAIN_IMAGE")}
    return str(ok(signed_call(url, "POST", "/product/202309/images/upload", files=files, cipher=None))["uri"])


def product_body(uri: str, sku_count: int = 2, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Chaz Kangeroo Hoodie",
        "description": "<p>Warm.</p>",
        "category_id": "601152",
        "main_images": [{"uri": uri}],
        "skus": [
            {"seller_sku": f"MH01-{size}", "price": {"amount": "52.00", "currency": "USD"},
             "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 5}],
             "sales_attributes": [{"name": "Size", "value_name": size}]}
            for size in ("S", "M", "L")[:sku_count]
        ],
        "package_weight": {"value": "0.5", "unit": "KILOGRAM"},
        "package_dimensions": {"length": "30", "width": "20", "height": "5", "unit": "CENTIMETER"},
        "external_product_id": "MH01",
        "category_version": "v2",
    }
    body.update(overrides)
    return body


def create(url: str, **overrides: Any) -> dict[str, Any]:
    return ok(signed_call(url, "POST", PRODUCTS, body=product_body(upload(url), **overrides)))


def test_signature_matches_the_published_worked_example() -> None:
    # 4.2: secret abc000def111, app_key 123456, timestamp 1234567890, path /authorization/202309/shops.
    params = {"app_key": "123456", "timestamp": "1234567890", "sign": "ignored", "access_token": "ignored"}
    assert tiktok_sign("abc000def111", "/authorization/202309/shops", params) == (
        "c8767e4fd7a1b48a0ce3fd23197f058159ce11b53f1ae1ad6d1ec931a1da5540"
    )


def test_signature_covers_the_body() -> None:
    params = {"app_key": "1", "timestamp": "2"}
    assert tiktok_sign("s", "/p", params, b"{}") != tiktok_sign("s", "/p", params, b"")


def test_a_correct_call_gets_the_success_envelope(shop: RunningSandbox) -> None:
    data = ok(signed_call(shop.url, "POST", "/product/202502/products/search", body={}, query={"page_size": "10"}))
    assert data == {"total_count": 0, "products": [], "next_page_token": ""}


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"secret": "wrong-secret"}, 401, 106001),  # bad sign (T-LOG: HTTP 401 + 106001)
        ({"token": None}, 401, 36009004),  # no x-tts-access-token
        ({"token": "TTP_not-a-token"}, 401, 36009004),
        ({"timestamp_offset": -301}, 401, 36009004),  # 4.1: window now-5 min ...
        ({"timestamp_offset": 60}, 401, 36009004),  # ... to now+30 s
        ({"app_key": "other-app"}, 401, 36009004),
        ({"cipher": "unknown_cipher"}, 401, 36009004),
        ({"cipher": None}, 400, 106013),  # real-stores 1.1: shop endpoint without its identifier
    ],
)
def test_bad_credentials_get_tiktoks_errors(shop: RunningSandbox, kwargs: dict[str, Any], status: int, code: int) -> None:
    kwargs = dict(kwargs)
    if "timestamp_offset" in kwargs:  # relative to when the test runs, not when it was collected
        kwargs["timestamp"] = shop.now() + kwargs.pop("timestamp_offset")
    response = signed_call(shop.url, "GET", f"{PRODUCTS}/1", **kwargs)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_sign_leaves_out_sign_and_access_token_params_but_covers_others(shop: RunningSandbox) -> None:
    # access_token in the query is excluded from the signature (4.2 step 1): the call still verifies.
    response = signed_call(shop.url, "GET", f"{PRODUCTS}/1", query={"access_token": "x"})
    assert response.json()["code"] == 12052032  # authenticated; the product does not exist
    tampered = requests.get(response.request.url.replace("access_token=x", "page_size=5"),  # type: ignore[union-attr]
                            headers={"x-tts-access-token": ACCESS_TOKEN}, timeout=CALL_BOUND_S)
    assert tampered.json()["code"] == 106001


def test_unknown_path_and_method(shop: RunningSandbox) -> None:
    assert signed_call(shop.url, "GET", "/product/202309/nothing").json()["code"] == 36009009
    assert signed_call(shop.url, "PATCH", PRODUCTS).status_code in (404, 405, 501)
    assert signed_call(shop.url, "GET", PRODUCTS).json()["code"] == 36009010


def test_expired_token_then_refresh_rotates_the_pair(shop: RunningSandbox) -> None:
    shop.sandbox.emulator("tiktok").expire_tokens(CIPHER)
    expired = signed_call(shop.url, "GET", f"{PRODUCTS}/1")
    assert (expired.status_code, expired.json()["code"]) == (401, 105002)

    refresh_params = {"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": REFRESH_TOKEN,
                      "grant_type": "refresh_token"}
    answer = requests.get(f"{shop.url}/tiktok-auth/api/v2/token/refresh", params=refresh_params, timeout=CALL_BOUND_S).json()
    assert answer["code"] == 0
    pair = answer["data"]
    assert pair["access_token"] != ACCESS_TOKEN and pair["refresh_token"] != REFRESH_TOKEN
    assert pair["access_token_expire_in"] > time.time()  # 4.3: a unix timestamp

    assert signed_call(shop.url, "GET", f"{PRODUCTS}/1", token=pair["access_token"]).json()["code"] == 12052032
    # The replaced access token now reads as expired; the old refresh token no longer works.
    assert signed_call(shop.url, "GET", f"{PRODUCTS}/1").json()["code"] == 105002
    again = requests.get(f"{shop.url}/tiktok-auth/api/v2/token/refresh", params=refresh_params, timeout=CALL_BOUND_S)
    assert again.status_code == 401 and again.json()["code"] != 0


def test_refresh_needs_the_app_secret(shop: RunningSandbox) -> None:
    params = {"app_key": APP_KEY, "app_secret": "nope", "refresh_token": REFRESH_TOKEN, "grant_type": "refresh_token"}
    answer = requests.get(f"{shop.url}/tiktok-auth/api/v2/token/refresh", params=params, timeout=CALL_BOUND_S)
    assert answer.status_code == 401 and answer.json()["code"] == 36009004


def test_qps_per_api_answers_429(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # The buckets' clock stands still: nothing refills between calls, however slow they are.
    monkeypatch.setattr(sandbox_server.sandbox.emulator("tiktok"), "rate_clock", lambda: 1000.0)
    sandbox_server.provision("tiktok", CIPHER, shop_config(qps=3))
    codes = [signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/1").json()["code"] for _ in range(6)]
    assert codes == [12052032] * 3 + [36009002] * 3
    # Counted per API: another API still has its own budget.
    search = signed_call(sandbox_server.url, "POST", "/product/202502/products/search", body={},
                         query={"page_size": "1"})
    assert search.json()["code"] == 0
    throttled = signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/1")
    assert (throttled.status_code, throttled.json()["code"]) == (429, 36009002)


def test_fault_responses_have_tiktoks_shape(shop: RunningSandbox) -> None:
    shop.faults("tiktok", CIPHER, throttle_next=1, server_error_next=1)
    throttled = signed_call(shop.url, "GET", f"{PRODUCTS}/1")
    assert (throttled.status_code, throttled.json()["code"]) == (429, 36009002)
    failed = signed_call(shop.url, "GET", f"{PRODUCTS}/1")
    assert failed.status_code >= 500 and failed.json()["code"] != 0


def test_create_goes_to_audit_then_activates(sandbox_server: RunningSandbox) -> None:
    # An hour of audit: PENDING holds for certain until the test moves the sandbox's clock past it.
    sandbox_server.provision("tiktok", CIPHER, shop_config(audit_delay_seconds=3600))
    created = create(sandbox_server.url)
    assert [s["seller_sku"] for s in created["skus"]] == ["MH01-S", "MH01-M"]
    product_id = created["product_id"]
    assert ok(signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/{product_id}"))["status"] == "PENDING"
    price = {"skus": [{"id": created["skus"][0]["id"], "price": {"amount": "40.00", "currency": "USD"}}]}
    refused = signed_call(sandbox_server.url, "POST", f"{PRODUCTS}/{product_id}/prices/update", body=price)
    assert refused.json()["code"] == 12052901  # 4.5: price updates need ACTIVATE
    sandbox_server.advance_clock(3000)  # well inside the audit, however slow the machine
    still = ok(signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/{product_id}", timestamp=sandbox_server.now()))
    assert still["status"] == "PENDING"
    now = sandbox_server.advance_clock(601)  # 4.1: requests are stamped with the platform's time
    product = ok(signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/{product_id}", timestamp=now))
    assert product["status"] == "ACTIVATE"
    ok(signed_call(sandbox_server.url, "POST", f"{PRODUCTS}/{product_id}/prices/update", body=price, timestamp=now))
    product = ok(signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/{product_id}", timestamp=now))
    assert product["skus"][0]["price"]["tax_exclusive_price"] == "40.00"


def test_idempotency_key_replays_the_first_create(shop: RunningSandbox) -> None:
    uri = upload(shop.url)
    body = product_body(uri, idempotency_key="key-1")
    first = ok(signed_call(shop.url, "POST", PRODUCTS, body=body))
    second = ok(signed_call(shop.url, "POST", PRODUCTS, body=body))
    assert first == second
    assert len(shop.docs("tiktok", CIPHER, "products")) == 1
    third = ok(signed_call(shop.url, "POST", PRODUCTS, body=product_body(uri, idempotency_key="key-2")))
    assert third["product_id"] != first["product_id"]


def test_put_overwrites_blanks_but_keeps_omitted_price_and_inventory(shop: RunningSandbox) -> None:
    created = create(shop.url)
    product_id = created["product_id"]
    uri = upload(shop.url, shade=7)
    kept = created["skus"][0]
    edit = product_body(uri, sku_count=1, title="New title")
    del edit["external_product_id"]
    edit["skus"] = [{"id": kept["id"], "seller_sku": kept["seller_sku"],
                     "sales_attributes": [{"name": "Size", "value_name": "S"}]}]
    answer = ok(signed_call(shop.url, "PUT", f"{PRODUCTS}/{product_id}", body=edit))
    assert [s["id"] for s in answer["skus"]] == [kept["id"]]
    product = ok(signed_call(shop.url, "GET", f"{PRODUCTS}/{product_id}"))
    assert product["title"] == "New title"
    assert product["external_product_id"] is None  # omitted = blanked
    assert [s["seller_sku"] for s in product["skus"]] == ["MH01-S"]  # the other SKU is gone
    assert product["skus"][0]["price"]["tax_exclusive_price"] == "52.00"  # omitted price kept
    assert product["skus"][0]["inventory"] == [{"warehouse_id": WAREHOUSE, "quantity": 5}]
    assert product["main_images"][0]["uri"] == uri


def test_search_by_seller_skus_and_paging(shop: RunningSandbox) -> None:
    first = create(shop.url)
    uri = upload(shop.url)
    other = product_body(uri, sku_count=1)
    other["skus"][0]["seller_sku"] = "OTHER-1"
    ok(signed_call(shop.url, "POST", PRODUCTS, body=other))
    found = ok(signed_call(shop.url, "POST", "/product/202502/products/search", body={"seller_skus": ["MH01-M"]},
                           query={"page_size": "10"}))
    assert [p["id"] for p in found["products"]] == [first["product_id"]]
    page1 = ok(signed_call(shop.url, "POST", "/product/202502/products/search", body={}, query={"page_size": "1"}))
    assert page1["total_count"] == 2 and page1["next_page_token"]
    page2 = ok(signed_call(shop.url, "POST", "/product/202502/products/search", body={},
                           query={"page_size": "1", "page_token": page1["next_page_token"]}))
    assert page2["products"][0]["id"] != page1["products"][0]["id"] and page2["next_page_token"] == ""


def test_inventory_partial_failure_is_reported_under_code_0(shop: RunningSandbox) -> None:
    created = create(shop.url)
    product_id = created["product_id"]
    good, bad = created["skus"]
    body = {"skus": [{"id": good["id"], "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 9}]},
                     {"id": bad["id"], "inventory": [{"warehouse_id": "999", "quantity": 9}]}]}
    data = ok(signed_call(shop.url, "POST", f"{PRODUCTS}/{product_id}/inventory/update", body=body))
    assert len(data["errors"]) == 1
    error = data["errors"][0]
    assert error["detail"]["sku_id"] == bad["id"]
    assert error["detail"]["extra_errors"][0]["code"] == 12052097
    product = ok(signed_call(shop.url, "GET", f"{PRODUCTS}/{product_id}"))
    quantities = {s["id"]: s["inventory"][0]["quantity"] for s in product["skus"]}
    assert quantities == {good["id"]: 9, bad["id"]: 5}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": ""}, 12052261),
        ({"title": "x" * 256}, 12052051),
        ({"title": "连帽衫 hoodie"}, 12052262),
        ({"main_images": []}, 12052028),
        ({"main_images": [{"uri": "https://example.test/a.jpg"}]}, 12052300),  # external URL
        ({"category_id": ""}, 12052023),
        ({"skus": [{"seller_sku": "A", "price": {"amount": "0", "currency": "USD"},
                    "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 1}]}]}, 12052073),
        ({"skus": [{"seller_sku": "A", "price": {"amount": "1", "currency": "USD"},
                    "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 100000}]}]}, 12052055),
        ({"skus": [{"seller_sku": "A" * 51, "price": {"amount": "1", "currency": "USD"},
                    "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 1}]}]}, 12052054),
        ({"skus": [{"seller_sku": "A", "price": {"amount": "1", "currency": "USD"},
                    "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 1}],
                    "sales_attributes": [{"name": n, "value_name": "v"} for n in "abcd"]}]}, 12052525),
    ],
)
def test_invalid_products_are_refused_with_tiktoks_codes(shop: RunningSandbox, overrides: dict[str, Any],
                                                         code: int) -> None:
    body = product_body(upload(shop.url), **overrides)
    answer = signed_call(shop.url, "POST", PRODUCTS, body=body).json()
    assert answer["code"] == code, answer
    assert shop.docs("tiktok", CIPHER, "products") == []


def test_deactivate_activate_and_delete(shop: RunningSandbox) -> None:
    product_id = create(shop.url)["product_id"]
    ok(signed_call(shop.url, "GET", f"{PRODUCTS}/{product_id}"))  # audit delay 0: ACTIVATE on read
    assert ok(signed_call(shop.url, "POST", f"{PRODUCTS}/deactivate", body={"product_ids": [product_id]})) == {}
    assert ok(signed_call(shop.url, "GET", f"{PRODUCTS}/{product_id}"))["status"] == "SELLER_DEACTIVATED"
    again = ok(signed_call(shop.url, "POST", f"{PRODUCTS}/deactivate", body={"product_ids": [product_id]}))
    assert again["errors"][0]["code"] == 12052901 and again["errors"][0]["detail"]["product_id"] == product_id
    ok(signed_call(shop.url, "POST", f"{PRODUCTS}/activate", body={"product_ids": [product_id]}))
    assert ok(signed_call(shop.url, "GET", f"{PRODUCTS}/{product_id}"))["status"] == "ACTIVATE"
    assert ok(signed_call(shop.url, "DELETE", PRODUCTS, body={"product_ids": [product_id]})) == {}
    gone = ok(signed_call(shop.url, "DELETE", PRODUCTS, body={"product_ids": [product_id, "123"]}))
    assert [e["code"] for e in gone["errors"]] == [12052032, 12052032]
    assert signed_call(shop.url, "PUT", f"{PRODUCTS}/{product_id}",
                       body=product_body(upload(shop.url))).json()["code"] == 12052032


def test_image_upload_is_multipart_and_unsigned_body(shop: RunningSandbox) -> None:
    files = {"data": ("a.png", png(400, 300)), "use_case": (None, "MAIN_IMAGE")}
    data = ok(signed_call(shop.url, "POST", "/product/202309/images/upload", files=files, cipher=None))
    assert (data["width"], data["height"], data["use_case"]) == (400, 300, "MAIN_IMAGE")
    small = {"data": ("a.png", png(50, 50))}
    assert signed_call(shop.url, "POST", "/product/202309/images/upload", files=small, cipher=None).json()["code"] != 0
    as_json = signed_call(shop.url, "POST", "/product/202309/images/upload", body={"data": "x"}, cipher=None)
    assert as_json.json()["code"] == 36009022


def test_stores_file_entry_maps_to_a_shop(sandbox_server: RunningSandbox) -> None:
    emulator = sandbox_server.sandbox.emulator("tiktok")
    store, config = emulator.sandbox_store(
        "", {"shop_cipher": "demo_us_cipher", "warehouse_id": "7000001"},
        {"app_key": "k", "app_secret": "s", "access_token": "a", "refresh_token": "r"},
        {"requests_per_second": 20},
    )
    assert store == "demo_us_cipher"
    emulator.provision(store, config)
    saved = sandbox_server.sandbox.state.get_store("tiktok", "demo_us_cipher")
    assert saved is not None and saved["settings"]["qps"] == 20 and saved["warehouse_id"] == "7000001"
