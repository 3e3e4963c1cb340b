"""TikTok Shop Partner API (202309+) sandbox: shop-scoped product APIs and the auth host's tokens.

It follows ``../shared/contracts/platforms.md`` section 4 (cited below as "4.x") and, where the
contract is silent, TikTok's published API reference for the endpoint named in the comment.
Two emulators share one state: ``TikTokEmulator`` stands for ``https://open-api.tiktokglobalshop.com``
(prefix ``/tiktok``) and ``TikTokAuthEmulator`` for ``https://auth.tiktok-shops.com`` (prefix
``/tiktok-auth``). A store is a shop; its sandbox id is its ``shop_cipher``.

Sandbox choices where no source says (each marked "[sandbox choice]"): HTTP status of auth and
business errors, what a superseded access token answers, how long idempotency keys live, and that
``status=ALL`` searches leave deleted products out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.state import SandboxState
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


# -- signature (4.2) --------------------------------------------------------------------------


def tiktok_sign(app_secret: str, path: str, params: Mapping[str, str], body: bytes = b"") -> str:
    """4.2: sorted ``key+value`` of every query param but ``sign`` and ``access_token``, prefixed by
    the path, followed by the raw body (pass ``b""`` for multipart), wrapped in the secret, HMAC-SHA256.

    Written apart from the client's signer on purpose: the sandbox stands for the platform, so the
    contract tests compare two independent readings of 4.2 (and both against its worked example).
    """
    pairs = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in ("sign", "access_token"))
    message = app_secret.encode() + path.encode() + pairs.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


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


class _QpsLimiter:
    """4.4: at most ``qps`` calls per second per API and app + shop (a bucket one second deep)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, str, str], qps: float, now: float) -> bool:
        with self._lock:
            tokens, updated = self._buckets.get(key, (qps, now))
            tokens = min(qps, tokens + (now - updated) * qps)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


# -- the shop API emulator --------------------------------------------------------------------------


