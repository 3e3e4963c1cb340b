"""The store's own rules: listings checked against them (the blocking check) and the last good
rules kept when the store cannot be reached (the freshness warning)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import AssetCheckSeverity, AssetSelection, materialize
from sqlalchemy import select, update

from sync_pipeline.db import make_engine
from sync_pipeline.defs.listings import listing_meets_store_rules
from sync_pipeline.defs.listings import platform_listings as platform_listings_asset
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.defs.rules import rules_metadata, store_catalog_rules_fresh
from sync_pipeline.defs.rules import store_catalog_rules as rules_asset
from sync_pipeline.listings.audit import audit_store_rules, invalid_by_store_rules
from sync_pipeline.listings.rules import AttributeRule, CategoryRules, CertificationRule, StoreRules
from sync_pipeline.listings.rules_db import load_rules, save_rules
from sync_pipeline.listings.store import materialize_store_listings
from sync_pipeline.listings.tables import platform_listings, store_catalog_rules
from sync_pipeline.stores import StoreConfig, StoresFileError, load_stores
from sync_pipeline_tests.listings.catalog_rows import insert_catalog, product_row
from sync_pipeline_tests.platforms.test_tiktok import env
from sync_pipeline_tests.platforms.tiktok_fixtures import (
    APP_KEY,
    CIPHER,
    WAREHOUSE,
    shop_config,
)
from sync_pipeline_tests.sandbox.conftest import RunningSandbox, _sandbox_session, sandbox_server

__all__ = ["_sandbox_session", "env", "sandbox_server"]  # fixtures, re-exported for pytest

READ_AT = datetime(2026, 11, 30, 8, 0)


def tiktok_store(mapping: dict[str, Any] | None = None, endpoint: str = "http://127.0.0.1:1/tiktok") -> dict[str, Any]:
    return {
        "key": "tiktok-us", "platform": "tiktok", "name": "TikTok Shop US", "endpoint": endpoint,
        "credentials": {"app_key": "TT_APP_KEY", "app_secret": "TT_APP_SECRET", "access_token": "TT_ACCESS",
                        "refresh_token": "TT_REFRESH"},
        "settings": {"shop_cipher": CIPHER, "warehouse_id": WAREHOUSE, "region": "US",
                     "auth_endpoint": endpoint.replace("/tiktok", "/tiktok-auth"), "audit_wait_seconds": 0},
        "category_map": {"Men/Bottoms": "601153"},
        "mapping": mapping or {"package": {"dimensions": {"length": 30, "width": 20, "height": 5}}},
    }


RULES = StoreRules(
    store_key="tiktok-us", platform="tiktok", read_at=READ_AT, region="US",
    categories={"601153": CategoryRules(
        category_id="601153", name="Men's Bottoms", dimensions_required=True,
        attributes=(AttributeRule("100157", "Material", required=True, customizable=False,
                                  values={"Cotton": "1000059", "Polyester": "1000060"}),),
    )},
    warehouses=(WAREHOUSE,),
)
REASON = ("missing_required_attribute: TikTok Shop US, category 601153 requires 'Material': map a Magento "
          "attribute or set a default")


def test_rules_round_trip_through_the_app_db(sqlite_app_db_url: str) -> None:
    engine = make_engine(sqlite_app_db_url)
    save_rules(engine, RULES)
    assert load_rules(engine, "tiktok-us") == RULES
    conditional = replace(RULES, categories={"601153": replace(
        RULES.categories["601153"], cod_supported=True, certifications=(("7000", "Always"),),
        conditional_certifications=(CertificationRule("7001", "When", (("100157", "1000060"),)),))})
    save_rules(engine, conditional)
    assert load_rules(engine, "tiktok-us") == conditional
    # Rules stored before conditional certifications were kept read back without them.
    stored = conditional.to_json()
    del stored["categories"]["601153"]["conditional_certifications"]
    assert StoreRules.from_json(stored).categories["601153"].conditional_certifications == ()


def test_the_check_fails_on_a_missing_required_attribute_and_passes_once_mapped(app_db_url: str) -> None:
    engine = make_engine(app_db_url)
    insert_catalog(engine, [product_row("PANT-1", 1, categories=["Men/Bottoms"], attributes={})], {})
    unmapped = StoreConfig.model_validate(tiktok_store())
    # Listings written before the rules were known: valid, but the store would refuse them.
    materialize_store_listings(engine, unmapped)
    save_rules(engine, RULES)
    result = audit_store_rules(engine, unmapped)
    assert not result.passed and result.examples == [f"PANT-1: {REASON}"]

    # Materialized with the rules (as last read into the app DB), the listing is held back with
    # the reason (never pushed) ...
    materialize_store_listings(engine, unmapped)
    assert audit_store_rules(engine, unmapped).passed
    assert invalid_by_store_rules(engine, "tiktok-us") == [("PANT-1", REASON)]

    # ... and once the mapping supplies the attribute, it is valid and carries the value's id.
    mapped = StoreConfig.model_validate(tiktok_store({
        "package": {"dimensions": {"length": 30, "width": 20, "height": 5}},
        "attributes": {"Material": {"magento": "material"}},
        "categories": {"601153": {"attributes": {"Material": "Polyester"}}},
    }))
    materialize_store_listings(engine, mapped)
    result = audit_store_rules(engine, mapped)
    assert result.passed and result.checked == 1
    with engine.connect() as conn:
        payload = conn.execute(select(platform_listings.c.payload, platform_listings.c.valid)).one()
    assert payload.valid
    assert payload.payload["details"]["attributes"] == [
        {"name": "Material", "attribute_id": "100157", "values": [{"name": "Polyester", "value_id": "1000060"}]}]
    assert invalid_by_store_rules(engine, "tiktok-us") == []


def test_cod_and_a_conditional_certification_hold_the_listing_back_until_the_mapping_fixes_them(
    app_db_url: str,
) -> None:
    """The pants are Polyester (from Magento): in this category that calls for a fabric test report,
    and the category takes no cash on delivery. Both are reasons the owner can act on in the stores
    file; once it says so, the listing is valid and carries the certificate and no COD."""
    engine = make_engine(app_db_url)
    insert_catalog(engine, [product_row("PANT-1", 1, categories=["Men/Bottoms"])], {})
    rules = replace(RULES, categories={"601153": replace(
        RULES.categories["601153"], cod_supported=False,
        conditional_certifications=(CertificationRule("7001", "Fabric Test Report", (("100157", "1000060"),)),),
    )})
    save_rules(engine, rules)
    mapping: dict[str, Any] = {
        "package": {"dimensions": {"length": 30, "width": 20, "height": 5}},
        "attributes": {"Material": {"magento": "material"}},
        "cod": True,
        "categories": {"601153": {"cod": True}},
    }
    materialize_store_listings(engine, StoreConfig.model_validate(tiktok_store(mapping)))
    assert invalid_by_store_rules(engine, "tiktok-us") == [
        ("PANT-1", "certification_required: TikTok Shop US, category 601153 requires the certification 'Fabric "
                   "Test Report' (id 7001) when 'Material' is 'Polyester': add it to "
                   "mapping.categories.'601153'.certifications"),
        ("PANT-1", "cod_not_supported: TikTok Shop US, category 601153 does not take cash on delivery (its "
                   "rules: cod.is_supported false): set mapping.categories.'601153'.cod to false or remove it"),
    ]
    fixed = {**mapping, "categories": {"601153": {
        "certifications": [{"id": "7001", "images": ["https://img.example/fabric-test.png"]}]}}}
    materialize_store_listings(engine, StoreConfig.model_validate(tiktok_store(fixed)))
    assert invalid_by_store_rules(engine, "tiktok-us") == []
    with engine.connect() as conn:
        row = conn.execute(select(platform_listings.c.payload, platform_listings.c.valid)).one()
    assert row.valid and not row.payload["details"]["cod"]  # the store-wide cod: only where supported
    assert row.payload["details"]["certifications"] == [
        {"certification_id": "7001", "images": ["https://img.example/fabric-test.png"]}]


def test_the_rules_materialization_lists_conditional_certifications_and_cod() -> None:
    rules = replace(RULES, categories={"601153": replace(
        RULES.categories["601153"], cod_supported=True, certifications=(("7000", "Always Report"),),
        conditional_certifications=(CertificationRule("7001", "Fabric Test Report", (("100157", "1000060"),)),))})
    table = rules_metadata(rules, True, None, 1)["required_attributes_per_category"].value
    assert ("| 601153 | Men's Bottoms | Material | optional | - | Always Report, Fabric Test Report (when "
            "'Material' is 'Polyester') | required | supported |") in table


def test_the_check_reports_through_dagster(sqlite_app_db_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_app_db_url)
    insert_catalog(engine, [product_row("PANT-1", 1, categories=["Men/Bottoms"], attributes={})], {})
    stores_file = tmp_path / "stores.yaml"
    stores_file.write_text(yaml.safe_dump({"stores": [tiktok_store()]}), encoding="utf-8")
    materialize_store_listings(engine, StoreConfig.model_validate(tiktok_store()))
    save_rules(engine, RULES)
    resources = {"app_db": AppDatabase(url=sqlite_app_db_url), "stores_config": StoresConfig(path=str(stores_file))}
    failing = materialize([platform_listings_asset, listing_meets_store_rules],
                          selection=AssetSelection.checks(listing_meets_store_rules),
                          tags={"dagster/partition": "tiktok-us"}, resources=resources, raise_on_error=False)
    (evaluation,) = failing.get_asset_check_evaluations()
    assert not evaluation.passed and REASON in evaluation.metadata["examples"].value
    assert not failing.success  # blocking: nothing downstream would push
    # Materializing the listings with the rules holds the listing back; the check then passes and says why.
    passing = materialize([platform_listings_asset, listing_meets_store_rules], partition_key="tiktok-us",
                          resources=resources)
    (evaluation,) = passing.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["invalid_by_store_rules"].value == 1
    assert REASON in evaluation.metadata["invalid_examples"].value


def test_a_store_whose_rules_were_never_read_and_cannot_be_read_is_held_back(
    sqlite_app_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: no rules ever read and none readable (here: the credentials are not set) means
    no listing of the store passes the blocking check, with the reason and the next step."""
    for name in ("TT_APP_KEY", "TT_APP_SECRET", "TT_ACCESS", "TT_REFRESH"):
        monkeypatch.delenv(name, raising=False)
    engine = make_engine(sqlite_app_db_url)
    insert_catalog(engine, [product_row("PANT-1", 1, categories=["Men/Bottoms"], attributes={})], {})
    stores_file = tmp_path / "stores.yaml"
    stores_file.write_text(yaml.safe_dump({"stores": [tiktok_store()]}), encoding="utf-8")
    resources = {"app_db": AppDatabase(url=sqlite_app_db_url), "stores_config": StoresConfig(path=str(stores_file))}
    held = materialize([platform_listings_asset, listing_meets_store_rules], partition_key="tiktok-us",
                       resources=resources, raise_on_error=False)
    assert held.asset_materializations_for_node("platform_listings")  # the listings are built ...
    (evaluation,) = held.get_asset_check_evaluations()
    assert not evaluation.passed and not held.success  # ... and none is pushed
    example = evaluation.metadata["examples"].value
    assert "PANT-1: rules of store tiktok-us never read: the last read failed (MissingCredentialError" in example
    assert "run store_rules_refresh for 'tiktok-us'" in example
    assert load_rules(engine, "tiktok-us") is None
    # Once rules are read (here saved), the same listing is judged by them instead.
    save_rules(engine, RULES)
    result = audit_store_rules(engine, StoreConfig.model_validate(tiktok_store()))
    assert not result.passed and result.examples == [f"PANT-1: {REASON}"]


