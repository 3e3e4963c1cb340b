"""What generic code asks of Shopify (see ``platforms/spec.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sync_pipeline.listings.descriptions import shopify_description
from sync_pipeline.platforms.spec import Platform, PlatformLimits, PlatformSpec, TitleStyle

if TYPE_CHECKING:
    from sync_pipeline.stores import StoreConfig

POINTS_PER_WRITE = 10  # a product write costs about 10 points of the cost bucket


class ShopifySpec(PlatformSpec):
    platform = Platform.SHOPIFY
    client_module = "sync_pipeline.platforms.shopify.client"
    client_class_name = "ShopifyClient"
    token_store = "optional"  # the client refuses expiring tokens without one
    # A token (static, or expiring with refresh_token + client_id + client_secret), or an app of the
    # shop's own organisation that asks for tokens itself (client credentials grant).
    required_credentials = (("access_token",), ("client_id", "client_secret"))
    default_multiplier = Decimal("1.00")
    has_compare_at_price = True
    bulk_loads = True  # productSet through bulkOperationRunMutation
    # 3 options, 2048 variants, 250 media; titles and option text 255.
    limits = PlatformLimits(250, 3, 2048, 512_000, 255, 255, 255)
    # Reads like a catalog: "Core | Colour Material Category for Audience".
    titles = TitleStyle(
        max_length=255, min_length=1, separator=" | ", max_qualifiers=3,
        qualifiers=("color", "material", "category", "for_audience"), keeps_marks=True,
    )
    # The bucket restores 100 points/s (contract section 5) and a product write costs about 10.
    default_requests_per_second = 10.0

    def description(self, raw: str, title: str, max_length: int) -> str:
        return shopify_description(raw)[:max_length]

    def requests_per_second(self, store: StoreConfig) -> float:
        if store.rate_limit.restore_rate:
            return store.rate_limit.restore_rate / POINTS_PER_WRITE
        return super().requests_per_second(store)


SPEC = ShopifySpec()
