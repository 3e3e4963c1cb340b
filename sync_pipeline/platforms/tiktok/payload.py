"""A listing as TikTok Shop's product payloads (4.5, real-stores 1.2), and TikTok's answers read back.

Create and Edit carry the same full body (Edit is a PUT: it overwrites every field, blanks
included). Images go in as URIs from Upload Image, through ``image_uri(url, use_case)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteProduct, RemoteRef, RemoteVariant

_STATUS_WORDS = {
    "ACTIVATE": "active",
    "SELLER_DEACTIVATED": "delisted",
    "PLATFORM_DEACTIVATED": "delisted",
    "PENDING": "pending",
}


class ProductEncoder:
    def __init__(self, category_version: str, warehouse_id: str, image_uri: Callable[[str, str], str]) -> None:
        self.category_version = category_version
        self._warehouse_id = warehouse_id
        self._image_uri = image_uri

    def product_body(self, listing: Listing, ref: RemoteRef | None) -> dict[str, Any]:
        details = listing.details or CatalogDetails()
        with_images = _primary_images_complete(listing)
        return without_none({
            "title": listing.title,
            "description": listing.description,
            "category_id": listing.category_id,
            "category_version": self.category_version,
            "main_images": [{"uri": self._image_uri(url, "MAIN_IMAGE")} for url in listing.images],
            "skus": [self._sku_body(listing, v, ref, with_images) for v in listing.variants],
            "product_attributes": [
                {"id": a.attribute_id,
                 "values": [{"id": v.value_id} if v.value_id else {"name": v.name} for v in a.values]}
                for a in details.attributes if a.attribute_id
            ] or None,
            "brand_id": details.brand_id if details.brand_id not in (None, "0") else None,
            "size_chart": self._size_chart(details),
            "certifications": [
                {"id": c.certification_id,
                 "images": [{"uri": self._image_uri(url, "CERTIFICATION_IMAGE")} for url in c.images]}
                for c in details.certifications
            ] or None,
            **_package(listing, details),
            # real-stores 1.2: only where the category's rules support COD (the mapping decided, 12052222).
            "is_cod_allowed": True if details.cod else None,
            "external_product_id": listing.sku,
            "save_mode": "LISTING",
        })

    def price_skus(self, listing: Listing, known: list[tuple[ListingVariant, str]]) -> list[dict[str, Any]]:
        """Update Price's ``skus`` for the variants already on the store."""
        return [
            without_none({"id": sku_id, "price": _money(v.price, listing.currency),
                          "list_price": _list_price(v, listing.currency)})
            for v, sku_id in known
        ]

    def inventory(self, variant: ListingVariant) -> list[dict[str, Any]]:
        return [{"warehouse_id": self._warehouse_id, "quantity": variant.stock_qty}]

    def _size_chart(self, details: CatalogDetails) -> dict[str, Any] | None:
        if details.size_chart_template:
            return {"template": {"id": details.size_chart_template}}
        if details.size_chart_image:
            return {"image": {"uri": self._image_uri(details.size_chart_image, "SIZE_CHART_IMAGE")}}
        return None

    def _sku_body(
        self, listing: Listing, variant: ListingVariant, ref: RemoteRef | None, with_images: bool
    ) -> dict[str, Any]:
        axes = listing.options or tuple(variant.options)
        attributes: list[dict[str, Any]] = [
            {"name": axis, "value_name": variant.options[axis]} for axis in axes if axis in variant.options
        ]
        if attributes and variant.image and with_images:
            # real-stores 1.2: images go on the primary sales attribute, for every value or none.
            attributes[0]["sku_img"] = {"uri": self._image_uri(variant.image, "ATTRIBUTE_IMAGE")}
        return without_none({
            "id": ref.variant_ids.get(variant.sku) if ref else None,
            "seller_sku": variant.sku,
            "price": _money(variant.price, listing.currency),
            "list_price": _list_price(variant, listing.currency),
            "inventory": self.inventory(variant),
            "sales_attributes": attributes,
        })


