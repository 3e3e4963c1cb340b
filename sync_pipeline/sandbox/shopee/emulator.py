"""Shopee Open Platform v2 emulator: the shop-level product API a seller app uses, over real HTTP.

It follows ``contracts/platforms.md`` section 3 (and 5/6 for failure modes). The prefix ``/shopee``
stands for the host (``https://partner.shopeemobile.com``): a request to
``<sandbox>/shopee/api/v2/product/add_item`` is signed over the API path ``/api/v2/product/add_item``
exactly as the real host expects. The store id is the ``shop_id`` (as a string).

Where the contract is silent, the choices made here are marked **[sandbox choice]**:

* throttling: no official product-API code exists (contract 3.4, 7), so above the shop's
  ``requests_per_second`` the answer is HTTP 429 with ``error = "error_too_many_request"``;
* HTTP statuses (contract 7, unverified): 403 for ``error_auth``/``error_sign``, 400 for common-parameter
  ``error_param``, 429 for throttling, 500 for ``error_server``, 200 for every business error;
* ``init_tier_variation`` sooner than ``tier_variation_delay_seconds`` after ``add_item`` (the guide's
  "wait >= 5 s") answers ``error_busi_item_not_ready``;
* ``search_item`` by ``item_sku`` alone is accepted (the guide; the error table disagrees, contract 7)
  and matches by keyword (substring), so a client must check the exact SKU itself;
* an old access token stays valid until it expires after a refresh; the refresh token is single-use;
* media uploads are partner-level (public signing, no shop): they are kept, counted and faulted under
  the pseudo-store ``partner-<partner_id>``, and are not throttled;
* ``init_tier_variation`` takes ``standardise_tier_variation`` (real-stores 2.2); the deprecated
  ``tier_variation`` is refused with ``error_param`` unless the shop's ``accept_legacy_tier_variation``
  is on; a partial set of first-tier images answers ``error_tier_img_partial`` (the name upload_image
  lists; its message is unverified);
* a dead access token answers ``expired_token_error`` (``error_auth`` "Invalid access_token." by
  default, or the misspelled ``invalid_acceess_token`` real shops send, real-stores 2.4); a stock
  below the shop's ``reserved_stock`` answers the product-type ``error_auth`` of real-stores 2.5.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.catalog import LogisticsChannel
from sync_pipeline.sandbox.state import SandboxState

API_PREFIX = "/api/v2/"
REFRESH_PATH = "/api/v2/auth/access_token/get"
UPLOAD_IMAGE_PATH = "/api/v2/media_space/upload_image"
PUBLIC_PATHS = frozenset({REFRESH_PATH, UPLOAD_IMAGE_PATH})  # contract 3.2: public signing
TIMESTAMP_WINDOW_SECONDS = 300  # contract 3.1: a timestamp is valid for 5 minutes
REFRESH_TOKEN_LIFETIME_SECONDS = 30 * 86400  # contract 3.3
THROTTLE_ERROR = "error_too_many_request"  # [sandbox choice] see the module docstring
NOT_READY_ERROR = "error_busi_item_not_ready"  # [sandbox choice]
MAX_IMAGES_PER_UPLOAD = 8  # contract 3.5: "<9 per call"
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # contract 3.5: <= 10 MB, JPG/JPEG/PNG
MAX_HASHTAGS = 18  # contract 3.6
MAX_SKU_LENGTH = 100  # contract 3.6: model_sku <= 100
BATCH_LIMIT = 50  # contract 3.5: price_list/stock_list/item_id_list/models per call
DELETED_STATUSES = frozenset({"SELLER_DELETE", "SHOPEE_DELETE"})
ITEM_STATUSES = frozenset({"NORMAL", "BANNED", "UNLIST", "REVIEWING"}) | DELETED_STATUSES


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_limit: float
    max_limit: float


class ItemLimits(BaseModel):
    """What ``get_item_limit`` answers (contract 3.6: per-shop; sample figures as defaults)."""

    model_config = ConfigDict(extra="forbid")
    price_limit: Range = Range(min_limit=0.1, max_limit=1_000_000)
    stock_limit: Range = Range(min_limit=0, max_limit=999_999)
    item_name_length_limit: Range = Range(min_limit=5, max_limit=120)
    item_image_count_limit: Range = Range(min_limit=1, max_limit=9)
    item_description_length_limit: Range = Range(min_limit=10, max_limit=2000)
    tier_variation_name_length_limit: Range = Range(min_limit=1, max_limit=14)
    tier_variation_option_length_limit: Range = Range(min_limit=1, max_limit=20)
    item_count_limit: int = 10_000
    model_count_limit: int = 50


class ShopConfig(BaseModel):
    """Provisioning input of one shop (``POST /_sandbox/stores/shopee/<shop_id>``)."""

    model_config = ConfigDict(extra="forbid")
    partner_id: int
    partner_key: str = Field(min_length=1)
    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    shop_id: int | None = None  # optional; must equal the store id when given
    token_lifetime_seconds: float = Field(default=4 * 3600, gt=0)  # contract 3.3: 4 h
    requests_per_second: float = Field(default=10.0, gt=0)
    burst: int | None = Field(default=None, ge=1)  # default: one second's worth of requests
    tier_variation_delay_seconds: float = Field(default=5.0, ge=0)  # contract 3.5: wait >= 5 s
    price_decimals: int = Field(default=2, ge=0)  # contract 3.5: SG/MY/... 2 decimals, others 0
    limits: ItemLimits = ItemLimits()
    logistics_channels: list[LogisticsChannel] = Field(default_factory=catalog.seeded_channels)
    accept_legacy_tier_variation: bool = False  # real-stores 2.2: deprecated 2025-09-12
    expired_token_error: Literal["error_auth", "invalid_acceess_token", "invalid_access_token"] = "error_auth"
    reserved_stock: int = Field(default=0, ge=0)  # stock held by open orders; a lower stock is refused


class ShopeeError(Exception):
    """An answer in Shopee's error envelope."""

    def __init__(self, error: str, message: str, status: int = 200) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message
        self.status = status


