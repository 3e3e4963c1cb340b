"""TikTok sandbox: the look-ups a listing needs first (real-stores 1.3), served from the seed."""

from __future__ import annotations

import re

from sync_pipeline.sandbox.core import Request, Response
from sync_pipeline.sandbox.tiktok import catalog
from sync_pipeline.sandbox.tiktok.shop import (
    INVALID_PARAMETERS,
    OK,
    ApiError,
    TikTokBase,
    _check_category_version,
    _int_arg,
    _page_offset,
    _page_token,
    _Shop,
    envelope,
)


class TikTokLookups(TikTokBase):
    # -- look-ups (real-stores 1.3) --------------------------------------------------------------

    def _categories(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        _check_category_version(request.arg("category_version"), shop)
        return envelope(OK, "Success", {"categories": catalog.categories()})

    def _category_rules(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        _check_category_version(request.arg("category_version"), shop)
        return envelope(OK, "Success", catalog.category_rules(found["category_id"], shop.config.settings.region))

    def _category_attributes(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        _check_category_version(request.arg("category_version"), shop)
        return envelope(OK, "Success", {"attributes": catalog.category_attributes(found["category_id"])})

    def _brands(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        _check_category_version(request.arg("category_version"), shop)
        page_size = _int_arg(request, "page_size")
        if page_size is None or not 1 <= page_size <= 100:
            raise ApiError(INVALID_PARAMETERS, "page_size must be between 1 and 100")
        every = catalog.brands()
        offset = _page_offset(request.arg("page_token"))
        page = every[offset : offset + page_size]
        next_token = _page_token(offset + page_size) if offset + page_size < len(every) else ""
        return envelope(OK, "Success", {"brands": page, "total_count": len(every), "next_page_token": next_token})

    def _warehouses(self, _request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        return envelope(OK, "Success", {"warehouses": catalog.warehouses(shop.config.warehouse_id)})
