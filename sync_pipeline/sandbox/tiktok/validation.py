"""TikTok sandbox: what a create/edit body must carry (4.5, real-stores 1.2), in the stored form."""

from __future__ import annotations

import functools
from typing import Any

from sync_pipeline.sandbox.tiktok import catalog
from sync_pipeline.sandbox.tiktok.media import TikTokMedia
from sync_pipeline.sandbox.tiktok.shop import (
    _CJK,
    CATEGORY_NOT_FOUND,
    CHINESE_IN_TITLE,
    DUPLICATE_SALES_ATTRIBUTE,
    INVALID_PARAMETERS,
    MAIN_IMAGE_REQUIRED,
    MAIN_IMAGE_URI_ILLEGAL,
    MAX_DESCRIPTION,
    MAX_MAIN_IMAGES,
    MAX_SELLER_SKU,
    MAX_SKUS,
    MAX_TITLE,
    SELLER_SKU_TOO_LONG,
    SKU_ID_DUPLICATE,
    SKU_NOT_OF_PRODUCT,
    TITLE_EMPTY,
    TITLE_TOO_LONG,
    TOO_MANY_MAIN_IMAGES,
    TOO_MANY_SKUS,
    ApiError,
    _check_category_version,
    _checked_inventory,
    _optional_str,
    _price,
    _sales_attributes,
    _Shop,
)


