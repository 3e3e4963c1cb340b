"""What generic code may ask of a platform: the one interface every platform's folder implements.

Each platform describes itself once, in ``platforms/<platform>/spec.py`` (a ``PlatformSpec``), and
``platforms/registry.py`` holds the three. Pricing, titles, the listing shape, the checks, the push
engine and the stores file ask the spec instead of branching on the platform's name, so adding a
platform is a new folder and one line in the registry.

This module and the specs import nothing of the project beyond ``listings.descriptions`` (pure text
functions): the stores file imports the registry, so a spec that imported the stores file or a
client would make a cycle. Clients are named by module and imported only when a store needs one.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # only for annotations: the stores file imports this module
    from sync_pipeline.platforms.base import StoreClient
    from sync_pipeline.stores import StoreConfig


class Platform(StrEnum):
    SHOPIFY = "shopify"
    SHOPEE = "shopee"
    TIKTOK = "tiktok"


@dataclass(frozen=True)
class PlatformLimits:
    """What one platform accepts (see contracts/platforms.md); a store's ``limits`` override them."""

    images: int
    options: int
    variants: int
    description_length: int
    option_name_length: int
    option_value_length: int
    seller_sku_length: int


@dataclass(frozen=True, eq=False)  # one per platform: hashed by identity, cheap as a cache key
class TitleStyle:
    """How a platform's titles read; ``listings/titles.py`` searches for a title in this style."""

    max_length: int
    min_length: int  # a store may override it with ``limits: {title_min_length: N}``
    separator: str  # between the product's words and the qualifiers: distinct per platform
    max_qualifiers: int
    # Qualifier phrases in the order they are offered, by kind: color, material, benefit_material
    # ("Breathable Cotton", from ``benefits``), category, audience ("Men"), for_audience ("for Men").
    qualifiers: tuple[str, ...]
    keeps_marks: bool = False  # trademark signs (™ ®) stay; other symbols and emoji never do
    drops_promotions: bool = False  # "free shipping" and the like are refused
    rejects_cjk: bool = False  # Chinese characters are refused
    foreign_separators: str = ""  # other platforms' separators, replaced by spaces
    brand_first: bool = False  # open with the brand when the master does not say it
    bare_allowed: bool = False  # the title may go without qualifiers
    benefit_led: bool = False  # lead with the material's benefit when a title with it lands in the band
    concise: bool = False  # shortenings drop every trailing phrase first
    benefits: Mapping[str, str] = field(default_factory=dict)  # material -> what it does for the buyer


class PlatformSpec:
    """One platform's knowledge that is not in its client: prices, limits, stock, description
    format, credentials, request budget. Subclasses set the attributes and override the hooks."""

    platform: Platform
    client_module: str  # imported only when a store of this platform needs a client
    client_class_name: str
    # "required": tokens rotate, a refreshed pair must be saved before use, so the client needs a
    # TokenStore; "optional": only when the store's credentials say the token expires or is asked for.
    token_store: Literal["required", "optional"]
    # Each choice is a set of credentials that must all be named in the stores file; one choice suffices.
    required_credentials: tuple[tuple[str, ...], ...]
    default_multiplier: Decimal  # price multiplier when the store's price rule sets none
    has_compare_at_price: bool  # the product model has a compare-at (was) price next to the price
    limits: PlatformLimits
    titles: TitleStyle
    refuses_zero_stock: bool = False  # a quantity must be >= 1: sold-out variants are left out
    max_stock: int | None = None  # the most one variant may show
    requires_weight: bool = False  # a listing without a package weight cannot be created
    bulk_loads: bool = False  # many creates can go as one bulk operation (push/bulk.py)
    # A store setting naming a weight (kg) the client sends for products without one (None: it sends none).
    default_weight_setting: str | None = None
    cod_per_listing: bool = False  # a listing may offer cash on delivery (the stores file's mapping.cod)
    default_requests_per_second: float

    def client_class(self) -> type[StoreClient]:
        found: type[StoreClient] = getattr(importlib.import_module(self.client_module), self.client_class_name)
        return found

    def description(self, raw: str, title: str, max_length: int) -> str:
        """The listing's description in the platform's format, from the catalog's HTML."""
        raise NotImplementedError

    def description_problems(self, tags: set[str]) -> list[str]:
        """What the platform rejects in a description using these HTML tags (for the checks)."""
        return []

    def invalid_seller_sku(self, skus: list[str], max_length: int) -> str | None:
        """The first variant SKU the platform would refuse as its seller SKU, or None."""
        return None

    def requests_per_second(self, store: StoreConfig) -> float:
        """The store's request budget: the stores file's figure, else the platform's default."""
        return store.rate_limit.requests_per_second or self.default_requests_per_second

    def waiting_workers(self, store: StoreConfig, requests_per_second: float) -> int:
        """Push threads to add for writes that hold their thread while no request is in flight."""
        return 0

    def default_weight_kg(self, store: StoreConfig) -> Decimal | None:
        """The weight (kg) the client sends for a listing the catalog gives none (the store's
        ``settings.<default_weight_setting>``), else None; the rules check asks the same
        (``listings.model.package_weight``)."""
        value = store.settings.get(self.default_weight_setting) if self.default_weight_setting else None
        return None if value in (None, "") else Decimal(str(value))


def limits_with(base: PlatformLimits, overrides: Mapping[str, int]) -> PlatformLimits:
    """``base`` with the store's ``limits`` entries that name one of its fields."""
    known = {k: v for k, v in overrides.items() if k in PlatformLimits.__dataclass_fields__}
    return PlatformLimits(**{**base.__dict__, **known})
