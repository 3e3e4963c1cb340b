"""Shopee sandbox: the look-ups a listing needs first (real-stores 2.3), served from the shop's seed."""

from __future__ import annotations

from typing import Any

from sync_pipeline.sandbox.core import Request
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.shop import ShopeeBase, _paging, _param_error


class ShopeeLookups(ShopeeBase):
    def _get_item_limit(self, shop: str, request: Request) -> dict[str, Any]:
        category = request.arg("category_id") or ""
        limits = self._config(shop).limits.model_dump()
        return {**limits, **catalog.category_limits(int(category))} if category.isdigit() else limits

    def _get_channel_list(self, shop: str, request: Request) -> dict[str, Any]:
        channels = self._config(shop).logistics_channels
        return {"logistics_channel_list": [c.model_dump() for c in channels]}

    def _get_category(self, shop: str, request: Request) -> dict[str, Any]:
        return {"category_list": catalog.category_list()}

    def _get_attribute_tree(self, shop: str, request: Request) -> dict[str, Any]:
        raw = request.arg("category_id_list") or ""
        ids = [part for part in raw.split(",") if part]
        if not ids or len(ids) > 20 or not all(part.isdigit() for part in ids):
            raise _param_error("category_id_list needs 1-20 category ids")
        return {"list": [{"category_id": int(c), "attribute_tree": catalog.attribute_tree(int(c))} for c in ids]}

    def _get_brand_list(self, shop: str, request: Request) -> dict[str, Any]:
        offset, page_size = _paging(request)
        category = request.arg("category_id") or ""
        if not category.isdigit():
            raise _param_error("category_id is required")
        return catalog.brand_page(int(category), offset, page_size)

    def _get_variation_tree(self, shop: str, request: Request) -> dict[str, Any]:
        category = request.arg("category_id") or ""
        if not category.isdigit():
            raise _param_error("category_id is required")
        return {"standardise_variation_list": catalog.variation_tree(int(category))}
