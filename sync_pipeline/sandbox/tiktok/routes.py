"""TikTok sandbox: the shop API's routes, and which of them are shop-scoped (real-stores 1.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    is_write: bool
    handler: str
    shop_scoped: bool  # real-stores 1.1: carries shop_cipher (True) or must not (False)


def _route(
    method: str, pattern: str, operation: str, is_write: bool, handler: str, *, shop_scoped: bool = True
) -> _Route:
    return _Route(method, re.compile(pattern + r"\Z"), operation, is_write, handler, shop_scoped)


_PRODUCT = r"(?P<product_id>\d+)"
ROUTES = (
    _route("POST", r"/product/202309/products", "product.create", True, "_create"),
    # 4.1: Edit Product exists as 202309 and 202509; the body shape is the same for what we use.
    _route("PUT", rf"/product/(?:202309|202509)/products/{_PRODUCT}", "product.edit", True, "_edit"),
    _route("GET", rf"/product/202309/products/{_PRODUCT}", "product.get", False, "_get"),
    _route("POST", r"/product/202502/products/search", "product.search", False, "_search"),
    _route("POST", rf"/product/202309/products/{_PRODUCT}/prices/update", "product.price", True, "_prices"),
    _route("POST", rf"/product/202309/products/{_PRODUCT}/inventory/update", "product.inventory", True, "_inventory"),
    _route("POST", r"/product/202309/products/deactivate", "product.deactivate", True, "_deactivate"),
    _route("POST", r"/product/202309/products/activate", "product.activate", True, "_activate"),
    _route("DELETE", r"/product/202309/products", "product.delete", True, "_delete"),
    # real-stores 1.3: the look-ups a listing needs first (shop-scoped).
    _route("GET", r"/product/202309/categories", "category.list", False, "_categories"),
    _route("GET", r"/product/202309/categories/(?P<category_id>\d+)/rules", "category.rules", False, "_category_rules"),
    _route("GET", r"/product/202309/categories/(?P<category_id>\d+)/attributes", "category.attributes", False,
           "_category_attributes"),
    _route("GET", r"/product/202309/brands", "brand.list", False, "_brands"),
    _route("GET", r"/logistics/202309/warehouses", "warehouse.list", False, "_warehouses"),
    # real-stores 1.1: uploads are app-level (no shop_cipher); the shop is the access token's.
    _route("POST", r"/product/202309/images/upload", "image.upload", True, "_upload_image", shop_scoped=False),
)


def _match(method: str, path: str) -> tuple[_Route | None, re.Match[str] | None, bool]:
    """The route and its match; the flag says whether the path exists under another method."""
    path_known = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found, True
        path_known = True
    return None, None, path_known