def test_unreachable_store_keeps_the_last_good_rules_and_warns_when_old(
    sandbox_server: RunningSandbox, sqlite_app_db_url: str, tmp_path: Path, env: None
) -> None:
    sandbox_server.provision("tiktok", CIPHER, shop_config())
    stores_file = tmp_path / "stores.yaml"
    stores_file.write_text(yaml.safe_dump({"stores": [tiktok_store(endpoint=f"{sandbox_server.url}/tiktok")]}),
                           encoding="utf-8")
    resources = {"app_db": AppDatabase(url=sqlite_app_db_url), "stores_config": StoresConfig(path=str(stores_file))}
    first = materialize([rules_asset, store_catalog_rules_fresh], partition_key="tiktok-us", resources=resources)
    assert first.get_asset_check_evaluations()[0].passed
    metadata = first.asset_materializations_for_node("store_catalog_rules")[0].metadata
    assert metadata["fresh"].value is True and "Material" in metadata["required_attributes_per_category"].value

    engine = make_engine(sqlite_app_db_url)
    eight_days_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=8)
    with engine.begin() as conn:  # the last good read is old
        conn.execute(update(store_catalog_rules).values(read_at=eight_days_ago))
    sandbox_server.faults("tiktok", CIPHER, server_error_rate=1.0)  # the store cannot be reached
    second = materialize([rules_asset, store_catalog_rules_fresh], partition_key="tiktok-us", resources=resources)
    assert second.success  # the materialization keeps the last good rules ...
    metadata = second.asset_materializations_for_node("store_catalog_rules")[0].metadata
    assert metadata["fresh"].value is False and "NETWORK_ERROR" in metadata["read_error"].value
    (check,) = second.get_asset_check_evaluations()
    assert not check.passed and check.severity is AssetCheckSeverity.WARN  # ... and warns how old they are
    assert float(check.metadata["age_days"].value) >= 8
    rules = load_rules(engine, "tiktok-us")
    assert rules is not None and rules.categories["601153"].attribute("Material") is not None

    # The listings still use them: the pants without a material are held back with the reason.
    insert_catalog(engine, [product_row("PANT-1", 1, categories=["Men/Bottoms"], attributes={})], {})
    listed = materialize([platform_listings_asset, listing_meets_store_rules], partition_key="tiktok-us",
                         resources=resources)
    assert listed.success and listed.get_asset_check_evaluations()[0].passed
    assert invalid_by_store_rules(engine, "tiktok-us")[0][1].startswith("missing_required_attribute")


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"package": {"weight_unit": "POUND", "dimension_unit": "CENTIMETER"}}, "mapping.package"),
        ({"categories": {"999": {"brand": "Luma"}}}, "mapping.categories names categories"),
        ({"categories": {"601153": {"size_chart": {}}}}, "mapping.categories.601153.size_chart"),
        ({"attributes": {"Material": {"from": "material"}}}, "mapping.attributes.Material.from"),
        ({"cod": "sometimes"}, "mapping.cod"),
        ({"attributes": {"Material": {"magento": "fabric_composition", "free_text": True, "values": {"Wool": "1"}}}},
         "mapping.attributes.Material"),
        ({"attributes": {"Material": {"free_text": True, "default": "Cotton"}}}, "mapping.attributes.Material"),
    ],
)
def test_a_malformed_mapping_fails_the_load_naming_file_store_and_field(
    tmp_path: Path, mapping: dict[str, Any], field: str
) -> None:
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": [tiktok_store(mapping)]}), encoding="utf-8")
    with pytest.raises(StoresFileError) as err:
        load_stores(path)
    assert str(path) in str(err.value) and "store 'tiktok-us'" in str(err.value) and field in str(err.value)
    assert APP_KEY not in str(err.value)


def test_cod_on_a_platform_without_it_fails_the_load(tmp_path: Path) -> None:
    shopee = {"key": "shopee-sg", "platform": "shopee", "name": "Shopee SG", "endpoint": "http://127.0.0.1:1/shopee",
              "credentials": {"partner_id": "SP_ID", "partner_key": "SP_KEY", "access_token": "SP_ACCESS",
                              "refresh_token": "SP_REFRESH"},
              "settings": {"shop_id": 1}, "category_map": {"Men/Tops": "100017"},
              "mapping": {"cod": True, "categories": {"100017": {"cod": False}}}}
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": [shopee]}), encoding="utf-8")
    with pytest.raises(StoresFileError) as err:
        load_stores(path)
    assert str(path) in str(err.value) and "store 'shopee-sg'" in str(err.value)
    assert "mapping.cod, mapping.categories.100017.cod: shopee listings have no cash-on-delivery setting" in str(
        err.value)
    shopee["mapping"] = {}
    path.write_text(yaml.safe_dump({"stores": [shopee]}), encoding="utf-8")
    assert load_stores(path).by_key("shopee-sg").mapping.cod is False
