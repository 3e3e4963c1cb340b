"""The catalog's hand-off to the listings: a frozen, typed ``CatalogProduct`` with its variants.

The catalog builds it once: ``normalize.py`` from a Magento record (SKU, title, money and stock
validated there, prices quantized), and ``product_from_rows`` from the ``catalog_products`` /
``catalog_variants`` rows the listings read back. Everything downstream (pricing, titles, shapes,
the audits) reads attributes of it: prices are Decimals or None, stock an int, categories and
images tuples of non-blank strings, attributes and options str -> str. No listings module parses
a catalog value again.

A row the catalog's writers could not have produced (a price that is not a number, an images
column that is not a list ...) is an ``UnreadableProduct``: it names the error, and the listings
turn it into an invalid listing instead of stopping the other products of the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sync_pipeline.money import to_decimal


@dataclass(frozen=True)
class CatalogVariant:
    """A ``catalog_variants`` row: what a product is sold as (a simple product has one, its own SKU)."""

    sku: str
    parent_sku: str
    source_id: int
    price: Decimal | None  # None: sells at its parent's price (Magento falls back the same way)
    special_price: Decimal | None
    stock_qty: int  # salable, never negative
    is_active: bool
    options: Mapping[str, str] = field(default_factory=dict)  # axis code -> label; {} for a simple product
    weight: Decimal | None = None
    image: str | None = None
    position: int = 0
    problem: str | None = None  # why a configurable's child is not sold; None when it can be
    backorders: bool | None = None  # Magento sells it beyond its stock (None: the column predates it)
    first_parent: str | None = None  # read side only: the lowest-id parent when several products share the SKU

    def row(self) -> dict[str, Any]:
        """The ``catalog_variants`` columns (without id)."""
        return {
            "sku": self.sku, "parent_sku": self.parent_sku, "source_id": self.source_id, "price": self.price,
            "special_price": self.special_price, "stock_qty": self.stock_qty, "is_active": self.is_active,
            "options": dict(self.options), "weight": self.weight, "image": self.image, "position": self.position,
            "problem": self.problem, "backorders": self.backorders,
        }  # fmt: skip


@dataclass(frozen=True)
class CatalogProduct:
    """A ``catalog_products`` row and its variants, as the catalog validated them."""

    sku: str
    source_id: int
    type_id: str
    title: str
    description: str
    url_key: str | None
    price: Decimal | None  # regular price
    special_price: Decimal | None  # only while it undercuts the regular price
    stock_qty: int
    is_active: bool  # sellable in Magento (see magento/records.py: SourceProduct.is_sellable)
    weight: Decimal | None
    categories: tuple[str, ...]  # category paths, e.g. "Men/Tops/Jackets"
    images: tuple[str, ...]  # URLs in display order
    attributes: Mapping[str, str]
    backorders: bool | None = None
    source_updated_at: datetime | None = None
    variants: tuple[CatalogVariant, ...] = ()

    def row(self) -> dict[str, Any]:
        """The ``catalog_products`` columns (without id, content hash and timestamps)."""
        return {
            "sku": self.sku, "source_id": self.source_id, "type_id": self.type_id, "title": self.title,
            "description": self.description, "url_key": self.url_key, "price": self.price,
            "special_price": self.special_price, "stock_qty": self.stock_qty, "is_active": self.is_active,
            "weight": self.weight, "categories": list(self.categories), "images": list(self.images),
            "attributes": dict(self.attributes), "source_updated_at": self.source_updated_at,
            "backorders": self.backorders,
        }  # fmt: skip


@dataclass(frozen=True)
class UnreadableProduct:
    """A catalog row that cannot become a ``CatalogProduct``; ``error`` says why (``Kind: message``)."""

    sku: str
    source_id: int
    title: str
    error: str


def product_from_rows(
    row: Mapping[str, Any], variant_rows: Sequence[Mapping[str, Any]]
) -> CatalogProduct | UnreadableProduct:
    """The typed product of a ``catalog_products`` row and its ``catalog_variants`` rows.

    Extra keys (``id``, timestamps) are ignored; columns an older app DB lacks take their defaults.
    ``first_parent_sku`` on a variant row (``listings/store.py``) becomes ``first_parent``."""
    try:
        return CatalogProduct(
            sku=str(row.get("sku") or "").strip(),
            source_id=int(row["source_id"]),
            type_id=str(row.get("type_id") or "simple"),
            title=str(row.get("title") or ""),
            description=str(row.get("description") or ""),
            url_key=row.get("url_key") or None,
            price=to_decimal(row.get("price")),
            special_price=to_decimal(row.get("special_price")),
            stock_qty=int(row.get("stock_qty") or 0),
            is_active=bool(row.get("is_active")),
            weight=to_decimal(row.get("weight")),
            categories=_strings(row.get("categories"), "categories"),
            images=_strings(row.get("images"), "images"),
            attributes=_labels(row.get("attributes"), "attributes"),
            backorders=row.get("backorders"),
            source_updated_at=row.get("source_updated_at"),
            variants=tuple(_variant(v) for v in variant_rows),
        )
    except (ArithmeticError, KeyError, TypeError, ValueError) as exc:
        source_id = str(row.get("source_id", ""))
        return UnreadableProduct(
            sku=str(row.get("sku") or ""),
            source_id=int(source_id) if source_id.isdigit() else 0,
            title=str(row.get("title") or ""),
            error=f"{type(exc).__name__}: {exc}",
        )


def _variant(row: Mapping[str, Any]) -> CatalogVariant:
    sku = str(row.get("sku"))
    return CatalogVariant(
        sku=sku,
        parent_sku=str(row.get("parent_sku") or ""),
        source_id=int(row.get("source_id") or 0),
        price=to_decimal(row.get("price")),
        special_price=to_decimal(row.get("special_price")),
        stock_qty=int(row.get("stock_qty") or 0),
        is_active=bool(row.get("is_active", True)),
        options=_labels(row.get("options"), "options of", sku),
        weight=to_decimal(row.get("weight")),
        image=str(row["image"]) if row.get("image") else None,
        position=int(row.get("position") or 0),
        problem=row.get("problem"),
        backorders=row.get("backorders"),
        first_parent=row.get("first_parent_sku"),
    )


def _json(value: Any) -> Any:
    # A driver that hands JSON columns back as text.
    return json.loads(value) if isinstance(value, str | bytes) else value


def _strings(value: Any, field_name: str) -> tuple[str, ...]:
    value = _json(value)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{field_name} is not a list")
    return tuple(str(v) for v in value if v is not None and str(v).strip())


def _labels(value: Any, field_name: str, of: str = "") -> dict[str, str]:
    if not isinstance(value, dict):  # the usual case, a dict from the driver, without the detour
        value = _json(value)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"{field_name} {of} is not an object" if of else f"{field_name} is not an object")
    return {str(k): str(v) for k, v in value.items() if v is not None}
