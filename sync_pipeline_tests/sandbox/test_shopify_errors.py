"""The Shopify sandbox's document and variable errors, compared with Shopify's own answers.

Expected bodies follow real responses recorded in ``airhorns/shopify-draft-proxy``
(``fixtures/conformance/harry-test-heelo.myshopify.com/2025-01/admin-platform/
graphql-base-validation-unhappy-paths.json`` and the ``*-inline-missing-*`` captures): the same
codes, messages, paths and extensions, no ``data`` and no ``extensions.cost``.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "unit-shop", {"access_token": TOKEN})
    return Shop(sandbox_server)


def _only_error(shop: Shop, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    status, body = shop.post(query, variables)
    assert status == 200
    assert set(body) == {"errors"}, body  # neither data nor extensions.cost: nothing ran, nothing charged
    assert len(body["errors"]) == 1, body
    return body["errors"][0]  # type: ignore[no-any-return]


def test_unknown_field(shop: Shop) -> None:
    error = _only_error(shop, "query Probe {\n  products(first: 1) {\n    nodes {\n      id\n      nope\n    }\n  }\n}")
    assert error == {
        "message": "Field 'nope' doesn't exist on type 'Product'",
        "locations": [{"line": 5, "column": 7}],
        "path": ["query Probe", "products", "nodes", "nope"],
        "extensions": {"code": "undefinedField", "typeName": "Product", "fieldName": "nope"},
    }


def test_unknown_root_in_an_anonymous_mutation(shop: Shop) -> None:
    error = _only_error(shop, "mutation { nope(input: {}) { id } }")
    assert error["path"] == ["mutation", "nope"]
    assert error["extensions"] == {"code": "undefinedField", "typeName": "Mutation", "fieldName": "nope"}


def test_missing_required_arguments_are_listed_in_one_error(shop: Shop) -> None:
    error = _only_error(shop, "mutation M {\n  productVariantsBulkUpdate { userErrors { message } }\n}")
    assert error == {
        "message": "Field 'productVariantsBulkUpdate' is missing required arguments: variants, productId",
        "locations": [{"line": 2, "column": 3}],
        "path": ["mutation M", "productVariantsBulkUpdate"],
        "extensions": {
            "code": "missingRequiredArguments",
            "className": "Field",
            "name": "productVariantsBulkUpdate",
            "arguments": "variants, productId",
        },
    }


def test_missing_required_input_object_attribute(shop: Shop) -> None:
    error = _only_error(
        shop,
        'mutation M { inventorySetQuantities(input: {reason: "correction", name: "available", '
        'quantities: [{inventoryItemId: "gid://shopify/InventoryItem/1", quantity: 1}]}) '
        '@idempotent(key: "k1") { userErrors { code } } }',
    )
    assert error["message"] == (
        "Argument 'locationId' on InputObject 'InventoryQuantityInput' is required. Expected type ID!"
    )
    assert error["path"] == ["mutation M", "inventorySetQuantities", "input", "quantities", "locationId"]
    assert error["extensions"] == {
        "code": "missingRequiredInputObjectAttribute",
        "argumentName": "locationId",
        "argumentType": "ID!",
        "inputObjectType": "InventoryQuantityInput",
    }


def test_unknown_argument_and_unknown_input_field(shop: Shop) -> None:
    on_field = _only_error(shop, 'query Q { product(id: "gid://shopify/Product/1", nope: 1) { id } }')
    assert on_field["message"] == "Field 'product' doesn't accept argument 'nope'"
    assert on_field["extensions"] == {
        "code": "argumentNotAccepted", "name": "product", "typeName": "Field", "argumentName": "nope",
    }  # fmt: skip
    on_input = _only_error(shop, 'mutation M { productSet(input: {titel: "x"}) { userErrors { code } } }')
    assert on_input["message"] == "InputObject 'ProductSetInput' doesn't accept argument 'titel'"
    assert on_input["path"] == ["mutation M", "productSet", "input", "titel"]
    assert on_input["extensions"]["typeName"] == "InputObject"


def test_invalid_literals(shop: Shop) -> None:
    null_id = _only_error(shop, "mutation M { productDelete(input: {id: null}) { deletedProductId } }")
    assert null_id["message"] == "Argument 'id' on InputObject 'ProductDeleteInput' has an invalid value (null). Expected type 'ID!'."
    assert null_id["extensions"] == {"code": "argumentLiteralsIncompatible", "typeName": "InputObject", "argumentName": "id"}
    wrong = _only_error(shop, 'query Q { products(first: "ten") { nodes { id } } }')
    assert wrong["message"] == "Argument 'first' on Field 'products' has an invalid value (\"ten\"). Expected type 'Int'."


def test_selections(shop: Shop) -> None:
    missing = _only_error(shop, 'query Q { product(id: "gid://shopify/Product/1") }')
    assert missing["message"] == (
        "Field must have selections (field 'product' returns Product but has no selections. "
        "Did you mean 'product { ... }'?)"
    )
    assert missing["extensions"] == {"code": "selectionMismatch", "nodeName": "field 'product'", "typeName": "Product"}


def test_variables_declared_and_used(shop: Shop) -> None:
    unused = _only_error(shop, "query Q($after: String) { products(first: 1) { nodes { id } } }")
    assert unused["message"] == "Variable $after is declared by Q but not used"
    assert unused["path"] == ["query Q"] and unused["extensions"] == {"code": "variableNotUsed", "variableName": "after"}
    mismatch = _only_error(shop, "query Q($id: ID) { product(id: $id) { id } }", {"id": "gid://shopify/Product/1"})
    assert mismatch["message"] == "Nullability mismatch on variable $id and argument id (ID / ID!)"
    assert mismatch["extensions"]["code"] == "variableMismatch"


def test_missing_non_null_variable_is_invalid_variable(shop: Shop) -> None:
    status, body = shop.post("mutation S($input: ProductSetInput!) {\n productSet(input: $input) { userErrors { code } } }")
    assert status == 200 and set(body) == {"errors"}
    assert body["errors"] == [{
        "message": "Variable $input of type ProductSetInput! was provided invalid value",
        "locations": [{"line": 1, "column": 12}],
        "extensions": {"code": "INVALID_VARIABLE", "value": None,
                       "problems": [{"path": [], "explanation": "Expected value to not be null"}]},
    }]  # fmt: skip


def test_invalid_variable_names_every_problem(shop: Shop) -> None:
    value = {"status": "ENABLED", "variants": [{"price": "1.00"}]}
    status, body = shop.post("mutation S($input: ProductSetInput!) { productSet(input: $input) { userErrors { code } } }",
                             {"input": value})  # fmt: skip
    assert status == 200 and set(body) == {"errors"}
    (error,) = body["errors"]
    assert error["message"] == (
        "Variable $input of type ProductSetInput! was provided invalid value for "
        'status (Expected "ENABLED" to be one of: ACTIVE, ARCHIVED, DRAFT, UNLISTED), '
        "variants.0.optionValues (Expected value to not be null)"
    )
    assert error["extensions"] == {
        "code": "INVALID_VARIABLE",
        "value": value,
        "problems": [
            {"path": ["status"], "explanation": 'Expected "ENABLED" to be one of: ACTIVE, ARCHIVED, DRAFT, UNLISTED'},
            {"path": ["variants", 0, "optionValues"], "explanation": "Expected value to not be null"},
        ],
    }


def test_unknown_field_in_a_variable(shop: Shop) -> None:
    status, body = shop.post("mutation S($input: ProductSetInput!) { productSet(input: $input) { userErrors { code } } }",
                             {"input": {"title": "x", "productPublications": []}})  # fmt: skip
    assert body["errors"][0]["extensions"]["problems"] == [
        {"path": ["productPublications"], "explanation": "Field is not defined on ProductSetInput"}
    ]


def test_parse_error(shop: Shop) -> None:
    error = _only_error(shop, "query Q {\n  products(first: 1) {\n    ")
    assert error == {
        "message": "syntax error, unexpected end of file at [3, 5]",
        "locations": [{"line": 3, "column": 5}],
        "extensions": {"code": "PARSE_ERROR"},
    }

