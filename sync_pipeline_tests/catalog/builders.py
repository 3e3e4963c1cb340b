"""Hand-built Magento products for the catalog tests (the values the extractor would hand over)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sync_pipeline.magento.records import SourceProduct, SourceVariant


def simple(source_id: int, **changes: Any) -> SourceProduct:
    product = SourceProduct(
        source_id=source_id,
        sku=f"SKU-{source_id}",
        type_id="simple",
        title=f"Product {source_id}",
        description="<p>Nice</p>",
        url_key=f"product-{source_id}",
        price=Decimal("19.90"),
        special_price=None,
        stock_qty=5,
        is_enabled=True,
        is_in_stock=True,
        weight=Decimal("1.2"),
        categories=("Men/Tops",),
        images=tuple(f"https://shop.test/media/{source_id}-{n}.jpg" for n in range(3)),
        attributes={"material": "Cotton"},
    )
    return replace(product, **changes)


def child(source_id: int, color: str, size: str, **changes: Any) -> SourceVariant:
    variant = SourceVariant(
        source_id=source_id,
        sku=f"SKU-{source_id}",
        price=Decimal("25"),
        special_price=None,
        stock_qty=3,
        is_enabled=True,
        is_in_stock=True,
        options={"color": color, "size": size},
    )
    return replace(variant, **changes)


def configurable(source_id: int, children: tuple[SourceVariant, ...], **changes: Any) -> SourceProduct:
    sellable = [c for c in children if c.is_sellable]
    return simple(
        source_id,
        type_id="configurable",
        price=min((c.price for c in sellable if c.price is not None), default=None),
        stock_qty=sum(c.stock_qty for c in sellable),
        variants=children,
        **changes,
    )
