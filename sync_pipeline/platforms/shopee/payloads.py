"""Listing -> Shopee wire payloads (add_item/update_item bodies, standardise_tier_variation) and the
shop's answers -> our values; pure functions, no call (contract 3.5, real-stores 2.1-2.2).

* prices: Shopee sells at ``original_price``; a compare-at price has no place in the item API
  (discounts are promotions), so it is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant, Package, VariationChoice
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteProduct, RemoteRef, RemoteVariant

NO_MODEL = 0  # contract 3.5: model_id 0 addresses an item without variations


def item_body(
    listing: Listing, image_ids: dict[str, str], weight: tuple[Decimal, str], logistic_info: list[dict[str, Any]]
) -> dict[str, Any]:
    """The fields add_item and update_item share; ``weight`` as (value, unit) from ``package_weight``."""
    details = listing.details or CatalogDetails()
    body: dict[str, Any] = {
        "item_name": listing.title,
        "description": listing.description,
        "item_sku": listing.sku,
        "category_id": category_id(listing),
        "weight": float(kilograms(*weight)),
        "image": {"image_id_list": [image_ids[url] for url in listing.images]},
        "logistic_info": logistic_info,
        "item_status": "NORMAL" if listing.action == "list" else "UNLIST",
    }
    if details.package is not None and details.package.has_dimensions:
        body["dimension"] = dimension(details.package)
    if details.brand_id is not None:
        body["brand"] = {"brand_id": int(details.brand_id) if details.brand_id.isdigit() else 0,
                         "original_brand_name": details.brand_name or "NoBrand"}
    size_chart = _size_chart(listing.sku, details, image_ids)
    if size_chart is not None:
        body["size_chart_info"] = size_chart
    attributes = [a for a in details.attributes if a.attribute_id and a.attribute_id.isdigit()]
    if attributes:
        body["attribute_list"] = [
            {"attribute_id": int(a.attribute_id or 0), "attribute_value_list": [
                {"value_id": int(v.value_id)} if v.value_id and v.value_id.isdigit()
                else {"value_id": 0, "original_value_name": v.name}  # free text (real-stores 2.1)
                for v in a.values
            ]}
            for a in attributes
        ]
    return body


def _size_chart(sku: str, details: CatalogDetails, image_ids: dict[str, str]) -> dict[str, Any] | None:
    """add_item's ``size_chart_info``: the mapped template (``size_chart_id``, local shops) or the
    uploaded chart image (``size_chart``); required where get_item_limit says size_chart_mandatory."""
    if details.size_chart_template:
        if not details.size_chart_template.isdigit():
            raise PlatformError(ErrorClass.INVALID_PRODUCT, f"listing {sku}: a Shopee size chart template id is a "
                                f"number, got '{details.size_chart_template}' (mapping.categories.*.size_chart)")
        return {"size_chart_id": int(details.size_chart_template)}
    if details.size_chart_image:
        return {"size_chart": image_ids[details.size_chart_image]}
    return None


def category_id(listing: Listing) -> int:
    if listing.category_id is None or not str(listing.category_id).isdigit():
        raise PlatformError(
            ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: Shopee needs a numeric category_id"
        )
    return int(listing.category_id)


def tier_body(item_id: int, listing: Listing, tiers: list[Tier], image_ids: dict[str, str]) -> dict[str, Any]:
    """init_tier_variation's body."""
    option_images = _option_images(listing, tiers)
    # real-stores 2.2: standardise_tier_variation (tier_variation is deprecated); first-tier images go
    # on every option or on none.
    return {
        "item_id": item_id,
        "standardise_tier_variation": [
            _variation(tier, _choice(listing, tier),
                       {o: image_ids[option_images[o]] for o in tier.options} if index == 0 and option_images else {})
            for index, tier in enumerate(tiers)
        ],
        "model": [
            {
                "tier_index": tier_index(v, tiers),
                "original_price": money(v.price),
                "model_sku": v.sku,
                "seller_stock": [{"stock": v.stock_qty}],
            }
            for v in listing.variants
        ],
    }


def _variation(tier: Tier, choice: VariationChoice | None, images: dict[str, str]) -> dict[str, Any]:
    """One tier: the category's standard variation when the listing maps the axis to one (ids from
    get_variation_tree, options by exact name, any case), else custom; id 0 = custom, for the
    variation and for each option the standard group does not name."""
    return {
        "variation_id": int(choice.variation_id) if choice else 0,
        "variation_name": tier_name(tier, choice),
        "variation_group_id": int(choice.group_id) if choice else 0,
        "variation_option_list": [
            {"variation_option_id": int(choice.option_ids.get(option, 0)) if choice else 0,
             "variation_option_name": option, **({"image_id": images[option]} if option in images else {})}
            for option in tier.options
        ],
    }


def _choice(listing: Listing, tier: Tier) -> VariationChoice | None:
    return listing.details.variation(tier.name) if listing.details else None


def tier_name(tier: Tier, choice: VariationChoice | None) -> str:
    """The name the tier is sent (and read back) under: the standard variation's, else the axis's."""
    return choice.name if choice else tier.name


@dataclass(frozen=True)
class Tier:
    name: str
    options: tuple[str, ...]


