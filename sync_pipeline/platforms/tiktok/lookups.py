"""The shop's catalog rules from TikTok's look-ups (real-stores 1.3), as platform-neutral StoreRules.

One read per store: the category tree of the shop's ``category_version``, Rules and Attributes of
each mapped leaf, the brands (paged, 100 a page) and the warehouses. The look-ups are shop-scoped,
and on a US shop they carry ``category_version=v2`` like the create does (real-stores 1.2).

``requirement_conditions`` (of an attribute or a certification): any one met makes it required.
The only ``condition_type`` TikTok documents is VALUE_ID_MATCH (the listing chose that value id for
that attribute; LZ get-attributes and get-category-rules, 2025-12); a condition without a type is
read as one. A condition of another type cannot be evaluated here, so its attribute or certification
is taken as always required: the listing is held back with a reason instead of refused by TikTok.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_pipeline.listings.rules import AttributeRule, CategoryRules, CertificationRule, StoreRules
from sync_pipeline.platforms.tiktok.wire import Wire

CATEGORIES = "/product/202309/categories"
BRANDS = "/product/202309/brands"
WAREHOUSES = "/logistics/202309/warehouses"
VALUE_ID_MATCH = "VALUE_ID_MATCH"


def read_catalog_rules(
    wire: Wire, store_key: str, platform: str, region: str, category_version: str, category_ids: Sequence[str]
) -> StoreRules:
    version = {"category_version": category_version}
    tree = {str(c["id"]): c for c in wire.call("GET", CATEGORIES, "category.list", query=version)
            .get("categories") or []}
    allowed, refused = _brands(wire, category_version)
    categories = {}
    for category_id in dict.fromkeys(str(c) for c in category_ids):
        node = tree.get(category_id)
        if node is None:
            continue  # reported by the listings' check: not a category of this shop
        leaf = bool(node.get("is_leaf"))
        rules = (wire.call("GET", f"{CATEGORIES}/{category_id}/rules", "category.rules", query=version)
                 if leaf else {})
        attributes = (wire.call("GET", f"{CATEGORIES}/{category_id}/attributes", "category.attributes",
                                query=version).get("attributes") or []) if leaf else []
        categories[category_id] = CategoryRules(
            category_id=category_id,
            name=str(node.get("local_name") or ""),
            leaf=leaf,
            usable="AVAILABLE" in (node.get("permission_statuses") or []),
            attributes=tuple(_attribute_rule(a) for a in attributes if a.get("type") == "PRODUCT_PROPERTY"),
            brands=allowed,
            refused_brands=refused,
            size_chart_required=bool((rules.get("size_chart") or {}).get("is_required")),
            **_certifications(rules.get("product_certifications") or []),
            dimensions_required=bool((rules.get("package_dimension") or {}).get("is_required")),
            cod_supported=bool((rules.get("cod") or {}).get("is_supported")),
        )
    warehouses = wire.call("GET", WAREHOUSES, "warehouse.list").get("warehouses") or []
    return StoreRules(
        store_key=store_key, platform=platform, read_at=datetime.now(UTC), region=region,
        categories=categories,
        warehouses=tuple(str(w["id"]) for w in warehouses
                         if w.get("type") == "SALES_WAREHOUSE" and w.get("effect_status") == "ENABLED"),
    )


def _attribute_rule(attribute: Mapping[str, Any]) -> AttributeRule:
    conditions = _conditions(attribute.get("requirement_conditions"))
    return AttributeRule(
        attribute_id=str(attribute["id"]), name=str(attribute["name"]),
        required=bool(attribute.get("is_requried")) or conditions is None,  # sic: TikTok's spelling
        values={str(v["name"]): str(v["id"]) for v in attribute.get("values") or []},
        customizable=bool(attribute.get("is_customizable")),
        multiple=bool(attribute.get("is_multiple_selection")),
        required_when=conditions or (),
    )


def _certifications(entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Rules' product_certifications as CategoryRules fields: the always required ones, and those
    required when a condition is met. A certification that is neither is optional: not kept."""
    required: list[tuple[str, str]] = []
    conditional: list[CertificationRule] = []
    for entry in entries:
        cert_id, name = str(entry["id"]), str(entry.get("name") or entry["id"])
        conditions = _conditions(entry.get("requirement_conditions"))
        if entry.get("is_required") or conditions is None:
            required.append((cert_id, name))
        elif conditions:
            conditional.append(CertificationRule(cert_id, name, conditions))
    return {"certifications": tuple(required), "conditional_certifications": tuple(conditional)}


def _conditions(raw: Any) -> tuple[tuple[str, str], ...] | None:
    """requirement_conditions as (attribute id, value id) pairs; None when one cannot be evaluated."""
    pairs = []
    for condition in raw or []:
        if str(condition.get("condition_type") or VALUE_ID_MATCH) != VALUE_ID_MATCH:
            return None
        if condition.get("attribute_id") and condition.get("attribute_value_id"):
            pairs.append((str(condition["attribute_id"]), str(condition["attribute_value_id"])))
    return tuple(pairs)


def _brands(wire: Wire, category_version: str) -> tuple[dict[str, str], dict[str, str]]:
    """(usable, refused) brands by name: unauthorized top-tier (T1) brands cannot be used."""
    allowed: dict[str, str] = {}
    refused: dict[str, str] = {}
    token = ""
    while True:
        query = {"page_size": "100", "category_version": category_version}
        if token:
            query["page_token"] = token
        data = wire.call("GET", BRANDS, "brand.list", query=query)
        for brand in data.get("brands") or []:
            unauthorized = brand.get("authorized_status") != "AUTHORIZED"
            target = refused if brand.get("is_t1_brand") and unauthorized else allowed
            target[str(brand["name"])] = str(brand["id"])
        token = str(data.get("next_page_token") or "")
        if not token:
            return allowed, refused
