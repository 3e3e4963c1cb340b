"""The Shopify sandbox's malformed-id answers and its injectable INTERNAL_SERVER_ERROR (Shopify's shapes)."""

from __future__ import annotations

import re

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop

PUBLISH = """mutation Pub($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) { userErrors { field message } } }"""


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "gid-shop", {"access_token": TOKEN})
    return Shop(sandbox_server, "gid-shop")


def test_a_well_formed_id_of_a_missing_product_is_simply_not_found(shop: Shop) -> None:
    status, body = shop.post("query Read($id: ID!) { product(id: $id) { id } }", {"id": "gid://shopify/Product/999"})
    assert status == 200 and body["data"] == {"product": None} and "errors" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1


@pytest.mark.parametrize("bad", ["123", "", "gid://shopify/Product", "gid://shopify/Product/"])
def test_a_malformed_id_variable_is_an_invalid_variable(shop: Shop, bad: str) -> None:
    status, body = shop.post("query Read($id: ID!) { product(id: $id) { id } }", {"id": bad})
    assert status == 200 and "data" not in body and "extensions" not in body  # nothing ran, nothing charged
    assert body["errors"] == [{
        "message": "Variable $id of type ID! was provided invalid value",
        "locations": [{"line": 1, "column": 12}],
        "extensions": {
            "code": "INVALID_VARIABLE",
            "value": bad,
            "problems": [{"path": [], "explanation": f"Invalid global id '{bad}'",
                          "message": f"Invalid global id '{bad}'"}],
        },
    }]  # fmt: skip


def test_a_malformed_id_inside_an_input_names_its_path(shop: Shop) -> None:
    status, body = shop.post(PUBLISH, {"id": "gid://shopify/Product/1", "input": [{"publicationId": ""}]})
    assert status == 200 and "data" not in body
    [error] = body["errors"]
    assert error["message"] == (
        "Variable $input of type [PublicationInput!]! was provided invalid value for 0.publicationId "
        "(Invalid global id '')"
    )
    assert error["extensions"]["problems"] == [
        {"path": [0, "publicationId"], "explanation": "Invalid global id ''", "message": "Invalid global id ''"}
    ]
    assert error["extensions"]["value"] == [{"publicationId": ""}]


def test_a_malformed_id_literal_is_a_coercion_error(shop: Shop) -> None:
    status, body = shop.post('query Read {\n  product(id: "42") { id }\n}')
    assert status == 200 and "data" not in body and "extensions" not in body
    assert body["errors"] == [{
        "message": "Invalid global id '42'",
        "locations": [{"line": 2, "column": 3}],
        "path": ["query Read", "product", "id"],
        "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
    }]  # fmt: skip


def test_a_malformed_id_literal_inside_an_input_object(shop: Shop) -> None:
    status, body = shop.post(
        'mutation { productUpdate(product: {id: "7", status: DRAFT}) { userErrors { field message } } }'
    )
    assert status == 200
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        ("Invalid global id '7'", ["mutation", "productUpdate", "product", "id"])
    ]


def test_internal_server_error_is_injectable_in_shopifys_shape(
    shop: Shop, sandbox_server: RunningSandbox
) -> None:
    sandbox_server.faults("shopify", "gid-shop", internal_error_next=1)
    status, body = shop.post("query Read($id: ID!) { product(id: $id) { id } }", {"id": "gid://shopify/Product/1"})
    assert status == 200 and "data" not in body
    [error] = body["errors"]
    request_id = error["extensions"]["requestId"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert error["message"] == (
        "Internal error. Looks like something went wrong on our end.\n"
        f"Request ID: {request_id} (include this in support requests)."
    )
    status, body = shop.post("query Read($id: ID!) { product(id: $id) { id } }", {"id": "gid://shopify/Product/1"})
    assert status == 200 and body["data"] == {"product": None}  # one fault, then normal answers


ASYNC_SET = """mutation S($input: ProductSetInput!) { productSet(input: $input, synchronous: false) {
  product { id } productSetOperation { id status product { id } } userErrors { message } } }"""
OPERATION = """query O($id: ID!) { productOperation(id: $id) { status product { id title status } } }"""


def test_an_async_product_set_shows_its_product_when_the_operation_completes(
    sandbox_server: RunningSandbox,
) -> None:
    sandbox_server.provision("shopify", "async-shop", {"access_token": TOKEN, "product_set_seconds": 30})
    shop = Shop(sandbox_server, "async-shop")
    _, body = shop.post(ASYNC_SET, {"input": {"title": "Later", "handle": "later", "status": "ACTIVE"}})
    operation = body["data"]["productSet"]["productSetOperation"]
    assert operation["status"] == "CREATED" and operation["product"] is None
    # still running: the operation is ACTIVE and the product is nowhere to be read
    _, body = shop.post(OPERATION, {"id": operation["id"]})
    assert body["data"]["productOperation"] == {"status": "ACTIVE", "product": None}
    _, body = shop.post('{ productByIdentifier(identifier: {handle: "later"}) { id } products(first: 5) { nodes { id } } }')
    assert body["data"] == {"productByIdentifier": None, "products": {"nodes": []}}
    sandbox_server.advance_clock(31)
    _, body = shop.post(OPERATION, {"id": operation["id"]})
    done = body["data"]["productOperation"]
    assert done["status"] == "COMPLETE" and done["product"]["title"] == "Later" and done["product"]["status"] == "ACTIVE"
    _, body = shop.post('{ productByIdentifier(identifier: {handle: "later"}) { id } }')
    assert body["data"]["productByIdentifier"] == {"id": done["product"]["id"]}
