"""What generic code asks of Shopee (see ``platforms/spec.py``)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from sync_pipeline.listings.descriptions import plain_text
from sync_pipeline.platforms.spec import Platform, PlatformLimits, PlatformSpec, TitleStyle

if TYPE_CHECKING:
    from sync_pipeline.stores import StoreConfig

TIER_WAIT_SECONDS = 5.0  # the client's default wait after init_tier_variation (contract 3.5)
CALLS_PER_CREATE = 2.5  # 2.8 calls per product measured (benchmarks/push_bench.py), less for headroom


class ShopeeSpec(PlatformSpec):
    platform = Platform.SHOPEE
    client_module = "sync_pipeline.platforms.shopee.client"
    client_class_name = "ShopeeClient"
    token_store = "required"
    required_credentials = (("partner_id", "partner_key", "access_token", "refresh_token"),)
    default_multiplier = Decimal("1.15")
    has_compare_at_price = False
    # Two-tier variation; the per-shop figures come from get_item_limit (samples: 9 images,
    # description 2000, tier name 14, option 20); 50 models is the usual cap [unverified]: override it.
    limits = PlatformLimits(9, 2, 50, 2000, 14, 20, 100)
    # Search ranks on keywords: "Brand Core Material Colour" (the brand first when the master does
    # not say it), and a title may go without qualifiers. Neither "|" nor "," (the others' separators).
    titles = TitleStyle(
        max_length=120, min_length=1, separator=" ", max_qualifiers=3,
        qualifiers=("material", "color", "audience", "category"), drops_promotions=True,
        foreign_separators="|,", brand_first=True, bare_allowed=True,
    )  # the minimum is per shop (get_item_limit): a store overrides it
    default_requests_per_second = 10.0
    default_weight_setting = "default_weight_kg"  # add_item always needs a weight (real-stores 2.1)

    def description(self, raw: str, title: str, max_length: int) -> str:
        text = plain_text(raw, max_length)
        return text or title  # Shopee refuses an empty description: the title is the honest minimum

    def description_problems(self, tags: set[str]) -> list[str]:
        return [f"HTML in a plain-text description: {sorted(tags)}"] if tags else []

    def waiting_workers(self, store: StoreConfig, requests_per_second: float) -> int:
        # A create holds its thread for the tier-variation wait (about 5 s, no request in flight), so a
        # store needs that many seconds' worth of products in flight on top.
        wait = float(store.settings.get("tier_variation_wait_seconds", TIER_WAIT_SECONDS))
        return math.ceil(requests_per_second / CALLS_PER_CREATE * wait)


SPEC = ShopeeSpec()
