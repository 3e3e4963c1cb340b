"""The Shopify sandbox over HTTP: Shopify's rules, limits, error shapes and cost accounting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from sync_pipeline.sandbox.app import provision_from_stores_file
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

TOKEN = "shpat_sandbox_test_token"
LOCATION = "gid://shopify/Location/1"
SET = """mutation S($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier) {
    product { id handle title descriptionHtml status variants(first: 10) { nodes { id sku price inventoryQuantity inventoryItem { id } } } mediaCount { count } }
    userErrors { field message code } } }"""


class Shop:
    def __init__(self, sandbox: RunningSandbox, name: str = "unit-shop") -> None:
        self.url = f"{sandbox.endpoint('shopify', name)}/admin/api/2026-07/graphql.json"

    def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str = TOKEN
    ) -> tuple[int, dict[str, Any]]:
        response = requests.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
            timeout=CALL_BOUND_S,
        )
        return response.status_code, response.json()

    def product_set(
        self, product: dict[str, Any], identifier: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        status, body = self.post(SET, {"input": product, "identifier": identifier})
        assert status == 200, body
        return body


def tee(**changes: Any) -> dict[str, Any]:
    product = {
        "title": "Tee",
        "descriptionHtml": "<p>soft</p>",
        "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Size", "name": "S"}],
                "sku": "T-S",
                "price": "10.00",
                "inventoryQuantities": [{"locationId": LOCATION, "name": "available", "quantity": 4}],
            },
            {"optionValues": [{"optionName": "Size", "name": "M"}], "sku": "T-M", "price": "11.00"},
        ],
        "files": [
            {"originalSource": "https://img.example/1.jpg"},
            {"originalSource": "https://img.example/2.jpg"},
        ],
    }
    product.update(changes)
    return product


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "unit-shop", {"access_token": TOKEN})
    return Shop(sandbox_server)


def test_identifier_handle_is_an_upsert(shop: Shop, sandbox_server: RunningSandbox) -> None:
    first = shop.product_set(tee(), {"handle": "tee"})["data"]["productSet"]["product"]
    second = shop.product_set(tee(title="Tee 2"), {"handle": "tee"})["data"]["productSet"]["product"]
    assert first["id"] == second["id"] and second["title"] == "Tee 2" and second["handle"] == "tee"
    assert len(sandbox_server.docs("shopify", "unit-shop", "product")) == 1


def test_without_identifier_every_call_creates_and_the_handle_is_bumped(
    shop: Shop, sandbox_server: RunningSandbox
) -> None:
    one = shop.product_set(tee(handle="tee"))["data"]["productSet"]["product"]
    two = shop.product_set(tee(handle="tee"))["data"]["productSet"]["product"]
    assert one["id"] != two["id"] and one["handle"] == "tee"
    assert two["handle"].startswith("tee-") and two["handle"][4:].isdigit()
    assert len(sandbox_server.docs("shopify", "unit-shop", "product")) == 2


def test_id_with_identifier_is_not_allowed(shop: Shop) -> None:
    payload = shop.product_set(tee(id="gid://shopify/Product/1"), {"handle": "tee"})["data"]["productSet"]
    assert payload["product"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input"],
            "message": "The id field is not allowed if identifier is provided.",
            "code": "ID_NOT_ALLOWED",
        }
    ]


def test_list_fields_are_replaced_and_omitted_scalars_kept(shop: Shop) -> None:
    shop.product_set(tee(), {"handle": "tee"})
    smaller = {
        "productOptions": [{"name": "Size", "values": [{"name": "M"}]}],
        "variants": [{"optionValues": [{"optionName": "Size", "name": "M"}], "sku": "T-M", "price": "12.00"}],
        "files": [{"originalSource": "https://img.example/3.jpg"}],
    }
    product = shop.product_set(smaller, {"handle": "tee"})["data"]["productSet"]["product"]
    assert [v["sku"] for v in product["variants"]["nodes"]] == ["T-M"]
    assert product["mediaCount"]["count"] == 1
    assert product["title"] == "Tee" and product["descriptionHtml"] == "<p>soft</p>"


def test_a_file_given_by_id_keeps_its_media_and_an_unknown_id_is_rejected(
    shop: Shop, sandbox_server: RunningSandbox
) -> None:
    shop.product_set(tee(), {"handle": "tee"})
    (before,) = sandbox_server.docs("shopify", "unit-shop", "product")
    kept, dropped = (m["id"] for m in before["media"])
    files = [{"id": kept, "alt": "kept"}, {"originalSource": "https://img.example/3.jpg"}]
    product = shop.product_set(tee(files=files), {"handle": "tee"})["data"]["productSet"]["product"]
    assert product["mediaCount"]["count"] == 2
    (after,) = sandbox_server.docs("shopify", "unit-shop", "product")
    assert after["media"][0]["id"] == kept and after["media"][0]["alt"] == "kept"
    assert after["media"][1]["id"] not in (kept, dropped)

    unknown = shop.product_set(tee(files=[{"id": dropped}]), {"handle": "tee"})["data"]["productSet"]
    assert unknown["product"] is None
    assert unknown["userErrors"][0]["field"] == ["input", "files", "0", "id"]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"title": "x" * 256}, ["input", "title"], "INVALID_PRODUCT"),
        (
            {"productOptions": [{"name": f"O{i}", "values": [{"name": "a"}]} for i in range(4)]},
            ["input", "productOptions"],
            "OPTIONS_OVER_LIMIT",
        ),
        (
            {"variants": [{"optionValues": [{"optionName": "Size", "name": "S"}]}] * 2},
            ["input", "variants", "1"],
            "INVALID_VARIANT",
        ),
        (
            {"variants": [{"optionValues": [{"optionName": "Size", "name": "XL"}]}]},
            ["input", "variants", "0", "optionValues", "0"],
            "OPTION_VALUE_DOES_NOT_EXIST",
        ),
        ({"variants": None}, ["input", "variants"], "VARIANTS_INPUT_MISSING"),
    ],
)
def test_invalid_input_gets_user_errors_and_writes_nothing(
    shop: Shop, sandbox_server: RunningSandbox, changes: dict[str, Any], field: list[str], code: str
) -> None:
    payload = shop.product_set(tee(**changes), {"handle": "bad"})["data"]["productSet"]
    assert payload["product"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in payload["userErrors"]
    ]
    assert sandbox_server.docs("shopify", "unit-shop", "product") == []


def test_duplicate_variant_message_names_the_option_tuple(shop: Shop) -> None:
    variants = [{"optionValues": [{"optionName": "Size", "name": "S"}]}] * 2
    errors = shop.product_set(tee(variants=variants))["data"]["productSet"]["userErrors"]
    assert errors[0]["message"] == "The variant 'S' already exists. Please change at least one option value."


def test_more_than_2048_variants_is_a_top_level_error_without_data(shop: Shop) -> None:
    values = [{"name": str(i)} for i in range(100)]
    variants = [
        {
            "optionValues": [
                {"optionName": "A", "name": str(i % 100)},
                {"optionName": "B", "name": str(i // 100)},
            ]
        }
        for i in range(2049)
    ]
    body = shop.product_set(
        tee(
            productOptions=[{"name": "A", "values": values}, {"name": "B", "values": values[:21]}],
            variants=variants,
        )
    )
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "2049" in body["errors"][0]["message"]


def test_lookups_by_identifier_and_sku(shop: Shop) -> None:
    created = shop.product_set(tee(), {"handle": "tee"})["data"]["productSet"]["product"]
    _, by_handle = shop.post('{ productByIdentifier(identifier: {handle: "tee"}) { id } }')
    assert by_handle["data"]["productByIdentifier"]["id"] == created["id"]
    _, by_sku = shop.post(
        '{ products(first: 5, query: "sku:T-M") { nodes { id } } productVariants(first: 5, query: "sku:T-M") { nodes { sku product { id } } } }'
    )
    assert by_sku["data"]["products"]["nodes"] == [{"id": created["id"]}]
    assert by_sku["data"]["productVariants"]["nodes"] == [{"sku": "T-M", "product": {"id": created["id"]}}]
    _, none = shop.post('{ products(first: 5, query: "sku:NOPE") { nodes { id } } }')
    assert none["data"]["products"]["nodes"] == []


INVENTORY = """mutation I($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") { inventoryAdjustmentGroup { changes { delta quantityAfterChange } } userErrors { field message code } } }"""


def _inventory_input(item: str, quantity: int, change_from: int | None = None) -> dict[str, Any]:
    return {
        "name": "available",
        "reason": "correction",
        "quantities": [
            {
                "inventoryItemId": item,
                "locationId": LOCATION,
                "quantity": quantity,
                "changeFromQuantity": change_from,
            }
        ],
    }


def test_inventory_set_needs_the_idempotent_directive(shop: Shop) -> None:
    item = shop.product_set(tee())["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"][
        "id"
    ]
    without = INVENTORY.replace(' @idempotent(key: "%s")', "")
    _, body = shop.post(without, {"input": _inventory_input(item, 9)})
    assert "data" not in body and "@idempotent" in body["errors"][0]["message"]


def test_inventory_set_replays_by_key_and_checks_change_from(shop: Shop) -> None:
    item = shop.product_set(tee())["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"][
        "id"
    ]
    _, first = shop.post(INVENTORY % "k-1", {"input": _inventory_input(item, 9)})
    assert first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"] == [
        {"delta": 5, "quantityAfterChange": 9}
    ]
    _, replay = shop.post(INVENTORY % "k-1", {"input": _inventory_input(item, 9)})
    assert replay["data"] == first["data"]
    _, mismatch = shop.post(INVENTORY % "k-1", {"input": _inventory_input(item, 3)})
    assert (
        mismatch["data"]["inventorySetQuantities"]["userErrors"][0]["code"]
        == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    )
    _, stale = shop.post(INVENTORY % "k-2", {"input": _inventory_input(item, 3, change_from=4)})
    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    missing = _inventory_input(item, 3)
    del missing["quantities"][0]["changeFromQuantity"]
    _, absent = shop.post(INVENTORY % "k-3", {"input": missing})
    assert absent["data"]["inventorySetQuantities"]["userErrors"][0]["field"][-1] == "changeFromQuantity"