def _dead_token(config: ShopConfig) -> ShopeeError:
    """real-stores 2.4: the documented answer, or one of the misspelled codes real shops send."""
    if config.expired_token_error == "error_auth":
        return ShopeeError("error_auth", "Invalid access_token.", 403)
    return ShopeeError(config.expired_token_error, "Invalid access_token.", 403)


def _reserved_stock_error() -> ShopeeError:
    """real-stores 2.5: a product problem under error_auth (a client must not refresh on it)."""
    return ShopeeError("error_auth", "Stock should be larger than reserved stock.")


def _param_error(detail: str) -> ShopeeError:
    return ShopeeError("error_param", f"Wrong parameters, detail: {detail}")


def _not_found(item_id: Any) -> ShopeeError:
    return ShopeeError("error_item_not_found", f"Item {item_id} not found.")


def signature_base_string(
    partner_id: int | str, api_path: str, timestamp: int | str, access_token: str = "", shop_id: int | str = ""
) -> str:
    """Contract 3.2: parts concatenated in this order, without separators."""
    return f"{partner_id}{api_path}{timestamp}{access_token}{shop_id}"


def _expected_sign(partner_key: str, base: str) -> str:
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


class _ShopThrottle:
    """A token bucket per shop at its ``requests_per_second`` (in memory: throttling is transient)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, shop: str, rate: float, burst: float) -> bool:
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.get(shop, (burst, now))
            tokens = min(burst, tokens + (now - updated) * rate)
            allowed = tokens >= 1
            self._buckets[shop] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def forget(self, shop: str) -> None:
        with self._lock:
            self._buckets.pop(shop, None)


class ShopeeEmulator(PlatformEmulator):
    platform = "shopee"
    prefix = "/shopee"

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        super().__init__(state)
        self.clock = clock
        self._throttle = _ShopThrottle(time.monotonic)
        self._write_lock = threading.RLock()  # check-then-write steps (SKU guard, token rotation)
        self._handlers: dict[tuple[str, str], Callable[[str, Request], dict[str, Any]]] = {
            ("POST", "/api/v2/product/add_item"): self._add_item,
            ("POST", "/api/v2/product/update_item"): self._update_item,
            ("POST", "/api/v2/product/delete_item"): self._delete_item,
            ("POST", "/api/v2/product/unlist_item"): self._unlist_item,
            ("POST", "/api/v2/product/init_tier_variation"): self._init_tier_variation,
            ("GET", "/api/v2/product/get_model_list"): self._get_model_list,
            ("POST", "/api/v2/product/update_price"): self._update_price,
            ("POST", "/api/v2/product/update_stock"): self._update_stock,
            ("GET", "/api/v2/product/get_item_list"): self._get_item_list,
            ("GET", "/api/v2/product/get_item_base_info"): self._get_item_base_info,
            ("GET", "/api/v2/product/search_item"): self._search_item,
            ("GET", "/api/v2/product/get_item_limit"): self._get_item_limit,
            ("GET", "/api/v2/logistics/get_channel_list"): self._get_channel_list,
            ("GET", "/api/v2/product/get_category"): self._get_category,
            ("GET", "/api/v2/product/get_attribute_tree"): self._get_attribute_tree,
            ("GET", "/api/v2/product/get_brand_list"): self._get_brand_list,
            ("GET", "/api/v2/product/get_variation_tree"): self._get_variation_tree,
        }

    # -- admin ------------------------------------------------------------------------------------

    def provision(self, store: str, config: dict[str, Any]) -> dict[str, Any]:
        if not store.isdigit():
            raise ValueError(f"a Shopee store id is the numeric shop_id, got {store!r}")
        try:
            shop = ShopConfig.model_validate(config)
        except ValidationError as exc:
            raise ValueError(f"shopee shop {store}: {exc}") from None
        if shop.shop_id is not None and str(shop.shop_id) != store:
            raise ValueError(f"shopee shop {store}: shop_id {shop.shop_id} differs from the store id")
        stored = shop.model_dump()
        with self._write_lock:
            for kind in ("access_token", "refresh_token"):
                for doc in self.state.list(self.platform, store, kind):
                    self.state.delete(self.platform, store, kind, doc["token"])
            self.state.put_store(self.platform, store, stored)
            self._issue_tokens(store, shop.access_token, shop.refresh_token, shop.token_lifetime_seconds)
        self._throttle.forget(store)
        return stored

    def sandbox_store(
        self, endpoint_path: str, settings: dict[str, Any], credentials: dict[str, str], rate_limit: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A stores-file entry: the shop is ``settings.shop_id`` (the endpoint is the bare host)."""
        if "shop_id" not in settings:
            raise ValueError("shopee: settings.shop_id is required to provision a sandbox shop")
        config: dict[str, Any] = {k: credentials[k] for k in ("partner_id", "partner_key", "access_token", "refresh_token")
                                  if k in credentials}
        if "requests_per_second" in rate_limit:
            config["requests_per_second"] = rate_limit["requests_per_second"]
        if "tier_variation_wait_seconds" in settings:
            config["tier_variation_delay_seconds"] = settings["tier_variation_wait_seconds"]
        if settings.get("logistic_ids"):
            config["logistics_channels"] = [
                {"logistics_channel_id": int(i), "logistics_channel_name": f"Channel {i}"} for i in settings["logistic_ids"]
            ]
        return str(settings["shop_id"]), config

    def reset(self) -> None:
        self._throttle.clear()

    def expire_tokens(self, store: str) -> None:
        now = self.clock()
        with self._write_lock:
            for doc in self.state.list(self.platform, store, "access_token"):
                if doc["expires_at"] > now:
                    self.state.put(self.platform, store, "access_token", doc["token"], {**doc, "expires_at": now - 1})

    def _issue_tokens(self, store: str, access: str, refresh: str, lifetime: float) -> None:
        now = self.clock()
        self.state.put(self.platform, store, "access_token", access, {"token": access, "expires_at": now + lifetime})
        self.state.put(
            self.platform,
            store,
            "refresh_token",
            refresh,
            {"token": refresh, "expires_at": now + REFRESH_TOKEN_LIFETIME_SECONDS, "used": False},
        )

    # -- routing ----------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed:
        operation = request.path.removeprefix(API_PREFIX).replace("/", ".") or "unknown"
        is_write = request.method == "POST"
        if request.path == UPLOAD_IMAGE_PATH:
            partner = request.arg("partner_id") or ""
            return Routed(f"partner-{partner}" if partner.isdigit() else None, operation, is_write)
        raw = _json_field(request, "shop_id") if request.path == REFRESH_PATH else request.arg("shop_id")
        shop = str(raw) if raw is not None else None
        known = shop is not None and shop.isdigit() and self.state.get_store(self.platform, shop) is not None
        return Routed(shop if known else None, operation, is_write)

    def fault_response(self, fault: Fault, routed: Routed) -> Response:
        if fault is Fault.THROTTLE:
            return _envelope_error(ShopeeError(THROTTLE_ERROR, "Too many requests, please try later.", 429))
        return _envelope_error(ShopeeError("error_server", "Something wrong. Please try later.", 500))

    # -- handling ---------------------------------------------------------------------------------

    def handle(self, request: Request, routed: Routed) -> Response:
        try:
            if request.path == REFRESH_PATH and request.method == "POST":
                self._authenticate_public(request)
                return Response(200, {"request_id": _request_id(), "error": "", "message": "",
                                      **self._refresh_tokens(request)})
            if request.path == UPLOAD_IMAGE_PATH and request.method == "POST":
                partner_id = self._authenticate_public(request)
                return _envelope_ok(self._upload_image(partner_id, request))
            handler = self._handlers.get((request.method, request.path))
            if handler is None:
                raise ShopeeError("error_not_found", f"No api path {request.method} {request.path}.", 404)
            shop = self._authenticate_shop(request)
            return _envelope_ok(handler(shop, request))
        except ShopeeError as exc:
            return _envelope_error(exc)
        except catalog.CatalogError as exc:
            return _envelope_error(ShopeeError(exc.error, exc.message))

    def _shop_config(self, shop: str) -> ShopConfig | None:
        raw = self.state.get_store(self.platform, shop)
        return None if raw is None else ShopConfig.model_validate(raw)

    def _check_common(self, request: Request) -> tuple[int, int, str]:
        """partner_id, timestamp, sign: present and well-formed (contract 3.1, 3.2)."""
        partner = request.arg("partner_id")
        if not partner or not partner.isdigit():
            raise ShopeeError("error_param", "Invalid partner_id.", 400)
        stamp = request.arg("timestamp")
        if not stamp or not stamp.isdigit() or abs(self.clock() - int(stamp)) > TIMESTAMP_WINDOW_SECONDS:
            raise ShopeeError("error_param", "Invalid timestamp", 400)
        sign = request.arg("sign")
        if not sign:
            raise ShopeeError("error_param", "There is no sign in query.", 400)
        return int(partner), int(stamp), sign

    def _authenticate_public(self, request: Request) -> int:
        partner_id, stamp, sign = self._check_common(request)
        keys = {c["partner_key"] for c in self.state.list_stores(self.platform).values() if c["partner_id"] == partner_id}
        if not keys:
            raise ShopeeError("error_param", "Invalid partner_id.", 400)
        base = signature_base_string(partner_id, request.path, stamp)
        if not any(hmac.compare_digest(_expected_sign(key, base), sign) for key in keys):
            raise ShopeeError("error_sign", "Wrong sign.", 403)
        return partner_id

    def _authenticate_shop(self, request: Request) -> str:
        partner_id, stamp, sign = self._check_common(request)
        shop = request.arg("shop_id") or ""
        config = self._shop_config(shop) if shop.isdigit() else None
        if config is None:
            raise ShopeeError("error_shop", "shopid is invalid", 403)
        if config.partner_id != partner_id:
            raise ShopeeError("error_auth", "No permission to current api.", 403)
        access = request.arg("access_token")
        if not access:
            raise ShopeeError("error_param", "Invalid access_token.", 400)
        base = signature_base_string(partner_id, request.path, stamp, access, shop)
        if not hmac.compare_digest(_expected_sign(config.partner_key, base), sign):
            raise ShopeeError("error_sign", "Wrong sign.", 403)
        token = self.state.get(self.platform, shop, "access_token", access)
        if token is None or token["expires_at"] <= self.clock():
            raise _dead_token(config)  # contract 5: expiry looks the same
        burst = float(config.burst or max(1, int(config.requests_per_second)))
        if not self._throttle.allow(shop, config.requests_per_second, burst):
            raise ShopeeError(THROTTLE_ERROR, "Too many requests, please try later.", 429)
        return shop

    # -- auth ---------------------------------------------------------------------------------------

    def _refresh_tokens(self, request: Request) -> dict[str, Any]:
        """Contract 3.3: a refresh token works once and yields a new access *and* refresh token."""
        body = _json_body(request)
        shop = str(body.get("shop_id", ""))
        config = self._shop_config(shop) if shop.isdigit() else None
        if config is None:
            raise ShopeeError("error_param", "Wrong parameters, detail: shop_id is invalid.", 400)
        if str(body.get("partner_id")) != request.arg("partner_id") or config.partner_id != int(request.arg("partner_id") or 0):
            raise ShopeeError("error_auth", "No permission to current api.", 403)
        refresh = str(body.get("refresh_token") or "")
        with self._write_lock:
            doc = self.state.get(self.platform, shop, "refresh_token", refresh) if refresh else None
            if doc is None or doc["used"] or doc["expires_at"] <= self.clock():
                raise ShopeeError("error_auth", "Invalid refresh_token.", 403)
            self.state.put(self.platform, shop, "refresh_token", refresh, {**doc, "used": True})
            access, new_refresh = secrets.token_hex(16), secrets.token_hex(16)
            self._issue_tokens(shop, access, new_refresh, config.token_lifetime_seconds)
        # [sandbox choice, following the auth page's flat layout] the pair sits at the top level.
        return {
            "partner_id": config.partner_id,
            "shop_id": int(shop),
            "access_token": access,
            "refresh_token": new_refresh,
            "expire_in": int(config.token_lifetime_seconds),
        }

    # -- media --------------------------------------------------------------------------------------

    def _upload_image(self, partner_id: int, request: Request) -> dict[str, Any]:
        if request.content_type != "multipart/form-data":
            raise _param_error("upload_image needs multipart/form-data")
        files = [data for name, data in _multipart_parts(request) if name == "image"]
        if not files:
            raise _param_error("image is required")
        if len(files) > MAX_IMAGES_PER_UPLOAD:
            raise _param_error(f"at most {MAX_IMAGES_PER_UPLOAD} images per call")
        store = f"partner-{partner_id}"
        infos = []
        for data in files:
            if len(data) > MAX_IMAGE_BYTES:
                raise _param_error("image is larger than 10 MB")
            if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
                raise _param_error("image must be JPG, JPEG or PNG")
            image_id = f"sbx-{self.state.next_id('shopee_image')}-{hashlib.sha1(data).hexdigest()[:16]}"
            url = f"https://sandbox.invalid/shopee/file/{image_id}"
            self.state.put(self.platform, store, "image", image_id, {"image_id": image_id, "url": url})
            infos.append({"image_id": image_id, "image_url_list": [{"image_url_region": "SG", "image_url": url}]})
        answer: dict[str, Any] = {
            "image_info_list": [
                {"id": i, "error": "", "message": "", "image_info": info} for i, info in enumerate(infos)
            ]
        }
        if len(infos) == 1:
            answer["image_info"] = infos[0]
        return answer

    def _image_url(self, partner_id: int, image_id: str) -> str | None:
        doc = self.state.get(self.platform, f"partner-{partner_id}", "image", image_id)
        return None if doc is None else str(doc["url"])

    # -- items ----------------------------------------------------------------------------------------

    def _item(self, shop: str, item_id: Any) -> dict[str, Any]:
        doc = self.state.get(self.platform, shop, "item", str(item_id)) if item_id is not None else None
        if doc is None or doc["item_status"] in DELETED_STATUSES:
            raise _not_found(item_id)
        return doc

    def _save(self, shop: str, item: dict[str, Any]) -> None:
        item["update_time"] = int(self.clock())
        self.state.put(self.platform, shop, "item", str(item["item_id"]), item)

    def _live_items(self, shop: str) -> list[dict[str, Any]]:
        return [i for i in self.state.list(self.platform, shop, "item") if i["item_status"] not in DELETED_STATUSES]

    def _sku_taken(self, shop: str, sku: str, except_item: int | None = None) -> bool:
        return any(i["item_sku"] == sku and i["item_id"] != except_item for i in self._live_items(shop))

    def _add_item(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)
        for required in ("original_price", "description", "weight", "item_name", "logistic_info", "category_id", "image"):
            if required not in body:
                if required == "item_name":
                    raise ShopeeError("error_nil_name_new_item", "Item name is required.")
                raise _param_error(f"{required} is required")
        item: dict[str, Any] = {
            "item_sku": "",
            "item_status": "NORMAL",
            "condition": "NEW",
            "stock": 0,
            "tier_variation": [],
            "models": [],
            "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
        }
        item.update(self._validated_fields(shop, config, body))
        item.update(_catalog_fields(int(item["category_id"]), body, add=True))
        item["original_price"] = _price(body["original_price"], config, "original_price")
        sku = str(item["item_sku"])
        with self._write_lock:
            if sku and self._sku_taken(shop, sku):
                raise ShopeeError("error_repeated_mtsku", "A similar product has already been uploaded")
            if len(self._live_items(shop)) >= config.limits.item_count_limit:
                raise _param_error("the shop has reached its item count limit")
            item["item_id"] = self.state.next_id(f"shopee_item_{shop}", start=100_000)
            item["create_time"] = int(self.clock())
            item["created_at"] = self.clock()
            self._save(shop, item)
        return {k: item[k] for k in ("item_id", "item_status", "item_name", "item_sku", "category_id", "original_price")}

    def _update_item(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            changes = self._validated_fields(shop, config, body)
            changes.update(_catalog_fields(int(changes.get("category_id", item["category_id"])), body, add=False))
            if "original_price" in body:
                if item["models"]:
                    raise _param_error("original_price of an item with models is set per model")
                changes["original_price"] = _price(body["original_price"], config, "original_price")
            sku = changes.get("item_sku")
            if sku and self._sku_taken(shop, sku, except_item=item["item_id"]):
                raise ShopeeError("error_repeated_mtsku", "A similar product has already been uploaded")
            item.update(changes)
            self._save(shop, item)
        return {"item_id": item["item_id"], **{k: v for k, v in changes.items() if k != "created_at"}}

    def _validated_fields(self, shop: str, config: ShopConfig, body: dict[str, Any]) -> dict[str, Any]:
        """The add_item/update_item fields present in ``body``, checked against the shop's limits."""
        limits = config.limits
        out: dict[str, Any] = {}
        if "item_name" in body:
            name = str(body["item_name"] or "").strip()
            if not name:
                raise ShopeeError("error_nil_name_new_item", "Item name is required.")
            if len(name) < limits.item_name_length_limit.min_limit:
                raise ShopeeError("error_item_name_is_too_short", "Item name is too short.")
            if len(name) > limits.item_name_length_limit.max_limit:
                raise ShopeeError(
                    "error_title_exceeds_max_length",
                    f"Item name length exceeds {int(limits.item_name_length_limit.max_limit)} characters.",
                )
            out["item_name"] = name
        if "description" in body:
            text = str(body["description"] or "")
            length = limits.item_description_length_limit
            if not length.min_limit <= len(text) <= length.max_limit:
                raise _param_error(
                    f"description length must be {int(length.min_limit)}-{int(length.max_limit)} characters"
                )
            if len(re.findall(r"#\w+", text)) > MAX_HASHTAGS:
                raise ShopeeError("error_desc_hash_tag_over_limit", f"At most {MAX_HASHTAGS} hashtags.")
            out["description"] = text
        if "weight" in body:
            out["weight"] = _positive_number(body["weight"], "weight")
        if "category_id" in body:
            category = body["category_id"]
            if not isinstance(category, int) or isinstance(category, bool) or category <= 0:
                raise _param_error("category_id must be a positive integer")
            catalog.check_category(category)
            out["category_id"] = category
        if "image" in body:
            out["image_id_list"] = self._checked_images(shop, config, body["image"])
        if "dimension" in body:
            out["dimension"] = _dimension(body["dimension"])
        if "logistic_info" in body:
            out["logistic_info"] = catalog.check_logistics(config.logistics_channels, body["logistic_info"],
                                                           has_dimension="dimension" in out)
        if "item_sku" in body:
            sku = str(body["item_sku"] or "")
            if len(sku) > MAX_SKU_LENGTH:
                raise _param_error(f"item_sku longer than {MAX_SKU_LENGTH} characters")
            out["item_sku"] = sku
        if "item_status" in body:
            if body["item_status"] not in ("NORMAL", "UNLIST"):
                raise _param_error("item_status must be NORMAL or UNLIST")
            out["item_status"] = body["item_status"]
        if "seller_stock" in body:
            out["stock"] = _stock(body["seller_stock"], config)
            if out["stock"] < config.reserved_stock:
                raise _reserved_stock_error()
        if "condition" in body:
            if body["condition"] not in ("NEW", "USED"):
                raise _param_error("condition must be NEW or USED")
            out["condition"] = body["condition"]
        return out

    def _checked_images(self, shop: str, config: ShopConfig, image: Any) -> list[str]:
        ids = image.get("image_id_list") if isinstance(image, dict) else None
        count = config.limits.item_image_count_limit
        if not isinstance(ids, list) or not count.min_limit <= len(ids) <= count.max_limit:
            raise _param_error(f"image.image_id_list needs {int(count.min_limit)}-{int(count.max_limit)} images")
        for image_id in ids:
            if self._image_url(config.partner_id, str(image_id)) is None:
                raise _param_error(f"image_id {image_id} is invalid")
        return [str(i) for i in ids]

    def _delete_item(self, shop: str, request: Request) -> dict[str, Any]:
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            item["item_status"] = "SELLER_DELETE"
            self._save(shop, item)
        return {}

    def _unlist_item(self, shop: str, request: Request) -> dict[str, Any]:
        entries = _json_body(request).get("item_list")
        if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_LIMIT:
            raise _param_error(f"item_list needs 1-{BATCH_LIMIT} entries")
        success, failure = [], []
        with self._write_lock:
            for entry in entries:
                item_id = entry.get("item_id") if isinstance(entry, dict) else None
                try:
                    item = self._item(shop, item_id)
                except ShopeeError as exc:
                    failure.append({"item_id": item_id, "failed_reason": exc.message})
                    continue
                unlist = bool(entry.get("unlist"))
                item["item_status"] = "UNLIST" if unlist else "NORMAL"
                self._save(shop, item)
                success.append({"item_id": item_id, "unlist": unlist})
        return {"success_list": success, "failure_list": failure}

    # -- models ----------------------------------------------------------------------------------------

    def _init_tier_variation(self, shop: str, request: Request) -> dict[str, Any]:
        """Contract 3.5: <= 2 tiers; <= 50 models; a new structure replaces the old model ids."""
        config = self._config(shop)
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            if self.clock() - item["created_at"] < config.tier_variation_delay_seconds:
                raise ShopeeError(
                    NOT_READY_ERROR,
                    f"Please wait {config.tier_variation_delay_seconds:g} seconds after add_item "
                    "before init_tier_variation.",
                )
            tiers = self._checked_tiers(config, _tiers_of(config, body))
            models = self._checked_models(config, body.get("model"), tiers)
            for model in models:
                model["model_id"] = self.state.next_id(f"shopee_model_{shop}", start=200_000)
            item["tier_variation"] = tiers
            item["models"] = models
            self._save(shop, item)
        return {
            "item_id": item["item_id"],
            "tier_variation": tiers,
            "standardise_tier_variation": _standardised(tiers),
            "model": [{k: m[k] for k in ("model_id", "model_sku", "tier_index")} for m in models],
        }

    def _checked_tiers(self, config: ShopConfig, tiers: Any) -> list[dict[str, Any]]:
        if not isinstance(tiers, list) or not 1 <= len(tiers) <= 2:
            raise _param_error("tier_variation needs 1 or 2 tiers")
        name_limit = config.limits.tier_variation_name_length_limit
        option_limit = config.limits.tier_variation_option_length_limit
        checked: list[dict[str, Any]] = []
        for tier in tiers:
            name = str(tier.get("name") or "") if isinstance(tier, dict) else ""
            if not name_limit.min_limit <= len(name) <= name_limit.max_limit:
                raise _param_error(f"tier_variation name must be 1-{int(name_limit.max_limit)} characters")
            options = tier.get("option_list")
            if not isinstance(options, list) or not 1 <= len(options) <= BATCH_LIMIT:
                raise _param_error(f"option_list of {name} needs 1-{BATCH_LIMIT} options")
            texts = [str(o.get("option") or "") if isinstance(o, dict) else "" for o in options]
            if len(set(texts)) != len(texts):
                raise _param_error(f"options of {name} must be unique")
            for text in texts:
                if not option_limit.min_limit <= len(text) <= option_limit.max_limit:
                    raise _param_error(f"option {text!r} must be 1-{int(option_limit.max_limit)} characters")
            option_list: list[dict[str, Any]] = []
            for option, text in zip(options, texts, strict=True):
                entry: dict[str, Any] = {"option": text}
                image_id = (option.get("image") or {}).get("image_id")
                if image_id:
                    if self._image_url(config.partner_id, str(image_id)) is None:
                        raise _param_error(f"image_id {image_id} is invalid")
                    entry["image"] = {"image_id": str(image_id)}
                option_list.append(entry)
            checked.append({"name": name, "option_list": option_list})
        first_tier: list[dict[str, Any]] = checked[0]["option_list"]
        images = [bool(o.get("image")) for o in first_tier]
        if any(images) and not all(images):
            # real-stores 2.2 (P-CREATE 7): once one first-tier option has an image, all must.
            raise ShopeeError("error_tier_img_partial",
                              "Images are required for all options of the first tier variation, or for none.")
        if any("image" in o for tier in checked[1:] for o in tier["option_list"]):
            raise _param_error("only options of the first tier variation may have an image")
        return checked

    def _checked_models(self, config: ShopConfig, models: Any, tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = min(BATCH_LIMIT, config.limits.model_count_limit)
        if not isinstance(models, list) or not 1 <= len(models) <= limit:
            raise _param_error(f"model needs 1-{limit} entries")
        seen: set[tuple[int, ...]] = set()
        skus: set[str] = set()
        checked = []
        for model in models:
            index = model.get("tier_index") if isinstance(model, dict) else None
            if (
                not isinstance(index, list)
                or len(index) != len(tiers)
                or not all(isinstance(i, int) and 0 <= i < len(t["option_list"]) for i, t in zip(index, tiers, strict=True))
            ):
                raise _param_error(f"tier_index {index} does not match tier_variation")
            if tuple(index) in seen:
                raise _param_error(f"tier_index {index} is repeated")
            seen.add(tuple(index))
            sku = str(model.get("model_sku") or "")
            if len(sku) > MAX_SKU_LENGTH:
                raise _param_error(f"model_sku longer than {MAX_SKU_LENGTH} characters")
            if sku and sku in skus:
                raise _param_error(f"model_sku {sku} is repeated")
            skus.add(sku)
            checked.append(
                {
                    "tier_index": index,
                    "model_sku": sku,
                    "original_price": _price(model.get("original_price"), config, "original_price"),
                    "stock": _stock(model.get("seller_stock"), config),
                }
            )
        return checked

    def _get_model_list(self, shop: str, request: Request) -> dict[str, Any]:
        item = self._item(shop, request.arg("item_id"))
        return {
            "tier_variation": item["tier_variation"],
            "standardise_tier_variation": _standardised(item["tier_variation"]),
            "model": [_model_view(m) for m in item["models"]],
        }

    def _update_price(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)

        def apply(target: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
            target["original_price"] = _price(entry.get("original_price"), config, "original_price")
            return {"model_id": entry["model_id"], "original_price": target["original_price"]}

        return self._per_model(shop, body, "price_list", apply)

    def _update_stock(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)

        def apply(target: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
            stock = _stock(entry.get("seller_stock"), config)
            if stock < config.reserved_stock:
                raise _reserved_stock_error()
            target["stock"] = stock
            return {"model_id": entry["model_id"], "stock": target["stock"]}

        return self._per_model(shop, body, "stock_list", apply)

    def _per_model(
        self,
        shop: str,
        body: dict[str, Any],
        list_name: str,
        apply: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Contract 3.5/5: one item per call, partial success in success_list / failure_list."""
        entries = body.get(list_name)
        if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_LIMIT:
            raise _param_error(f"{list_name} needs 1-{BATCH_LIMIT} entries")
        success, failure = [], []
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            models = {m["model_id"]: m for m in item["models"]}
            for entry in entries:
                model_id = entry.get("model_id") if isinstance(entry, dict) else None
                if models:
                    target = models.get(model_id) if isinstance(model_id, int) else None
                else:
                    target = item if model_id == 0 else None  # contract 3.5: model_id 0 = no-model item
                if target is None:
                    failure.append({"model_id": model_id, "failed_reason": "model_id is invalid"})
                    continue
                try:
                    success.append(apply(target, entry))
                except ShopeeError as exc:
                    failure.append({"model_id": model_id, "failed_reason": exc.message})
            self._save(shop, item)
        return {"success_list": success, "failure_list": failure}

    # -- reads -------------------------------------------------------------------------------------------

    def _get_item_list(self, shop: str, request: Request) -> dict[str, Any]:
        offset, page_size = _paging(request)
        statuses = request.query.get("item_status") or []
        if not statuses or any(s not in ITEM_STATUSES for s in statuses):
            raise _param_error("item_status is required: NORMAL, BANNED, UNLIST, REVIEWING, SELLER_DELETE, SHOPEE_DELETE")
        items = [i for i in self.state.list(self.platform, shop, "item") if i["item_status"] in statuses]
        since, until = request.arg("update_time_from"), request.arg("update_time_to")
        if since:
            items = [i for i in items if i["update_time"] >= int(since)]
        if until:
            items = [i for i in items if i["update_time"] <= int(until)]
        page = items[offset : offset + page_size]
        has_next = offset + page_size < len(items)
        return {
            "item": [{k: i[k] for k in ("item_id", "item_status", "update_time")} for i in page],
            "total_count": len(items),
            "has_next_page": has_next,
            "next_offset": offset + page_size if has_next else len(items),
        }

    def _get_item_base_info(self, shop: str, request: Request) -> dict[str, Any]:
        raw = request.arg("item_id_list") or ""
        ids = [part for part in raw.split(",") if part]
        if not ids or len(ids) > BATCH_LIMIT or not all(part.isdigit() for part in ids):
            raise _param_error(f"item_id_list needs 1-{BATCH_LIMIT} item ids")
        config = self._config(shop)
        found = [self.state.get(self.platform, shop, "item", part) for part in ids]
        items = [i for i in found if i is not None]
        if not items:
            raise _not_found(raw)
        return {"item_list": [self._item_view(config, i) for i in items]}

    def _item_view(self, config: ShopConfig, item: dict[str, Any]) -> dict[str, Any]:
        view = {k: item[k] for k in ("item_id", "category_id", "item_name", "description", "item_sku",
                                     "create_time", "update_time", "weight", "item_status", "condition",
                                     "logistic_info", "brand")}
        view["attribute_list"] = item.get("attribute_list") or []
        if item.get("dimension"):
            view["dimension"] = item["dimension"]
        view["has_model"] = bool(item["models"])
        view["image"] = {
            "image_id_list": item["image_id_list"],
            "image_url_list": [self._image_url(config.partner_id, i) for i in item["image_id_list"]],
        }
        if not item["models"]:
            price = item["original_price"]
            view["price_info"] = [{"currency": "SGD", "original_price": price, "current_price": price}]
            view["stock_info_v2"] = _stock_view(item["stock"])
        return view

    def _search_item(self, shop: str, request: Request) -> dict[str, Any]:
        offset, page_size = _paging(request)
        sku, name = request.arg("item_sku"), request.arg("item_name")
        status = request.arg("attribute_status")
        if not (sku or name or status):
            raise _param_error("one of item_sku, item_name, attribute_status is required")
        items = self._live_items(shop)
        if sku:  # contract 3.5: item_sku wins over item_name
            items = [i for i in items if sku.lower() in i["item_sku"].lower()]
        elif name:
            items = [i for i in items if name.lower() in i["item_name"].lower()]
        wanted = request.query.get("item_status")
        if wanted:
            items = [i for i in items if i["item_status"] in wanted]
        page = items[offset : offset + page_size]
        has_next = offset + page_size < len(items)
        answer: dict[str, Any] = {"item_id_list": [i["item_id"] for i in page], "total_count": len(items)}
        if has_next:
            answer["next_offset"] = offset + page_size
        return answer

    def _get_item_limit(self, shop: str, request: Request) -> dict[str, Any]:
        return self._config(shop).limits.model_dump()

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
        # [sandbox choice] no standard variations are seeded: every variation is custom (id 0).
        return {"standardise_variation_list": []}

    def _config(self, shop: str) -> ShopConfig:
        config = self._shop_config(shop)
        if config is None:
            raise ShopeeError("error_shop", "shopid is invalid", 403)
        return config


# -- helpers ------------------------------------------------------------------------------------------


def _request_id() -> str:
    return secrets.token_hex(16)


def _envelope_ok(payload: dict[str, Any]) -> Response:
    return Response(200, {"request_id": _request_id(), "error": "", "message": "", "warning": "", "response": payload})


def _envelope_error(exc: ShopeeError) -> Response:
    return Response(
        exc.status, {"request_id": _request_id(), "error": exc.error, "message": exc.message, "warning": ""}
    )


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        raise _param_error("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _param_error("request body must be a JSON object")
    return body


def _json_field(request: Request, name: str) -> Any:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body.get(name) if isinstance(body, dict) else None


def _multipart_parts(request: Request) -> list[tuple[str, bytes]]:
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts.append((name, payload))
    return parts


def _paging(request: Request) -> tuple[int, int]:
    offset, size = request.arg("offset") or "0", request.arg("page_size") or ""
    if not offset.isdigit() or not size.isdigit() or not 1 <= int(size) <= 100:
        raise _param_error("page_size must be 1-100 and offset a non-negative integer")
    return int(offset), int(size)


def _positive_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _param_error(f"{field} must be a positive number")
    return float(value)


def _price(value: Any, config: ShopConfig, field: str) -> float:
    price = _positive_number(value, field)
    limit = config.limits.price_limit
    if not limit.min_limit <= price <= limit.max_limit:
        raise _param_error(f"{field} must be between {limit.min_limit:g} and {limit.max_limit:g}")
    try:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        raise _param_error(f"{field} is not a number") from None
    if isinstance(exponent, int) and -exponent > config.price_decimals:
        raise _param_error(f"{field} allows at most {config.price_decimals} decimal places")
    return price


def _stock(seller_stock: Any, config: ShopConfig) -> int:
    if not isinstance(seller_stock, list) or not seller_stock:
        raise _param_error("seller_stock needs at least one {stock}")
    total = 0
    limit = config.limits.stock_limit
    for entry in seller_stock:
        stock = entry.get("stock") if isinstance(entry, dict) else None
        if isinstance(stock, bool) or not isinstance(stock, int) or not limit.min_limit <= stock <= limit.max_limit:
            raise _param_error(f"stock must be an integer between {limit.min_limit:g} and {limit.max_limit:g}")
        total += stock
    return total


def _catalog_fields(category_id: int, body: dict[str, Any], add: bool) -> dict[str, Any]:
    """Brand and attributes against the category's lists (rule 2): always on add, when sent on update."""
    fields: dict[str, Any] = {}
    if add or "brand" in body:
        fields["brand"] = catalog.check_brand(category_id, body.get("brand"))
    if add or "attribute_list" in body:
        fields["attribute_list"] = catalog.check_attributes(category_id, body.get("attribute_list"))
    return fields


def _dimension(value: Any) -> dict[str, int]:
    keys = ("package_length", "package_width", "package_height")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int) and value[k] > 0 for k in keys):
        raise _param_error("dimension needs positive whole package_length, package_width and package_height (cm)")
    return {k: int(value[k]) for k in keys}


def _tiers_of(config: ShopConfig, body: dict[str, Any]) -> Any:
    """The tiers of an init_tier_variation body in the stored (name, option_list) form.

    real-stores 2.2: ``standardise_tier_variation`` replaced ``tier_variation`` on 2025-09-12;
    custom variations carry ``variation_id`` 0 and custom options ``variation_option_id`` 0."""
    standard = body.get("standardise_tier_variation")
    if standard is None:
        if "tier_variation" in body and config.accept_legacy_tier_variation:
            return body["tier_variation"]
        raise _param_error("standardise_tier_variation is required; tier_variation is deprecated")
    if not isinstance(standard, list):
        raise _param_error("standardise_tier_variation must be a list")
    tiers = []
    for tier in standard:
        if not isinstance(tier, dict) or not isinstance(tier.get("variation_option_list"), list):
            raise _param_error("standardise_tier_variation needs variation_name and variation_option_list")
        if tier.get("variation_id", 0) != 0 or tier.get("variation_group_id", 0) != 0:
            raise _param_error("variation_id and variation_group_id must be 0 for custom variations")
        options = []
        for option in tier["variation_option_list"]:
            if not isinstance(option, dict):
                raise _param_error("variation_option_list must hold objects")
            if option.get("variation_option_id", 0) != 0:
                raise _param_error("variation_option_id must be 0 for custom options")
            entry: dict[str, Any] = {"option": option.get("variation_option_name")}
            if option.get("image_id"):
                entry["image"] = {"image_id": option["image_id"]}
            options.append(entry)
        tiers.append({"name": tier.get("variation_name"), "option_list": options})
    return tiers


def _standardised(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"variation_id": 0, "variation_name": t["name"], "variation_group_id": 0,
         "variation_option_list": [
             {"variation_option_id": 0, "variation_option_name": o["option"],
              **({"image_id": o["image"]["image_id"]} if o.get("image") else {})}
             for o in t["option_list"]]}
        for t in tiers
    ]


def _stock_view(stock: int) -> dict[str, Any]:
    return {"summary_info": {"total_reserved_stock": 0, "total_available_stock": stock},
            "seller_stock": [{"location_id": "", "stock": stock}]}


def _model_view(model: dict[str, Any]) -> dict[str, Any]:
    price = model["original_price"]
    return {
        "model_id": model["model_id"],
        "model_sku": model["model_sku"],
        "tier_index": model["tier_index"],
        "price_info": [{"original_price": price, "current_price": price}],
        "stock_info_v2": _stock_view(model["stock"]),
    }

