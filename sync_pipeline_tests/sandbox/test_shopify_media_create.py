"""productCreateMedia in the Shopify sandbox: Shopify's recorded answers and the media status lifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop, tee

CREATE_MEDIA = """mutation C($productId: ID!, $media: [CreateMediaInput!]!) {
  productCreateMedia(productId: $productId, media: $media) {
    media { id alt mediaContentType status }
    userErrors { field message }
    mediaUserErrors { field message code }
    product { id media(first: 10) { nodes { alt status } } } } }"""
MEDIA = """query M($id: ID!) { product(id: $id) { media(first: 10) { nodes { alt status } } } }"""


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "media-shop", {"access_token": TOKEN, "media_processing_seconds": 20})
    return Shop(sandbox_server, "media-shop")


@pytest.fixture
def product_id(shop: Shop) -> str:
    return str(shop.product_set(tee(files=[]))["data"]["productSet"]["product"]["id"])


def create(shop: Shop, product_id: str, *media: dict[str, Any]) -> dict[str, Any]:
    status, body = shop.post(CREATE_MEDIA, {"productId": product_id, "media": list(media)})
    assert status == 200, body
    payload: dict[str, Any] = body["data"]["productCreateMedia"]
    assert body["extensions"]["cost"]["requestedQueryCost"] >= 10
    return payload


def test_media_are_uploaded_then_processing_then_ready(
    shop: Shop, product_id: str, sandbox_server: RunningSandbox
) -> None:
    payload = create(shop, product_id, {"mediaContentType": "IMAGE", "originalSource": "https://img.example/a.png",
                                        "alt": "Front"})  # fmt: skip
    assert payload["userErrors"] == [] and payload["mediaUserErrors"] == []
    [made] = payload["media"]
    assert (made["alt"], made["mediaContentType"], made["status"]) == ("Front", "IMAGE", "UPLOADED")
    assert payload["product"]["media"]["nodes"] == [{"alt": "Front", "status": "UPLOADED"}]
    _, body = shop.post(MEDIA, {"id": product_id})
    assert body["data"]["product"]["media"]["nodes"] == [{"alt": "Front", "status": "PROCESSING"}]
    sandbox_server.advance_clock(21)
    _, body = shop.post(MEDIA, {"id": product_id})
    assert body["data"]["product"]["media"]["nodes"] == [{"alt": "Front", "status": "READY"}]


def test_an_unknown_product(shop: Shop) -> None:
    payload = create(shop, "gid://shopify/Product/999999", {"mediaContentType": "IMAGE",
                                                            "originalSource": "https://img.example/a.png"})  # fmt: skip
    assert payload == {
        "media": None,
        "userErrors": [{"field": ["productId"], "message": "Product does not exist"}],
        "mediaUserErrors": [{"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}],
        "product": None,
    }


def test_a_bad_url_is_refused_and_the_valid_media_are_still_created(shop: Shop, product_id: str) -> None:
    payload = create(shop, product_id,
                     {"mediaContentType": "IMAGE", "originalSource": "https://img.example/ok.png", "alt": "Valid"},
                     {"mediaContentType": "IMAGE", "originalSource": "not-a-url", "alt": "Invalid"})  # fmt: skip
    assert payload["userErrors"] == [{"field": ["media", "1", "originalSource"], "message": "Image URL is invalid"}]
    assert payload["mediaUserErrors"] == [
        {"field": ["media", "1", "originalSource"], "message": "Image URL is invalid", "code": "INVALID"}
    ]
    assert [(m["alt"], m["status"]) for m in payload["media"]] == [("Valid", "UPLOADED")]
    _, body = shop.post(MEDIA, {"id": product_id})
    assert [m["alt"] for m in body["data"]["product"]["media"]["nodes"]] == ["Valid"]


def test_an_unsupported_content_type_is_an_invalid_variable(shop: Shop, product_id: str) -> None:
    status, body = shop.post(CREATE_MEDIA, {"productId": product_id, "media": [
        {"mediaContentType": "FILE", "originalSource": "https://img.example/a.pdf"}]})  # fmt: skip
    assert status == 200 and "data" not in body
    [error] = body["errors"]
    assert error["message"] == (
        "Variable $media of type [CreateMediaInput!]! was provided invalid value for 0.mediaContentType "
        '(Expected "FILE" to be one of: VIDEO, EXTERNAL_VIDEO, MODEL_3D, IMAGE)'
    )
    assert error["extensions"]["code"] == "INVALID_VARIABLE"


def test_no_media_answers_the_product_unchanged(shop: Shop, product_id: str) -> None:
    payload = create(shop, product_id)
    assert payload["media"] == [] and payload["mediaUserErrors"] == [] and payload["product"]["id"] == product_id
