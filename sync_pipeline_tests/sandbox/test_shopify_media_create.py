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


FILE_CREATE = """mutation F($files: [FileCreateInput!]!) {
  fileCreate(files: $files) {
    files { __typename id alt fileStatus createdAt ... on MediaImage { image { url } } ... on GenericFile { url } }
    userErrors { field message code } } }"""
NODE = """query N($id: ID!) { node(id: $id) { __typename ... on File { fileStatus alt } } }"""


def test_file_create_uploaded_then_processing_then_ready(shop: Shop, sandbox_server: RunningSandbox) -> None:
    status, body = shop.post(FILE_CREATE, {"files": [
        {"originalSource": "https://img.example/size-chart.png", "alt": "Size chart"},
        {"originalSource": "https://docs.example/care.pdf", "alt": "Care"}]})  # fmt: skip
    assert status == 200 and body["extensions"]["cost"]["requestedQueryCost"] >= 10
    payload = body["data"]["fileCreate"]
    assert payload["userErrors"] == []
    image, generic = payload["files"]
    assert (image["__typename"], image["alt"], image["fileStatus"], image["image"]) == (
        "MediaImage", "Size chart", "UPLOADED", None)
    assert (generic["__typename"], generic["fileStatus"], generic["url"]) == (
        "GenericFile", "UPLOADED", "https://docs.example/care.pdf")
    _, body = shop.post(NODE, {"id": image["id"]})
    assert body["data"]["node"] == {"__typename": "MediaImage", "fileStatus": "PROCESSING", "alt": "Size chart"}
    sandbox_server.advance_clock(21)
    _, body = shop.post(NODE, {"id": generic["id"]})
    assert body["data"]["node"] == {"__typename": "GenericFile", "fileStatus": "READY", "alt": "Care"}


@pytest.mark.parametrize(
    ("given", "field", "message", "code"),
    [({"originalSource": "not-a-url"}, "originalSource", "File URL is invalid", "INVALID"),
     ({"originalSource": "ftp://files.example/a.png"}, "originalSource", "File URL is invalid",
      "INVALID_IMAGE_SOURCE_URL"),
     ({"originalSource": "https://img.example/a.png", "filename": "a.jpg"}, "filename",
      "Provided filename extension must match original source.", "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE")],
)  # fmt: skip
def test_file_create_refusals_create_nothing(
    shop: Shop, sandbox_server: RunningSandbox, given: dict[str, Any], field: str, message: str, code: str
) -> None:
    _, body = shop.post(FILE_CREATE, {"files": [{"originalSource": "https://img.example/ok.png"}, given]})
    assert body["data"]["fileCreate"] == {
        "files": [], "userErrors": [{"field": ["files", "1", field], "message": message, "code": code}]}
    assert sandbox_server.docs("shopify", "media-shop", "file") == []


def test_file_create_over_250_files(shop: Shop) -> None:
    _, body = shop.post(FILE_CREATE, {"files": [{"originalSource": f"https://img.example/{i}.png"} for i in range(251)]})
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert error["path"] == ["fileCreate", "files"] and error["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}


def test_node_reads_products_and_their_media(shop: Shop, product_id: str) -> None:
    _, body = shop.post("""query N($id: ID!) { node(id: $id) { __typename id ... on Product { handle } } }""",
                        {"id": product_id})  # fmt: skip
    assert body["data"]["node"] == {"__typename": "Product", "id": product_id, "handle": "tee"}
    _, body = shop.post(NODE, {"id": "gid://shopify/GenericFile/424242"})
    assert body["data"]["node"] is None
