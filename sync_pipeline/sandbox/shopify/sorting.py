"""Sort keys of the product reads (``ProductSortKeys``, ``ProductVariantSortKeys``).

Deterministic keys sort by their field, ties by id (``INVENTORY_TOTAL`` ascending, as recorded in
airhorns/shopify-draft-proxy ``2025-01/admin-platform/connection-sort-key-coverage.json``). Keys that
rank by data the sandbox does not keep (``POPULAR``, ``PUBLISHED_AT``, the inventory-management keys)
fall back to ``ID``, Shopify's default for the roots.

``RELEVANCE``: the 2026-07 schema describes it as "Sort by relevance to the search terms when the
``query`` parameter is specified on the connection. Don't use this sort key when no search query is
specified." Without free-text terms the sandbox answers in ``ID`` order. With them it ranks as a
plain text search would (Shopify does not publish its ranking, so this part is the sandbox's own,
chosen to be deterministic): a title equal to the search text first, then titles starting with it,
then the other matches, ties by id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _number(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _total(product: dict[str, Any]) -> int:
    return sum(sum(v["inventory"].values()) for v in product["variants"])


_PRODUCT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "CREATED_AT": lambda p: (p.get("createdAt") or "", _number(p["id"])),
    "INVENTORY_TOTAL": lambda p: (_total(p), _number(p["id"])),
    "PRODUCT_TYPE": lambda p: (p.get("productType") or "", _number(p["id"])),
    "TITLE": lambda p: (p.get("title") or "", _number(p["id"])),
    "UPDATED_AT": lambda p: (p.get("updatedAt") or "", _number(p["id"])),
    "VENDOR": lambda p: (p.get("vendor") or "", _number(p["id"])),
}


def sort_products(products: list[dict[str, Any]], key: str, text: str = "") -> list[dict[str, Any]]:
    """``text``: the query's free-text terms, joined (what RELEVANCE ranks by)."""
    if key == "RELEVANCE" and text:
        wanted = text.casefold()

        def relevance(p: dict[str, Any]) -> tuple[int, int]:
            title = (p.get("title") or "").casefold()
            return (0 if title == wanted else 1 if title.startswith(wanted) else 2), _number(p["id"])

        return sorted(products, key=relevance)
    return sorted(products, key=_PRODUCT_KEYS.get(key, lambda p: _number(p["id"])))


_VARIANT_KEYS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
    "ID": lambda v, p: _number(v["id"]),
    "POSITION": lambda v, p: (_number(p["id"]), v.get("position") or 0),
    "SKU": lambda v, p: (v.get("sku") or "", _number(v["id"])),
    "TITLE": lambda v, p: (v.get("title") or "", _number(v["id"])),
    "NAME": lambda v, p: (f"{p.get('title', '')} - {v.get('title', '')}", _number(v["id"])),
    "FULL_TITLE": lambda v, p: (f"{p.get('title', '')} - {v.get('title', '')}", _number(v["id"])),
    "INVENTORY_QUANTITY": lambda v, p: (sum(v["inventory"].values()), _number(v["id"])),
}


def sort_variant_pairs(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]], key: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(variant, product)`` pairs, as ``productVariants`` lists them."""
    rank = _VARIANT_KEYS.get(key, _VARIANT_KEYS["ID"])
    return sorted(pairs, key=lambda pair: rank(*pair))


def sort_variants(variants: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One product's variants (``Product.variants``, default ``POSITION``: the stored order)."""
    if key == "POSITION":
        return list(variants)
    product: dict[str, Any] = {"id": "", "title": ""}
    return [v for v, _ in sort_variant_pairs([(v, product) for v in variants], key)]
