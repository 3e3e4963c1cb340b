"""One catalog product as one store sells it: a platform-shaped ``Listing``.

Input is a ``catalog/product.py: CatalogProduct`` (with its variants), typed and validated by the
catalog, plus the store's configuration: nothing here parses a catalog value again. A product that cannot be sold as it is
still gets a listing, with ``valid = False`` and the reasons, so that a person can see why it is
missing from a store; the push never sends invalid listings. A product that is inactive in the
catalog becomes a delist listing (stock 0 on every variant), valid as long as it has a SKU.

Stock is part of the shape on a platform that refuses a quantity of 0 (TikTok, contract 4.5:
1..99,999 per warehouse): sending the minimum (1) would sell what is not there, so its listing
leaves sold-out variants out, and a listing whose every variant is sold out is a delist listing
(deactivated) until stock returns; then it lists again with every variant in stock. The variant
set is content, so the push carries either change with the platform's full update.

Reasons are short machine-friendly codes, optionally followed by ``: detail``; the part before
the colon is what metrics count. ``title_similarity_out_of_band`` is a note, not a defect.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sync_pipeline.catalog.product import CatalogProduct, CatalogVariant
from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.listings.pricing import StorePrice, price_for_store
from sync_pipeline.listings.stock import Stocked, on_backorder_only, store_stock
from sync_pipeline.listings.titles import (
    OUT_OF_BAND,
    TITLE_EMPTY,
    TITLE_TOO_SHORT,
    TitleFacts,
    TitleLimits,
    seo_title,
)
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.spec import Platform, PlatformLimits, limits_with
from sync_pipeline.stores import StoreConfig

# -- reasons -----------------------------------------------------------------------------------
NO_CATEGORY = "no_category"
NO_IMAGE = "no_image"
PRICE_MISSING = "price_missing"
PRICE_NOT_POSITIVE = "price_not_positive"
TOO_MANY_VARIANTS = "too_many_variants"
TOO_MANY_OPTIONS = "too_many_options"
OPTION_TEXT_TOO_LONG = "option_text_too_long"
VARIANT_MISSING_OPTION = "variant_missing_option"
DUPLICATE_VARIANT_OPTIONS = "duplicate_variant_options"
SELLER_SKU_INVALID = "seller_sku_invalid"
NO_WEIGHT = "no_weight"
BAD_CATALOG_ROW = "bad_catalog_row"
NO_SKU = "no_sku"
SKU_IN_OTHER_PRODUCT = "variant_sold_under_other_product"  # a shared child, where a SKU names one product
NO_VARIANT_OF_ITS_OWN = "no_variant_of_its_own"  # every child is sold under another product

TITLE_REASONS = (TITLE_EMPTY, TITLE_TOO_SHORT, OUT_OF_BAND)  # from titles.py, listed with the rest
NOTES = frozenset({OUT_OF_BAND, SKU_IN_OTHER_PRODUCT})  # reasons that do not make a listing invalid

AUDIENCES = frozenset({"men", "women", "kids", "boys", "girls", "baby", "unisex"})
COLOR_KEYS = ("color", "colour")
MATERIAL_KEYS = ("material", "fabric")
BRAND_KEYS = ("brand", "manufacturer")


def platform_limits(store: StoreConfig) -> PlatformLimits:
    return limits_with(platform_spec(store.platform).limits, store.limits)


def store_title_limits(store: StoreConfig) -> TitleLimits:
    style = platform_spec(store.platform).titles
    maximum = store.limits.get("title_max_length", style.max_length)
    if store.title_rule.max_length is not None:
        maximum = min(maximum, store.title_rule.max_length)
    return TitleLimits(
        min_length=store.limits.get("title_min_length", style.min_length),
        max_length=maximum,
        min_similarity=store.title_rule.min_similarity,
        max_similarity=store.title_rule.max_similarity,
    )


def reason_code(reason: str) -> str:
    return reason.split(":", 1)[0]


def is_blocking(reasons: Iterable[str]) -> bool:
    return any(reason_code(r) not in NOTES for r in reasons)


# -- the listing --------------------------------------------------------------------------------


def build_listing(
    product: CatalogProduct, store: StoreConfig, handle: str | None = None,
    variants: Sequence[CatalogVariant] | None = None,
) -> Listing:
    """The listing ``store`` would publish for ``product`` (see the module docstring). ``handle`` is
    the product's handle unique in the store (``identity.assign_handles``); None: from its url_key.
    ``variants``: those of the product this store sells (``store.one_product_per_sku``); None: all."""
    reasons: list[str] = []
    limits = platform_limits(store)
    platform = store.platform
    sku = product.sku
    active = product.is_active
    images = _unique(product.images)
    ordered = sorted(product.variants if variants is None else variants, key=lambda v: (v.position, v.sku))
    if active and not store.backorders.list:
        # Not listed here: what Magento sells only on backorder is left out of this store's listing,
        # and a product with nothing else to sell is delisted.
        kept = [v for v in ordered if not (v.is_active and on_backorder_only(v))]
        if (ordered and not kept) or (not ordered and on_backorder_only(product)):
            active = False
        elif kept:
            ordered = kept

    weight = _weight(product.weight) or _heaviest(ordered)
    variant_options = [v.options for v in ordered]
    axes = _axes(variant_options)
    facts = title_facts(sku, product.attributes, variant_options, product.categories)
    title = seo_title(product.title, platform, facts, store_title_limits(store))
    reasons.extend(title.reasons)

    prices = variant_prices(product, store, ordered)
    if isinstance(prices, str):
        reasons.append(prices)
        prices = {}
    listing_variants = _listing_variants(product, ordered, prices, weight, active, store)
    if not listing_variants:
        listing_variants = (ListingVariant(sku=sku, price=Decimal(0), compare_at_price=None, stock_qty=0),)
    cheapest = min(listing_variants, key=lambda v: v.price)

    reasons.extend(_variant_reasons(listing_variants, axes, limits, platform))
    if not images:
        reasons.append(NO_IMAGE)
    category = map_category(product.categories, store)
    if category is None:
        reasons.append(NO_CATEGORY)
    if cheapest.price <= 0 and prices:
        reasons.append(PRICE_NOT_POSITIVE)
    if weight is None and platform_spec(platform).requires_weight:
        reasons.append(NO_WEIGHT)
    if not sku:
        reasons.append(NO_SKU)

    if not active:
        # A delist only has to find the product on the store: content defects do not matter.
        reasons = [r for r in reasons if reason_code(r) in (NO_SKU, BAD_CATALOG_ROW)]
    listing = Listing(
        store_key=store.key,
        platform=platform.value,
        sku=sku,
        source_id=product.source_id,
        action="list" if active else "delist",
        title=title.title,
        description=_description(product.description, title.title, platform, limits),
        price=cheapest.price,
        compare_at_price=cheapest.compare_at_price,
        currency=store.currency,
        stock_qty=sum(v.stock_qty for v in listing_variants),
        images=tuple(images[: limits.images]),
        category_id=category,
        handle=handle or handle_for(product.url_key, sku, product.source_id),
        options=tuple(_option_name(a) for a in axes),
        variants=listing_variants,
        weight_kg=weight,
        valid=not is_blocking(reasons),
        reasons=tuple(dict.fromkeys(reasons)),
        brand=facts.brand,
    )
    return without_sold_out_variants(listing)


def without_sold_out_variants(listing: Listing) -> Listing:
    """The listing as a platform that refuses a stock of 0 can hold it (see the module docstring).

    Only valid listings that list are reshaped: an invalid one is never pushed, and a delist sends
    no variants' stock. Other platforms hold a 0 as it is."""
    if listing.action != "list" or not listing.valid or not platform_spec(listing.platform).refuses_zero_stock:
        return listing
    in_stock = tuple(v for v in listing.variants if v.stock_qty > 0)
    if len(in_stock) == len(listing.variants):
        return listing
    if not in_stock:
        return replace(listing, action="delist")
    cheapest = min(in_stock, key=lambda v: v.price)
    return replace(
        listing, variants=in_stock, price=cheapest.price, compare_at_price=cheapest.compare_at_price
    )


