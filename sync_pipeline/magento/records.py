"""What the extractor hands to the catalog: one record per sellable Magento product.

These are plain values (no ORM, no Dagster) so the catalog layer and the tests can build them
directly. Money is always ``Decimal``; ``None`` means Magento had no usable value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class SourceVariant:
    """A simple child of a configurable product, sold as one variant of its parent."""

    source_id: int
    sku: str
    price: Decimal | None
    special_price: Decimal | None  # only when its date window covers today
    stock_qty: int
    is_enabled: bool
    is_in_stock: bool
    options: dict[str, str]  # super-attribute code -> option label, e.g. {"color": "Blue", "size": "M"}
    weight: Decimal | None = None
    image: str | None = None  # the child's own base image URL, if it has one
    manages_stock: bool = True  # False: Magento does not count stock; always in stock, qty meaningless
    # Why this child cannot be sold as a variant (VARIANT_PROBLEMS), None when it can be: its parent
    # keeps the other variants and the import reports this one with the reason.
    problem: str | None = None
    backorders: bool = False  # Magento takes orders beyond the stock (cataloginventory backorders 1 or 2)

    @property
    def is_sellable(self) -> bool:
        return (self.problem is None and self.is_enabled and self.is_in_stock
                and (self.stock_qty > 0 or not self.manages_stock or self.backorders))


# The product types the pipeline lists; every other type (virtual, bundle, grouped, downloadable,
# giftcard) is counted as not synced and never sold (magento/reader.py says why).
SYNCED_TYPES = ("simple", "configurable")

# A bad child of a configurable: the reasons the reader gives (SourceVariant.problem).
VARIANT_DISABLED = "disabled"
VARIANT_NO_STOCK_ROW = "no stock row"
VARIANT_NO_PRICE = "no price"
VARIANT_PROBLEMS = (VARIANT_DISABLED, VARIANT_NO_STOCK_ROW, VARIANT_NO_PRICE)


@dataclass(frozen=True)
class SourceProduct:
    """One product as the shop sells it: a simple product, or a configurable parent with variants."""

    source_id: int  # catalog_product_entity.entity_id
    sku: str
    type_id: str  # simple | configurable (SYNCED_TYPES); others are read back but never sold
    title: str
    description: str  # HTML as stored in Magento
    url_key: str | None
    price: Decimal | None  # regular price; for configurables the lowest sellable child price
    special_price: Decimal | None  # active today (date window checked), else None
    stock_qty: int  # for configurables the sum of sellable children
    is_enabled: bool  # status == 1 in the configured store view
    is_in_stock: bool
    weight: Decimal | None
    categories: tuple[str, ...]  # category paths below the store root, e.g. "Men/Tops/Jackets"
    images: tuple[str, ...]  # absolute URLs, base image first, then gallery position order
    attributes: dict[str, str] = field(default_factory=dict)  # code -> option labels or free text
    variants: tuple[SourceVariant, ...] = ()
    updated_at: datetime | None = None
    manages_stock: bool = True  # False: Magento does not count stock; always in stock, qty meaningless
    backorders: bool = False  # Magento takes orders beyond the stock: sellable at 0 (stores decide to list)

    @property
    def is_sellable(self) -> bool:
        """The seed's import rule: enabled and in stock (a configurable needs a sellable child)."""
        if self.type_id not in SYNCED_TYPES:
            return False
        if self.type_id == "configurable":
            return self.is_enabled and any(v.is_sellable for v in self.variants)
        return self.is_enabled and self.is_in_stock and (self.stock_qty > 0 or not self.manages_stock
                                                         or self.backorders)

    @property
    def variant_problems(self) -> list[tuple[str, str]]:
        """(variant SKU, reason) of each child that cannot be sold; the others stay variants."""
        return [(v.sku, v.problem) for v in self.variants if v.problem is not None]


@dataclass(frozen=True)
class RejectedRow:
    """A source product that cannot enter the catalog, with the reason a person can act on."""

    source_id: int
    sku: str
    reason: str


@dataclass(frozen=True)
class ProductChunk:
    """One chunk of an extraction pass (or of a re-read), with what a cursor needs to move on.

    ``last_source_id`` is the highest candidate id *examined* in the chunk, sellable or not, so a
    cursor can advance past ids that produced nothing; ``examined`` counts those candidates.
    """

    products: list[SourceProduct]
    rejected: list[RejectedRow]
    last_source_id: int
    examined: int
    # Products of types the pipeline does not sync (bundle, grouped, downloadable...) among the
    # ids this chunk looked past, by type: an owner sees what is left out, not just that it is.
    unsynced_types: dict[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[SourceProduct | RejectedRow]:
        yield from self.products
        yield from self.rejected


@dataclass(frozen=True)
class StockStatus:
    """The cheap per-run view of a product: enabled, in stock (by the import rule) and how many."""

    enabled: bool
    in_stock: bool
    qty: int  # configurables: the sum over sellable children
    priced: bool = True  # a price above 0: a variant without one is never sold (SourceVariant.problem)

    @property
    def is_sellable(self) -> bool:
        return self.enabled and self.in_stock