class TikTokEmulator(PlatformEmulator):
    platform = PLATFORM
    prefix = "/tiktok"

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        super().__init__(state)
        self.clock = clock
        self._qps = _QpsLimiter()
        # The QPS buckets refill on this clock; a test pins it to count calls without racing the refill.
        self.rate_clock: Callable[[], float] = time.monotonic

    # -- admin hooks ---------------------------------------------------------------------------

    def provision(self, store: str, config: dict[str, Any]) -> dict[str, Any]:
        return provision_shop(self.state, store, config, self.clock())

    def sandbox_store(
        self, endpoint_path: str, settings: dict[str, Any], credentials: dict[str, str], rate_limit: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A stores-file entry: the shop is its ``shop_cipher``; the QPS is its rate limit, if set."""
        cipher = str(settings.get("shop_cipher") or "")
        if not cipher:
            raise ValueError("tiktok: the store's settings need a shop_cipher")
        shop_settings: dict[str, Any] = {}
        if rate_limit.get("requests_per_second"):
            shop_settings["qps"] = rate_limit["requests_per_second"]
        for key in ("audit_delay_seconds", "currency", "region"):
            if key in settings:
                shop_settings[key] = settings[key]
        config = {
            "app_key": credentials.get("app_key", ""),
            "app_secret": credentials.get("app_secret", ""),
            "access_token": credentials.get("access_token", ""),
            "refresh_token": credentials.get("refresh_token", ""),
            "warehouse_id": str(settings.get("warehouse_id") or ""),
            "settings": shop_settings,
        }
        return cipher, config

    def expire_tokens(self, store: str) -> None:
        with self.state.lock:
            tokens = self.state.get(PLATFORM, store, "tokens", "current")
            if tokens is not None:
                tokens["access_expires_at"] = self.clock() - 1
                self.state.put(PLATFORM, store, "tokens", "current", tokens)

    def reset(self) -> None:
        self._qps.clear()

    # -- request flow --------------------------------------------------------------------------

    def route(self, request: Request) -> Routed:
        route, _found, _known = _match(request.method, request.path)
        if route is not None and not route.shop_scoped:
            shop = self._shop_of_access_token(request.headers.get("x-tts-access-token", ""))
            return Routed(shop.cipher if shop else None, route.operation, route.is_write)
        cipher = request.arg("shop_cipher")
        store = cipher if cipher and self.state.get_store(PLATFORM, cipher) is not None else None
        if route is None:
            return Routed(store, "unknown", False)
        return Routed(store, route.operation, route.is_write)

    def handle(self, request: Request, routed: Routed) -> Response:
        route, found, path_known = _match(request.method, request.path)
        if route is None or found is None:
            if path_known:
                return envelope(INVALID_METHOD, "Invalid method", http_status=405)
            return envelope(INVALID_PATH, "Invalid path", http_status=404)
        try:
            shop = self._authenticate(request, route)
            if not self._qps.allow((shop.config.app_key, shop.cipher, route.operation), shop.config.settings.qps,
                                   self.rate_clock()):
                return envelope(TOO_MANY_REQUESTS, "Too many requests", http_status=429)
            handler: Callable[[Request, _Shop, re.Match[str]], Response] = getattr(self, route.handler)
            return handler(request, shop, found)
        except ApiError as err:
            return envelope(err.code, err.message, http_status=err.http_status)
        except catalog.CatalogError as err:
            return envelope(err.code, err.message)

    def fault_response(self, fault: Fault, routed: Routed) -> Response:
        if fault is Fault.THROTTLE:
            return envelope(TOO_MANY_REQUESTS, "Too many requests", http_status=429)  # 4.4
        return envelope(INTERNAL_ERROR, "Internal error. Please try again.", http_status=500)

    # -- authentication (4.1, 4.2, 4.3, 4.4) -----------------------------------------------------------

    def _authenticate(self, request: Request, route: _Route) -> _Shop:
        # [sandbox choice] auth failures answer HTTP 401, as the invalid-sign log (T-LOG) shows; a
        # misplaced identifier is a malformed request (400).
        app_key, sign, timestamp = request.arg("app_key"), request.arg("sign"), request.arg("timestamp")
        if not app_key or not sign or not timestamp:
            raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: app_key, sign and timestamp "
                           "are required", 401)
        cipher = request.arg("shop_cipher")
        if route.shop_scoped and not cipher:
            raise ApiError(MISSING_SHOP_CIPHER, MISSING_SHOP_CIPHER_MESSAGE, 400)
        if not route.shop_scoped and cipher is not None:
            raise ApiError(INVALID_CREDENTIALS, UNEXPECTED_SHOP_CIPHER_MESSAGE, 400)
        if cipher:
            shop = load_shop(self.state, cipher)
        else:
            shop = self._shop_of_access_token(request.headers.get("x-tts-access-token", ""))
        if shop is None:
            what = "unexpected shop_cipher" if cipher else "invalid access token"
            raise ApiError(INVALID_CREDENTIALS, f"Missing or invalid credentials: {what}", 401)
        if not hmac.compare_digest(app_key, shop.config.app_key):
            raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: invalid app_key", 401)
        now = self.clock()
        try:
            stamp = int(timestamp)
        except ValueError:
            raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: invalid timestamp", 401) from None
        if not now - TIMESTAMP_PAST_SECONDS <= stamp <= now + TIMESTAMP_FUTURE_SECONDS:
            raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: timestamp out of range", 401)
        params = {key: values[0] for key, values in request.query.items() if values}
        body = b"" if request.content_type == "multipart/form-data" else request.body
        expected = tiktok_sign(shop.config.app_secret, "/" + request.path.lstrip("/"), params, body)
        if not hmac.compare_digest(sign, expected):
            raise ApiError(INVALID_SIGN, "Invalid signature", 401)
        self._check_access_token(request, shop, now)
        return shop

    def _check_access_token(self, request: Request, shop: _Shop, now: float) -> None:
        token = request.headers.get("x-tts-access-token", "")
        if not token:
            raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: x-tts-access-token is missing", 401)
        current = self.state.get(PLATFORM, shop.cipher, "tokens", "current") or {}
        if hmac.compare_digest(token, str(current.get("access_token", ""))):
            if now >= float(current.get("access_expires_at", 0)):
                raise ApiError(EXPIRED_TOKEN, "Access token is expired", 401)
            return
        # [sandbox choice] a token replaced by a refresh answers "expired", so a client that raced
        # another thread's refresh learns to pick up the new token (4.3 leaves this unverified).
        if self.state.get(PLATFORM, shop.cipher, "retired_tokens", _digest(token)) is not None:
            raise ApiError(EXPIRED_TOKEN, "Access token is expired", 401)
        raise ApiError(INVALID_CREDENTIALS, "Missing or invalid credentials: invalid access token", 401)

    def _shop_of_access_token(self, token: str) -> _Shop | None:
        """The shop an app-level call acts for: the one whose current or replaced token this is."""
        if not token:
            return None
        for cipher in self.state.list_stores(PLATFORM):
            current = self.state.get(PLATFORM, cipher, "tokens", "current") or {}
            if hmac.compare_digest(token, str(current.get("access_token", ""))) or self.state.get(
                PLATFORM, cipher, "retired_tokens", _digest(token)
            ) is not None:
                return load_shop(self.state, cipher)
        return None

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

    def _image_known(self, shop: _Shop, uri: Any, _use_case: str) -> bool:
        return isinstance(uri, str) and self.state.get(PLATFORM, shop.cipher, "images", uri) is not None

    # -- products --------------------------------------------------------------------------

    def _create(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        body = _json_object(request)
        key = body.get("idempotency_key")
        if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY):
            raise ApiError(INVALID_PARAMETERS, f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
        with self.state.lock:
            replay = self._idempotent_replay(shop, key)
            if replay is not None:
                return envelope(OK, "Success", replay)
            product = self._validated_product(body, shop, existing=None)
            product_id = str(self.state.next_id("tiktok.product", 1729592969712200000))
            now = self.clock()
            product.update(
                id=product_id,
                status=PENDING,  # 4.5: a new product goes to audit
                audit_until=now + shop.config.settings.audit_delay_seconds,
                create_time=int(now),
                update_time=int(now),
                idempotency_key=key,
            )
            self.state.put(PLATFORM, shop.cipher, "products", product_id, product)
            data = _write_result(product)
            if key is not None:
                self.state.put(PLATFORM, shop.cipher, "idempotency", key,
                               {"product_id": product_id, "data": data, "at": now})
        return envelope(OK, "Success", data)

    def _idempotent_replay(self, shop: _Shop, key: str | None) -> dict[str, Any] | None:
        """4.5 ``idempotency_key``: the same key within its lifetime answers the first outcome again."""
        if key is None:
            return None
        record = self.state.get(PLATFORM, shop.cipher, "idempotency", key)
        if record is None or self.clock() - float(record["at"]) > shop.config.settings.idempotency_ttl_seconds:
            return None
        product = self.state.get(PLATFORM, shop.cipher, "products", record["product_id"])
        if product is None or product["status"] == DELETED:
            return None  # [sandbox choice] a deleted product's key may be used again
        data: dict[str, Any] = record["data"]
        return data

    def _edit(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        with self.state.lock:
            existing = self._product(shop, found["product_id"])
            product = self._validated_product(body, shop, existing=existing)
            now = self.clock()
            status = self._status(existing)
            # 4.5: content edits re-enter audit; a live product stays live until the new version passes.
            product.update(
                id=existing["id"],
                status=status if status in (ACTIVATE, SELLER_DEACTIVATED) else PENDING,
                audit_until=now + shop.config.settings.audit_delay_seconds,
                create_time=existing["create_time"],
                update_time=int(now),
                idempotency_key=existing.get("idempotency_key"),
            )
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", _write_result(product))

    def _get(self, _request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        product = self._product(shop, found["product_id"], allow_deleted=True)
        return envelope(OK, "Success", self._public(product))

    def _search(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        page_size = _int_arg(request, "page_size")
        if page_size is None or not 1 <= page_size <= 100:
            raise ApiError(INVALID_PARAMETERS, "page_size must be between 1 and 100")
        body = _json_object(request) if request.body else {}
        wanted_status = str(body.get("status") or "ALL")
        seller_skus = set(_string_list(body, "seller_skus"))
        sku_ids = set(_string_list(body, "sku_ids"))
        if len(sku_ids) > 10:
            raise ApiError(INVALID_PARAMETERS, "sku_ids: at most 10")
        hits = []
        for product in self.state.list(PLATFORM, shop.cipher, "products"):
            status = self._status(product)
            # [sandbox choice] ALL leaves deleted products out; ask for DELETED to see them.
            if (wanted_status == "ALL" and status == DELETED) or wanted_status not in ("ALL", status):
                continue
            skus = product["skus"]
            if seller_skus and not any(s["seller_sku"] in seller_skus for s in skus):
                continue
            if sku_ids and not any(s["id"] in sku_ids for s in skus):
                continue
            hits.append(product)
        offset = _page_offset(request.arg("page_token"))
        page = hits[offset : offset + page_size]
        next_token = _page_token(offset + page_size) if offset + page_size < len(hits) else ""
        data = {"total_count": len(hits), "products": [self._summary(p) for p in page], "next_page_token": next_token}
        return envelope(OK, "Success", data)

    def _prices(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        with self.state.lock:
            product = self._live_product(shop, found["product_id"])
            updates = _sku_updates(body, product)
            for sku, change in updates:
                price = change.get("price")
                if not isinstance(price, dict):
                    raise ApiError(INVALID_PARAMETERS, "skus.price is required")
                sku["price"] = _price(price, shop)
                if isinstance(change.get("list_price"), dict):
                    sku["list_price"] = _price(change["list_price"], shop)
            product["update_time"] = int(self.clock())
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", {})  # T-SPEC update-price: data is always empty

    def _inventory(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        errors: list[dict[str, Any]] = []
        with self.state.lock:
            product = self._live_product(shop, found["product_id"])
            by_id = {s["id"]: s for s in product["skus"]}
            for change in _list_of_objects(body, "skus"):
                sku = by_id.get(str(change.get("id")))
                if sku is None:
                    errors.append(_sku_error(SKU_ID_NOT_FOUND, "The SKU id not exist.", str(change.get("id")), []))
                    continue
                inventory, extra = _checked_inventory(change.get("inventory"), shop)
                if extra:
                    # 4.5: partial failure, reported in data.errors under code 0.
                    errors.append(_sku_error(CHECK_FAILED, "The check failed.", sku["id"], extra))
                    continue
                sku["inventory"] = inventory
            product["update_time"] = int(self.clock())
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", {"errors": errors} if errors else {})

    def _deactivate(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC deactivate-products: only ACTIVATE products; per-product errors under code 0.
        return self._change_status(request, shop, from_status=ACTIVATE, to_status=SELLER_DEACTIVATED)

    def _activate(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC activate-product: brings a seller-deactivated product back.
        return self._change_status(request, shop, from_status=SELLER_DEACTIVATED, to_status=ACTIVATE)

    def _change_status(self, request: Request, shop: _Shop, from_status: str, to_status: str) -> Response:
        ids = _product_ids(_json_object(request))
        errors = []
        with self.state.lock:
            for product_id in ids:
                product = self.state.get(PLATFORM, shop.cipher, "products", product_id)
                if product is None or product["status"] == DELETED:
                    errors.append(_product_error(PRODUCT_NOT_FOUND, "The product does not exist", product_id))
                elif self._status(product) != from_status:
                    errors.append(_product_error(STATUS_NOT_AVAILABLE, "The product in its current status is not "
                                                 "available for this operation.", product_id))
                else:
                    product.update(status=to_status, update_time=int(self.clock()))
                    self.state.put(PLATFORM, shop.cipher, "products", product_id, product)
        return envelope(OK, "Success", {"errors": errors} if errors else {})

    def _delete(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC delete-products: the product becomes DELETED (it can be recovered, so it is kept).
        ids = _product_ids(_json_object(request))
        errors = []
        with self.state.lock:
            for product_id in ids:
                product = self.state.get(PLATFORM, shop.cipher, "products", product_id)
                if product is None or product["status"] == DELETED:
                    errors.append(_product_error(PRODUCT_NOT_FOUND, "The product does not exist", product_id))
                    continue
                product.update(status=DELETED, update_time=int(self.clock()))
                self.state.put(PLATFORM, shop.cipher, "products", product_id, product)
        return envelope(OK, "Success", {"errors": errors} if errors else {})

    def _upload_image(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        if request.content_type != "multipart/form-data":
            raise ApiError(BAD_CONTENT_TYPE, "content-type must be multipart/form-data")
        fields = _multipart_fields(request)
        image = fields.get("data")
        if not image:
            raise ApiError(INVALID_PARAMETERS, "data (the image file) is required")
        if len(image) > MAX_IMAGE_BYTES:
            raise ApiError(FILE_TOO_BIG, "The image is larger than 10 MB")
        use_case = (fields.get("use_case") or b"MAIN_IMAGE").decode("utf-8", "replace")
        if use_case not in IMAGE_USE_CASES:
            raise ApiError(INVALID_PARAMETERS, f"use_case {use_case!r} is not supported")
        size = image_size(image)
        if size is None:
            raise ApiError(INVALID_PARAMETERS, "The image must be JPG, JPEG, PNG, WEBP, HEIC or BMP")
        width, height = size
        if width and not (MIN_IMAGE_PX <= width <= MAX_IMAGE_PX and MIN_IMAGE_PX <= height <= MAX_IMAGE_PX):
            raise ApiError(INVALID_PARAMETERS, "Image dimensions must be between 100 and 20000 px")
        uri = f"tos-sandbox-i-{shop.cipher}/{hashlib.sha256(image).hexdigest()[:32]}"
        data = {"uri": uri, "url": f"https://sandbox.invalid/{uri}", "width": width, "height": height,
                "use_case": use_case}
        self.state.put(PLATFORM, shop.cipher, "images", uri, data)
        return envelope(OK, "Success", data)

    # -- product helpers ---------------------------------------------------------------------------

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
        size_chart = catalog.check_size_chart(category_id, body.get("size_chart"), known)
        certifications = catalog.check_certifications(category_id, body.get("certifications"), known)
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
            # 4.5: external image URLs are not accepted; only uris from Upload Image.
            if not isinstance(uri, str) or self.state.get(PLATFORM, shop.cipher, "images", uri) is None:
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

    def _public(self, product: dict[str, Any]) -> dict[str, Any]:
        """Get Product's answer (T-SPEC get-product, the fields this sandbox keeps)."""
        return {
            "id": product["id"],
            "status": self._status(product),
            "title": product["title"],
            "description": product["description"],
            "category_chains": [{"id": product["category_id"], "is_leaf": True}],
            "main_images": [{"uri": i["uri"], "urls": [f"https://sandbox.invalid/{i['uri']}"]}
                            for i in product["main_images"]],
            "skus": [_public_sku(s) for s in product["skus"]],
            "package_weight": product["package_weight"],
            "package_dimensions": product.get("package_dimensions"),
            "product_attributes": product.get("product_attributes") or [],
            "brand": {"id": product["brand_id"]} if product.get("brand_id") else None,
            "size_chart": product.get("size_chart"),
            "certifications": product.get("certifications") or [],
            "external_product_id": product.get("external_product_id"),
            "audit": {"status": "AUDITING" if self.clock() < float(product.get("audit_until", 0)) else "APPROVED"},
            "create_time": product["create_time"],
            "update_time": product["update_time"],
        }

    def _summary(self, product: dict[str, Any]) -> dict[str, Any]:
        """Search Products' answer: key properties only (T-SPEC search-products 202502)."""
        return {
            "id": product["id"],
            "title": product["title"],
            "status": self._status(product),
            "skus": [{k: v for k, v in _public_sku(s).items() if k in ("id", "seller_sku", "price", "inventory")}
                     for s in product["skus"]],
            "create_time": product["create_time"],
            "update_time": product["update_time"],
        }


# -- the auth host emulator (4.3) -------------------------------------------------------------------


class TikTokAuthEmulator(PlatformEmulator):
    """``https://auth.tiktok-shops.com``: token refresh. Shares the shops' state with TikTokEmulator."""

    platform = AUTH_PLATFORM
    prefix = "/tiktok-auth"

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        super().__init__(state)
        self.clock = clock

    def provision(self, store: str, config: dict[str, Any]) -> dict[str, Any]:
        return provision_shop(self.state, store, config, self.clock())

    def route(self, request: Request) -> Routed:
        operation = "token.refresh" if request.path == "/api/v2/token/refresh" else "unknown"
        shop = self._shop_of_refresh_token(request.arg("refresh_token") or "")
        return Routed(shop.cipher if shop else None, operation, operation == "token.refresh")

    def handle(self, request: Request, routed: Routed) -> Response:
        if request.path != "/api/v2/token/refresh":
            return envelope(INVALID_PATH, "Invalid path", http_status=404)
        if request.method != "GET":
            return envelope(INVALID_METHOD, "Invalid method", http_status=405)
        app_key, app_secret = request.arg("app_key") or "", request.arg("app_secret") or ""
        if request.arg("grant_type") != "refresh_token":
            return envelope(INVALID_CREDENTIALS, "grant_type must be refresh_token", http_status=400)
        with self.state.lock:
            shop = self._shop_of_refresh_token(request.arg("refresh_token") or "")
            if shop is None or not (hmac.compare_digest(app_key, shop.config.app_key)
                                    and hmac.compare_digest(app_secret, shop.config.app_secret)):
                # [sandbox choice] one answer for every bad credential; an old refresh token lands here.
                return envelope(INVALID_CREDENTIALS, "Invalid app_key, app_secret or refresh_token", http_status=401)
            return envelope(OK, "success", self._rotate(shop))

    def fault_response(self, fault: Fault, routed: Routed) -> Response:
        if fault is Fault.THROTTLE:
            return envelope(TOO_MANY_REQUESTS, "Too many requests", http_status=429)
        return envelope(INTERNAL_ERROR, "Internal error. Please try again.", http_status=500)

    def _shop_of_refresh_token(self, refresh_token: str) -> _Shop | None:
        if not refresh_token:
            return None
        for cipher in self.state.list_stores(PLATFORM):
            tokens = self.state.get(PLATFORM, cipher, "tokens", "current") or {}
            if hmac.compare_digest(refresh_token, str(tokens.get("refresh_token", ""))):
                if self.clock() >= float(tokens.get("refresh_expires_at", 0)):
                    return None
                return load_shop(self.state, cipher)
        return None

    def _rotate(self, shop: _Shop) -> dict[str, Any]:
        """A new pair; the old refresh token stops working (4.3: single use, as the brief requires)."""
        old = self.state.get(PLATFORM, shop.cipher, "tokens", "current") or {}
        if old.get("access_token"):
            self.state.put(PLATFORM, shop.cipher, "retired_tokens", _digest(str(old["access_token"])), {"at": 1})
        now = self.clock()
        settings = shop.config.settings
        tokens: dict[str, Any] = {
            "access_token": "TTP_" + secrets.token_urlsafe(32),
            "access_expires_at": now + settings.access_token_lifetime_seconds,
            "refresh_token": "TTP_" + secrets.token_urlsafe(32),
            "refresh_expires_at": now + settings.refresh_token_lifetime_seconds,
        }
        self.state.put(PLATFORM, shop.cipher, "tokens", "current", tokens)
        return {
            "access_token": tokens["access_token"],
            "access_token_expire_in": int(tokens["access_expires_at"]),  # 4.3: a unix timestamp
            "refresh_token": tokens["refresh_token"],
            "refresh_token_expire_in": int(tokens["refresh_expires_at"]),
            "open_id": f"sandbox-{shop.cipher}",
            "seller_name": shop.cipher,
            "seller_base_region": "US",
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.product.delete"],
        }


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


def _multipart_fields(request: Request) -> dict[str, bytes]:
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + request.body)
    fields: dict[str, bytes] = {}
    if not message.is_multipart():
        raise ApiError(BAD_CONTENT_TYPE, "The multipart body cannot be read")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG; (0, 0) for the other accepted formats; None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data) or (0, 0)
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if is_webp or data[:2] == b"BM" or data[4:12] in (b"ftypheic", b"ftypmif1"):
        return 0, 0
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            width = int.from_bytes(data[index + 7 : index + 9], "big")
            return width, height
        index += 2 + length
    return None
