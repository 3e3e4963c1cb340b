"""Shopify sandbox reads with Shopify's connection arguments: first/after, last/before, reverse,
sortKey, onlyPublished's default, taxonomy filters."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop, tee

PRODUCTS = """query P($first: Int, $last: Int, $after: String, $before: String, $reverse: Boolean,
  $sortKey: ProductSortKeys, $query: String) {
  products(first: $first, last: $last, after: $after, before: $before, reverse: $reverse, sortKey: $sortKey,
    query: $query) {
    nodes { title } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "unit-shop", {"access_token": TOKEN})
    return Shop(sandbox_server)


def _titles(shop: Shop, **variables: Any) -> tuple[list[str], dict[str, Any]]:
    status, body = shop.post(PRODUCTS, variables)
    assert status == 200 and "errors" not in body, body
    page = body["data"]["products"]
    return [n["title"] for n in page["nodes"]], page["pageInfo"]


def _three(shop: Shop) -> None:
    for title, handle in (("Cap", "b-cap"), ("Apron", "c-apron"), ("Boot", "a-boot")):
        created = shop.product_set(tee(title=title, handle=handle, variants=None, productOptions=None))
        assert created["data"]["productSet"]["userErrors"] == []


def test_products_page_forward_backward_and_reversed(shop: Shop) -> None:
    _three(shop)
    assert _titles(shop, first=10)[0] == ["Cap", "Apron", "Boot"]  # sortKey ID by default
    first_two, info = _titles(shop, first=2)
    assert first_two == ["Cap", "Apron"] and info["hasNextPage"] and not info["hasPreviousPage"]
    rest, info = _titles(shop, first=2, after=info["endCursor"])
    assert rest == ["Boot"] and not info["hasNextPage"] and info["hasPreviousPage"]
    last_two, info = _titles(shop, last=2)
    assert last_two == ["Apron", "Boot"] and info["hasPreviousPage"]
    before, _ = _titles(shop, last=2, before=info["startCursor"])
    assert before == ["Cap"]
    assert _titles(shop, first=10, reverse=True)[0] == ["Boot", "Apron", "Cap"]


def test_products_sort_keys(shop: Shop) -> None:
    _three(shop)
    assert _titles(shop, first=10, sortKey="TITLE")[0] == ["Apron", "Boot", "Cap"]
    assert _titles(shop, first=10, sortKey="TITLE", reverse=True)[0] == ["Cap", "Boot", "Apron"]


def test_products_relevance_ranks_by_the_search_text_and_is_id_order_without_it(shop: Shop) -> None:
    for title, handle in (("Wool Socks Cap", "w1"), ("Cap", "w2"), ("Capri Cap", "w3"), ("Cap Wool", "w4")):
        created = shop.product_set(tee(title=title, handle=handle, variants=None, productOptions=None))
        assert created["data"]["productSet"]["userErrors"] == []
    ranked, _ = _titles(shop, first=10, sortKey="RELEVANCE", query="cap")
    assert ranked == ["Cap", "Capri Cap", "Cap Wool", "Wool Socks Cap"]
    assert _titles(shop, first=10, sortKey="ID", query="cap")[0] == ["Wool Socks Cap", "Cap", "Capri Cap", "Cap Wool"]
    assert _titles(shop, first=10, sortKey="RELEVANCE")[0] == ["Wool Socks Cap", "Cap", "Capri Cap", "Cap Wool"]
    assert _titles(shop, first=10, sortKey="RELEVANCE", query="handle:w3")[0] == ["Capri Cap"]


def test_a_cursor_is_only_valid_for_its_own_sort(shop: Shop) -> None:
    _three(shop)
    _, info = _titles(shop, first=1, sortKey="TITLE")
    status, body = shop.post(PRODUCTS, {"first": 1, "after": info["endCursor"], "sortKey": "ID"})
    assert status == 200 and body["errors"][0]["message"] == "Invalid cursor for current pagination sort."


def test_a_connection_without_first_or_last_is_an_error(shop: Shop) -> None:
    status, body = shop.post(PRODUCTS, {})
    assert status == 200 and body["errors"][0]["message"] == "you must provide one of first or last"


def test_variants_sort_and_reverse_inside_a_product(shop: Shop) -> None:
    product = shop.product_set(tee())["data"]["productSet"]["product"]
    status, body = shop.post(
        """query V($id: ID!) { product(id: $id) {
             bySku: variants(first: 5, sortKey: SKU, reverse: true) { nodes { sku } }
             byPosition: variants(last: 1) { nodes { sku } } } }""",
        {"id": product["id"]},
    )
    assert status == 200, body
    assert [n["sku"] for n in body["data"]["product"]["bySku"]["nodes"]] == ["T-S", "T-M"]
    assert [n["sku"] for n in body["data"]["product"]["byPosition"]["nodes"]] == ["T-M"]


def test_resource_publications_lists_only_published_channels_unless_asked(shop: Shop) -> None:
    product = shop.product_set(tee())["data"]["productSet"]["product"]
    _, pubs = shop.post("{ publications(first: 10) { nodes { id name } } }")
    online = next(p["id"] for p in pubs["data"]["publications"]["nodes"] if p["name"] == "Online Store")
    _, published = shop.post(
        "mutation P($id: ID!, $p: ID!) { publishablePublish(id: $id, input: [{publicationId: $p}]) { userErrors { message } } }",
        {"id": product["id"], "p": online},
    )
    assert published["data"]["publishablePublish"]["userErrors"] == []
    status, body = shop.post(
        """query R($id: ID!) { product(id: $id) {
             published: resourcePublicationsV2(first: 10) { nodes { isPublished publication { id } } }
             every: resourcePublicationsV2(first: 10, onlyPublished: false) { nodes { isPublished } } } }""",
        {"id": product["id"]},
    )
    assert status == 200, body
    assert body["data"]["product"]["published"]["nodes"] == [{"isPublished": True, "publication": {"id": online}}]
    every = body["data"]["product"]["every"]["nodes"]
    assert len(every) == len(pubs["data"]["publications"]["nodes"]) and sum(n["isPublished"] for n in every) == 1


def test_taxonomy_children_of_a_category(shop: Shop) -> None:
    status, body = shop.post(
        """{ taxonomy { categories(first: 50, childrenOf: "gid://shopify/TaxonomyCategory/aa-1") {
             nodes { id parentId } } } }"""
    )
    assert status == 200, body
    nodes = body["data"]["taxonomy"]["categories"]["nodes"]
    assert nodes and {n["parentId"] for n in nodes} == {"gid://shopify/TaxonomyCategory/aa-1"}


def test_product_update_media_appends_after_the_products_media(shop: Shop) -> None:
    product = shop.product_set(tee())["data"]["productSet"]["product"]
    status, body = shop.post(
        """mutation U($p: ProductUpdateInput!, $m: [CreateMediaInput!]) { productUpdate(product: $p, media: $m) {
             product { mediaCount { count } media(first: 5, sortKey: ID, reverse: true) { nodes { alt status } } }
             userErrors { field message } } }""",
        {"p": {"id": product["id"]}, "m": [{"originalSource": "https://img.example/3.jpg", "alt": "third",
                                              "mediaContentType": "IMAGE"}]},
    )
    assert status == 200, body
    updated = body["data"]["productUpdate"]["product"]
    # the answer that sends a medium shows it UPLOADED, as Shopify's does
    assert updated["mediaCount"]["count"] == 3 and updated["media"]["nodes"][0] == {"alt": "third", "status": "UPLOADED"}
