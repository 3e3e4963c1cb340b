from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sync_pipeline.catalog.product import product_from_rows
from sync_pipeline.listings.shapes import (
    BAD_CATALOG_ROW,
    DUPLICATE_VARIANT_OPTIONS,
    NO_CATEGORY,
    NO_IMAGE,
    NO_WEIGHT,
    PRICE_MISSING,
    PRICE_NOT_POSITIVE,
    SELLER_SKU_INVALID,
    TOO_MANY_OPTIONS,
    TOO_MANY_VARIANTS,
    VARIANT_MISSING_OPTION,
    build_listing,
    handle_for,
    map_category,
    reason_code,
    sold_out_skus,
    without_sold_out_variants,
)
from sync_pipeline.listings.store import listing_or_reason
from sync_pipeline.listings.titles import TITLE_EMPTY
from sync_pipeline.stores import StoreConfig, load_stores
from sync_pipeline_tests.listings.catalog_rows import configurable, product_row, typed, variant_row

D = Decimal
STORES = {s.key: s for s in load_stores().stores}  # the demo file: no credential is read to build listings
SHOPIFY, SHOPIFY_EU, SHOPEE, TIKTOK = STORES["shopify-us"], STORES["shopify-eu"], STORES["shopee-sg"], STORES["tiktok-us"]


def store_with(store: StoreConfig, **changes: Any) -> StoreConfig:
    return store.model_copy(update=changes)


def codes(listing: Any) -> set[str]:
    return {reason_code(r) for r in listing.reasons}


def test_shopify_listing_keeps_html_all_images_and_compare_at_price() -> None:
    product, variants = configurable("MJ01", 1, price=D("50"), special_price=D("40"),
                                     images=[f"https://i/{n}.jpg" for n in range(12)])
    listing = build_listing(typed(product, variants), SHOPIFY)
    assert listing.valid and listing.action == "list"
    assert listing.description.startswith("<p>Light <strong>wind</strong>")
    assert len(listing.images) == 12
    assert listing.options == ("Color", "Size")
    assert {v.options["Color"] for v in listing.variants} == {"Blue", "Black"}
    assert (listing.price, listing.compare_at_price) == (D("40.00"), D("50.00"))
    assert listing.category_id == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert listing.handle == "mj01-jacket"
    assert listing.stock_qty == 4 * 3


def test_shopee_listing_is_plain_text_nine_images_in_order_and_no_compare_at() -> None:
    images = [f"https://i/{n}.jpg" for n in range(12)]
    product, variants = configurable("MJ02", 2, price=D("50"), special_price=D("40"), images=images)
    listing = build_listing(typed(product, variants), SHOPEE)
    assert "<" not in listing.description and "- Hood" in listing.description
    assert listing.images == tuple(images[:9])
    # 40 x 1.35 fx x 1.15 = 62.10 -> .95 ending
    assert (listing.price, listing.compare_at_price, listing.currency) == (D("62.95"), None, "SGD")
    assert listing.category_id == "100017"


def test_tiktok_listing_reduces_html_and_caps_images() -> None:
    product = product_row("MJ03", 3, description='<div><h1>Big</h1><p class="a">Text</p><img src="x"></div>',
                          images=[f"https://i/{n}.jpg" for n in range(10)])
    listing = build_listing(typed(product, []), TIKTOK)
    assert listing.description == "<p>Big</p><p>Text</p>"
    assert len(listing.images) == 9
    assert listing.price == D("48.99")  # 40 x 1.20 = 48.00 -> .99 ending


def test_simple_product_has_one_variant_with_the_parent_sku() -> None:
    listing = build_listing(typed(product_row("S1", 1, weight=D("1.5")), []), SHOPIFY)
    assert [(v.sku, v.options, v.stock_qty, v.weight_kg) for v in listing.variants] == [("S1", {}, 7, D("1.5"))]


def test_variant_price_falls_back_to_the_parent() -> None:
    product, variants = configurable("MJ04", 4, price=D("30"))
    variants[0]["price"] = D("35")
    listing = build_listing(typed(product, variants), SHOPIFY)
    assert sorted(v.price for v in listing.variants) == [D("30.00")] * 3 + [D("35.00")]
    assert listing.price == D("30.00")


@pytest.mark.parametrize(
    ("store", "options", "variant_count", "reason"),
    [
        (SHOPIFY, ["a", "b", "c", "d"], 2, TOO_MANY_OPTIONS),
        (SHOPEE, ["a", "b", "c"], 2, TOO_MANY_OPTIONS),
        (TIKTOK, ["a", "b", "c", "d"], 2, TOO_MANY_OPTIONS),
        (TIKTOK, ["size"], 301, TOO_MANY_VARIANTS),
        (SHOPIFY, ["size"], 2049, TOO_MANY_VARIANTS),
    ],
)
def test_variant_limits_per_platform(store: StoreConfig, options: list[str], variant_count: int, reason: str) -> None:
    product = product_row("P", 1, type_id="configurable")
    variants = [variant_row(f"P-{i}", "P", i, options={o: f"{o}{i}" for o in options}) for i in range(variant_count)]
    listing = build_listing(typed(product, variants), store)
    assert not listing.valid and reason in codes(listing)


