"""real-stores.md section 4, TikTok rules 1-9: for each, the payload the old client sent is refused
by the sandbox with the real code, and the fixed client passes."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline.platforms import tiktok as tiktok_client
from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError
from sync_pipeline.platforms.tiktok import classify
from sync_pipeline_tests.platforms.test_tiktok import ClientFactory, env, make_client, products
from sync_pipeline_tests.platforms.tiktok_fixtures import (
    CIPHER,
    ImageHost,
    image_host,
    listing,
    png,
    shop_config,
    signed_call,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

__all__ = ["env", "image_host", "make_client"]  # fixtures, re-exported for pytest

IMAGES = "/product/202309/images/upload"
PRODUCTS = "/product/202309/products"


def upload_files() -> dict[str, Any]:
    return {"data": ("a.png", png()), "use_case": (None, "MAIN_IMAGE")}


class Recorder:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, record: CallRecord) -> None:
        if not record.amends:  # an amendment is the verdict on the call just recorded
            self.operations.append(record.operation)


# -- rule 1: shop_cipher only where the endpoint declares it ------------------------------------------


def test_rule1_shop_cipher_on_an_app_level_endpoint_is_refused(sandbox_server: RunningSandbox) -> None:
    sandbox_server.provision("tiktok", CIPHER, shop_config())
    old = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files())  # the old client: cipher on
    assert old.json()["code"] == 36009004
    assert "shop_cipher" in old.json()["message"] and "not required" in old.json()["message"]
    missing = signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/1", cipher=None)
    assert missing.json()["code"] == 106013
    fixed = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None)
    assert fixed.json()["code"] == 0 and fixed.json()["data"]["uri"]


def test_rule1_the_fixed_client_creates_and_an_identifier_complaint_never_refreshes(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    client = make_client(observer=recorder)
    ref = client.upsert(listing(images=(image_host.image("rule1"),)), None)
    assert [p["id"] for p in products(sandbox_server)] == [ref.product_id]

    # The old behaviour (cipher on every call) fails for good, classified as a request defect.
    monkeypatch.setattr(tiktok_client, "is_shop_scoped", lambda method, path: True)
    old_client = make_client(observer=recorder)
    recorder.operations.clear()
    with pytest.raises(PlatformError) as refused:
        old_client.upsert(listing("MH02", images=(image_host.image("rule1-old"),)), None)
    assert refused.value.platform_code == "36009004"
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "token.refresh" not in recorder.operations and recorder.operations == ["image.upload"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
         ErrorClass.INVALID_PRODUCT),
        ("invalid param error", ErrorClass.INVALID_PRODUCT),
        ("Missing or invalid credentials: invalid access token", ErrorClass.UNAUTHORIZED),
        ("Invalid sign", ErrorClass.UNAUTHORIZED),
        ("timestamp out of range", ErrorClass.UNAUTHORIZED),
    ],
)
def test_36009004_is_classified_by_its_message(message: str, expected: ErrorClass) -> None:
    assert classify(400, 36009004, message).error_class is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [(106013, ErrorClass.INVALID_PRODUCT), (105002, ErrorClass.UNAUTHORIZED), (12052700, ErrorClass.UNAUTHORIZED),
     (36009002, ErrorClass.RATE_LIMITED), (36009003, ErrorClass.NETWORK_ERROR), (12052104, ErrorClass.INVALID_PRODUCT)],
)
def test_error_classes_follow_real_stores_1_6(code: int, expected: ErrorClass) -> None:
    assert classify(400, code, "x").error_class is expected


# -- rule 2: US shops use category_version v2 -----------------------------------------------------------


def test_rule2_a_us_create_without_v2_is_refused_and_the_client_sends_v2(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox
) -> None:
    client = make_client()
    uri = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None).json()["data"]["uri"]
    body = {
        "title": "Chaz Kangeroo Hoodie", "description": "<p>Warm.</p>", "category_id": "601152",
        "main_images": [{"uri": uri}], "package_weight": {"value": "0.5", "unit": "KILOGRAM"},
        "skus": [{"seller_sku": "MH01", "price": {"amount": "52.00", "currency": "USD"},
                  "inventory": [{"warehouse_id": "7000001", "quantity": 5}]}],
    }
    old = signed_call(sandbox_server.url, "POST", PRODUCTS, body=body).json()
    assert old["code"] == 12052217
    assert old["message"] == "All region shops must use V2 categories. Check the documentation for further details."
    assert client.category_version == "v2"
    ref = client.upsert(listing(images=(image_host.image("rule2"),)), None)
    assert products(sandbox_server)[0]["id"] == ref.product_id


def test_rule2_other_regions_keep_v1(make_client: ClientFactory, image_host: ImageHost,
                                     sandbox_server: RunningSandbox) -> None:
    client = make_client(shop=shop_config(region="GB"), settings={"region": "GB"})
    assert client.category_version == "v1"
    client.upsert(listing(images=(image_host.image("rule2-gb"),)), None)
    wrong = make_client(shop=shop_config(region="GB"), settings={"region": "GB", "category_version": "v2"})
    with pytest.raises(PlatformError) as refused:
        wrong.upsert(listing("MH03", images=(image_host.image("rule2-gb"),)), None)
    assert refused.value.platform_code == "12052230"
