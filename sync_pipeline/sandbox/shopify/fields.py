"""Shopify sandbox: the product and variant fields beyond title/options/variants/media.

SEO, metafields, inventory item fields (``requiresShipping``, ``cost`` as ``unitCost``, ``tracked``,
origin codes, measurement), ``inventoryPolicy`` and ``taxable``, with the defaults Shopify shows on
a new product (recorded responses in ``airhorns/shopify-draft-proxy`` fixtures
``2025-01/products/product-variants-bulk-*.json`` and ``metafields-set-*.json``: ``seo`` is
``{title: null, description: null}``, ``inventoryPolicy`` ``DENY``, ``taxable`` true,
``requiresShipping`` true; a metafield without namespace lands in the app's ``app--<id>``
namespace; ``compareDigest`` is a 64-hex digest).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sync_pipeline.sandbox.shopify import paging

APP_NAMESPACE = "app--1001"  # the sandbox's one app; Shopify answers app--<api client id>
SHOP_CURRENCY = "USD"
_ITEM_KEYS = (
    "requiresShipping",
    "tracked",
    "countryCodeOfOrigin",
    "provinceCodeOfOrigin",
    "harmonizedSystemCode",
    "countryHarmonizedSystemCodes",
    "measurement",
)
_VARIANT_KEYS = ("inventoryPolicy", "taxable", "taxCode", "showUnitPrice", "unitPriceMeasurement",
                 "requiresComponents")  # fmt: skip
_PRODUCT_KEYS = ("templateSuffix", "giftCardTemplateSuffix", "giftCard", "requiresSellingPlan",
                 "combinedListingRole", "collections")  # fmt: skip


def now_digest(record: dict[str, Any]) -> str:
    body = json.dumps([record["namespace"], record["key"], record["type"], record["value"]])
    return hashlib.sha256(body.encode()).hexdigest()


def metafield_record(new_id: str, given: dict[str, Any], stamp: str, before: dict[str, Any] | None) -> dict[str, Any]:
    record = {
        "id": before["id"] if before else new_id,
        "namespace": given.get("namespace") or APP_NAMESPACE,
        "key": given["key"],
        "type": given.get("type") or (before or {}).get("type"),
        "value": given["value"],
        "createdAt": before["createdAt"] if before else stamp,
        "updatedAt": stamp,
    }
    record["compareDigest"] = now_digest(record)
    return record


def merge_metafields(
    current: list[dict[str, Any]], given: list[dict[str, Any]], new_id: Any, stamp: str
) -> list[dict[str, Any]]:
    """``given`` set on top of ``current`` by (namespace, key); ``new_id()`` hands out ids."""
    merged = {(m["namespace"], m["key"]): m for m in current}
    for metafield in given:
        key = (metafield.get("namespace") or APP_NAMESPACE, metafield["key"])
        merged[key] = metafield_record(new_id(), metafield, stamp, merged.get(key))
    return list(merged.values())


def apply_product_extras(product: dict[str, Any], given: dict[str, Any]) -> None:
    if given.get("seo") is not None:
        product["seo"] = {"title": given["seo"].get("title"), "description": given["seo"].get("description")}
    for key in _PRODUCT_KEYS:
        if given.get(key) is not None:
            product[key] = given[key]


def apply_variant_extras(variant: dict[str, Any], given: dict[str, Any]) -> None:
    for key in _VARIANT_KEYS:
        if given.get(key) is not None:
            variant[key] = given[key]
    item_input = given.get("inventoryItem") or {}
    item = dict(variant["inventoryItem"])
    for key in _ITEM_KEYS:
        if item_input.get(key) is not None:
            item[key] = item_input[key]
    if "cost" in item_input:
        item["cost"] = None if item_input["cost"] is None else str(item_input["cost"])
    variant["inventoryItem"] = item


def _metafield_fields(owner: dict[str, Any]) -> dict[str, Any]:
    metafields = owner.get("metafields") or []

    def one(_info: Any, key: str, namespace: str | None = None) -> dict[str, Any] | None:
        wanted = namespace or APP_NAMESPACE
        return next((m for m in metafields if m["key"] == key and m["namespace"] == wanted), None)

    def many(_info: Any, namespace: str | None = None, keys: list[str] | None = None, **page: Any) -> dict[str, Any]:
        chosen = [
            m for m in metafields
            if (namespace is None or m["namespace"] == namespace)
            and (keys is None or f"{m['namespace']}.{m['key']}" in keys)
        ]  # fmt: skip
        return paging.connection(chosen, lambda m: m, **page)

    return {"metafield": one, "metafields": many}


def product_fields(product: dict[str, Any]) -> dict[str, Any]:
    variants = product["variants"]
    return {
        "seo": product.get("seo") or {"title": None, "description": None},
        "totalInventory": sum(sum(v["inventory"].values()) for v in variants),
        "tracksInventory": any(v["inventoryItem"].get("tracked", True) for v in variants),
        "hasOnlyDefaultVariant": len(variants) == 1 and variants[0]["title"] == "Default Title",
        **_metafield_fields(product),
    }


def variant_fields(variant: dict[str, Any]) -> dict[str, Any]:
    item = variant["inventoryItem"]
    cost = item.get("cost")
    return {
        "inventoryPolicy": variant.get("inventoryPolicy", "DENY"),
        "taxable": variant.get("taxable", True),
        "inventoryItem": {
            **item,
            "tracked": item.get("tracked", True),
            "requiresShipping": item.get("requiresShipping", True),
            "unitCost": None if cost is None else {"amount": cost, "currencyCode": SHOP_CURRENCY},
            "measurement": {
                "id": item["id"].replace("/InventoryItem/", "/InventoryItemMeasurement/"),
                "weight": (item.get("measurement") or {}).get("weight"),
            },
        },
        **_metafield_fields(variant),
    }