def test_cost_is_reported_and_an_empty_bucket_throttles(sandbox_server: RunningSandbox) -> None:
    sandbox_server.provision(
        # A point restored every 1000 s: the figures below cannot drift, however slow the calls.
        "shopify", "unit-shop", {"access_token": TOKEN, "bucket_size": 40, "restore_rate": 0.001}
    )
    shop = Shop(sandbox_server)
    _, body = shop.post(SET, {"input": tee(), "identifier": {"handle": "tee"}})
    cost = body["extensions"]["cost"]
    # mutation 10 + product 1 + variants 2 + 10 x (variant 1 + inventoryItem 1) + mediaCount 1; user errors free
    assert cost["requestedQueryCost"] == 34
    assert cost["actualQueryCost"] == 10 + 1 + 2 + 2 * 2 + 1  # two variants came back
    assert cost["throttleStatus"]["currentlyAvailable"] == 22  # 40 - 34 requested + 16 refunded
    _, small = shop.post('{ productByIdentifier(identifier: {handle: "x"}) { id } }')
    assert (
        small["extensions"]["cost"]["requestedQueryCost"],
        small["extensions"]["cost"]["actualQueryCost"],
    ) == (1, 0)
    q = "mutation D($input: ProductDeleteInput!) { productDelete(input: $input) { deletedProductId } }"
    answers = [shop.post(q, {"input": {"id": "gid://shopify/Product/1"}}) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    assert "data" in answers[1][1]
    throttled = answers[2][1]
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in throttled
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 40


def test_single_query_over_1000_points_is_refused(shop: Shop) -> None:
    _, body = shop.post("{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }")
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "exceeds the single query max cost limit (1000)" in body["errors"][0]["message"]


def test_invalid_documents_and_tokens(shop: Shop) -> None:
    status, body = shop.post('{ product(id: "1") { id secretField } }')
    assert status == 200 and body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert body["errors"][0]["locations"]
    status, body = shop.post('{ product(id: "1") { id } }', token="wrong")
    assert status == 401 and body == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_faults_answer_in_shopifys_shapes(shop: Shop, sandbox_server: RunningSandbox) -> None:
    sandbox_server.faults("shopify", "unit-shop", throttle_next=1, server_error_next=1)
    status, body = shop.post('{ product(id: "1") { id } }')
    assert status == 200 and body["errors"][0]["extensions"]["code"] == "THROTTLED"
    status, body = shop.post('{ product(id: "1") { id } }')
    assert status == 503


def test_stores_file_provisioning(
    sandbox_server: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIT_SHOP_TOKEN", TOKEN)
    stores = tmp_path / "stores.yaml"
    stores.write_text(
        "stores:\n"
        f"  - {{key: s1, platform: shopify, name: S1, endpoint: '{sandbox_server.endpoint('shopify', 'unit-shop')}',"
        " credentials: {access_token: UNIT_SHOP_TOKEN}, settings: {location_id: 'gid://shopify/Location/7'}}\n"
        "  - {key: s2, platform: shopify, name: S2, endpoint: 'https://real.myshopify.com', credentials: {access_token: UNIT_SHOP_TOKEN}}\n"
        "  - {key: s3, platform: shopify, name: S3, endpoint: 'http://127.0.0.1:1/shopify/other', credentials: {access_token: UNSET_TOKEN_VAR}}\n"
    )
    outcomes = provision_from_stores_file(sandbox_server.sandbox, stores)
    assert [(o.store_key, o.sandbox_store) for o in outcomes] == [("s1", "unit-shop"), ("s3", None)]
    assert "UNSET_TOKEN_VAR" in (outcomes[1].skipped_because or "")
    assert sandbox_server.sandbox.state.get_store("shopify", "unit-shop")["locations"] == [
        "gid://shopify/Location/7"
    ]  # type: ignore[index]
    status, _ = Shop(sandbox_server).post('{ productByIdentifier(identifier: {handle: "x"}) { id } }')
    assert status == 200


def test_the_sandbox_clock_expires_a_token_without_sleeping(sandbox_server: RunningSandbox) -> None:
    # The admin route moves the same clock the token lifetimes read: a test in another process can
    # pass a deadline with it, and a reset brings the real time back.
    sandbox_server.provision("shopify", "unit-shop", {"access_token": TOKEN, "token_lifetime": 3600})
    shop = Shop(sandbox_server)
    query = '{ product(id: "gid://shopify/Product/1") { id } }'
    assert shop.post(query)[0] == 200
    before = sandbox_server.now()
    advanced = requests.post(f"{sandbox_server.url}/_sandbox/clock/advance", json={"seconds": 3601}, timeout=CALL_BOUND_S)
    assert advanced.status_code == 200 and advanced.json()["now"] >= before + 3601
    assert shop.post(query)[0] == 401
    backwards = requests.post(f"{sandbox_server.url}/_sandbox/clock/advance", json={"seconds": -1}, timeout=CALL_BOUND_S)
    assert backwards.status_code == 400 and "only moves forward" in backwards.json()["error"]
    sandbox_server.sandbox.reset()
    assert sandbox_server.now() < before + 3601
