"""A TikTok Shop sandbox shop: its configuration, TikTok's codes and envelope, the base the
emulator's parts share, and the request/body helpers they use."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response
from sync_pipeline.sandbox.state import SandboxState
from sync_pipeline.sandbox.throttle import TokenBuckets
from sync_pipeline.sandbox.tiktok import catalog

PLATFORM = "tiktok"
AUTH_PLATFORM = "tiktok-auth"

# 4.1: accepted timestamp window around the server's clock.
TIMESTAMP_PAST_SECONDS = 300
TIMESTAMP_FUTURE_SECONDS = 30

# 4.4 common codes (T-GUIDE common-errors).
OK = 0
TOO_MANY_REQUESTS = 36009002
INTERNAL_ERROR = 36009003
INVALID_CREDENTIALS = 36009004
INVALID_PATH = 36009009
INVALID_METHOD = 36009010
FILE_TOO_BIG = 36009021
BAD_CONTENT_TYPE = 36009022
INVALID_SIGN = 106001
EXPIRED_TOKEN = 105002
MISSING_SHOP_CIPHER = 106013
# real-stores 1.1: the identifier is checked per endpoint, both ways.
UNEXPECTED_SHOP_CIPHER_MESSAGE = (
    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
)
MISSING_SHOP_CIPHER_MESSAGE = "Missing identifier. The `shop_cipher` query parameter is required for this request."

# 4.5 product codes (T-SPEC create/edit/price/inventory/deactivate/delete).
CATEGORY_NOT_FOUND = 12052023
MAIN_IMAGE_REQUIRED = 12052028
PRODUCT_NOT_FOUND = 12052032
TOO_MANY_SKUS = 12052050
TITLE_TOO_LONG = 12052051
SELLER_SKU_TOO_LONG = 12052054
INVENTORY_OUT_OF_RANGE = 12052055
INVALID_PRICE = 12052073
CURRENCY_NOT_AVAILABLE = 12052084
WAREHOUSE_NOT_FOUND = 12052097
TITLE_EMPTY = 12052261
CHINESE_IN_TITLE = 12052262
MAIN_IMAGE_URI_ILLEGAL = 12052300
TOO_MANY_MAIN_IMAGES = 12052306
TOO_MANY_SALES_ATTRIBUTES = 12052525
SKU_ID_DUPLICATE = 12052553
SKU_ID_NOT_FOUND = 12052556
SKU_NOT_OF_PRODUCT = 12052557
DUPLICATE_SALES_ATTRIBUTE = 12052560
STATUS_NOT_AVAILABLE = 12052901
INVALID_PARAMETERS = 12052910
CHECK_FAILED = 12052990
TOO_MANY_IDS = 12019120
WRONG_CATEGORY_VERSION = 12052217  # real-stores 1.2: US shops must use v2
CATEGORY_VERSION_MISMATCH = 12052230

# 4.5 limits (US/EU/UK/JP/BR/MX figures).
MAX_TITLE = 255
MAX_DESCRIPTION = 10_000
MAX_MAIN_IMAGES = 9
MAX_SKUS = 300
MAX_SELLER_SKU = 50
MAX_SALES_ATTRIBUTES = 3
MAX_ATTRIBUTE_NAME = 20
MAX_ATTRIBUTE_VALUE = 50
MAX_STOCK = 99_999
MAX_IDEMPOTENCY_KEY = 128
MAX_PRODUCT_IDS = 20  # deactivate / delete (T-SPEC deactivate-products, delete-products)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_IMAGE_PX, MAX_IMAGE_PX = 100, 20_000
IMAGE_USE_CASES = frozenset(
    {"MAIN_IMAGE", "ATTRIBUTE_IMAGE", "DESCRIPTION_IMAGE", "CERTIFICATION_IMAGE", "SIZE_CHART_IMAGE"}
)
WEIGHT_UNITS = frozenset({"KILOGRAM", "POUND", "GRAM"})
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Product statuses (4.5).
PENDING, ACTIVATE, FAILED = "PENDING", "ACTIVATE", "FAILED"
SELLER_DEACTIVATED, DELETED = "SELLER_DEACTIVATED", "DELETED"


# -- store configuration ---------------------------------------------------------------------------


class TikTokShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qps: float = Field(default=50.0, gt=0)  # 4.4: per API, per app + shop
    audit_delay_seconds: float = Field(default=0.5, ge=0)  # PENDING -> ACTIVATE after this long
    access_token_lifetime_seconds: float = Field(default=7 * 86400, gt=0)  # 4.3: about 7 days
    refresh_token_lifetime_seconds: float = Field(default=60 * 86400, gt=0)
    idempotency_ttl_seconds: float = Field(default=86400, gt=0)  # [sandbox choice]
    currency: str = "USD"
    min_stock: int = Field(default=1, ge=0)  # 4.5: inventory quantity 1..99,999
    region: str = Field(default="US", pattern=r"^[A-Z]{2}$")  # real-stores 1.2: US shops need category v2


class TikTokShopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app_key: str = Field(min_length=1)
    app_secret: str = Field(min_length=1)
    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    warehouse_id: str = Field(min_length=1)
    settings: TikTokShopSettings = TikTokShopSettings()


@dataclass(frozen=True)
class _Shop:
    cipher: str
    config: TikTokShopConfig


class ApiError(Exception):
    """A failure answered in TikTok's envelope."""

    def __init__(self, code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def envelope(code: int, message: str, data: Any = None, http_status: int = 200) -> Response:
    """4.4: every answer is ``{code, message, request_id, data}``."""
    body = {"code": code, "message": message, "request_id": _request_id(), "data": data if data is not None else {}}
    return Response(http_status, body)


def _request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()



class TikTokBase(PlatformEmulator):
    """What the shop emulator's parts (auth, look-ups, media, products, validation) share."""

    platform = PLATFORM
    clock: Callable[[], float]
    rate_clock: Callable[[], float]
    _qps: TokenBuckets

    def _product(self, shop: _Shop, product_id: str, allow_deleted: bool = False) -> dict[str, Any]:
        product = self.state.get(PLATFORM, shop.cipher, "products", product_id)
        if product is None or (product["status"] == DELETED and not allow_deleted):
            raise ApiError(PRODUCT_NOT_FOUND, "The product does not exist")
        product["status"] = self._status(product)
        return product

    def _live_product(self, shop: _Shop, product_id: str) -> dict[str, Any]:
        """4.5: price and inventory updates need an ACTIVATE product."""
        product = self._product(shop, product_id)
        if product["status"] != ACTIVATE:
            raise ApiError(STATUS_NOT_AVAILABLE, "The product in its current status is not available for this "
                           f"operation (status {product['status']}).")
        return product

    def _status(self, product: Mapping[str, Any]) -> str:
        """The audit, evaluated lazily: a PENDING product is ACTIVATE once its audit delay passed."""
        status = str(product["status"])
        if status == PENDING and self.clock() >= float(product.get("audit_until", 0)):
            return ACTIVATE
        return status


# -- shared state helpers ------------------------------------------------------------------------


def provision_shop(state: SandboxState, cipher: str, config: dict[str, Any], now: float) -> dict[str, Any]:
    """Create or replace a shop; its tokens start fresh with the configured lifetimes."""
    shop = TikTokShopConfig.model_validate(config)
    stored = shop.model_dump()
    state.put_store(PLATFORM, cipher, stored)
    state.put(PLATFORM, cipher, "tokens", "current", {
        "access_token": shop.access_token,
        "access_expires_at": now + shop.settings.access_token_lifetime_seconds,
        "refresh_token": shop.refresh_token,
        "refresh_expires_at": now + shop.settings.refresh_token_lifetime_seconds,
    })
    return {k: v for k, v in stored.items() if k not in ("app_secret", "access_token", "refresh_token")}


def load_shop(state: SandboxState, cipher: str) -> _Shop | None:
    config = state.get_store(PLATFORM, cipher)
    return None if config is None else _Shop(cipher, TikTokShopConfig.model_validate(config))


def _check_category_version(version: Any, shop: _Shop) -> None:
    """real-stores 1.2: US shops use the v2 (7-level) tree, every other region v1 (the default)."""
    version = version or "v1"
    if shop.config.settings.region == "US" and version != "v2":
        raise ApiError(WRONG_CATEGORY_VERSION,
                       "All region shops must use V2 categories. Check the documentation for further details.")
    if shop.config.settings.region != "US" and version != "v1":
        raise ApiError(CATEGORY_VERSION_MISMATCH, "Category version and categoryID are not matched.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _json_object(request: Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(BAD_CONTENT_TYPE, "content-type must be application/json")
    try:
        body = request.json()
    except ValueError:
        raise ApiError(INVALID_PARAMETERS, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(INVALID_PARAMETERS, "The request body must be a JSON object")
    return body


def _int_arg(request: Request, name: str) -> int | None:
    value = request.arg(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _string_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(INVALID_PARAMETERS, f"{name} must be a list of strings")
    return value


def _list_of_objects(body: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = body.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ApiError(INVALID_PARAMETERS, f"{name} must be a non-empty list of objects")
    return value


def _product_ids(body: Mapping[str, Any]) -> list[str]:
    ids = _string_list(body, "product_ids")
    if not ids:
        raise ApiError(INVALID_PARAMETERS, "product_ids is required")
    if len(ids) > MAX_PRODUCT_IDS:
        raise ApiError(TOO_MANY_IDS, "The number of provided product IDs exceeds the limit.")
    return ids


def _optional_str(body: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ApiError(INVALID_PARAMETERS, f"{name} must be a string of at most {limit} characters")
    return value


def _price(price: Any, shop: _Shop) -> dict[str, str]:
    if not isinstance(price, dict):
        raise ApiError(INVALID_PRICE, "The product price is invalid")
    currency = price.get("currency")
    if currency != shop.config.settings.currency:
        raise ApiError(CURRENCY_NOT_AVAILABLE, "The provided currency is not available for this shop/region.")
    try:
        amount = Decimal(str(price.get("amount")))
    except InvalidOperation:
        raise ApiError(INVALID_PRICE, "The product price is invalid") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ApiError(INVALID_PRICE, "The product price is invalid")
    return {"amount": str(amount), "currency": str(currency)}


def _checked_inventory(inventory: Any, shop: _Shop) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The inventory list, or the per-warehouse problems (4.5: quantity 1..99,999, known warehouse)."""
    if not isinstance(inventory, list) or not inventory:
        return [], [{"warehouse_id": "", "code": INVALID_PARAMETERS, "message": "inventory is required"}]
    kept: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for entry in inventory:
        warehouse = str(entry.get("warehouse_id", "")) if isinstance(entry, dict) else ""
        quantity = entry.get("quantity") if isinstance(entry, dict) else None
        problem = catalog.check_warehouse(warehouse, catalog.warehouses(shop.config.warehouse_id))
        if problem is not None and problem[0] == 12052530:
            problems.append({"warehouse_id": warehouse, "code": WAREHOUSE_NOT_FOUND,
                             "message": "The warehouse does not exist"})
        elif problem is not None:  # rule 8: known, but disabled or not a sales warehouse
            problems.append({"warehouse_id": warehouse, "code": problem[0], "message": problem[1]})
        elif not isinstance(quantity, int) or not shop.config.settings.min_stock <= quantity <= MAX_STOCK:
            problems.append({"warehouse_id": warehouse, "code": INVENTORY_OUT_OF_RANGE,
                             "message": "The SKU inventory quantity for the warehouse must be within allowed "
                                        f"limits ({shop.config.settings.min_stock}-{MAX_STOCK})."})
        else:
            kept.append({"warehouse_id": warehouse, "quantity": quantity})
    return kept, problems


def _sales_attributes(attributes: Any, several: bool) -> list[dict[str, Any]]:
    if attributes in (None, []):
        if several:
            raise ApiError(INVALID_PARAMETERS, "sales_attributes are required when a product has several SKUs")
        return []
    if not isinstance(attributes, list) or not all(isinstance(a, dict) for a in attributes):
        raise ApiError(INVALID_PARAMETERS, "sales_attributes must be a list of objects")
    if len(attributes) > MAX_SALES_ATTRIBUTES:
        raise ApiError(TOO_MANY_SALES_ATTRIBUTES, f"At most {MAX_SALES_ATTRIBUTES} sales attributes")
    names = [str(a.get("name") or "") for a in attributes]
    if len(set(names)) != len(names):
        raise ApiError(DUPLICATE_SALES_ATTRIBUTE, "A sales attribute appears twice on one SKU")
    stored = []
    for attribute, name in zip(attributes, names, strict=True):
        value = str(attribute.get("value_name") or "")
        if not 0 < len(name) <= MAX_ATTRIBUTE_NAME or not 0 < len(value) <= MAX_ATTRIBUTE_VALUE:
            raise ApiError(INVALID_PARAMETERS, f"sales attribute names are 1-{MAX_ATTRIBUTE_NAME} and values "
                           f"1-{MAX_ATTRIBUTE_VALUE} characters")
        stored.append({"id": _stable_id("attr", name), "name": name,
                       "value_id": _stable_id("value", name, value), "value_name": value,
                       "sku_img": attribute.get("sku_img")})
    return stored


def _stable_id(*parts: str) -> str:
    return str(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:15], 16))


def _sku_updates(body: Mapping[str, Any], product: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The product's SKUs each change names (4.5: all SKU ids must belong to this one product)."""
    by_id = {s["id"]: s for s in product["skus"]}
    updates, seen = [], set()
    for change in _list_of_objects(body, "skus"):
        sku_id = str(change.get("id"))
        if sku_id not in by_id:
            raise ApiError(SKU_NOT_OF_PRODUCT, "The SKU ID does not belong to the product.")
        if sku_id in seen:
            raise ApiError(SKU_ID_DUPLICATE, "Sku id duplicate")
        seen.add(sku_id)
        updates.append((by_id[sku_id], change))
    return updates


def _write_result(product: dict[str, Any]) -> dict[str, Any]:
    """Create/Edit answer: ``data{product_id, skus[{id, seller_sku, sales_attributes, external_sku_id}]}``."""
    return {
        "product_id": product["id"],
        "skus": [
            {"id": s["id"], "seller_sku": s["seller_sku"], "external_sku_id": s.get("external_sku_id"),
             "sales_attributes": [{"id": a["id"], "value_id": a["value_id"]} for a in s["sales_attributes"]]}
            for s in product["skus"]
        ],
        "warnings": [],
    }


def _public_sku(sku: dict[str, Any]) -> dict[str, Any]:
    price = sku.get("price") or {}
    public = {
        "id": sku["id"],
        "seller_sku": sku["seller_sku"],
        "price": {"currency": price.get("currency"), "tax_exclusive_price": price.get("amount"),
                  "sale_price": price.get("amount")},
        "inventory": sku.get("inventory") or [],
        "sales_attributes": sku["sales_attributes"],
        "external_sku_id": sku.get("external_sku_id"),
    }
    if sku.get("list_price"):
        public["list_price"] = sku["list_price"]
    return public


def _sku_error(code: int, message: str, sku_id: str, extra: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": {"sku_id": sku_id, "extra_errors": extra}}


def _product_error(code: int, message: str, product_id: str) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": {"product_id": product_id}}


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset={offset}".encode()).decode()


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset=")))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(INVALID_PARAMETERS, "page_token is invalid") from None
