"""A Shopee sandbox shop: its provisioning input, Shopee's error envelope, and the base the
emulator's parts share (the shop's config, its stored items and images)."""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import threading
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.catalog import LogisticsChannel
from sync_pipeline.sandbox.throttle import TokenBuckets

API_PREFIX = "/api/v2/"
REFRESH_PATH = "/api/v2/auth/access_token/get"
UPLOAD_IMAGE_PATH = "/api/v2/media_space/upload_image"
VARIATION_TREE_PATH = "/api/v2/product/get_variation_tree"
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


class ShopeeBase(PlatformEmulator):
    """What the emulator's parts (auth, items, variations, look-ups) share."""

    platform = "shopee"
    clock: Callable[[], float]
    _throttle: TokenBuckets
    _write_lock: threading.RLock

    def _shop_config(self, shop: str) -> ShopConfig | None:
        raw = self.state.get_store(self.platform, shop)
        return None if raw is None else ShopConfig.model_validate(raw)

    def _config(self, shop: str) -> ShopConfig:
        config = self._shop_config(shop)
        if config is None:
            raise ShopeeError("error_shop", "shopid is invalid", 403)
        return config


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


# -- helpers ----------------------------------------------------------------------------------------


def _request_id() -> str:
    return secrets.token_hex(16)


def _envelope_ok(payload: dict[str, Any], key: str = "response") -> Response:
    """``key``: get_variation_tree's documented answer carries its payload under ``data``."""
    return Response(200, {"request_id": _request_id(), "error": "", "message": "", "warning": "", key: payload})


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
