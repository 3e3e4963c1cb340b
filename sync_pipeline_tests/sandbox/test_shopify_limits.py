"""One test per limit the Shopify sandbox enforces, each asserting Shopify's exact code, message and field
(or path), and that nothing was written. The 2,048-variant and 1,000-point query limits are tested in
test_shopify_sandbox.py (``test_more_than_2048_variants_is_a_top_level_error_without_data``,
the ``MAX_COST_EXCEEDED`` test); the 255-character text limits in test_shopify_products.py and
test_shopify_variants_update.py."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import LOCATION, SET, TOKEN, Shop, tee

METAFIELDS_SET = """mutation M($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } } }"""
ADJUST = """mutation A($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id } userErrors { field message code } } }"""


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "limit-shop", {"access_token": TOKEN})
    return Shop(sandbox_server, "limit-shop")


def products(sandbox_server: RunningSandbox) -> list[dict[str, Any]]:
    return sandbox_server.docs("shopify", "limit-shop", "product")


def user_errors(shop: Shop, product: dict[str, Any]) -> list[dict[str, Any]]:
    body = shop.product_set(product)
    payload = body["data"]["productSet"]
    assert payload["product"] is None
    assert body["extensions"]["cost"]["actualQueryCost"] is not None  # ran, and was charged
    errors: list[dict[str, Any]] = payload["userErrors"]
    return errors


def test_more_than_250_files_is_a_top_level_error_without_data(shop: Shop, sandbox_server: RunningSandbox) -> None:
    files = [{"originalSource": f"https://img.example/{i}.jpg"} for i in range(251)]
    status, body = shop.post(SET, {"input": tee(files=files)})
    assert status == 200 and "data" not in body
    [error] = body["errors"]
    assert error["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert error["path"] == ["productSet", "input", "files"]
    assert error["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}
    assert products(sandbox_server) == []


def test_more_than_3_options(shop: Shop, sandbox_server: RunningSandbox) -> None:
    options = [{"name": n, "values": [{"name": "x"}]} for n in ("Size", "Colour", "Fit", "Length")]
    errors = user_errors(shop, tee(productOptions=options))
    assert errors[0] == {"field": ["input", "productOptions"], "message": "Can only specify a maximum of 3 options",
                         "code": "OPTIONS_OVER_LIMIT"}  # fmt: skip
    assert products(sandbox_server) == []


def test_more_than_100_values_of_one_option(shop: Shop, sandbox_server: RunningSandbox) -> None:
    options = [{"name": "Size", "values": [{"name": f"S{i}"} for i in range(101)]}]
    errors = user_errors(shop, tee(productOptions=options))
    assert errors[0] == {"field": ["input", "productOptions", "0", "values"], "message": "Option 'Size' has over 100 values",
                         "code": "OPTION_VALUES_OVER_LIMIT"}  # fmt: skip
    assert products(sandbox_server) == []


def test_more_than_50000_inventory_quantities_in_one_product_set(shop: Shop, sandbox_server: RunningSandbox) -> None:
    product = tee()
    quantities = [{"locationId": LOCATION, "name": "available", "quantity": 1}] * 25_001
    for variant in product["variants"]:
        variant["inventoryQuantities"] = quantities
    assert user_errors(shop, product) == [{
        "field": ["input", "variants"],
        "message": "Inventory quantity input exceeds the limit of 50000. Consider using separate "
                   "`inventorySetQuantities` mutations.",
        "code": "INVENTORY_QUANTITIES_LIMIT_EXCEEDED"}]  # fmt: skip
    assert products(sandbox_server) == []


def test_more_than_25_metafields_in_one_metafields_set(shop: Shop, sandbox_server: RunningSandbox) -> None:
    owner = shop.product_set(tee())["data"]["productSet"]["product"]["id"]
    metafields = [{"ownerId": owner, "namespace": "custom", "key": f"k{i}", "type": "single_line_text_field",
                   "value": "v"} for i in range(26)]  # fmt: skip
    status, body = shop.post(METAFIELDS_SET, {"metafields": metafields})
    assert status == 200 and "data" not in body
    [error] = body["errors"]
    assert error["message"] == "The input array size of 26 is greater than the maximum allowed of 25."
    assert error["path"] == ["metafieldsSet", "metafields"] and error["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}
    [stored] = products(sandbox_server)
    assert not stored.get("metafields")


@pytest.mark.parametrize(
    ("delta", "message", "code"),
    [(1_000_000_000, "The quantity can't be higher than 1000000000.", "INVALID_QUANTITY_TOO_HIGH"),
     (-1_000_000_005, "The quantity can't be lower than -1000000000.", "INVALID_QUANTITY_TOO_LOW")],
)  # fmt: skip
def test_a_stored_quantity_beyond_one_billion(
    shop: Shop, sandbox_server: RunningSandbox, delta: int, message: str, code: str
) -> None:
    item = shop.product_set(tee())["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"]["id"]
    change = {"inventoryItemId": item, "locationId": LOCATION, "delta": delta}
    _, body = shop.post(ADJUST, {"key": f"k{delta}", "input": {"reason": "correction", "name": "available",
                                                              "changes": [change]}})  # fmt: skip
    assert body["data"]["inventoryAdjustQuantities"] == {"inventoryAdjustmentGroup": None, "userErrors": [
        {"field": ["input", "changes", "0", "delta"], "message": message, "code": code}]}  # fmt: skip
    [stored] = products(sandbox_server)
    assert stored["variants"][0]["inventory"] == {LOCATION: 4}  # unchanged


def test_a_page_of_more_than_250(shop: Shop) -> None:
    status, body = shop.post("{ products(first: 251) { nodes { id } } }")
    assert status == 200
    [error] = body["errors"]
    assert error["message"] == "The connection can request at most 250 items (first: 251)"
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["path"] == ["products"]
