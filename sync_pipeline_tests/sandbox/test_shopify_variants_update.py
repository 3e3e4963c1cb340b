"""productVariantsBulkUpdate in the Shopify sandbox: every modelled field applied, Shopify's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop, tee

UPDATE = """mutation U($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $partial) {
    productVariants { id sku barcode price compareAtPrice inventoryPolicy taxable title
      selectedOptions { name value } media(first: 1) { nodes { id } }
      metafield(namespace: "custom", key: "fit") { value }
      inventoryItem { sku tracked requiresShipping unitCost { amount }
        measurement { weight { value unit } } } }
    userErrors { field message code } } }"""
READ = """query R($id: ID!) { product(id: $id) {
  options { name optionValues { name } }
  variants(first: 10) { nodes { id sku barcode title inventoryPolicy inventoryQuantity } } } }"""


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "var-shop", {"access_token": TOKEN})
    return Shop(sandbox_server, "var-shop")


@pytest.fixture
def product(shop: Shop) -> dict[str, Any]:
    made = shop.product_set(tee(), {"handle": "tee"})["data"]["productSet"]["product"]
    _, body = shop.post("query M($id: ID!) { product(id: $id) { media(first: 5) { nodes { id } } } }",
                        {"id": made["id"]})  # fmt: skip
    made["mediaIds"] = [m["id"] for m in body["data"]["product"]["media"]["nodes"]]
    return made


def update(shop: Shop, product: dict[str, Any], *changes: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    status, body = shop.post(UPDATE, {"productId": product["id"], "variants": list(changes), "partial": partial})
    assert status == 200, body
    payload: dict[str, Any] = body["data"]["productVariantsBulkUpdate"]
    payload["cost"] = body["extensions"]["cost"]
    return payload


def variant_id(product: dict[str, Any], sku: str) -> str:
    return str(next(v["id"] for v in product["variants"]["nodes"] if v["sku"] == sku))


def test_every_modelled_field_is_applied(shop: Shop, product: dict[str, Any]) -> None:
    small = variant_id(product, "T-S")
    payload = update(shop, product, {
        "id": small, "price": "12.50", "compareAtPrice": "20.00", "barcode": "0123456789012",
        "inventoryPolicy": "CONTINUE", "taxable": False, "mediaId": product["mediaIds"][1],
        "optionValues": [{"optionName": "Size", "name": "XS"}],
        "metafields": [{"namespace": "custom", "key": "fit", "type": "single_line_text_field", "value": "slim"}],
        "inventoryItem": {"sku": "T-XS", "tracked": False, "requiresShipping": False, "cost": "4.20",
                          "measurement": {"weight": {"value": 0.25, "unit": "KILOGRAMS"}}},
    })  # fmt: skip
    assert payload["userErrors"] == []
    [variant] = payload["productVariants"]
    assert variant["sku"] == "T-XS" and variant["inventoryItem"]["sku"] == "T-XS"
    assert (variant["price"], variant["compareAtPrice"], variant["barcode"]) == ("12.50", "20.00", "0123456789012")
    assert variant["inventoryPolicy"] == "CONTINUE" and variant["taxable"] is False
    assert variant["selectedOptions"] == [{"name": "Size", "value": "XS"}] and variant["title"] == "XS"
    assert variant["media"]["nodes"] == [{"id": product["mediaIds"][1]}]
    assert variant["metafield"] == {"value": "slim"}
    item = variant["inventoryItem"]
    assert item["tracked"] is False and item["requiresShipping"] is False
    assert item["unitCost"]["amount"] == "4.20"
    assert item["measurement"]["weight"] == {"value": 0.25, "unit": "KILOGRAMS"}
    # the product carries the new option value, and a read sees the change
    _, body = shop.post(READ, {"id": product["id"]})
    read = body["data"]["product"]
    assert [v["name"] for v in read["options"][0]["optionValues"]] == ["S", "M", "XS"]
    assert {v["sku"]: v["title"] for v in read["variants"]["nodes"]} == {"T-XS": "XS", "T-M": "M"}
    assert payload["cost"]["requestedQueryCost"] >= 10 and payload["cost"]["actualQueryCost"] >= 10


def refusal(shop: Shop, product: dict[str, Any], change: dict[str, Any]) -> list[dict[str, Any]]:
    payload = update(shop, product, {"id": variant_id(product, "T-S"), **change})
    assert payload["productVariants"] is None
    _, body = shop.post(READ, {"id": product["id"]})  # nothing written
    assert {v["sku"] for v in body["data"]["product"]["variants"]["nodes"]} == {"T-S", "T-M"}
    assert payload["cost"]["actualQueryCost"] is not None
    errors: list[dict[str, Any]] = payload["userErrors"]
    return errors


def test_inventory_quantities_are_refused_on_update(shop: Shop, product: dict[str, Any]) -> None:
    errors = refusal(shop, product, {
        "inventoryItem": {"sku": "NEW"},
        "inventoryQuantities": [{"locationId": "gid://shopify/Location/1", "availableQuantity": 3}]})
    assert errors == [{
        "field": ["variants", "0", "inventoryQuantities"],
        "message": "Inventory quantities can only be provided during create. To update inventory for existing "
                   "variants, use inventoryAdjustQuantities.",
        "code": "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"}]  # fmt: skip


def test_a_too_long_sku_is_refused_twice_on_the_variant(shop: Shop, product: dict[str, Any]) -> None:
    errors = refusal(shop, product, {"inventoryItem": {"sku": "S" * 256}})
    assert errors == [
        {"field": ["variants", "0"], "message": "SKU is too long (maximum is 255 characters)", "code": "INVALID_INPUT"},
        {"field": ["variants", "0"], "message": "is too long (maximum is 255 characters)", "code": None},
    ]


def test_a_too_long_barcode(shop: Shop, product: dict[str, Any]) -> None:
    assert refusal(shop, product, {"barcode": "1" * 256}) == [{
        "field": ["variants", "0", "barcode"], "message": "Barcode is too long (maximum is 255 characters)",
        "code": "INVALID_INPUT"}]  # fmt: skip


def test_a_negative_weight(shop: Shop, product: dict[str, Any]) -> None:
    errors = refusal(shop, product, {"inventoryItem": {"measurement": {"weight": {"value": -1, "unit": "GRAMS"}}}})
    assert errors == [{"field": ["variants", "0"], "message": "Weight must be greater than or equal to 0",
                       "code": "GREATER_THAN_OR_EQUAL_TO"}]  # fmt: skip


@pytest.mark.parametrize(
    ("option_values", "field", "message", "code"),
    [
        ([{"optionName": "Colour", "name": "Red"}], ["variants", "0", "optionValues", "0"],
         "Option does not exist", "OPTION_DOES_NOT_EXIST"),
        ([{"optionName": "Size", "optionId": "gid://shopify/ProductOption/1", "name": "L"}],
         ["variants", "0", "optionValues", "0"], "cannot specify both `optionId` and `optionName`", "INVALID_INPUT"),
        ([{"optionName": "Size", "name": "L" * 256}], ["variants", "0", "optionValues", "0", "name"],
         "Option value name is too long", "INVALID_INPUT"),
        ([{"optionName": "Size", "id": "gid://shopify/ProductOptionValue/999999"}],
         ["variants", "0", "optionValues", "0"], "Option value does not exist", "OPTION_VALUE_DOES_NOT_EXIST"),
        ([{"optionName": "Size", "name": "M"}], ["variants", "0"],
         "The variant 'M' already exists. Please change at least one option value.", "VARIANT_ALREADY_EXISTS"),
    ],
)  # fmt: skip
def test_option_value_refusals(
    shop: Shop, product: dict[str, Any], option_values: list[dict[str, Any]], field: list[str], message: str,
    code: str,
) -> None:
    assert refusal(shop, product, {"optionValues": option_values}) == [
        {"field": field, "message": message, "code": code}
    ]


def test_a_media_id_not_on_the_product(shop: Shop, product: dict[str, Any]) -> None:
    assert refusal(shop, product, {"mediaId": "gid://shopify/MediaImage/999999"}) == [
        {"field": ["variants", "0", "mediaId"], "message": "Media does not exist", "code": "INVALID_INPUT"}
    ]


def test_partial_updates_keep_the_clean_changes(shop: Shop, product: dict[str, Any]) -> None:
    payload = update(shop, product, {"id": variant_id(product, "T-S"), "barcode": "1" * 256},
                     {"id": variant_id(product, "T-M"), "inventoryItem": {"sku": "T-M2"}}, partial=True)  # fmt: skip
    assert [e["code"] for e in payload["userErrors"]] == ["INVALID_INPUT"]
    _, body = shop.post(READ, {"id": product["id"]})
    by_sku = {v["sku"]: v for v in body["data"]["product"]["variants"]["nodes"]}
    assert set(by_sku) == {"T-S", "T-M2"} and by_sku["T-S"]["barcode"] is None