def sold_out_skus(
    product: CatalogProduct, store: StoreConfig, variants: Sequence[CatalogVariant] | None = None
) -> frozenset[str]:
    """Catalog SKUs the store's listing leaves out because they are sold out (for the audits);
    ``variants`` as ``build_listing`` takes them."""
    variants = product.variants if variants is None else variants
    if not product.is_active or not platform_spec(store.platform).refuses_zero_stock:
        return frozenset()
    if not variants:
        return frozenset() if _stock(product, True, store) else frozenset({product.sku})
    return frozenset(v.sku for v in variants if not _stock(v, v.is_active, store))


def variant_prices(
    product: CatalogProduct, store: StoreConfig, variants: Sequence[CatalogVariant] | None = None
) -> dict[str, StorePrice] | str:
    """Selling / compare-at price per variant SKU, or the reason none can be computed.

    A variant without its own price sells at its parent's (Magento falls back the same way).
    This is the one place a listing's prices come from; the pricing check calls it too.
    ``variants`` as ``build_listing`` takes them.
    """
    variants = product.variants if variants is None else variants
    if not variants:
        if product.price is None:
            return PRICE_MISSING
        return {product.sku: price_for_store(product.price, product.special_price, store)}
    prices = {}
    for variant in variants:
        regular, special = variant.price, variant.special_price
        if regular is None:
            regular = product.price
            special = special if special is not None else product.special_price
        if regular is None:
            return f"{PRICE_MISSING}: {variant.sku}"
        prices[variant.sku] = price_for_store(regular, special, store)
    return prices


