"""Listings for push tests: small, valid, platform-neutral."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sync_pipeline.listings.model import Listing, ListingVariant


def make_listing(sku: str, *, store_key: str = "store-a", platform: str = "shopify", price: str = "10.00",
                 stock: int = 5, title: str | None = None, description: str = "<p>Nice</p>",
                 variants: int = 3, images: int = 4, action: str = "list", valid: bool = True,
                 source_id: int = 1) -> Listing:
    sizes = ["S", "M", "L", "XL", "XXL"][:variants]
    listing_variants = tuple(
        ListingVariant(sku=f"{sku}-{size}", price=Decimal(price), compare_at_price=None,
                       stock_qty=0 if action == "delist" else stock, options={"Size": size})
        for size in sizes
    ) or (ListingVariant(sku=sku, price=Decimal(price), compare_at_price=None, stock_qty=stock),)
    return Listing(
        store_key=store_key, platform=platform, sku=sku, source_id=source_id, action=action,  # type: ignore[arg-type]
        title=title or f"Product {sku}", description=description, price=Decimal(price),
        compare_at_price=None, currency="USD", stock_qty=sum(v.stock_qty for v in listing_variants),
        images=tuple(f"https://img.example/{sku}/{i}.jpg" for i in range(images)), category_id="cat-1",
        handle=sku.lower(), options=("Size",) if variants else (), variants=listing_variants, valid=valid,
        reasons=() if valid else ("price must be above 0",),
    )


def with_price(listing: Listing, price: str) -> Listing:
    return dataclasses.replace(
        listing, price=Decimal(price),
        variants=tuple(dataclasses.replace(v, price=Decimal(price)) for v in listing.variants))


def with_stock(listing: Listing, stock: int) -> Listing:
    variants = tuple(dataclasses.replace(v, stock_qty=stock) for v in listing.variants)
    return dataclasses.replace(listing, variants=variants, stock_qty=sum(v.stock_qty for v in variants))
