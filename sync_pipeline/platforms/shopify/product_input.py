"""The ``productSet`` input of a listing (contract 5, real-stores 3.1), built without any call:
the per-product push and the bulk JSONL lines use the same input.

* The parent SKU is kept as a product tag ``sku:<SKU>`` (see client.py); ``productSet`` replaces
  the whole tag list, so tags are sent only when a product is created.
* Category: ``category`` is the taxonomy id the client resolved; ``productType`` stays free text
  (the last segment of the path), as Shopify never derives the category from it. ``vendor`` is the
  product's brand, renamed through ``settings.vendors`` when the store spells it differently.
* Media (contract 1.5): ``files`` is a list field that replaces, so an update sends the existing
  file ``id`` for every image whose source URL is unchanged and ``originalSource`` only for new
  ones; images no longer in the listing are left out and so removed. Shopify does not give our
  source URL back (``MediaImage.originalSource.url`` is its own short-lived copy), so each image's
  alt text ends with a short digest of its source URL (``[src:<16 hex>]``), and an update first
  reads the product's media (id, alt) to map source URLs to media ids. The mapping lives on the
  store itself, so it survives any client and needs nothing from the push's ledger; media a
  merchant added or whose alt lost the marker are not ours to keep and are replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.platforms.base import RemoteRef

SKU_TAG_PREFIX = "sku:"
TAXONOMY_ID_PREFIX = "gid://shopify/TaxonomyCategory/"
MEDIA_SOURCE_MARK = re.compile(r"\[src:([0-9a-f]{16})\]$")
SIMPLE_OPTION = ("Title", "Default Title")  # Shopify's option for a product without variants


def product_set_input(
    listing: Listing,
    ref: RemoteRef | None,
    media_ids: Mapping[str, str],
    *,
    location_id: str,
    vendors: Mapping[str, str],
    category: Callable[[str], str],
) -> dict[str, Any]:
    """``ProductSetInput`` of a listing. ``media_ids``: source URL -> media id of the images already
    on the product; ``vendors``: Magento brand -> the store's vendor name; ``category`` resolves a
    taxonomy path to its category id (asked only for a listing with a category)."""
    simple = not listing.options
    options = [SIMPLE_OPTION[0]] if simple else list(listing.options)
    product: dict[str, Any] = {
        "title": listing.title,
        "handle": listing.handle,
        "status": "ACTIVE" if listing.action == "list" else "DRAFT",
        "productOptions": [
            {
                "name": name,
                "position": i + 1,
                "values": [{"name": value} for value in _option_values(listing, name, simple)],
            }
            for i, name in enumerate(options)
        ],
        "variants": [
            _variant_input(listing, v, ref, simple, media_ids, location_id) for v in listing.variants
        ],
        "files": _files_input(listing, media_ids),
    }
    if listing.brand:  # settings.vendors maps a Magento brand to the store's vendor name
        product["vendor"] = str(vendors.get(listing.brand, listing.brand))
    if ref is None:  # a new product: our marker; later the tag list is the merchant's too
        product["tags"] = [f"{SKU_TAG_PREFIX}{listing.sku}"]
    if listing.description is not None:  # None: the store owns the description; leave it alone
        product["descriptionHtml"] = listing.description
    if listing.category_id:
        product["category"] = category(listing.category_id)
        if not listing.category_id.startswith(TAXONOMY_ID_PREFIX):
            product["productType"] = listing.category_id.split(" > ")[-1]
    return product

def _variant_input(
    listing: Listing,
    variant: ListingVariant,
    ref: RemoteRef | None,
    simple: bool,
    media_ids: Mapping[str, str],
    location_id: str,
) -> dict[str, Any]:
    option_values = (
        [{"optionName": SIMPLE_OPTION[0], "name": SIMPLE_OPTION[1]}]
        if simple
        else [{"optionName": name, "name": variant.options[name]} for name in listing.options]
    )
    encoded: dict[str, Any] = {
        "optionValues": option_values,
        "sku": variant.sku,
        "price": money(variant.price),
        "compareAtPrice": money(variant.compare_at_price),
        "inventoryItem": {"tracked": True},
    }
    if ref is not None and variant.sku in ref.variant_ids:
        encoded["id"] = ref.variant_ids[variant.sku]  # without an id productSet makes a new variant
    if location_id:
        encoded["inventoryQuantities"] = [
            {"locationId": location_id, "name": "available", "quantity": variant.stock_qty}
        ]
    weight = variant.weight_kg if variant.weight_kg is not None else listing.weight_kg
    if weight is not None:
        encoded["inventoryItem"]["measurement"] = {
            "weight": {"value": float(weight), "unit": "KILOGRAMS"}
        }
    if variant.image and variant.image in listing.images:
        # Must name one of the product's files (contract 1.5): the kept file by id, else the new one.
        kept = media_ids.get(variant.image)
        encoded["file"] = (
            {"id": kept} if kept else {"originalSource": variant.image, "contentType": "IMAGE"}
        )
    return encoded


def restore_input(raw: Mapping[str, Any], location_id: str) -> dict[str, Any]:
    """The ``ProductSetInput`` that puts back a product as read before the push (``RemoteProduct.raw``)."""
    nodes = raw["variants"]["nodes"]
    names: list[str] = []
    values: dict[str, list[str]] = {}
    for variant in nodes:
        for option in variant["selectedOptions"]:
            if option["name"] not in values:
                names.append(option["name"])
                values[option["name"]] = []
            if option["value"] not in values[option["name"]]:
                values[option["name"]].append(option["value"])
    variants = []
    for variant in nodes:
        encoded: dict[str, Any] = {
            "id": variant["id"],
            "optionValues": [{"optionName": o["name"], "name": o["value"]} for o in variant["selectedOptions"]],
            "sku": variant.get("sku"),
            "price": variant["price"],
            "compareAtPrice": variant.get("compareAtPrice"),
        }
        if location_id and variant.get("inventoryQuantity") is not None:
            encoded["inventoryQuantities"] = [
                {"locationId": location_id, "name": "available", "quantity": variant["inventoryQuantity"]}
            ]
        variants.append(encoded)
    product_input: dict[str, Any] = {
        "title": raw["title"],
        "handle": raw["handle"],
        "descriptionHtml": raw.get("descriptionHtml") or "",
        "vendor": raw.get("vendor") or "",
        "productType": raw.get("productType") or "",
        "status": raw["status"],
        "productOptions": [
            {"name": name, "position": i + 1, "values": [{"name": v} for v in values[name]]}
            for i, name in enumerate(names)
        ],
        "variants": variants,
    }
    if "media" in raw:
        product_input["files"] = [
            {"originalSource": m["url"], "contentType": "IMAGE", "alt": m.get("alt") or ""} for m in raw["media"]
        ]
    return product_input


def source_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _media_alt(title: str, url: str) -> str:
    return f"{title} [src:{source_key(url)}]"


def _files_input(listing: Listing, media_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The product's files: kept images by id, new ones by URL; images left out are removed."""
    files: list[dict[str, Any]] = []
    for url in dict.fromkeys(listing.images):  # one file per URL: a repeat would be a second copy
        alt = _media_alt(listing.title, url)
        kept = media_ids.get(url)
        files.append(
            {"id": kept, "alt": alt} if kept else {"originalSource": url, "contentType": "IMAGE", "alt": alt}
        )
    return files


def _option_values(listing: Listing, name: str, simple: bool) -> list[str]:
    if simple:
        return [SIMPLE_OPTION[1]]
    values: list[str] = []
    for variant in listing.variants:
        value = variant.options[name]
        if value not in values:
            values.append(value)
    return values


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
