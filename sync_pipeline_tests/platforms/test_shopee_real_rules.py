"""real-stores.md section 4, Shopee rules 1-6: for each, the payload the old client sent is refused
by the sandbox with the real code, and the fixed client passes."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import requests

from sync_pipeline.listings.mapping import apply_store_rules, catalog_details, default_weight, rule_violations
from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError
from sync_pipeline.platforms.shopee.media import image_infos
from sync_pipeline.sandbox.core import placeholder_png
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.shopee_support import (
    SHOP_ID,
    provision_shop,
    shopee_store,
    simple_listing,
    variant_listing,
)
from sync_pipeline_tests.platforms.test_shopee_client import MemoryTokens, items, make_client, ops
from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopee_emulator import Shop

INIT_TIERS = "/api/v2/product/init_tier_variation"


def _tiers_body(item_id: int, image_ids: list[str | None]) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "standardise_tier_variation": [{
            "variation_id": 0, "variation_name": "Color", "variation_group_id": 0,
            "variation_option_list": [
                {"variation_option_id": 0, "variation_option_name": name, **({"image_id": i} if i else {})}
                for name, i in zip(("Blue", "Black"), image_ids, strict=True)
            ],
        }],
        "model": [{"tier_index": [n], "original_price": 20.0, "model_sku": f"T-{n}", "seller_stock": [{"stock": 1}]}
                  for n in range(2)],
    }


# -- rule 4: standardise_tier_variation, images on every first-tier option or none ---------------------


def test_rule4_the_deprecated_tier_variation_is_refused_unless_switched_on(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("TEE")[1]["response"]["item_id"]
    old = {"item_id": item_id, "tier_variation": [{"name": "Color", "option_list": [{"option": "Blue"}]}],
           "model": [{"tier_index": [0], "original_price": 20.0, "model_sku": "T-0", "seller_stock": [{"stock": 1}]}]}
    status, refused = shop.call("POST", INIT_TIERS, old)
    assert refused["error"] == "error_param" and "standardise_tier_variation" in refused["message"]
    provision_shop(sandbox_server, accept_legacy_tier_variation=True)
    item_id = shop.add_item("TEE-2")[1]["response"]["item_id"]
    assert shop.ok("POST", INIT_TIERS, {**old, "item_id": item_id})["model"][0]["model_sku"] == "T-0"


def test_rule4_a_partial_set_of_first_tier_images_is_refused(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("TEE")[1]["response"]["item_id"]
    (image,) = shop.upload(placeholder_png("blue"))
    assert shop.call("POST", INIT_TIERS, _tiers_body(item_id, [image, None]))[1]["error"] == "error_tier_img_partial"
    answer = shop.ok("POST", INIT_TIERS, _tiers_body(item_id, [image, image]))
    assert [o["image_id"] for o in answer["standardise_tier_variation"][0]["variation_option_list"]] == [image, image]


def test_rule4_the_fixed_client_sends_standardised_tiers_and_whole_image_sets(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    listing = variant_listing(sandbox_server, colors=("Blue", "Black"), sizes=("M", "L"))
    client.upsert(listing, None)
    # One colour without an image: the old client sent a partial set; the fixed one sends none.
    whole = variant_listing(sandbox_server, "WH-PARTIAL", colors=("Blue", "Black"))
    partial = dataclasses.replace(whole, variants=(whole.variants[0], dataclasses.replace(whole.variants[1], image=None)))
    client.upsert(partial, None)
    by_sku = {i["item_sku"]: i for i in items(sandbox_server)}
    assert all("image" in o for o in by_sku["WH-HOODIE"]["tier_variation"][0]["option_list"])  # type: ignore[index]
    assert not any("image" in o for o in by_sku["WH-PARTIAL"]["tier_variation"][0]["option_list"])  # type: ignore[index]


# -- rule 5: upload_image answers both shapes -----------------------------------------------------------


def test_rule5_upload_image_answers_both_shapes_and_the_client_reads_either(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    path = "/api/v2/media_space/upload_image"
    envelope = requests.post(sandbox_server.endpoint("shopee") + path, params=shop.params(path, public=True),
                             files=[("image", ("a.png", placeholder_png("a"), "image/png"))], timeout=CALL_BOUND_S).json()
    answer = envelope["response"]
    assert answer["image_info"]["image_id"] == answer["image_info_list"][0]["image_info"]["image_id"]
    assert image_infos(answer, ["u"])[0]["image_id"] == answer["image_info"]["image_id"]
    assert image_infos({"image_info": answer["image_info"]}, ["u"])[0] == answer["image_info"]
    with pytest.raises(PlatformError) as refused:
        image_infos({"image_info_list": [{"id": 0, "error": "error_image_size", "message": "too big"}]}, ["u"])
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT and refused.value.platform_code == "error_image_size"


# -- rule 6: dead tokens in every spelling refresh; product-type error_auth does not ------------------------


@pytest.mark.parametrize("dead_token_error", ["error_auth", "invalid_acceess_token", "invalid_access_token"])
def test_rule6_every_dead_token_answer_refreshes_once(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch, dead_token_error: str
) -> None:
    provision_shop(sandbox_server, expired_token_error=dead_token_error)
    tokens = MemoryTokens()
    client = make_client(sandbox_server, monkeypatch, tokens=tokens)
    sandbox_server.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    client.upsert(simple_listing(sandbox_server), None)
    assert len(tokens.saves) == 1 and ops(sandbox_server)["auth.access_token.get"] == 1
    assert len(items(sandbox_server)) == 1


def test_rule6_a_stock_message_under_error_auth_is_a_product_error_not_a_refresh(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision_shop(sandbox_server, reserved_stock=5)
    records: list[CallRecord] = []
    tokens = MemoryTokens()
    client = make_client(sandbox_server, monkeypatch, tokens=tokens, records=records)
    with pytest.raises(PlatformError) as refused:
        client.upsert(simple_listing(sandbox_server, stock=1), None)
    assert refused.value.platform_code == "error_auth"
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "reserved stock" in refused.value.message
    assert tokens.saves == [] and "auth.access_token.get" not in ops(sandbox_server)
    client.upsert(simple_listing(sandbox_server, stock=6), None)  # enough stock: accepted
    assert len(items(sandbox_server)) == 1


# -- rules 1-3: categories, brands, attributes, channels -------------------------------------------------


def store_with(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, mapping: dict[str, Any],
               categories: dict[str, str]) -> StoreConfig:
    base = shopee_store(sandbox, monkeypatch)
    return StoreConfig.model_validate({**base.model_dump(mode="json"), "name": "Shopee Singapore",
                                       "category_map": categories, "mapping": mapping})


def test_rule1_the_look_ups_answer_the_seeded_catalog(sandbox_server: RunningSandbox,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100001", "100018", "100022", "100023"])
    assert not rules.categories["100001"].leaf and rules.categories["100018"].leaf
    material = rules.categories["100018"].attribute("Material")
    assert material is not None and material.required and material.customizable
    warranty = rules.categories["100022"].attribute("Warranty Type")
    assert warranty is not None and warranty.required and not warranty.customizable
    assert rules.categories["100023"].brand_required and not rules.categories["100023"].no_brand_allowed
    usable = {c.channel_id: c for c in rules.channels if c.usable}
    assert set(usable) == {"10001", "10004", "10005", "10006"}  # 10002 masked, 10003 disabled
    assert usable["10004"].fee_type == "SIZE_SELECTION" and usable["10004"].size_ids == ("1", "2")


def test_rule2_brand_and_mandatory_attributes(sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    assert shop.add_item("W-1", category_id=100023)[1]["error"] == "error_invalid_brand"  # mandatory brand
    assert shop.add_item("W-2", category_id=100023, brand={"brand_id": 0})[1]["error"] == "error_invalid_brand"
    refused = shop.add_item("P-1", category_id=100018)[1]  # Material is mandatory
    assert (refused["error"], refused["message"]) == ("error_invalid_attribute",
                                                      "Mandatory attribute information required")
    bad_value = [{"attribute_id": 100134, "attribute_value_list": [{"value_id": 9999}]}]
    assert shop.add_item("P-2", category_id=100018, attribute_list=bad_value)[1]["error"] == \
        "error_invalid_attribute_value"
    free_text = [{"attribute_id": 100999, "attribute_value_list": [{"value_id": 0, "original_value_name": "x"}]}]
    assert shop.add_item("F-1", category_id=100022, attribute_list=free_text)[1]["error"] == \
        "error_invalid_attribute_value"  # a drop-down takes ids only
    assert shop.add_item("N-1", category_id=100001)[1]["error"] == "error_param"  # not a leaf

    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100018", "100022", "100023"])
    store = store_with(sandbox_server, monkeypatch, {
        "attributes": {"Material": {"magento": "material", "values": {"Organic Cotton": "1001"}}},
        "brand": {"magento": "manufacturer", "default": "No Brand"},
        "categories": {"100022": {"attributes": {"Warranty Type": "No Warranty"}}},
    }, {"Men/Bottoms": "100018", "Gear/Fitness Equipment": "100022", "Gear/Watches": "100023"})
    cases = {"100018": {"material": "Organic Cotton, Hemp"}, "100022": {}, "100023": {"manufacturer": "Luma"}}
    for category, attributes in cases.items():
        listing = replace(simple_listing(sandbox_server, f"SKU-{category}"), category_id=category)
        listing = replace(listing, details=catalog_details(listing, attributes, store, rules))
        assert rule_violations(listing, rules, store.name) == []
        client.upsert(listing, None)
    by_sku = {i["item_sku"]: i for i in items(sandbox_server)}
    assert by_sku["SKU-100018"]["attribute_list"][0]["attribute_value_list"] == [  # type: ignore[index]
        {"value_id": 1001}, {"value_id": 0, "original_value_name": "Hemp"}]
    assert by_sku["SKU-100022"]["attribute_list"][0]["attribute_value_list"] == [{"value_id": 2001}]  # type: ignore[index]
    assert by_sku["SKU-100023"]["brand"] == {"brand_id": 3001, "original_brand_name": "Luma"}
    no_brand = replace(simple_listing(sandbox_server, "SKU-W"), category_id="100023")
    no_brand = replace(no_brand, details=catalog_details(no_brand, {}, store, rules))
    assert rule_violations(no_brand, rules, store.name) == [
        "brand_required: Shopee Singapore, category 100023 requires a real brand, not 'No Brand': set mapping.brand"]


@pytest.mark.parametrize(
    ("logistics", "error", "message"),
    [
        ([{"logistic_id": 10002, "enabled": True}], "error_invalid_logistic_info", "Invalid logistic info."),  # masked
        ([{"logistic_id": 10003, "enabled": True}], "error_invalid_logistic_info", "Invalid logistic info."),  # off
        ([{"logistic_id": 10004, "enabled": True}], "error_param", "Invalid logistic info, size_id"),
        ([{"logistic_id": 10005, "enabled": True}], "error_param", "Invalid logistic info, shipping_fee"),
        ([{"logistic_id": 10006, "enabled": True}], "error_param", "dimension is required"),
    ],
)
def test_rule3_channels_by_state_and_fee_type(
    sandbox_server: RunningSandbox, logistics: list[dict[str, Any]], error: str, message: str
) -> None:
    provision_shop(sandbox_server)
    refused = Shop(sandbox_server).add_item("L-1", logistic_info=logistics)[1]
    assert refused["error"] == error and refused["message"].startswith(message)


def test_rule3_the_client_sends_what_each_channel_needs(sandbox_server: RunningSandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100017"])
    mapping = {"package": {"dimensions": {"length": 30, "width": 20, "height": 5}},
               "shipping": [{"channel_id": "10001"}, {"channel_id": "10004", "size_id": "2"},
                            {"channel_id": "10005", "shipping_fee": "3.50"}, {"channel_id": "10006"}]}
    store = store_with(sandbox_server, monkeypatch, mapping, {"Men/Tops": "100017"})
    listing = simple_listing(sandbox_server)
    listing = replace(listing, details=catalog_details(listing, {}, store, rules))
    assert rule_violations(listing, rules, store.name) == []
    client.upsert(listing, None)
    (item,) = items(sandbox_server)
    assert item["logistic_info"] == [
        {"logistic_id": 10001, "enabled": True}, {"logistic_id": 10004, "enabled": True, "size_id": "2"},
        {"logistic_id": 10005, "enabled": True, "shipping_fee": 3.5}, {"logistic_id": 10006, "enabled": True}]
    assert item["dimension"] == {"package_length": 30, "package_width": 20, "package_height": 5}
    masked = store_with(sandbox_server, monkeypatch, {"shipping": [{"channel_id": "10002"}]}, {"Men/Tops": "100017"})
    bad = replace(listing, details=catalog_details(listing, {}, masked, rules))
    assert rule_violations(bad, rules, store.name)[0].startswith(
        "shipping_channel_unusable: Shopee Singapore, logistics channel 10002 is disabled or masked")


def test_item_limits_weight_mandatory_and_size_chart_mandatory_reach_the_check(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_item_limit per category (real-stores 2.3): weight_limit.weight_mandatory and
    size_chart_limit.size_chart_mandatory become the category's rules; a listing lacking either is
    held back with what to set."""
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100017", "100021", "100024"])
    assert rules.categories["100017"].weight_required and not rules.categories["100017"].size_chart_required
    assert not rules.categories["100021"].weight_required
    assert rules.categories["100024"].size_chart_required
    store = store_with(sandbox_server, monkeypatch, {"brand": {"default": "No Brand"}},
                       {"Men/Tops": "100017", "Gear/Bags": "100021", "Women/Dresses": "100024"})

    def judged(category: str, **changes: Any) -> list[str]:
        listing = replace(simple_listing(sandbox_server, f"L-{category}"), category_id=category, **changes)
        listing = replace(listing, details=catalog_details(listing, {}, store, rules))
        return rule_violations(listing, rules, store.name)

    weightless = {"weight_kg": None, "variants": (dataclasses.replace(
        simple_listing(sandbox_server).variants[0], weight_kg=None),)}
    assert judged("100017", **weightless) == [
        "package_data_required: Shopee Singapore, category 100017 requires a package weight: set the Magento weight"
        " or settings.default_weight_kg"]
    assert judged("100021", **weightless) == []  # this category does not demand a weight
    assert judged("100024") == [
        "size_chart_required: Shopee Singapore, category 100024 requires a size chart: set mapping.categories."
        "'100024'.size_chart (template_id or image)"]
    assert judged("100017") == []