def test_within_limits_is_valid_and_store_limits_override_the_platform() -> None:
    product = product_row("P", 1, type_id="configurable")
    variants = [variant_row(f"P-{i}", "P", i, options={"size": str(i)}) for i in range(300)]
    assert build_listing(typed(product, variants), TIKTOK).valid
    narrow = store_with(TIKTOK, limits={"variants": 100, "title_min_length": 1})
    assert TOO_MANY_VARIANTS in codes(build_listing(typed(product, variants), narrow))


def test_option_names_are_title_cased() -> None:
    product = product_row("P", 1, type_id="configurable")
    variants = [variant_row("P-1", "P", 0, options={"shoe_size": "42", "color": "Red"}),
                variant_row("P-2", "P", 1, options={"shoe_size": "43", "color": "Red"})]
    listing = build_listing(typed(product, variants), SHOPIFY)
    assert listing.options == ("Shoe Size", "Color")
    assert listing.variants[0].options == {"Shoe Size": "42", "Color": "Red"}


def test_duplicate_and_incomplete_variant_options_are_invalid() -> None:
    product = product_row("P", 1, type_id="configurable")
    dupes = [variant_row("P-1", "P", 0, options={"size": "M"}), variant_row("P-2", "P", 1, options={"size": "m"})]
    assert DUPLICATE_VARIANT_OPTIONS in codes(build_listing(typed(product, dupes), SHOPIFY))
    partial = [variant_row("P-1", "P", 0, options={"size": "M", "color": "Red"}), variant_row("P-2", "P", 1, options={"size": "L"})]
    assert VARIANT_MISSING_OPTION in codes(build_listing(typed(product, partial), SHOPIFY))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"categories": ["Kitchen/Pans"]}, NO_CATEGORY),
        ({"images": []}, NO_IMAGE),
        ({"price": D("0")}, PRICE_NOT_POSITIVE),
        ({"price": None}, PRICE_MISSING),
        ({"title": "   "}, TITLE_EMPTY),
        ({"images": "not json"}, BAD_CATALOG_ROW),
        ({"categories": {"a": 1}}, BAD_CATALOG_ROW),
        ({"price": "abc"}, BAD_CATALOG_ROW),
    ],
)
def test_invalid_listings_keep_their_reason(overrides: dict[str, Any], reason: str) -> None:
    # A row the catalog cannot read becomes an invalid listing where the listings read it (listing_or_reason).
    listing = listing_or_reason(product_from_rows(product_row("BAD", 9, **overrides), []), SHOPIFY)
    assert not listing.valid
    assert reason in codes(listing)


def test_tiktok_needs_weight_and_clean_seller_skus() -> None:
    assert NO_WEIGHT in codes(build_listing(typed(product_row("W", 1, weight=None), []), TIKTOK))
    assert build_listing(typed(product_row("W", 1, weight=None), []), SHOPIFY).valid
    assert SELLER_SKU_INVALID in codes(build_listing(typed(product_row("HAS SPACE", 1), []), TIKTOK))
    assert SELLER_SKU_INVALID in codes(build_listing(typed(product_row("X" * 51, 1), []), TIKTOK))


def test_a_configurable_without_its_own_weight_ships_at_its_heaviest_childs() -> None:
    # Magento keeps a configurable's weight on its children; TikTok and Shopee want one per product.
    product, variants = configurable("MW1", 7, weight=None)
    variants = [{**v, "weight": D("0.4") if n % 2 else D("0.9")} for n, v in enumerate(variants)]
    listing = build_listing(typed(product, variants), TIKTOK)
    assert NO_WEIGHT not in codes(listing)
    assert listing.weight_kg == D("0.9")
    assert {v.weight_kg for v in listing.variants} == {D("0.4"), D("0.9")}  # each variant keeps its own
    weightless = [{**v, "weight": None} for v in variants]
    assert NO_WEIGHT in codes(build_listing(typed(product, weightless), TIKTOK))


def test_inactive_product_is_a_valid_delist_with_zero_stock_everywhere() -> None:
    product, variants = configurable("OLD", 5, is_active=False, images=[], categories=[])
    listing = build_listing(typed(product, variants), SHOPEE)
    assert listing.action == "delist" and listing.valid
    assert listing.stock_qty == 0 and all(v.stock_qty == 0 for v in listing.variants)


def test_inactive_variant_sells_nothing() -> None:
    product, variants = configurable("MJ05", 5)
    variants[0]["is_active"] = False
    listing = build_listing(typed(product, variants), SHOPIFY)
    assert [v.stock_qty for v in listing.variants] == [0, 3, 3, 3]


