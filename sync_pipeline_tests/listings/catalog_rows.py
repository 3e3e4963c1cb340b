"""Catalog rows for listing tests, written straight into the catalog tables (no Magento involved)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert

from sync_pipeline.catalog.product import CatalogProduct, product_from_rows
from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.db import create_all

NOW = datetime(2026, 11, 1, 12, 0, 0)


def product_row(sku: str, source_id: int = 1, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": sku,
        "source_id": source_id,
        "type_id": "simple",
        "title": "Montana Wind Jacket",
        "description": "<p>Light <strong>wind</strong> jacket.</p><ul><li>Hood</li><li>Zip</li></ul>",
        "url_key": f"{sku.lower()}-jacket",
        "price": Decimal("40.00"),
        "special_price": None,
        "stock_qty": 7,
        "is_active": True,
        "weight": Decimal("0.8"),
        "categories": ["Men/Tops/Jackets"],
        "images": [f"https://img.example/{sku}/{i}.jpg" for i in range(4)],
        "attributes": {"material": "Polyester"},
        "content_hash": "x" * 64,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(overrides)
    return row


def variant_row(sku: str, parent_sku: str, position: int = 0, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": sku,
        "parent_sku": parent_sku,
        "source_id": 1000 + position,
        "price": None,
        "special_price": None,
        "stock_qty": 3,
        "is_active": True,
        "options": {"color": "Blue", "size": "M"},
        "weight": None,
        "image": None,
        "position": position,
    }
    row.update(overrides)
    return row


def configurable(sku: str, source_id: int, colors: tuple[str, ...] = ("Blue", "Black"), sizes: tuple[str, ...] = ("S", "M"),
                 **overrides: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    product = product_row(sku, source_id, type_id="configurable", **overrides)
    variants = [
        variant_row(f"{sku}-{size}-{color}", sku, position=i, options={"color": color, "size": size})
        for i, (color, size) in enumerate((c, s) for c in colors for s in sizes)
    ]
    return product, variants


def insert_catalog(engine: Engine, products: list[dict[str, Any]], variants: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
    create_all(engine)
    with engine.begin() as conn:
        if products:
            conn.execute(insert(catalog_products), products)
        if variants:
            conn.execute(insert(catalog_variants), list(variants))


def typed(product: dict[str, Any], variants: list[dict[str, Any]] | tuple[dict[str, Any], ...] = ()) -> CatalogProduct:
    """The catalog's typed product for these rows, as the listings read it (the rows must be readable)."""
    read = product_from_rows(product, list(variants))
    assert isinstance(read, CatalogProduct), read
    return read