def test_the_store_default_weight_is_one_decision_for_the_check_and_the_client(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """settings.default_weight_kg: the check holds back a weightless listing only when the client would
    have no weight to send either; with the default both let it through and the item weighs the
    default in kg, whatever unit the catalog's weights are in."""
    provision_shop(sandbox_server)
    rules = make_client(sandbox_server, monkeypatch).read_catalog_rules(["100017"])
    grams = {"package": {"weight_unit": "GRAM"}}
    bare = store_with(sandbox_server, monkeypatch, grams, {"Men/Tops": "100017"})
    weightless = replace(simple_listing(sandbox_server, "NO-WEIGHT"), category_id="100017", weight_kg=None,
                         variants=(dataclasses.replace(simple_listing(sandbox_server).variants[0], weight_kg=None),))

    held = apply_store_rules(weightless, {}, bare, rules)
    assert not held.valid and held.reasons[-1] == (
        "package_data_required: Shopee Singapore, category 100017 requires a package weight: set the Magento weight"
        " or settings.default_weight_kg")
    with pytest.raises(PlatformError) as refused:  # the client agrees: nothing to send
        make_client(sandbox_server, monkeypatch).upsert(held, None)
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT and "weight" in refused.value.message

    with_default = StoreConfig.model_validate(
        {**bare.model_dump(mode="json"), "settings": {**bare.settings, "default_weight_kg": "0.4"}})
    assert default_weight(with_default) == Decimal("0.4")
    passed = apply_store_rules(weightless, {}, with_default, rules)
    assert passed.valid and rule_violations(passed, rules, with_default.name, default_weight_kg=Decimal("0.4")) == []
    make_client(sandbox_server, monkeypatch, default_weight_kg="0.4").upsert(passed, None)
    (item,) = items(sandbox_server)
    assert item["weight"] == 0.4  # kilograms, not 0.4 g

    weighed = replace(weightless, sku="WEIGHED", weight_kg=Decimal("250"))  # 250 g in a GRAM catalog
    assert apply_store_rules(weighed, {}, with_default, rules).valid
    make_client(sandbox_server, monkeypatch, default_weight_kg="0.4").upsert(
        apply_store_rules(weighed, {}, with_default, rules), None)
    assert {i["item_sku"]: i["weight"] for i in items(sandbox_server)}["WEIGHED"] == 0.25


# -- size charts where get_item_limit makes them mandatory ---------------------------------------------


def test_a_size_chart_category_refuses_items_without_one_and_the_mapping_supplies_it(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """size_chart_limit.size_chart_mandatory (100024 Dresses): the old payload (no size_chart_info) is
    refused; the check holds the listing back until the mapping names a template or an image, and the
    client then sends size_chart_info.size_chart_id or the uploaded chart's image id."""
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    refused = shop.add_item("DRESS-OLD", category_id=100024)[1]
    assert refused["error"] == "error_param" and "size chart is required" in refused["message"]
    unknown = shop.add_item("DRESS-X", category_id=100024, size_chart_info={"size_chart_id": 999})[1]
    assert unknown["error"] == "error_param" and "size_chart_id 999" in unknown["message"]
    no_image = shop.add_item("DRESS-Y", category_id=100024, size_chart_info={"size_chart": "sbx-nope"})[1]
    assert (no_image["error"], no_image["message"]) == ("error_param", "Image not exist.")
    assert not shop.add_item("TEE-OK", category_id=100017)[1]["error"]  # other categories need none

    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100024"])
    dresses = {"Women/Dresses": "100024"}
    chart = f"{sandbox_server.url}/_sandbox/media/catalog/size-chart/0.png"
    cases = {
        "D-NONE": {},
        "D-TEMPLATE": {"categories": {"100024": {"size_chart": {"template_id": "810001"}}}},
        "D-IMAGE": {"categories": {"100024": {"size_chart": {"image": chart}}}},
    }
    judged = {}
    for sku, mapping in cases.items():
        store = store_with(sandbox_server, monkeypatch, mapping, dresses)
        judged[sku] = apply_store_rules(replace(simple_listing(sandbox_server, sku), category_id="100024"), {},
                                        store, rules)
    assert not judged["D-NONE"].valid and judged["D-NONE"].reasons[-1] == (
        "size_chart_required: Shopee Singapore, category 100024 requires a size chart: set mapping.categories."
        "'100024'.size_chart (template_id or image)")
    assert judged["D-TEMPLATE"].valid and judged["D-IMAGE"].valid
    with pytest.raises(PlatformError) as by_shop:  # what a push without the check would meet
        client.upsert(judged["D-NONE"], None)
    assert by_shop.value.platform_code == "error_param" and by_shop.value.error_class is ErrorClass.INVALID_PRODUCT
    client.upsert(judged["D-TEMPLATE"], None)
    client.upsert(judged["D-IMAGE"], None)
    by_sku = {i["item_sku"]: i for i in items(sandbox_server)}
    assert by_sku["D-TEMPLATE"]["size_chart_info"] == {"size_chart_id": 810001}
    uploaded = by_sku["D-IMAGE"]["size_chart_info"]["size_chart"]  # type: ignore[index]
    assert str(uploaded).startswith("sbx-") and uploaded not in by_sku["D-IMAGE"]["image_id_list"]  # type: ignore[operator]


# -- standard variations (get_variation_tree) -----------------------------------------------------------


def _standard_tiers(item_id: int, variation_id: int, group_id: int, option_id: int) -> dict[str, Any]:
    body = _tiers_body(item_id, [None, None])
    body["standardise_tier_variation"][0].update(variation_id=variation_id, variation_group_id=group_id)
    body["standardise_tier_variation"][0]["variation_option_list"][0]["variation_option_id"] = option_id
    return body


def test_get_variation_tree_answers_the_seeded_standard_variations_under_data(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    path = "/api/v2/product/get_variation_tree"
    envelope = shop.call("GET", path, query={"category_id": 100017})[1]
    names = {v["variation_name"]: v for v in envelope["data"]["standardise_variation_list"]}
    assert set(names) == {"Colour", "Size"}
    colour_options = names["Colour"]["variation_group_list"][0]["variation_option_list"]
    assert {"variation_option_id": 6244, "variation_option_name": "Blue"} in colour_options
    assert shop.call("GET", path, query={"category_id": 100022})[1]["data"] == {"standardise_variation_list": []}


@pytest.mark.parametrize(
    ("category", "variation_id", "group_id", "option_id", "detail"),
    [
        (100022, 101054, 849982774362112, 6244, "variation_id 101054 is not a standard variation of category 100022"),
        (100017, 999999, 849982774362112, 6244, "variation_id 999999 is not a standard variation"),
        (100017, 101054, 1, 6244, "variation_group_id 1 is not a group of variation 101054"),
        (100017, 101054, 849982774362112, 7003, "variation_option_id 7003 is not an option"),
        (100017, 0, 849982774362112, 0, "a custom variation (variation_id 0) takes variation_group_id 0"),
    ],
)
def test_a_standard_variation_id_the_category_does_not_have_is_refused(
    sandbox_server: RunningSandbox, category: int, variation_id: int, group_id: int, option_id: int, detail: str
) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("TEE", category_id=category,
                            attribute_list=[{"attribute_id": 100999, "attribute_value_list": [{"value_id": 2001}]}]
                            if category == 100022 else [])[1]["response"]["item_id"]
    refused = shop.call("POST", INIT_TIERS, _standard_tiers(item_id, variation_id, group_id, option_id))[1]
    assert refused["error"] == "error_param" and detail in refused["message"]
    if category == 100017:  # the category's own ids are accepted and kept
        answer = shop.ok("POST", INIT_TIERS, _standard_tiers(item_id, 101054, 849982774362112, 6244))
        tier = answer["standardise_tier_variation"][0]
        assert (tier["variation_id"], tier["variation_group_id"]) == (101054, 849982774362112)
        assert [o["variation_option_id"] for o in tier["variation_option_list"]] == [6244, 0]


def test_the_listing_uses_standard_ids_where_its_option_labels_name_standard_options(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """store_catalog_rules reads get_variation_tree; the listing's Color axis (mapped to "Colour") and
    Size axis (same name) become standard variations, their labels standard options by exact name in
    any case; a label the group lacks ("Teal") and an axis the category lacks stay custom (0)."""
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    rules = client.read_catalog_rules(["100019", "100022"])
    colour = rules.categories["100019"].variation("colour")
    assert colour is not None and colour.variation_id == "101054" and colour.groups[0].options["Blue"] == "6244"
    assert rules.categories["100022"].variations == ()
    assert type(rules).from_json(rules.to_json()) == rules
    store = store_with(sandbox_server, monkeypatch, {"variations": {"Color": "Colour"}}, {"Women/Tops": "100019"})
    listing = variant_listing(sandbox_server, colors=("blue", "Teal"), sizes=("M", "Petite"))
    listing = apply_store_rules(listing, {}, store, rules)
    assert listing.valid and type(listing).from_json(listing.to_json()) == listing
    client.upsert(listing, None)
    (item,) = items(sandbox_server)
    tiers = {t["name"]: t for t in item["tier_variation"]}  # type: ignore[union-attr]
    assert (tiers["Colour"]["variation_id"], tiers["Colour"]["variation_group_id"]) == (101054, 849982774362112)
    assert [(o["option"], o["variation_option_id"]) for o in tiers["Colour"]["option_list"]] == [
        ("blue", 6244), ("Teal", 0)]
    assert (tiers["Size"]["variation_id"], tiers["Size"]["variation_group_id"]) == (305033, 849982774362113)
    assert [o["variation_option_id"] for o in tiers["Size"]["option_list"]] == [7003, 0]
    # a second push of the same listing finds the structure it sent and keeps the models
    models_before = sorted(m["model_id"] for m in item["models"])  # type: ignore[union-attr]
    client.upsert(listing, client.find_by_sku(listing.sku).ref)  # type: ignore[union-attr]
    (again,) = items(sandbox_server)
    assert sorted(m["model_id"] for m in again["models"]) == models_before  # type: ignore[union-attr]

    unmapped = store_with(sandbox_server, monkeypatch, {"brand": {"default": "No Brand"}}, {"Women/Tops": "100019"})
    plain = apply_store_rules(variant_listing(sandbox_server, "WH-2"), {}, unmapped, rules)
    assert [v.axis for v in plain.details.variations] == ["Size"]  # type: ignore[union-attr]  # "Color" != "Colour"