def test_category_is_the_longest_matching_path_prefix_else_default() -> None:
    store = store_with(SHOPIFY, category_map={"Men": "M", "Men/Tops": "MT", "Men/To": "WRONG"}, default_category="D")
    assert map_category(["Men/Tops/Jackets"], store) == "MT"
    assert map_category(["Men/Bottoms"], store) == "M"
    assert map_category(["Sale", "Men/Tops"], store) == "MT"
    assert map_category(["Kitchen"], store) == "D"
    assert map_category(["Men/Tops/Jackets"], store_with(SHOPIFY, category_map={})) is None


def test_handle_is_a_stable_slug_of_url_key_or_sku() -> None:
    assert handle_for("Crème Brûlée Mug!", "SKU-1", 1) == "creme-brulee-mug"
    assert handle_for(None, "MH01 XS/Black", 1) == "mh01-xs-black"
    assert handle_for("", "", 42) == "product-42"


def test_two_shopify_stores_share_a_title_and_platforms_do_not() -> None:
    product, variants = configurable("MJ06", 6)
    titles = {key: build_listing(typed(product, variants), store).title for key, store in STORES.items()}
    assert titles["shopify-us"] == titles["shopify-eu"]
    assert len({titles["shopify-us"], titles["shopee-sg"], titles["tiktok-us"]}) == 3


def test_eu_store_converts_currency_and_uses_99_endings() -> None:
    listing = build_listing(typed(product_row("EU", 1, price=D("40")), []), SHOPIFY_EU)
    assert (listing.price, listing.currency) == (D("36.99"), "EUR")  # 40 x 0.92 = 36.80 -> 36.99


def test_empty_description_falls_back_to_the_title_in_the_platform_format() -> None:
    product = product_row("E", 1, description="", title="Salt & Pepper Mill Set")
    assert build_listing(typed(product, []), TIKTOK).description.startswith("<p>Salt &amp; Pepper")
    assert build_listing(typed(product, []), SHOPEE).description.startswith("Salt & Pepper")


def _stocked(variants: list[dict[str, Any]], *quantities: int) -> list[dict[str, Any]]:
    return [dict(v, stock_qty=q) for v, q in zip(variants, quantities, strict=True)]


def test_tiktok_listing_leaves_sold_out_variants_out() -> None:
    product, variants = configurable("SO1", 1)
    variants = [dict(v, price=D(str(30 + i))) for i, v in enumerate(variants)]
    full = build_listing(typed(product, variants), TIKTOK)
    partly = build_listing(typed(product, _stocked(variants, 0, 2, 0, 4)), TIKTOK)
    assert partly.valid and partly.action == "list"
    assert [v.sku for v in partly.variants] == [full.variants[1].sku, full.variants[3].sku]
    assert partly.stock_qty == 6 and partly.price == full.variants[1].price  # the cheapest that sells
    assert sold_out_skus(typed(product, _stocked(variants, 0, 2, 0, 4)), TIKTOK) == {
        full.variants[0].sku, full.variants[2].sku
    }


def test_tiktok_listing_with_every_variant_sold_out_is_a_delist_and_lists_again_on_restock() -> None:
    product, variants = configurable("SO2", 1)
    sold_out = build_listing(typed(product, _stocked(variants, 0, 0, 0, 0)), TIKTOK)
    assert sold_out.valid and sold_out.action == "delist"
    simple = build_listing(typed(product_row("SO3", 3, stock_qty=0), []), TIKTOK)
    assert simple.valid and simple.action == "delist"
    restocked = build_listing(typed(product, variants), TIKTOK)
    assert restocked.action == "list" and [v.stock_qty for v in restocked.variants] == [3, 3, 3, 3]


@pytest.mark.parametrize("store", [SHOPIFY, SHOPEE])
def test_platforms_that_hold_a_zero_keep_sold_out_variants(store: StoreConfig) -> None:
    product, variants = configurable("SO4", 1)
    listing = build_listing(typed(product, _stocked(variants, 0, 0, 0, 0)), store)
    assert listing.action == "list" and [v.stock_qty for v in listing.variants] == [0, 0, 0, 0]
    assert sold_out_skus(typed(product, _stocked(variants, 0, 0, 0, 0)), store) == frozenset()


def test_sold_out_rule_leaves_invalid_and_delist_listings_alone() -> None:
    product, variants = configurable("SO5", 1, weight=None)  # no weight: invalid on TikTok
    invalid = build_listing(typed(product, _stocked(variants, 0, 0, 0, 0)), TIKTOK)
    assert not invalid.valid and invalid.action == "list" and len(invalid.variants) == 4
    inactive = build_listing(typed(dict(product, weight=D("1"), is_active=False), variants), TIKTOK)
    assert inactive.action == "delist" and len(inactive.variants) == 4
    assert without_sold_out_variants(inactive) is inactive
