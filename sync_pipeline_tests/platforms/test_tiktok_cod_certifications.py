"""real-stores 1.2, the TikTok rules that depend on the category's Rules and the listing's own choices:
a certification required because of the listing's attributes (requirement_conditions, 12052105) and
cash on delivery only where the Rules say ``cod.is_supported`` (12052222). For each, the payload the
old client sent is refused by the sandbox with the real code and the fixed client passes; the rules
check holds back what the mapping cannot yet fix, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from sync_pipeline.listings.mapping import rule_violations
from sync_pipeline.listings.rules import CertificationRule
from sync_pipeline.platforms.base import PlatformError
from sync_pipeline.platforms.tiktok import lookups
from sync_pipeline_tests.platforms import test_tiktok_real_rules as real_rules
from sync_pipeline_tests.platforms import tiktok_fixtures
from sync_pipeline_tests.platforms.test_tiktok import ClientFactory, env, make_client, products
from sync_pipeline_tests.platforms.test_tiktok_real_rules import PRODUCTS, create_code, mapped, raw_body
from sync_pipeline_tests.platforms.tiktok_fixtures import ImageHost, image_host, listing, shop_config
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

__all__ = ["env", "image_host", "make_client"]  # fixtures, re-exported for pytest

FITNESS = "603014"
SAFETY = "7182427311584347905"  # always required in Fitness Equipment
ELECTRICAL = "7182427311584347906"  # required when Power Source is Electric
ELECTRIC = [{"id": "100610", "values": [{"id": "1002001"}]}]
MANUAL = [{"id": "100610", "values": [{"id": "1002002"}]}]


def certificates(image_host: ImageHost, *ids: str) -> list[dict[str, Any]]:
    return [{"id": cert_id, "images": [image_host.image(f"certificate-{cert_id}")]} for cert_id in ids]


def wire_certificates(sandbox_server: RunningSandbox, *ids: str) -> list[dict[str, Any]]:
    uri = tiktok_fixtures.signed_call(sandbox_server.url, "POST", "/product/202309/images/upload", cipher=None,
                      files=real_rules.upload_files("CERTIFICATION_IMAGE")).json()["data"]["uri"]
    return [{"id": cert_id, "images": [{"uri": uri}]} for cert_id in ids]


# -- a certification required by the listing's attributes -----------------------------------------------


def test_a_conditional_certification_is_required_only_when_its_condition_is_met(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client()
    electric = ELECTRIC + [{"id": "100611", "values": [{"id": "1002101"}]}]  # 110V
    # The old client knew only the always-required certification: an electric machine is refused ...
    old = raw_body(sandbox_server, category_id=FITNESS, product_attributes=electric,
                   certifications=wire_certificates(sandbox_server, SAFETY))
    refused = tiktok_fixtures.signed_call(sandbox_server.url, "POST", PRODUCTS, body=old).json()
    assert (refused["code"], refused["message"]) == (12052105, "required qualification miss")
    # ... a manual one is not (the condition is not met), and the optional certificate may be given.
    assert create_code(sandbox_server, category_id=FITNESS, product_attributes=MANUAL,
                       certifications=wire_certificates(sandbox_server, SAFETY)) == 0
    assert create_code(sandbox_server, category_id=FITNESS, product_attributes=MANUAL,
                       certifications=wire_certificates(sandbox_server, SAFETY, ELECTRICAL)) == 0
    assert create_code(sandbox_server, category_id=FITNESS, product_attributes=electric,
                       certifications=wire_certificates(sandbox_server, SAFETY, ELECTRICAL)) == 0

    rules = client.read_catalog_rules([FITNESS])
    category = rules.categories[FITNESS]
    assert category.certifications == ((SAFETY, "Product Safety Test Report"),)
    assert category.conditional_certifications == (
        CertificationRule(ELECTRICAL, "Electrical Safety Certificate", (("100610", "1002001"),)),)

    images = (image_host.image("treadmill"),)
    electric_attributes = {"Power Source": "Electric", "Voltage": "110V"}
    held = mapped(listing("FM10", images=images), FITNESS, rules, categories={FITNESS: {
        "attributes": electric_attributes, "certifications": certificates(image_host, SAFETY)}})
    assert rule_violations(held, rules, "TikTok Shop US") == [
        f"certification_required: TikTok Shop US, category {FITNESS} requires the certification 'Electrical Safety "
        f"Certificate' (id {ELECTRICAL}) when 'Power Source' is 'Electric': add it to "
        f"mapping.categories.'{FITNESS}'.certifications"]
    manual = mapped(listing("FM11", images=images), FITNESS, rules, categories={FITNESS: {
        "attributes": {"Power Source": "Manual"}, "certifications": certificates(image_host, SAFETY)}})
    assert rule_violations(manual, rules, "TikTok Shop US") == []

    fixed = mapped(listing("FM10", images=images), FITNESS, rules, categories={FITNESS: {
        "attributes": electric_attributes, "certifications": certificates(image_host, SAFETY, ELECTRICAL)}})
    assert rule_violations(fixed, rules, "TikTok Shop US") == []
    for passing in (fixed, manual):
        client.upsert(passing, None)
    stored = {p["external_product_id"]: p for p in products(sandbox_server)}
    assert [c["id"] for c in stored["FM10"]["certifications"]] == [SAFETY, ELECTRICAL]
    assert [c["id"] for c in stored["FM11"]["certifications"]] == [SAFETY]


def test_requirement_conditions_of_an_undocumented_type_count_as_met() -> None:
    """Only VALUE_ID_MATCH is documented; a condition that cannot be evaluated holds the listing back
    (required) rather than letting TikTok refuse it."""
    entries = [
        {"id": "1", "name": "Always", "is_required": True, "requirement_conditions": []},
        {"id": "2", "name": "When", "is_required": False, "requirement_conditions": [
            {"condition_type": "VALUE_ID_MATCH", "attribute_id": "10", "attribute_value_id": "11"},
            {"attribute_id": "12", "attribute_value_id": "13"}]},  # no type: the one documented
        {"id": "3", "name": "Range", "is_required": False, "requirement_conditions": [
            {"condition_type": "VALUE_RANGE", "attribute_id": "10", "attribute_value_id": "11"}]},
        {"id": "4", "name": "Optional", "is_required": False, "requirement_conditions": []},
    ]
    assert lookups._certifications(entries) == {
        "certifications": (("1", "Always"), ("3", "Range")),
        "conditional_certifications": (CertificationRule("2", "When", (("10", "11"), ("12", "13"))),),
    }
    odd = lookups._attribute_rule({"id": "5", "name": "Odd", "requirement_conditions": [
        {"condition_type": "VALUE_RANGE", "attribute_id": "10", "attribute_value_id": "11"}]})
    assert odd.required and odd.required_when == ()


# -- cash on delivery where the category's rules support it ----------------------------------------------


def test_cod_is_refused_where_the_rules_do_not_support_it(sandbox_server: RunningSandbox,
                                                           make_client: ClientFactory) -> None:
    us = make_client()
    assert not us.read_catalog_rules(["601152"]).categories["601152"].cod_supported  # no COD in the US
    refused = tiktok_fixtures.signed_call(sandbox_server.url, "POST", PRODUCTS, body=raw_body(sandbox_server, is_cod_allowed=True))
    assert (refused.json()["code"], refused.json()["message"]) == (12052222, "category do not support cod")

    my = make_client(shop=shop_config(region="MY"), settings={"region": "MY"})
    rules = my.read_catalog_rules(["601152", FITNESS])
    assert rules.categories["601152"].cod_supported and not rules.categories[FITNESS].cod_supported
    v1 = {"category_version": "v1"}
    assert create_code(sandbox_server, is_cod_allowed=True, **v1) == 0
    assert create_code(sandbox_server, category_id=FITNESS, product_attributes=MANUAL, is_cod_allowed=True,
                       certifications=wire_certificates(sandbox_server, SAFETY), **v1) == 12052222


def test_the_store_wide_cod_goes_only_to_categories_that_support_it(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client(shop=shop_config(region="MY"), settings={"region": "MY"})
    rules = client.read_catalog_rules(["601152", FITNESS])
    images = (image_host.image("cod"),)
    hoodie = mapped(listing("MH20", images=images), "601152", rules, cod=True)
    machine = mapped(listing("FM20", images=images), FITNESS, rules, cod=True, categories={FITNESS: {
        "attributes": {"Power Source": "Manual"}, "certifications": certificates(image_host, SAFETY)}})
    assert hoodie.details is not None and hoodie.details.cod
    assert machine.details is not None and not machine.details.cod  # not where the rules say no
    for fixed in (hoodie, machine):
        assert rule_violations(fixed, rules, "TikTok Shop MY") == []
        client.upsert(fixed, None)
    stored = {p["external_product_id"]: p["is_cod_allowed"] for p in products(sandbox_server)}
    assert stored == {"MH20": True, "FM20": False}


def test_cod_asked_for_a_category_that_does_not_support_it_is_held_back(
    sandbox_server: RunningSandbox, make_client: ClientFactory, image_host: ImageHost
) -> None:
    client = make_client(shop=shop_config(region="MY"), settings={"region": "MY"})
    rules = client.read_catalog_rules([FITNESS])
    images = (image_host.image("cod-asked"),)
    defaults = {"attributes": {"Power Source": "Manual"}, "certifications": certificates(image_host, SAFETY)}
    asked = mapped(listing("FM21", images=images), FITNESS, rules, categories={FITNESS: {**defaults, "cod": True}})
    assert rule_violations(asked, rules, "TikTok Shop MY") == [
        f"cod_not_supported: TikTok Shop MY, category {FITNESS} does not take cash on delivery (its rules: "
        f"cod.is_supported false): set mapping.categories.'{FITNESS}'.cod to false or remove it"]
    # What the check holds back is what TikTok refuses: the same listing sent anyway.
    with pytest.raises(PlatformError) as refused:
        client.upsert(asked, None)
    assert refused.value.platform_code == "12052222"
    # A category's own false wins over the store-wide true.
    off = mapped(listing("FM21", images=images), FITNESS, rules, cod=True,
                 categories={FITNESS: {**defaults, "cod": False}})
    assert off.details is not None and not off.details.cod and rule_violations(off, rules, "TikTok Shop MY") == []
    client.upsert(off, None)
    assert products(sandbox_server)[0]["is_cod_allowed"] is False