def known_variants(ref: RemoteRef, listing: Listing) -> list[tuple[ListingVariant, str]]:
    """Each variant with its TikTok SKU id; price and stock updates cannot add variants."""
    missing = [v.sku for v in listing.variants if v.sku not in ref.variant_ids]
    if missing:
        raise PlatformError(ErrorClass.INVALID_PRODUCT,
                            f"variants not on the store yet (update the product first): {', '.join(missing)}")
    return [(v, ref.variant_ids[v.sku]) for v in listing.variants]


def _package(listing: Listing, details: CatalogDetails) -> dict[str, Any]:
    """real-stores 1.2: weight and dimensions in one unit system (the mapping declares it)."""
    package = details.package
    if package is None:
        weight = listing.weight_kg
        return {"package_weight": {"value": str(weight), "unit": "KILOGRAM"} if weight is not None else None}
    dimensions = None
    if package.has_dimensions:
        dimensions = {"length": _whole(package.length), "width": _whole(package.width),
                      "height": _whole(package.height), "unit": package.dimension_unit}
    weight_body = None
    if package.weight is not None:
        weight_body = {"value": str(package.weight), "unit": package.weight_unit}
    return {"package_weight": weight_body, "package_dimensions": dimensions}


def _primary_images_complete(listing: Listing) -> bool:
    """Every value of the primary (first) sales attribute has an image."""
    if not listing.options:
        return False
    primary = listing.options[0]
    values = {v.options.get(primary) for v in listing.variants}
    pictured = {v.options.get(primary) for v in listing.variants if v.image}
    return bool(pictured) and pictured == values


def _whole(value: Decimal | None) -> str:
    """TikTok takes whole numbers for package sizes: round up, never below 1."""
    return str(max(1, int((value or Decimal(1)).to_integral_value(rounding="ROUND_CEILING"))))


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def _list_price(variant: ListingVariant, currency: str) -> dict[str, str] | None:
    # T-SPEC update-price: list_price is the strikethrough (regular) price, only above the selling price.
    if variant.compare_at_price is None or variant.compare_at_price <= variant.price:
        return None
    return _money(variant.compare_at_price, currency)


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# -- answers ----------------------------------------------------------------------------------------


def ref_of(data: Mapping[str, Any]) -> RemoteRef:
    skus = data.get("skus") or []
    return RemoteRef(str(data["product_id"]), {str(s["seller_sku"]): str(s["id"]) for s in skus})


def remote_product(data: Mapping[str, Any]) -> RemoteProduct:
    variants = tuple(_remote_variant(s) for s in data.get("skus") or [])
    ref = RemoteRef(str(data["id"]), {v.sku: str(v.variant_id) for v in variants})
    status = str(data.get("status") or "")
    return RemoteProduct(
        ref=ref,
        sku=str(data.get("external_product_id") or (variants[0].sku if variants else "")),
        title=str(data.get("title") or ""),
        status=_STATUS_WORDS.get(status, status.lower()),
        image_count=len(data.get("main_images") or []),
        variants=variants,
        description=data.get("description"),
        raw=dict(data),
    )


def _remote_variant(sku: Mapping[str, Any]) -> RemoteVariant:
    price = sku.get("price") or {}
    amount = price.get("tax_exclusive_price") or price.get("sale_price")
    list_price = (sku.get("list_price") or {}).get("amount")
    return RemoteVariant(
        sku=str(sku["seller_sku"]),
        price=Decimal(str(amount)) if amount is not None else None,
        compare_at_price=Decimal(str(list_price)) if list_price is not None else None,
        stock_qty=sum(int(i.get("quantity") or 0) for i in sku.get("inventory") or []),
        options={str(a["name"]): str(a["value_name"]) for a in sku.get("sales_attributes") or []
                 if a.get("name") and a.get("value_name")},
        variant_id=str(sku["id"]),
    )