def map_category(categories: Sequence[str], store: StoreConfig) -> str | None:
    """The store's category for the product's deepest mapped category path (by whole segments).

    ``Men/Tops/Jackets`` matches a map key ``Men/Tops`` but not ``Men/To``; the longest match over
    all the product's categories wins (ties: the product's first category); else the default.
    """
    best: tuple[int, str] | None = None
    prefixes = _map_prefixes(tuple(sorted(store.category_map.items())))
    for path in categories:
        segments = [s.strip() for s in path.split("/") if s.strip()]
        for depth in range(len(segments), 0, -1):
            mapped = prefixes.get("/".join(segments[:depth]).casefold())
            if mapped is not None:
                if best is None or depth > best[0]:
                    best = (depth, mapped)
                break
    return best[1] if best else store.default_category


@lru_cache(maxsize=64)
def _map_prefixes(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {"/".join(s.strip() for s in k.split("/") if s.strip()).casefold(): v for k, v in items}


def title_facts(
    sku: str, attributes: Mapping[str, str], variant_options: Sequence[Mapping[str, str]], categories: Sequence[str]
) -> TitleFacts:
    """The product's own words a title may add: main colour, material, brand, audience, category."""
    colors = [o[k] for o in variant_options for k in o if k.casefold() in COLOR_KEYS and o[k]]
    color = _first(attributes, COLOR_KEYS) or (Counter(colors).most_common(1)[0][0] if colors else None)
    material = _first(attributes, MATERIAL_KEYS)
    brand = _first(attributes, BRAND_KEYS)
    deepest = max((c.split("/") for c in categories), key=len, default=[])
    segments = [s.strip() for s in deepest if s.strip()]
    audience = next((s for s in segments if s.casefold() in AUDIENCES), None)
    category = segments[-1] if segments and segments[-1].casefold() not in AUDIENCES else None
    return TitleFacts(
        color=color.split(",")[0].strip() if color else None,
        material=material.split(",")[0].strip() if material else None,
        brand=brand.strip() if brand else None,
        audience=audience,
        category=category,
        sku=sku,
    )


def handle_for(url_key: Any, sku: str, source_id: int) -> str:
    """A stable, URL-safe handle: the slug of the Magento url_key, else of the SKU."""
    for source in (url_key, sku):
        slug = slugify(str(source or ""))
        if slug:
            return slug
    return f"product-{source_id}"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")[:255]


# -- helpers ----------------------------------------------------------------------------------


def _description(raw: str, title: str, platform: Platform, limits: PlatformLimits) -> str:
    return platform_spec(platform).description(raw, title, limits.description_length)


def _listing_variants(
    product: CatalogProduct,
    variants: Sequence[CatalogVariant],
    prices: Mapping[str, StorePrice],
    weight: Decimal | None,
    active: bool,
    store: StoreConfig,
) -> tuple[ListingVariant, ...]:
    if not variants:
        price = prices.get(product.sku)
        if price is None:
            return ()
        return (ListingVariant(product.sku, price.price, price.compare_at_price, _stock(product, active, store), {},
                               None, weight),)
    result = []
    for variant in variants:
        price = prices.get(variant.sku, StorePrice(Decimal(0), None))
        result.append(
            ListingVariant(
                sku=variant.sku,
                price=price.price,
                compare_at_price=price.compare_at_price,
                stock_qty=_stock(variant, active and variant.is_active, store),
                options={_option_name(k): v for k, v in variant.options.items()},
                image=variant.image,
                weight_kg=_weight(variant.weight) or weight,
            )
        )
    return tuple(result)


def _variant_reasons(
    variants: Sequence[ListingVariant], axes: Sequence[str], limits: PlatformLimits, platform: Platform
) -> list[str]:
    reasons = []
    if len(variants) > limits.variants:
        reasons.append(f"{TOO_MANY_VARIANTS}: {len(variants)} > {limits.variants}")
    if len(axes) > limits.options:
        reasons.append(f"{TOO_MANY_OPTIONS}: {len(axes)} > {limits.options}")
    names = [_option_name(a) for a in axes]
    if any(len(n) > limits.option_name_length for n in names) or any(
        len(value) > limits.option_value_length for v in variants for value in v.options.values()
    ):
        reasons.append(OPTION_TEXT_TOO_LONG)
    if len(variants) > 1:
        if any(set(v.options) != set(names) for v in variants):
            reasons.append(VARIANT_MISSING_OPTION)
        combos = [tuple(v.options.get(n, "").casefold() for n in names) for v in variants]
        if len(set(combos)) < len(combos):
            reasons.append(DUPLICATE_VARIANT_OPTIONS)
    bad = platform_spec(platform).invalid_seller_sku([v.sku for v in variants], limits.seller_sku_length)
    if bad is not None:
        reasons.append(f"{SELLER_SKU_INVALID}: {bad}")
    return reasons


def _axes(variant_options: Sequence[Mapping[str, str]]) -> list[str]:
    """Variant axes in order of first appearance (variants are sorted by position)."""
    return list(dict.fromkeys(k for options in variant_options for k in options))


@lru_cache(maxsize=1024)
def _option_name(axis: str) -> str:
    """``color`` -> ``Color``, ``shoe_size`` -> ``Shoe Size``."""
    return " ".join(part.capitalize() for part in re.split(r"[_\s]+", axis.strip()) if part)


def _stock(item: Stocked, active: bool, store: StoreConfig) -> int:
    if not active:
        return 0
    qty = store_stock(item, store)
    most = platform_spec(store.platform).max_stock
    return qty if most is None else min(qty, most)


def _weight(value: Decimal | None) -> Decimal | None:
    """A weight of 0 or less is no weight (Magento leaves 0 where nobody filled it in)."""
    return value if value is not None and value > 0 else None


def _heaviest(variants: Sequence[CatalogVariant]) -> Decimal | None:
    """The package weight of a product whose own weight is blank: its heaviest variant's. Magento
    keeps a configurable's weight on its children (the parent's field is usually empty), while
    TikTok and Shopee want one weight per product; the heaviest child is the one that must ship."""
    weights = [w for w in (_weight(v.weight) for v in variants) if w is not None]
    return max(weights, default=None)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _first(mapping: Mapping[str, str], keys: Sequence[str]) -> str | None:
    for key in mapping:
        if key.casefold() in keys and mapping[key]:
            return mapping[key]
    return None
