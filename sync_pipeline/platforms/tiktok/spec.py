"""What generic code asks of TikTok Shop (see ``platforms/spec.py``)."""

from __future__ import annotations

import html
from decimal import Decimal

from sync_pipeline.listings.descriptions import TIKTOK_TAGS, tiktok_html
from sync_pipeline.platforms.spec import Platform, PlatformLimits, PlatformSpec, TitleStyle

# What a material does for the buyer: the benefit-led qualifier. Only properties the material
# itself has, so the title claims nothing the product page would not back.
MATERIAL_BENEFITS: dict[str, str] = {
    "cotton": "Breathable", "linen": "Breathable", "mesh": "Breathable", "bamboo": "Breathable",
    "wool": "Warm", "merino wool": "Warm", "fleece": "Warm", "polyester fleece": "Warm", "down": "Warm",
    "cashmere": "Soft", "polyester": "Quick-Dry", "nylon": "Lightweight", "aluminum": "Lightweight",
    "aluminium": "Lightweight", "leather": "Durable", "cast iron": "Durable", "canvas": "Durable",
    "stainless steel": "Rust-Resistant", "silicone": "Flexible", "rubber": "Grippy",
}


class TikTokSpec(PlatformSpec):
    platform = Platform.TIKTOK
    client_module = "sync_pipeline.platforms.tiktok.client"
    client_class_name = "TikTokClient"
    token_store = "required"
    required_credentials = (("app_key", "app_secret", "access_token", "refresh_token"),)
    default_multiplier = Decimal("1.20")
    has_compare_at_price = False
    # 9 main images, 300 SKUs (US/EU/UK/JP/BR/MX; set 100 elsewhere), 3 sales attributes,
    # description <= 10,000, attribute name 20 / value 50, seller_sku 1..50 without spaces.
    limits = PlatformLimits(9, 3, 300, 10_000, 20, 50, 50)
    # Concise and benefit-led: at most two qualifiers, the first saying what the material does
    # ("Core, Breathable Cotton Black"); never a "|". The minimum is 25 in most regions (1 in
    # US/UK/EU/JP): a store overrides it.
    titles = TitleStyle(
        max_length=255, min_length=25, separator=", ", max_qualifiers=2,
        qualifiers=("benefit_material", "color", "category", "for_audience"), drops_promotions=True,
        rejects_cjk=True, foreign_separators="|", benefit_led=True, concise=True, benefits=MATERIAL_BENEFITS,
    )
    refuses_zero_stock = True  # contract 4.5: 1..99,999 per warehouse
    max_stock = 99_999  # Update Inventory accepts 1..99,999 per warehouse
    requires_weight = True  # package_weight is required by Create Product
    cod_per_listing = True  # is_cod_allowed, where the category's rules say cod.is_supported
    default_requests_per_second = 50.0

    def description(self, raw: str, title: str, max_length: int) -> str:
        return tiktok_html(raw, max_length) or (f"<p>{html.escape(title)}</p>" if title else "")

    def description_problems(self, tags: set[str]) -> list[str]:
        rejected = tags - TIKTOK_TAGS
        return [f"tags TikTok rejects: {sorted(rejected)}"] if rejected else []

    def invalid_seller_sku(self, skus: list[str], max_length: int) -> str | None:
        return next((sku for sku in skus if not 1 <= len(sku) <= max_length or " " in sku), None)


SPEC = TikTokSpec()
