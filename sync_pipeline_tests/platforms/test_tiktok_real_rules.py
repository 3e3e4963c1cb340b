"""real-stores.md section 4, TikTok rules 1-9: for each, the payload the old client sent is refused
by the sandbox with the real code, and the fixed client passes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sync_pipeline.listings.mapping import catalog_details, rule_violations
from sync_pipeline.listings.model import CatalogDetails, Listing, Package
from sync_pipeline.listings.rules import StoreRules
from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError
from sync_pipeline.platforms.tiktok import wire as tiktok_wire
from sync_pipeline.platforms.tiktok.wire import classify
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.platforms.test_tiktok import ClientFactory, env, make_client, products
from sync_pipeline_tests.platforms.tiktok_fixtures import (
    CIPHER,
    ImageHost,
    image_host,
    listing,
    png,
    shop_config,
    signed_call,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

__all__ = ["env", "image_host", "make_client"]  # fixtures, re-exported for pytest

IMAGES = "/product/202309/images/upload"
PRODUCTS = "/product/202309/products"


def upload_files(use_case: str = "MAIN_IMAGE") -> dict[str, Any]:
    return {"data": ("a.png", png()), "use_case": (None, use_case)}


class Recorder:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, record: CallRecord) -> None:
        if not record.amends:  # an amendment is the verdict on the call just recorded
            self.operations.append(record.operation)


# -- rule 1: shop_cipher only where the endpoint declares it ------------------------------------------


def test_rule1_shop_cipher_on_an_app_level_endpoint_is_refused(sandbox_server: RunningSandbox) -> None:
    sandbox_server.provision("tiktok", CIPHER, shop_config())
    old = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files())  # the old client: cipher on
    assert old.json()["code"] == 36009004
    assert "shop_cipher" in old.json()["message"] and "not required" in old.json()["message"]
    missing = signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/1", cipher=None)
    assert missing.json()["code"] == 106013
    fixed = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None)
    assert fixed.json()["code"] == 0 and fixed.json()["data"]["uri"]


def test_rule1_the_fixed_client_creates_and_an_identifier_complaint_never_refreshes(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    client = make_client(observer=recorder)
    ref = client.upsert(listing(images=(image_host.image("rule1"),)), None)
    assert [p["id"] for p in products(sandbox_server)] == [ref.product_id]

    # The old behaviour (cipher on every call) fails for good, classified as a request defect.
    monkeypatch.setattr(tiktok_wire, "is_shop_scoped", lambda method, path: True)
    old_client = make_client(observer=recorder)
    recorder.operations.clear()
    with pytest.raises(PlatformError) as refused:
        old_client.upsert(listing("MH02", images=(image_host.image("rule1-old"),)), None)
    assert refused.value.platform_code == "36009004"
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "token.refresh" not in recorder.operations and recorder.operations == ["image.upload"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
         ErrorClass.INVALID_PRODUCT),
        ("invalid param error", ErrorClass.INVALID_PRODUCT),
        ("Missing or invalid credentials: invalid access token", ErrorClass.UNAUTHORIZED),
        ("Invalid sign", ErrorClass.UNAUTHORIZED),
        ("timestamp out of range", ErrorClass.UNAUTHORIZED),
    ],
)
def test_36009004_is_classified_by_its_message(message: str, expected: ErrorClass) -> None:
    assert classify(400, 36009004, message).error_class is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [(106013, ErrorClass.INVALID_PRODUCT), (105002, ErrorClass.UNAUTHORIZED), (12052700, ErrorClass.UNAUTHORIZED),
     (36009002, ErrorClass.RATE_LIMITED), (36009003, ErrorClass.NETWORK_ERROR), (12052104, ErrorClass.INVALID_PRODUCT)],
)
def test_error_classes_follow_real_stores_1_6(code: int, expected: ErrorClass) -> None:
    assert classify(400, code, "x").error_class is expected


# -- rule 2: US shops use category_version v2 -----------------------------------------------------------


def test_rule2_a_us_create_without_v2_is_refused_and_the_client_sends_v2(
    make_client: ClientFactory, image_host: ImageHost, sandbox_server: RunningSandbox
) -> None:
    client = make_client()
    uri = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None).json()["data"]["uri"]
    body = {
        "title": "Chaz Kangeroo Hoodie", "description": "<p>Warm.</p>", "category_id": "601152",
        "main_images": [{"uri": uri}], "package_weight": {"value": "0.5", "unit": "KILOGRAM"},
        "skus": [{"seller_sku": "MH01", "price": {"amount": "52.00", "currency": "USD"},
                  "inventory": [{"warehouse_id": "7000001", "quantity": 5}]}],
    }
    old = signed_call(sandbox_server.url, "POST", PRODUCTS, body=body).json()
    assert old["code"] == 12052217
    assert old["message"] == "All region shops must use V2 categories. Check the documentation for further details."
    assert client.category_version == "v2"
    ref = client.upsert(listing(images=(image_host.image("rule2"),)), None)
    assert products(sandbox_server)[0]["id"] == ref.product_id


def test_rule2_other_regions_keep_v1(make_client: ClientFactory, image_host: ImageHost,
                                     sandbox_server: RunningSandbox) -> None:
    client = make_client(shop=shop_config(region="GB"), settings={"region": "GB"})
    assert client.category_version == "v1"
    client.upsert(listing(images=(image_host.image("rule2-gb"),)), None)
    wrong = make_client(shop=shop_config(region="GB"), settings={"region": "GB", "category_version": "v2"})
    with pytest.raises(PlatformError) as refused:
        wrong.upsert(listing("MH03", images=(image_host.image("rule2-gb"),)), None)
    assert refused.value.platform_code == "12052230"


# -- rules 3-8: the category's demands, each refused with its code; the mapped listing passes -------------


def raw_body(sandbox_server: RunningSandbox, **overrides: Any) -> dict[str, Any]:
    """What the old client sent: no attributes, brand, size chart, certification or dimensions."""
    uri = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None).json()["data"]["uri"]
    body: dict[str, Any] = {
        "title": "Chaz Kangeroo Hoodie", "description": "<p>Warm.</p>", "category_id": "601152",
        "category_version": "v2", "main_images": [{"uri": uri}],
        "package_weight": {"value": "0.5", "unit": "KILOGRAM"},
        "package_dimensions": {"length": "30", "width": "20", "height": "5", "unit": "CENTIMETER"},
        "skus": [{"seller_sku": "MH01", "price": {"amount": "52.00", "currency": "USD"},
                  "inventory": [{"warehouse_id": "7000001", "quantity": 5}]}],
    }
    body.update(overrides)
    return body


def create_code(sandbox_server: RunningSandbox, **overrides: Any) -> int:
    return int(signed_call(sandbox_server.url, "POST", PRODUCTS, body=raw_body(sandbox_server, **overrides))
               .json()["code"])


def mapped(listing_: Listing, category: str, rules: StoreRules | None = None, **mapping: Any) -> Listing:
    """The listing with the details a stores-file mapping gives it (resolved against ``rules`` if given)."""
    store = StoreConfig.model_validate({
        "key": "tiktok-test", "platform": "tiktok", "name": "TikTok Shop US", "endpoint": "http://x",
        "credentials": {"app_key": "A", "app_secret": "B", "access_token": "C", "refresh_token": "D"},
        "category_map": {"Men/Tops": category},
        "mapping": {"package": {"dimensions": {"length": 30, "width": 20, "height": 5}}, **mapping},
    })
    placed = replace(listing_, category_id=category)
    return replace(placed, details=catalog_details(placed, {}, store, rules))


def test_rule3_only_usable_leaf_categories(sandbox_server: RunningSandbox, make_client: ClientFactory,
                                           image_host: ImageHost) -> None:
    client = make_client()
    assert create_code(sandbox_server, category_id="600001") == 12052024  # not a leaf
    assert create_code(sandbox_server, category_id="605001") == 12052225  # not the shop's main category
    assert create_code(sandbox_server, category_id="999999") == 12052023
    rules = client.read_catalog_rules(["601152", "600001", "605001"])
    assert (rules.categories["600001"].leaf, rules.categories["605001"].usable) == (False, False)
    reasons = rule_violations(replace(listing(), category_id="600001"), rules, "TikTok Shop US")
    assert reasons and reasons[0].startswith("category_not_usable: TikTok Shop US, category 600001 is not a leaf")
    client.upsert(listing(images=(image_host.image("rule3"),)), None)  # a usable leaf passes


def test_rule4_required_attribute_size_chart_and_certification(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client()
    assert create_code(sandbox_server, category_id="601153") == 12052104  # Material is required
    assert create_code(sandbox_server, category_id="601226") == 12052673  # size chart is required
    assert create_code(sandbox_server, category_id="603014") == 12052105  # certification is required
    custom = [{"id": "100157", "values": [{"name": "Hemp"}]}]  # not customizable in 601153
    assert create_code(sandbox_server, category_id="601153", product_attributes=custom) == 12052247

    rules = client.read_catalog_rules(["601153", "601226", "603014"])
    bare = replace(listing(), category_id="601153")
    assert rule_violations(bare, rules, "TikTok Shop US") == [
        "missing_required_attribute: TikTok Shop US, category 601153 requires 'Material': map a Magento attribute "
        "or set a default"]
    images = (image_host.image("rule4"),)
    pants = mapped(listing("MP01", images=images), "601153", rules,
                   categories={"601153": {"attributes": {"Material": "Polyester"}}})
    assert rule_violations(pants, rules, "TikTok Shop US") == []
    tops = mapped(listing("WT01", images=images), "601226",
                  categories={"601226": {"size_chart": {"template_id": "7267563252536723205"}}})
    mat = mapped(listing("FM01", images=images), "603014", categories={"603014": {"certifications": [
        {"id": "7182427311584347905", "images": [image_host.image("certificate")]}]}})
    for fixed in (pants, tops, mat):
        client.upsert(fixed, None)
    stored = {p["external_product_id"]: p for p in products(sandbox_server)}
    assert stored["MP01"]["product_attributes"] == [{"id": "100157", "values": [{"id": "1000060"}]}]
    assert stored["WT01"]["size_chart"] == {"template": {"id": "7267563252536723205"}}
    assert stored["FM01"]["certifications"][0]["id"] == "7182427311584347905"


def test_rule5_an_unauthorized_top_tier_brand_is_refused(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client()
    assert create_code(sandbox_server, brand_id="7082427311584347908") == 12052201  # Crown Horology, T1
    assert create_code(sandbox_server, brand_id="1") == 12052026
    rules = client.read_catalog_rules(["601152"])
    crown = mapped(listing(), "601152", rules, brand={"default": "Crown Horology"})
    assert rule_violations(crown, rules, "TikTok Shop US")[0].startswith("brand_not_allowed: TikTok Shop US")
    luma = mapped(listing(images=(image_host.image("rule5"),)), "601152", rules, brand={"default": "Luma"})
    client.upsert(luma, None)
    assert products(sandbox_server)[0]["brand_id"] == "7082427311584347905"


@pytest.mark.parametrize(
    ("weight", "dimensions", "code"),
    [
        ({"value": "0.5", "unit": "KILOGRAM"}, None, 12019012),  # US: dimensions are required
        ({"value": "1.1", "unit": "POUND"}, {"length": "12", "width": "8", "height": "2", "unit": "CENTIMETER"},
         12052915),  # one unit system
        ({"value": "500", "unit": "GRAM"}, {"length": "30", "width": "20", "height": "5", "unit": "CENTIMETER"},
         12019011),  # grams: BR/JP/MX only
        ({"value": "0", "unit": "KILOGRAM"}, {"length": "30", "width": "20", "height": "5", "unit": "CENTIMETER"},
         12052181),
        ({"value": "0.5", "unit": "KILOGRAM"}, {"length": "30.5", "width": "20", "height": "5", "unit": "CENTIMETER"},
         12019012),  # whole numbers
    ],
)
def test_rule6_package_weight_and_dimensions(
    sandbox_server: RunningSandbox, weight: dict[str, str], dimensions: dict[str, str] | None, code: int
) -> None:
    sandbox_server.provision("tiktok", CIPHER, shop_config())
    assert create_code(sandbox_server, package_weight=weight, package_dimensions=dimensions) == code


def test_rule6_imperial_units_only_in_the_us_and_the_client_keeps_one_system(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    make_client(shop=shop_config(region="GB"), settings={"region": "GB"})
    pounds = {"value": "1.1", "unit": "POUND"}
    inches = {"length": "12", "width": "8", "height": "2", "unit": "INCH"}
    assert create_code(sandbox_server, category_version="v1", package_weight=pounds,
                       package_dimensions=inches) == 12019061
    client = make_client()  # back to the US shop
    imperial = replace(listing(images=(image_host.image("rule6"),)), details=CatalogDetails(package=Package(
        Decimal("1.1"), "POUND", Decimal("11.2"), Decimal(8), Decimal(2), "INCH")))
    client.upsert(imperial, None)
    stored = products(sandbox_server)[0]
    assert stored["package_weight"]["unit"] == "POUND"
    assert stored["package_dimensions"] == {"length": "12", "width": "8", "height": "2", "unit": "INCH"}


def test_rule7_variant_images_on_one_attribute_and_all_its_values(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client()
    uri = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files("ATTRIBUTE_IMAGE"),
                      cipher=None).json()["data"]["uri"]

    def sku(size: str, color: str, size_img: bool, color_img: bool) -> dict[str, Any]:
        return {"seller_sku": f"V-{size}-{color}", "price": {"amount": "9.00", "currency": "USD"},
                "inventory": [{"warehouse_id": "7000001", "quantity": 1}],
                "sales_attributes": [
                    {"name": "Size", "value_name": size, **({"sku_img": {"uri": uri}} if size_img else {})},
                    {"name": "Color", "value_name": color, **({"sku_img": {"uri": uri}} if color_img else {})}]}

    partial = [sku("S", "Red", True, False), sku("M", "Red", False, False)]
    assert create_code(sandbox_server, skus=partial) == 12052522
    two = [sku("S", "Red", True, False), sku("M", "Blue", True, True)]
    assert create_code(sandbox_server, skus=two) == 12052528
    # The fixed client sends images only when every value of the primary attribute has one.
    whole = listing("MH05", images=(image_host.image("rule7"),))
    variants = tuple(replace(v, image=image_host.image(f"v{i}") if i else None) for i, v in enumerate(whole.variants))
    client.upsert(replace(whole, variants=variants), None)
    complete = tuple(replace(v, image=image_host.image(f"w{i}")) for i, v in enumerate(whole.variants))
    client.upsert(replace(whole, sku="MH06", variants=tuple(replace(v, sku="MH06" + v.sku[4:]) for v in complete)),
                  None)
    by_sku = {p["external_product_id"]: p for p in products(sandbox_server)}
    assert not any(a.get("sku_img") for s in by_sku["MH05"]["skus"] for a in s["sales_attributes"])
    assert all(a.get("sku_img") for s in by_sku["MH06"]["skus"] for a in s["sales_attributes"])


def test_rule8_uploaded_uris_and_usable_sales_warehouses(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client()
    assert create_code(sandbox_server, main_images=[{"uri": "https://example.com/a.png"}]) == 12052300

    def inventory(warehouse: str) -> list[dict[str, Any]]:
        return [{"seller_sku": "MH01", "price": {"amount": "52.00", "currency": "USD"},
                 "inventory": [{"warehouse_id": warehouse, "quantity": 5}]}]

    assert create_code(sandbox_server, skus=inventory("7000002")) == 12052531  # disabled
    assert create_code(sandbox_server, skus=inventory("7000003")) == 12052532  # a return warehouse
    assert create_code(sandbox_server, skus=inventory("424242")) == 12052097
    rules = client.read_catalog_rules(["601152"])
    assert rules.warehouses == ("7000001",)
    client.upsert(listing(images=(image_host.image("rule8"),)), None)


def test_rule9_new_products_start_in_review_and_refuse_price_updates(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client(shop=shop_config(audit_delay_seconds=3600), settings={"audit_wait_seconds": 0})
    ref = client.upsert(listing(images=(image_host.image("rule9"),)), None)
    read = signed_call(sandbox_server.url, "GET", f"{PRODUCTS}/{ref.product_id}").json()["data"]
    assert (read["status"], read["audit"]["status"]) == ("PENDING", "AUDITING")
    raw = signed_call(sandbox_server.url, "POST", f"{PRODUCTS}/{ref.product_id}/prices/update",
                      body={"skus": [{"id": next(iter(ref.variant_ids.values())),
                                      "price": {"amount": "50.00", "currency": "USD"}}]}).json()
    assert raw["code"] == 12052901
    with pytest.raises(PlatformError) as later:
        client.update_prices(ref, listing())
    assert later.value.error_class is ErrorClass.RATE_LIMITED  # retried later, not given up


def test_an_image_serves_only_the_use_case_it_was_uploaded_for(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    """4.5 Upload Image ``use_case``: a main image is not a variant image, a size chart or a
    certificate (the old client uploaded everything as MAIN_IMAGE); the client names each use."""
    client = make_client()
    main = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files(), cipher=None).json()["data"]["uri"]
    attribute = signed_call(sandbox_server.url, "POST", IMAGES, files=upload_files("ATTRIBUTE_IMAGE"),
                            cipher=None).json()["data"]["uri"]
    assert main == attribute  # the same file: one uri, now good for both uses
    other = {"data": ("b.png", png(shade=9)), "use_case": (None, "ATTRIBUTE_IMAGE")}
    only_attribute = signed_call(sandbox_server.url, "POST", IMAGES, files=other, cipher=None).json()["data"]["uri"]
    chart = signed_call(sandbox_server.url, "POST", IMAGES, files={"data": ("c.png", png(shade=5)), "use_case": (
        None, "MAIN_IMAGE")}, cipher=None).json()["data"]["uri"]

    def sku(size: str, uri: str) -> dict[str, Any]:
        return {"seller_sku": f"U-{size}", "price": {"amount": "9.00", "currency": "USD"},
                "inventory": [{"warehouse_id": "7000001", "quantity": 1}],
                "sales_attributes": [{"name": "Size", "value_name": size, "sku_img": {"uri": uri}}]}

    assert create_code(sandbox_server, main_images=[{"uri": only_attribute}]) == 12052300
    assert create_code(sandbox_server, skus=[sku("S", chart), sku("M", main)]) == 12052520
    assert create_code(sandbox_server, category_id="601226", size_chart={"image": {"uri": chart}}) == 12052670
    # The client uploads each picture for its use: main images, variant images, size chart.
    whole = listing("UC01", images=(image_host.image("uc-main"),))
    variants = tuple(replace(v, image=image_host.image(f"uc-v{i}")) for i, v in enumerate(whole.variants))
    client.upsert(mapped(replace(whole, variants=variants), "601226",
                         categories={"601226": {"size_chart": {"image": image_host.image("uc-chart")}}}), None)
    stored = {p["external_product_id"]: p for p in products(sandbox_server)}["UC01"]
    assert all(any(a.get("sku_img") for a in s["sales_attributes"]) for s in stored["skus"])
    assert "image" in stored["size_chart"]


def test_a_conditional_attribute_follows_the_category_rules(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    """real-stores 1.2: an attribute whose requirement_conditions are met is required (12052182, with
    TikTok's message). The rules carry the condition and the check names the missing attribute and
    the value that made it required."""
    client = make_client()
    electric = [{"id": "100610", "values": [{"id": "1002001"}]}]
    refused = signed_call(sandbox_server.url, "POST", PRODUCTS,
                          body=raw_body(sandbox_server, category_id="603014", product_attributes=electric)).json()
    assert (refused["code"], refused["message"]) == (
        12052182, "The 'Voltage' field is required as you've selected 'Electric' for 'Power Source'.")
    manual = [{"id": "100610", "values": [{"id": "1002002"}]}]
    assert create_code(sandbox_server, category_id="603014", product_attributes=manual) == 12052105  # next rule

    rules = client.read_catalog_rules(["601152", "603014"])
    voltage = rules.categories["603014"].attribute("Voltage")
    assert voltage is not None and not voltage.required and voltage.required_when == (("100610", "1002001"),)
    certified = {"certifications": [{"id": cert_id, "images": [image_host.image(f"cert-{cert_id}")]}
                                    for cert_id in ("7182427311584347905", "7182427311584347906")]}
    images = (image_host.image("cond"),)
    machine = mapped(listing("FM02", images=images), "603014", rules,
                     categories={"603014": {"attributes": {"Power Source": "Electric"}, **certified}})
    assert rule_violations(machine, rules, "TikTok Shop US") == [
        "missing_required_attribute: TikTok Shop US, category 603014 requires 'Voltage' when 'Power Source' is "
        "'Electric': map a Magento attribute or set a default"]
    fixed = mapped(listing("FM02", images=images), "603014", rules, categories={
        "603014": {"attributes": {"Power Source": "Electric", "Voltage": "110V"}, **certified}})
    assert rule_violations(fixed, rules, "TikTok Shop US") == []
    client.upsert(fixed, None)
    stored = {p["external_product_id"]: p for p in products(sandbox_server)}["FM02"]
    assert {a["id"] for a in stored["product_attributes"]} == {"100610", "100611"}
