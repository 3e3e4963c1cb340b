"""From a Magento product as the extractor reads it to the rows of the normalized catalog.

A simple product becomes one ``catalog_products`` row and one ``catalog_variants`` row with the
same SKU and no options, so every product, simple or configurable, is sold through its variants.
A configurable product's children become its variants, with their option labels.

A product that cannot be stored as it is (no SKU, no title, no price while sellable, a value that
does not fit its column) is rejected with a reason a person can act on; it never reaches the DB,
so a bad row cannot abort a whole chunk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sync_pipeline.catalog.product import CatalogProduct, CatalogVariant
from sync_pipeline.magento.records import RejectedRow, SourceProduct, SourceVariant
from sync_pipeline.money import MONEY_SCALE

SKU_MAX = 64
TITLE_MAX = 512
URL_KEY_MAX = 255
IMAGE_URL_MAX = 1024
STOCK_MAX = 2_147_483_647  # catalog stock columns are 32-bit integers
MONEY_MAX = Decimal("1e16")  # Numeric(20, 4)


@dataclass(frozen=True)
class CatalogEntry:
    """One product ready to upsert: the typed product (with its variants) and its content hash."""

    product: CatalogProduct
    content_hash: str

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def source_id(self) -> int:
        return self.product.source_id


class Rejected(ValueError):
    """A product that cannot enter the catalog; the message is the reason."""


def normalize_product(source: SourceProduct) -> CatalogEntry | RejectedRow:
    """The product's catalog rows, or the reason it cannot be stored."""
    try:
        return _entry(source)
    except Rejected as exc:
        return RejectedRow(source_id=source.source_id, sku=source.sku or "", reason=str(exc))


def _entry(source: SourceProduct) -> CatalogEntry:
    sku = _sku(source.sku, "SKU")
    active = source.is_sellable
    title = (source.title or "").strip()
    if not title:
        raise Rejected("empty title (name)")
    if len(title) > TITLE_MAX:
        raise Rejected(f"title longer than {TITLE_MAX} characters ({len(title)})")
    if "\x00" in title or "\x00" in (source.description or ""):
        raise Rejected("NUL character in the name or description")
    price = _money(source.price, "price")
    if active and (price is None or price <= 0):
        raise Rejected("no price" if price is None else f"price must be above 0 (got {price})")
    url_key = source.url_key or None
    if url_key is not None and len(url_key) > URL_KEY_MAX:
        raise Rejected(f"url_key longer than {URL_KEY_MAX} characters")
    product = CatalogProduct(
        sku=sku,
        source_id=source.source_id,
        type_id=source.type_id or "simple",
        title=title,
        description=source.description or "",
        url_key=url_key,
        categories=tuple(source.categories),
        images=tuple(source.images),
        attributes=dict(sorted(source.attributes.items())),
        source_updated_at=source.updated_at,
        **_sold_as(source, price, active),
    )
    product = replace(product, variants=_variants(source, product))
    return CatalogEntry(product=product, content_hash=content_hash(product))


def _variants(source: SourceProduct, product: CatalogProduct) -> tuple[CatalogVariant, ...]:
    if source.type_id != "configurable":
        # Sold through one variant: itself (no options, position 0, nothing left out).
        own = (product.sku, product.sku, product.source_id, product.price, product.special_price, product.stock_qty,
               product.is_active)
        image = _image(source.images[0] if source.images else None)
        return (CatalogVariant(*own, weight=product.weight, image=image, backorders=source.backorders),)
    found = []
    seen: set[str] = set()
    for position, variant in enumerate(source.variants):
        typed = _variant(variant, product, position)
        if typed.sku in seen or typed.sku == product.sku:
            raise Rejected(f"variant SKU {typed.sku!r} appears twice in the product")
        seen.add(typed.sku)
        found.append(typed)
    return tuple(found)


def _variant(variant: SourceVariant, product: CatalogProduct, position: int) -> CatalogVariant:
    sku = _sku(variant.sku, f"variant SKU (child {variant.source_id})")
    active = product.is_active and variant.is_sellable
    price = _money(variant.price, f"price of variant {sku}")
    if active and (price is None or price <= 0):
        raise Rejected(f"variant {sku} is sellable but has no price above 0")
    return CatalogVariant(
        sku=sku,
        parent_sku=product.sku,
        source_id=variant.source_id,
        options=dict(variant.options),
        image=_image(variant.image),
        position=position,
        problem=variant.problem,  # shown by product_status and `sync-pipeline status SKU`
        **_sold_as(variant, price, active),
    )


def _sold_as(source: SourceProduct | SourceVariant, price: Decimal | None, active: bool) -> dict[str, Any]:
    """What a product and a variant carry alike: prices, salable stock, status, weight, backorders."""
    return {
        "price": price,
        "special_price": _special_price(source.special_price, price),
        "stock_qty": _stock(source.stock_qty),
        "is_active": active,
        "weight": _weight(source.weight),
        "backorders": source.backorders,
    }


def content_hash(product: CatalogProduct) -> str:
    """A digest of everything a store would show (its rows), so an unchanged product is never rewritten.

    ``source_updated_at`` is left out: Magento moves it on saves that change nothing we sell.
    """
    # Columns added later hash as before they existed while they hold nothing: upgrading rewrites nothing.
    content = {key: value for key, value in product.row().items()
               if key != "source_updated_at" and not (key == "backorders" and not value)}
    shown = [{k: v for k, v in variant.items() if not (k in ("problem", "backorders") and not v)}
             for variant in (v.row() for v in product.variants)]
    body = json.dumps({"product": content, "variants": shown}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _sku(value: str | None, what: str) -> str:
    sku = (value or "").strip()
    if not sku:
        raise Rejected(f"empty {what}")
    if len(sku) > SKU_MAX:
        raise Rejected(f"{what} longer than {SKU_MAX} characters")
    return sku


def _money(value: Decimal | None, what: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or abs(value) >= MONEY_MAX:
        raise Rejected(f"{what} out of range ({value})")
    return value.quantize(MONEY_SCALE)


def _special_price(special: Decimal | None, price: Decimal | None) -> Decimal | None:
    """A special price only counts when it undercuts the regular price (Magento's own rule)."""
    special = _money(special, "special price")
    if special is None or special <= 0:
        return None
    if price is not None and special >= price:
        return None
    return special


def _stock(qty: int) -> int:
    """What can be sold: a negative quantity (backorders, bad data) sells nothing."""
    if qty > STOCK_MAX:
        raise Rejected(f"stock quantity out of range ({qty})")
    return max(int(qty), 0)


def _weight(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or abs(value) >= Decimal("1e8"):
        raise Rejected(f"weight out of range ({value})")
    return value.quantize(MONEY_SCALE)


def _image(url: str | None) -> str | None:
    if url is not None and len(url) > IMAGE_URL_MAX:
        raise Rejected(f"image URL longer than {IMAGE_URL_MAX} characters")
    return url