def tiers_of(listing: Listing) -> list[Tier]:
    """The listing's variation tiers (empty for a simple product), values in first-seen order."""
    if not listing.variants:
        raise PlatformError(ErrorClass.INVALID_PRODUCT, f"listing {listing.sku} has no variant")
    if not listing.options:
        if len(listing.variants) != 1:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: several variants but no variant axes"
            )
        return []
    if len(listing.options) > 2:
        raise PlatformError(
            ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: Shopee allows at most 2 variation tiers"
        )
    found = []
    for axis in listing.options:
        values = []
        for variant in listing.variants:
            value = variant.options.get(axis)
            if value is None:
                raise PlatformError(
                    ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: variant {variant.sku} has no {axis}"
                )
            if value not in values:
                values.append(value)
        found.append(Tier(axis, tuple(values)))
    return found


def tier_index(variant: ListingVariant, tiers: list[Tier]) -> list[int]:
    return [tier.options.index(variant.options[tier.name]) for tier in tiers]


def _option_images(listing: Listing, tiers: list[Tier]) -> dict[str, str]:
    """First-tier option -> image URL of its first variant that has one (Shopee shows them per option).

    Empty unless every first-tier option has one: a partial set is refused (real-stores 2.2)."""
    images: dict[str, str] = {}
    for variant in listing.variants:
        option = variant.options.get(tiers[0].name) if tiers else None
        if option is not None and variant.image and option not in images:
            images[option] = variant.image
    return images if tiers and set(images) == set(tiers[0].options) else {}


def all_images(listing: Listing) -> list[str]:
    """Every URL the item's bodies name: main, variant and size chart images (each uploaded once)."""
    chart = listing.details.size_chart_image if listing.details else None
    return list(dict.fromkeys([*listing.images, *(v.image for v in listing.variants if v.image),
                               *([chart] if chart else [])]))


def wanted_structure(listing: Listing, tiers: list[Tier]) -> tuple[Any, ...]:
    return (
        tuple((tier_name(t, _choice(listing, t)), t.options) for t in tiers),
        frozenset((v.sku, tuple(tier_index(v, tiers))) for v in listing.variants),
    )


def structure(models: dict[str, Any]) -> tuple[Any, ...] | None:
    tiers = models.get("tier_variation") or []
    if not tiers:
        return None
    return (
        tuple((t["name"], tuple(o["option"] for o in t.get("option_list") or [])) for t in tiers),
        frozenset((m["model_sku"], tuple(m["tier_index"])) for m in models.get("model") or []),
    )


_TO_KG = {"KILOGRAM": Decimal(1), "GRAM": Decimal("0.001"), "POUND": Decimal("0.45359237")}
_TO_CM = {"CENTIMETER": Decimal(1), "INCH": Decimal("2.54")}


def kilograms(weight: Decimal, unit: str) -> Decimal:
    """Shopee's weight is in kg (real-stores 2.1); the store declares the catalog's unit."""
    return (weight * _TO_KG[unit]).quantize(Decimal("0.001"))


def dimension(package: Package) -> dict[str, int]:
    factor = _TO_CM[package.dimension_unit]

    def whole(value: Decimal | None) -> int:
        return max(1, int(((value or Decimal(1)) * factor).to_integral_value(rounding="ROUND_CEILING")))

    return {"package_length": whole(package.length), "package_width": whole(package.width),
            "package_height": whole(package.height)}


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def money(value: Decimal) -> float:
    return float(value)


def first_price(entry: dict[str, Any]) -> Decimal | None:
    prices = entry.get("price_info") or []
    return Decimal(str(prices[0]["original_price"])) if prices else None


def stock_of(entry: dict[str, Any]) -> int | None:
    info = entry.get("stock_info_v2") or {}
    summary = info.get("summary_info") or {}
    value = summary.get("total_available_stock")
    return None if value is None else int(value)


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


STATUS_WORDS = {"NORMAL": "active", "UNLIST": "delisted", "REVIEWING": "pending"}


def remote_product(item: dict[str, Any], models: dict[str, Any] | None) -> RemoteProduct:
    """get_item_base_info's item (and get_model_list's answer when it has models) as we compare it."""
    item_id = int(item["item_id"])
    if models is not None:
        tiers = [t["name"] for t in models.get("tier_variation") or []]
        options = [[o["option"] for o in t.get("option_list") or []] for t in models.get("tier_variation") or []]
        variants = tuple(
            RemoteVariant(
                sku=m["model_sku"],
                price=first_price(m),
                compare_at_price=None,
                stock_qty=stock_of(m),
                options={tiers[n]: options[n][i] for n, i in enumerate(m["tier_index"])},
                variant_id=str(m["model_id"]),
            )
            for m in models.get("model") or []
        )
    else:
        variants = (
            RemoteVariant(item["item_sku"], first_price(item), None, stock_of(item), {}, str(NO_MODEL)),
        )
    image = item.get("image") or {}
    return RemoteProduct(
        ref=RemoteRef(str(item_id), {v.sku: v.variant_id or "" for v in variants}),
        sku=item.get("item_sku") or "",
        title=item.get("item_name") or "",
        status=STATUS_WORDS.get(item.get("item_status", ""), str(item.get("item_status", "")).lower()),
        image_count=len(image.get("image_id_list") or []),
        variants=variants,
        description=item.get("description"),
        raw=item,
    )
