"""A listing: one catalog product as one store will sell it (priced, titled, platform-shaped).

The listing is platform-shaped in *content* (title length, description format, variant axes,
image count, category id) but not in *wire format*: each platform client turns it into its own
request body. Listings are stored as JSON in ``platform_listings.payload`` and compared by hash,
split into content / price / stock so the push can use the platform's cheapest call.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any, Literal

from sync_pipeline.money import decimal_of, to_decimal

Action = Literal["list", "delist"]


@dataclass(frozen=True)
class ListingVariant:
    sku: str
    price: Decimal  # selling price in the store's currency
    compare_at_price: Decimal | None  # regular price while a special price is active
    stock_qty: int
    options: dict[str, str] = field(default_factory=dict)  # axis name -> value; {} for a simple product
    image: str | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class AttributeValue:
    name: str
    value_id: str | None = None  # None: free text (the attribute accepts custom values)


@dataclass(frozen=True)
class ListingAttribute:
    """A product attribute as the store names it (e.g. TikTok "Material", id 100157)."""

    name: str
    attribute_id: str | None  # None until the store's rules name it
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True)
class Package:
    """Package weight and dimensions in one unit system (the store's, declared in its mapping)."""

    weight: Decimal | None
    weight_unit: str  # KILOGRAM | POUND | GRAM
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    dimension_unit: str = "CENTIMETER"  # CENTIMETER | INCH

    @property
    def has_dimensions(self) -> bool:
        return None not in (self.length, self.width, self.height)


@dataclass(frozen=True)
class Certification:
    certification_id: str
    images: tuple[str, ...] = ()  # URLs, uploaded by the client


@dataclass(frozen=True)
class ShippingChoice:
    channel_id: str
    size_id: str | None = None
    shipping_fee: Decimal | None = None


@dataclass(frozen=True)
class VariationChoice:
    """A variant axis sent as the platform's standard variation (Shopee standardise_tier_variation)."""

    axis: str  # the listing's option name
    variation_id: str
    name: str  # the platform's name for it
    group_id: str
    option_ids: dict[str, str] = field(default_factory=dict)  # axis value -> standard option id; others custom


@dataclass(frozen=True)
class CatalogDetails:
    """What a marketplace's category demands beyond the product itself, from the store's mapping:
    attributes, brand, size chart, certifications, package and shipping (Shopee, TikTok)."""

    attributes: tuple[ListingAttribute, ...] = ()
    brand_id: str | None = None  # "0": No Brand
    brand_name: str | None = None
    size_chart_template: str | None = None
    size_chart_image: str | None = None
    certifications: tuple[Certification, ...] = ()
    package: Package | None = None
    shipping: tuple[ShippingChoice, ...] = ()
    cod: bool = False  # offer cash on delivery (TikTok is_cod_allowed)
    variations: tuple[VariationChoice, ...] = ()

    def variation(self, axis: str) -> VariationChoice | None:
        return next((v for v in self.variations if v.axis == axis), None)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogDetails:
        package = data.get("package")
        return cls(
            attributes=tuple(
                ListingAttribute(a["name"], a.get("attribute_id"),
                                 tuple(AttributeValue(v["name"], v.get("value_id")) for v in a.get("values") or ()))
                for a in data.get("attributes") or ()
            ),
            brand_id=data.get("brand_id"),
            brand_name=data.get("brand_name"),
            size_chart_template=data.get("size_chart_template"),
            size_chart_image=data.get("size_chart_image"),
            certifications=tuple(Certification(c["certification_id"], tuple(c.get("images") or ()))
                                 for c in data.get("certifications") or ()),
            package=None if package is None else Package(
                weight=to_decimal(package.get("weight")), weight_unit=package["weight_unit"],
                length=to_decimal(package.get("length")), width=to_decimal(package.get("width")),
                height=to_decimal(package.get("height")), dimension_unit=package.get("dimension_unit", "CENTIMETER"),
            ),
            shipping=tuple(ShippingChoice(str(c["channel_id"]), c.get("size_id"), to_decimal(c.get("shipping_fee")))
                           for c in data.get("shipping") or ()),
            cod=bool(data.get("cod", False)),
            variations=tuple(VariationChoice(v["axis"], v["variation_id"], v["name"], v["group_id"],
                                             dict(v.get("option_ids") or {}))
                             for v in data.get("variations") or ()),
        )


# CatalogDetails fields added after listings with details were stored: out of the content hash while
# empty, so those listings keep the digests they were stored with (a drift would re-push every one).
_DETAILS_ADDED_LATER = ("cod", "variations")


@dataclass(frozen=True)
class Listing:
    store_key: str
    platform: str  # shopify | shopee | tiktok
    sku: str  # the parent SKU: a product's identity on every store
    source_id: int
    action: Action
    title: str
    description: str  # in the platform's format (HTML subset or plain text), within its length
    price: Decimal  # lowest variant selling price
    compare_at_price: Decimal | None
    currency: str
    stock_qty: int  # sum over variants; 0 for a delist
    images: tuple[str, ...]  # URLs, trimmed to the platform's count
    category_id: str | None
    handle: str  # URL-safe, stable: Shopify's upsert identifier
    options: tuple[str, ...] = ()  # variant axes in order, e.g. ("Color", "Size")
    variants: tuple[ListingVariant, ...] = ()  # at least one; a simple product has one, sku == parent
    weight_kg: Decimal | None = None
    valid: bool = True
    reasons: tuple[str, ...] = ()  # why invalid, or notes such as a title outside the band
    details: CatalogDetails | None = None  # marketplace category data (None: the store maps none)
    brand: str | None = None  # Magento's brand / manufacturer (Shopify's vendor)

    # -- serialisation -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The listing's one serialized form: ``platform_listings.payload``, the push ledger's
        payloads, and what ``from_json`` reads back (Decimals as their strings, tuples as lists)."""
        return _plain(self)  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Listing:
        d = dict(data)
        d["price"] = decimal_of(d["price"])
        d["compare_at_price"] = to_decimal(d.get("compare_at_price"))
        d["weight_kg"] = to_decimal(d.get("weight_kg"))
        d["images"] = tuple(d.get("images", ()))
        d["options"] = tuple(d.get("options", ()))
        d["reasons"] = tuple(d.get("reasons", ()))
        d["variants"] = tuple(
            ListingVariant(
                sku=v["sku"],
                price=decimal_of(v["price"]),
                compare_at_price=to_decimal(v.get("compare_at_price")),
                stock_qty=int(v["stock_qty"]),
                options=dict(v.get("options", {})),
                image=v.get("image"),
                weight_kg=to_decimal(v.get("weight_kg")),
            )
            for v in d.get("variants", ())
        )
        d["details"] = CatalogDetails.from_json(d["details"]) if d.get("details") else None
        return cls(**d)

    # -- hashes the push diffs on --------------------------------------------------------------

    def content_hash(self) -> str:
        """Everything but price and stock: a change here needs the platform's full update."""
        content: dict[str, Any] = {
            "action": self.action,
            "title": self.title,
            "description": self.description,
            "images": self.images,
            "category_id": self.category_id,
            "handle": self.handle,
            "options": self.options,
            "weight_kg": self.weight_kg,
            "variants": [(v.sku, v.options, v.image, v.weight_kg) for v in self.variants],
        }
        if self.details is not None:  # only then: listings of stores without a mapping keep their hashes
            details = _plain(self.details)
            for added in _DETAILS_ADDED_LATER:
                if not details[added]:
                    del details[added]  # likewise: listings that do not use a later field keep their hashes
            content["details"] = details
        if self.brand is not None:  # likewise: listings without a brand keep the hashes they always had
            content["brand"] = self.brand
        return _hash(content)

    def price_hash(self) -> str:
        return _hash([(v.sku, v.price, v.compare_at_price) for v in self.variants] + [self.currency])

    def stock_hash(self) -> str:
        return _hash([(v.sku, v.stock_qty) for v in self.variants])

    def payload_hash(self) -> str:
        return self.hashes()["payload_hash"]

    def hashes(self) -> dict[str, str]:
        """All four hashes, keyed like platform_listings' columns."""
        content, price, stock = self.content_hash(), self.price_hash(), self.stock_hash()
        return {
            "payload_hash": _hash([content, price, stock]),
            "content_hash": content,
            "price_hash": price,
            "stock_hash": stock,
        }


def _plain(value: Any) -> Any:
    """JSON-ready copy of a listing or a part of it: dataclasses as dicts of their fields in order,
    tuples as lists, Decimals as their strings. Written by hand rather than with
    ``dataclasses.asdict`` (whose deep copies were a third of the time of a listing)."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool or kind is float:
        return value
    if kind is Decimal:
        return str(value)
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if is_dataclass(value):
        return {name: _plain(getattr(value, name)) for name in _field_names(kind)}
    raise TypeError(f"cannot store {kind.__name__} in a listing payload")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


def _decimal_as_str(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


def _hash(value: Any) -> str:
    """SHA-256 of canonical JSON (sorted keys, tuples as lists, Decimals as their strings).

    These digests are stored (platform_listings, store_mappings) and compared across runs and
    versions: changing the encoding makes every product look changed once.
    """
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_decimal_as_str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def package_weight(listing: Listing, default_kg: Decimal | None = None) -> tuple[Decimal, str] | None:
    """(weight, unit) of the package a client sends and the rules check demands: one decision for both.

    The mapped package's weight, else the catalog's (the listing's, else its first weighted variant's),
    in the catalog's unit; else the store's default weight in kilograms (a platform whose client fills
    the gap, e.g. Shopee's ``settings.default_weight_kg``); None when nothing gives a positive weight."""
    details = listing.details
    unit = details.package.weight_unit if details and details.package else "KILOGRAM"
    own = details.package.weight if details and details.package else None
    own = own or listing.weight_kg or next((v.weight_kg for v in listing.variants if v.weight_kg), None)
    if own is not None and own > 0:
        return own, unit
    return (default_kg, "KILOGRAM") if default_kg is not None and default_kg > 0 else None