class TikTokValidation(TikTokMedia):
    def _validated_product(
        self, body: dict[str, Any], shop: _Shop, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The stored form of a create/edit body, or the first rule it breaks (4.5 codes).

        An edit keeps nothing of the old product but each kept SKU's id and, when omitted, its price
        and inventory (4.5: PUT overwrites every field, blanks included).
        """
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(TITLE_EMPTY, "The product name cannot be empty")
        if len(title) > MAX_TITLE:
            raise ApiError(TITLE_TOO_LONG, f"The product name is longer than {MAX_TITLE} characters")
        if _CJK.search(title):
            raise ApiError(CHINESE_IN_TITLE, "The product name cannot contain Chinese characters")
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ApiError(INVALID_PARAMETERS, "description is required")
        if len(description) > MAX_DESCRIPTION:
            raise ApiError(INVALID_PARAMETERS, f"description is longer than {MAX_DESCRIPTION} characters")
        category_id = body.get("category_id")
        if not isinstance(category_id, str) or not category_id.isdigit():
            raise ApiError(CATEGORY_NOT_FOUND, "Category does not exist")
        _check_category_version(body.get("category_version"), shop)
        catalog.check_category(category_id)
        images = self._main_images(body, shop)
        known = functools.partial(self._image_known, shop)
        attributes = catalog.check_attributes(category_id, body.get("product_attributes"))
        brand_id = catalog.check_brand(body.get("brand_id"))
        cod = catalog.check_cod(category_id, body.get("is_cod_allowed"), shop.config.settings.region)
        size_chart = catalog.check_size_chart(category_id, body.get("size_chart"), known)
        certifications = catalog.check_certifications(category_id, body.get("certifications"), known, attributes)
        weight, dimensions = catalog.check_package(body.get("package_weight"), body.get("package_dimensions"),
                                                   shop.config.settings.region)
        skus = self._skus(body, shop, existing)
        catalog.check_sku_images(body.get("skus") or [], known)
        return {
            "title": title,
            "description": description,
            "category_id": category_id,
            "category_version": body.get("category_version") or "v1",
            "main_images": images,
            "skus": skus,
            "product_attributes": attributes,
            "brand_id": brand_id,
            "size_chart": size_chart,
            "certifications": certifications,
            "package_weight": weight,
            "package_dimensions": dimensions,
            "is_cod_allowed": cod,
            "external_product_id": _optional_str(body, "external_product_id", 999),
            "save_mode": body.get("save_mode") or "LISTING",
        }

    def _main_images(self, body: dict[str, Any], shop: _Shop) -> list[dict[str, str]]:
        images = body.get("main_images")
        if not isinstance(images, list) or not images:
            raise ApiError(MAIN_IMAGE_REQUIRED, "The main image is required")
        if len(images) > MAX_MAIN_IMAGES:
            raise ApiError(TOO_MANY_MAIN_IMAGES, f"At most {MAX_MAIN_IMAGES} main images")
        uris = []
        for image in images:
            uri = image.get("uri") if isinstance(image, dict) else None
            # 4.5: external image URLs are not accepted; only uris from Upload Image (use_case MAIN_IMAGE).
            if not isinstance(uri, str) or not self._image_known(shop, uri, "MAIN_IMAGE"):
                raise ApiError(MAIN_IMAGE_URI_ILLEGAL, "The main image uri is illegal")
            uris.append({"uri": uri})
        return uris

    def _skus(self, body: dict[str, Any], shop: _Shop, existing: dict[str, Any] | None) -> list[dict[str, Any]]:
        skus = body.get("skus")
        if not isinstance(skus, list) or not skus:
            raise ApiError(INVALID_PARAMETERS, "skus is required")
        if len(skus) > MAX_SKUS:
            raise ApiError(TOO_MANY_SKUS, f"A product cannot have more than {MAX_SKUS} SKUs")
        old = {s["id"]: s for s in existing["skus"]} if existing else {}
        stored: list[dict[str, Any]] = []
        combinations: set[tuple[tuple[str, str], ...]] = set()
        seen_ids: set[str] = set()
        for sku in skus:
            if not isinstance(sku, dict):
                raise ApiError(INVALID_PARAMETERS, "skus must be objects")
            previous = self._previous_sku(sku, old, seen_ids)
            attributes = _sales_attributes(sku.get("sales_attributes"), several=len(skus) > 1)
            combination = tuple(sorted((a["name"], a["value_name"]) for a in attributes))
            if combination in combinations:
                raise ApiError(DUPLICATE_SALES_ATTRIBUTE, "Two SKUs have the same sales attributes")
            combinations.add(combination)
            stored.append(self._stored_sku(sku, shop, previous, attributes))
        return stored

    def _previous_sku(
        self, sku: dict[str, Any], old: dict[str, dict[str, Any]], seen: set[str]
    ) -> dict[str, Any] | None:
        sku_id = sku.get("id")
        if sku_id is None:
            return None
        if str(sku_id) not in old:
            raise ApiError(SKU_NOT_OF_PRODUCT, "The SKU ID does not belong to the product.")
        if str(sku_id) in seen:
            raise ApiError(SKU_ID_DUPLICATE, "Sku id duplicate")
        seen.add(str(sku_id))
        return old[str(sku_id)]

    def _stored_sku(
        self, sku: dict[str, Any], shop: _Shop, previous: dict[str, Any] | None, attributes: list[dict[str, Any]]
    ) -> dict[str, Any]:
        seller_sku = sku.get("seller_sku")
        if not isinstance(seller_sku, str) or not seller_sku or " " in seller_sku:
            raise ApiError(INVALID_PARAMETERS, "seller_sku must be 1-50 characters without spaces")
        if len(seller_sku) > MAX_SELLER_SKU:
            raise ApiError(SELLER_SKU_TOO_LONG, f"The seller SKU is longer than {MAX_SELLER_SKU} characters")
        price = sku.get("price")
        inventory_in = sku.get("inventory")
        if previous is None and (price is None or inventory_in is None):
            raise ApiError(INVALID_PARAMETERS, "skus.price and skus.inventory are required for a new SKU")
        inventory, extra = _checked_inventory(inventory_in, shop) if inventory_in is not None else (None, [])
        if extra:
            raise ApiError(int(extra[0]["code"]), str(extra[0]["message"]))
        sku_id = previous["id"] if previous else str(self.state.next_id("tiktok.sku", 1729592969712300000))
        return {
            "id": sku_id,
            "seller_sku": seller_sku,
            # 4.5: only price and inventory keep their old values when an edit omits them.
            "price": _price(price, shop) if isinstance(price, dict) else (previous or {}).get("price"),
            "list_price": _price(sku["list_price"], shop) if isinstance(sku.get("list_price"), dict) else None,
            "inventory": inventory if inventory is not None else (previous or {}).get("inventory"),
            "sales_attributes": attributes,
            "external_sku_id": _optional_str(sku, "external_sku_id", 999),
        }
