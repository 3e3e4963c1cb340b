"""Shopify sandbox product-domain operations over HTTP: the answer to valid input, to each
validation failure, and the cost shape (``extensions.cost``) of each kind of answer.

Expected wording follows real responses recorded in ``airhorns/shopify-draft-proxy``
(``fixtures/conformance/harry-test-heelo.myshopify.com/2025-01/products/``)."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import LOCATION, TOKEN, Shop, tee


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "unit-shop", {"access_token": TOKEN})
    return Shop(sandbox_server)


def _data(shop: Shop, query: str, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    status, body = shop.post(query, variables)
    assert status == 200 and "errors" not in body, body
    cost = body["extensions"]["cost"]
    assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    assert isinstance(cost["requestedQueryCost"], int) and isinstance(cost["actualQueryCost"], int)
    assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    return body["data"], cost


CREATE = """mutation C($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
  productCreate(product: $product, media: $media) {
    product { id title vendor options { name values } variants(first: 5) { nodes { id title } } mediaCount { count } }
    userErrors { field message } } }"""


def test_product_create_makes_one_variant_from_the_first_option_values(shop: Shop) -> None:
    data, cost = _data(shop, CREATE, {
        "product": {"title": "Mug", "productOptions": [{"name": "Color", "values": [{"name": "Red"}, {"name": "Blue"}]}]},
        "media": [{"originalSource": "https://img.example/m.jpg", "mediaContentType": "IMAGE"}],
    })  # fmt: skip
    created = data["productCreate"]["product"]
    assert data["productCreate"]["userErrors"] == []
    assert created["vendor"] == "unit-shop"  # the shop's name when none is given
    assert created["options"] == [{"name": "Color", "values": ["Red"]}]
    assert [v["title"] for v in created["variants"]["nodes"]] == ["Red"] and created["mediaCount"]["count"] == 1
    assert cost["requestedQueryCost"] >= 10  # a mutation costs 10 plus its selection


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        ({"title": ""}, [{"field": ["title"], "message": "Title can't be blank"}]),
        ({"title": "t" * 256}, [{"field": ["title"], "message": "Title is too long (maximum is 255 characters)"}]),
        ({"title": "Valid", "vendor": "v" * 256},
         [{"field": ["vendor"], "message": "Vendor is too long (maximum is 255 characters)"}]),
        ({"title": "Valid", "productType": "p" * 256},
         [{"field": ["productType"], "message": "Product type is too long (maximum is 255 characters)"},
          {"field": ["customProductType"], "message": "Custom product type is too long (maximum is 255 characters)"}]),
    ],
)  # fmt: skip
def test_product_create_validations(shop: Shop, product: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    data, _ = _data(shop, CREATE, {"product": product})
    assert data["productCreate"] == {"product": None, "userErrors": expected}


BULK_CREATE = """mutation B($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $strategy: ProductVariantsBulkCreateStrategy) {
  productVariantsBulkCreate(productId: $productId, variants: $variants, strategy: $strategy) {
    product { options { name values } variants(first: 10) { nodes { title sku inventoryQuantity inventoryPolicy taxable
      inventoryItem { tracked requiresShipping unitCost { amount currencyCode } } } } }
    productVariants { title } userErrors { field message code } } }"""


def _plain_product(shop: Shop) -> str:
    data, _ = _data(shop, CREATE, {"product": {"title": "Plain"}})
    return str(data["productCreate"]["product"]["id"])


def test_bulk_create_replaces_the_standalone_default_variant(shop: Shop) -> None:
    product_id = _plain_product(shop)
    data, _ = _data(shop, BULK_CREATE, {"productId": product_id, "variants": [{
        "optionValues": [{"optionName": "Title", "name": "Blue"}], "price": "25.00", "inventoryPolicy": "CONTINUE",
        "inventoryItem": {"sku": "B-1", "tracked": True, "requiresShipping": False, "cost": "7.5"},
        "inventoryQuantities": [{"locationId": LOCATION, "availableQuantity": 3}],
    }]})  # fmt: skip
    answer = data["productVariantsBulkCreate"]
    assert answer["userErrors"] == [] and answer["productVariants"] == [{"title": "Blue"}]
    assert answer["product"]["options"] == [{"name": "Title", "values": ["Blue"]}]
    assert answer["product"]["variants"]["nodes"] == [{
        "title": "Blue", "sku": "B-1", "inventoryQuantity": 3, "inventoryPolicy": "CONTINUE", "taxable": True,
        "inventoryItem": {"tracked": True, "requiresShipping": False, "unitCost": {"amount": "7.5", "currencyCode": "USD"}},
    }]  # fmt: skip


def test_bulk_create_preserve_strategy_keeps_the_standalone_variant(shop: Shop) -> None:
    product_id = _plain_product(shop)
    data, _ = _data(shop, BULK_CREATE, {"productId": product_id, "strategy": "PRESERVE_STANDALONE_VARIANT",
                                        "variants": [{"optionValues": [{"optionName": "Title", "name": "Blue"}]}]})  # fmt: skip
    nodes = data["productVariantsBulkCreate"]["product"]["variants"]["nodes"]
    assert [n["title"] for n in nodes] == ["Default Title", "Blue"]


@pytest.mark.parametrize(
    ("variants", "error"),
    [
        ([{"optionValues": [{"optionName": "Size", "name": "S"}]}],
         {"field": ["variants", "0", "optionValues", "0"], "message": "Option does not exist", "code": "INVALID_INPUT"}),
        ([{"optionValues": [{"optionName": "Title", "name": "A"}, {"optionName": "Title", "name": "B"}]}],
         {"field": ["variants", "0", "optionValues"], "message": "Duplicated option name 'Title'", "code": "INVALID_INPUT"}),
        ([{"optionValues": [{"optionName": "Title", "name": "A"}]}, {"optionValues": [{"optionName": "Title", "name": "A"}]}],
         {"field": ["variants", "1"], "message": "The variant 'A' already exists. Please change at least one option value.",
          "code": "VARIANT_ALREADY_EXISTS"}),
    ],
)  # fmt: skip
def test_bulk_create_validations_write_nothing(shop: Shop, variants: list[dict[str, Any]], error: dict[str, Any]) -> None:
    product_id = _plain_product(shop)
    data, _ = _data(shop, BULK_CREATE, {"productId": product_id, "variants": variants})
    assert data["productVariantsBulkCreate"] == {"product": None, "productVariants": None, "userErrors": [error]}
    after, _ = _data(shop, "query P($id: ID!) { product(id: $id) { variants(first: 5) { nodes { title } } } }",
                     {"id": product_id})  # fmt: skip
    assert after["product"]["variants"]["nodes"] == [{"title": "Default Title"}]


def test_bulk_create_needs_a_value_for_every_option(shop: Shop) -> None:
    created = shop.product_set(tee())["data"]["productSet"]["product"]
    status, body = shop.post(BULK_CREATE, {"productId": created["id"], "variants": [{"optionValues": []}]})
    assert body["data"]["productVariantsBulkCreate"]["userErrors"] == [
        {"field": ["variants", "0"], "message": "You need to add option values for Size", "code": "NEED_TO_ADD_OPTION_VALUES"}
    ]


DELETE = """mutation D($productId: ID!, $ids: [ID!]!) { productVariantsBulkDelete(productId: $productId, variantsIds: $ids) {
  product { variants(first: 5) { nodes { sku position } } } userErrors { field message code } } }"""


def test_bulk_delete(shop: Shop) -> None:
    created = shop.product_set(tee())["data"]["productSet"]["product"]
    first, second = (v["id"] for v in created["variants"]["nodes"])
    data, _ = _data(shop, DELETE, {"productId": created["id"], "ids": [first]})
    assert data["productVariantsBulkDelete"] == {
        "product": {"variants": {"nodes": [{"sku": "T-M", "position": 1}]}}, "userErrors": []
    }
    last, _ = _data(shop, DELETE, {"productId": created["id"], "ids": [second]})
    assert last["productVariantsBulkDelete"]["userErrors"][0]["code"] == "CANNOT_DELETE_LAST_VARIANT"
    foreign, _ = _data(shop, DELETE, {"productId": created["id"], "ids": ["gid://shopify/ProductVariant/1"]})
    assert foreign["productVariantsBulkDelete"]["userErrors"] == [{
        "field": ["variantsIds", "0"], "message": "At least one variant does not belong to the product",
        "code": "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT"}]  # fmt: skip
    missing, _ = _data(shop, DELETE, {"productId": "gid://shopify/Product/1", "ids": [second]})
    assert missing["productVariantsBulkDelete"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"


ADJUST = """mutation A($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } } userErrors { field message code } } }"""


def _item(shop: Shop) -> str:
    created = shop.product_set(tee())["data"]["productSet"]["product"]
    return str(created["variants"]["nodes"][0]["inventoryItem"]["id"])  # T-S, 4 available


def test_inventory_adjust_quantities(shop: Shop) -> None:
    item = _item(shop)
    change = {"inventoryItemId": item, "locationId": LOCATION, "delta": -6, "changeFromQuantity": 4}
    data, _ = _data(shop, ADJUST, {"key": "a1", "input": {"reason": "correction", "name": "available", "changes": [change]}})
    assert data["inventoryAdjustQuantities"] == {"inventoryAdjustmentGroup": {
        "reason": "correction", "changes": [{"name": "available", "delta": -6, "quantityAfterChange": -2}]},
        "userErrors": []}  # fmt: skip
    stale, _ = _data(shop, ADJUST, {"key": "a2", "input": {"reason": "correction", "name": "available", "changes": [change]}})
    assert stale["inventoryAdjustQuantities"]["userErrors"] == [{
        "field": ["input", "changes", "0", "changeFromQuantity"],
        "message": "The changeFromQuantity value does not match persisted value.", "code": "CHANGE_FROM_QUANTITY_STALE"}]  # fmt: skip
    too_high = dict(change, delta=2_000_000_000, changeFromQuantity=None)
    high, _ = _data(shop, ADJUST, {"key": "a3", "input": {"reason": "correction", "name": "available", "changes": [too_high]}})
    assert high["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "INVALID_QUANTITY_TOO_HIGH"
    nowhere = dict(change, locationId="gid://shopify/Location/999", changeFromQuantity=None)
    bad, _ = _data(shop, ADJUST, {"key": "a4", "input": {"reason": "correction", "name": "available", "changes": [nowhere]}})
    assert bad["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "INVALID_LOCATION"


def test_inventory_adjust_requires_the_idempotent_directive(shop: Shop) -> None:
    status, body = shop.post(ADJUST.replace(" @idempotent(key: $key)", "").replace(", $key: String!", ""),
                             {"input": {"reason": "correction", "name": "available", "changes": []}})  # fmt: skip
    assert status == 200 and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_locations_query(shop: Shop) -> None:
    data, _ = _data(shop, "{ locations(first: 5) { nodes { id name isActive } } }")
    assert data["locations"]["nodes"] == [{"id": LOCATION, "name": "Location 1", "isActive": True}]


def test_async_product_set_and_its_operation(shop: Shop) -> None:
    data, _ = _data(shop, """mutation S($input: ProductSetInput!) { productSet(input: $input, synchronous: false) {
        product { id } productSetOperation { id status product { id } userErrors { message } } userErrors { message } } }""",
        {"input": {"title": "Later"}})  # fmt: skip
    operation = data["productSet"]["productSetOperation"]
    assert data["productSet"]["product"] is None and operation["status"] == "CREATED" and operation["product"] is None
    read, _ = _data(shop, """query O($id: ID!) { productOperation(id: $id) { __typename status product { title }
        ... on ProductSetOperation { id userErrors { message } } } }""", {"id": operation["id"]})  # fmt: skip
    assert read["productOperation"] == {"__typename": "ProductSetOperation", "status": "COMPLETE",
                                        "product": {"title": "Later"}, "id": operation["id"], "userErrors": []}  # fmt: skip


def test_seo_metafields_and_inventory_item_fields_through_product_set(shop: Shop) -> None:
    product = tee(seo={"title": "Tee | Shop", "description": "Soft tee"},
                  metafields=[{"namespace": "custom", "key": "material", "type": "single_line_text_field", "value": "Cotton"}])
    product["variants"][0]["inventoryItem"] = {"requiresShipping": False, "cost": "3.20", "tracked": False}
    product["variants"][0]["taxable"] = False
    created = shop.product_set(product)["data"]["productSet"]["product"]
    data, _ = _data(shop, """query P($id: ID!) { product(id: $id) { seo { title description } totalInventory tracksInventory
        metafield(namespace: "custom", key: "material") { value type }
        variants(first: 5) { nodes { sku taxable inventoryItem { tracked requiresShipping unitCost { amount } } } } } }""",
        {"id": created["id"]})  # fmt: skip
    read = data["product"]
    assert read["seo"] == {"title": "Tee | Shop", "description": "Soft tee"}
    assert read["metafield"] == {"value": "Cotton", "type": "single_line_text_field"}
    assert read["totalInventory"] == 4 and read["tracksInventory"] is True  # T-M stays tracked
    assert read["variants"]["nodes"][0] == {"sku": "T-S", "taxable": False, "inventoryItem": {
        "tracked": False, "requiresShipping": False, "unitCost": {"amount": "3.20"}}}  # fmt: skip


SET_METAFIELDS = """mutation M($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) {
  metafields { namespace key value compareDigest } userErrors { field message code } } }"""


def test_metafields_set(shop: Shop) -> None:
    created = shop.product_set(tee())["data"]["productSet"]["product"]
    given = {"ownerId": created["id"], "namespace": "custom", "key": "origin", "type": "single_line_text_field", "value": "VN"}
    data, _ = _data(shop, SET_METAFIELDS, {"metafields": [given]})
    (written,) = data["metafieldsSet"]["metafields"]
    assert written["value"] == "VN" and len(written["compareDigest"]) == 64
    no_type, _ = _data(shop, SET_METAFIELDS, {"metafields": [{"ownerId": created["id"], "key": "x", "value": "1"}]})
    assert no_type["metafieldsSet"] == {"metafields": [], "userErrors": [
        {"field": ["metafields", "0", "type"], "message": "Type can't be blank", "code": "BLANK"}]}  # fmt: skip
    stale, _ = _data(shop, SET_METAFIELDS, {"metafields": [dict(given, value="US", compareDigest="0" * 64)]})
    assert stale["metafieldsSet"]["userErrors"][0]["code"] == "STALE_OBJECT"
    no_namespace, _ = _data(shop, SET_METAFIELDS, {"metafields": [{"ownerId": created["id"], "key": "y",
                                                                   "type": "single_line_text_field", "value": "2"}]})  # fmt: skip
    assert no_namespace["metafieldsSet"]["metafields"][0]["namespace"].startswith("app--")


MEDIA = "media(first: 5) { nodes { status ... on MediaImage { image { url } } } }"


def test_media_go_uploaded_processing_ready(sandbox_server: RunningSandbox) -> None:
    sandbox_server.provision("shopify", "slow-media", {"access_token": TOKEN, "media_processing_seconds": 30})
    shop = Shop(sandbox_server, "slow-media")
    data, _ = _data(shop, f"""mutation S($input: ProductSetInput!) {{ productSet(input: $input) {{
        product {{ id {MEDIA} }} userErrors {{ message }} }} }}""", {"input": tee(files=[
        {"originalSource": "https://img.example/1.jpg"}, {"originalSource": "file:///not/fetchable.jpg"}])})  # fmt: skip
    product = data["productSet"]["product"]
    assert product["media"]["nodes"] == [{"status": "UPLOADED", "image": None}] * 2
    read = f"query P($id: ID!) {{ product(id: $id) {{ {MEDIA} }} }}"
    processing, _ = _data(shop, read, {"id": product["id"]})
    assert processing["product"]["media"]["nodes"] == [{"status": "PROCESSING", "image": None}] * 2
    sandbox_server.advance_clock(30)
    done, _ = _data(shop, read, {"id": product["id"]})
    assert done["product"]["media"]["nodes"] == [
        {"status": "READY", "image": {"url": "https://img.example/1.jpg"}}, {"status": "FAILED", "image": None}
    ]
