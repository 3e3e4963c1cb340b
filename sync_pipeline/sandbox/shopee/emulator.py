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

import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sync_pipeline.platforms.shopee.signing import signature_base_string
from sync_pipeline.sandbox.core import Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.auth import ShopeeAuth
from sync_pipeline.sandbox.shopee.items import ShopeeItems
from sync_pipeline.sandbox.shopee.lookups import ShopeeLookups
from sync_pipeline.sandbox.shopee.shop import (
    API_PREFIX,
    REFRESH_PATH,
    THROTTLE_ERROR,
    UPLOAD_IMAGE_PATH,
    VARIATION_TREE_PATH,
    ShopConfig,
    ShopeeError,
    _envelope_error,
    _envelope_ok,
    _json_field,
    _request_id,
)
from sync_pipeline.sandbox.shopee.variations import ShopeeVariations
from sync_pipeline.sandbox.state import SandboxState
from sync_pipeline.sandbox.throttle import TokenBuckets

__all__ = ["ShopeeEmulator", "signature_base_string"]


class ShopeeEmulator(ShopeeAuth, ShopeeItems, ShopeeVariations, ShopeeLookups):
    prefix = "/shopee"

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        super().__init__(state)
        self.clock = clock
        self._throttle = TokenBuckets()  # refilled on time.monotonic (see ShopeeAuth)
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
            ("GET", VARIATION_TREE_PATH): self._get_variation_tree,
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
            return _envelope_ok(handler(shop, request), "data" if request.path == VARIATION_TREE_PATH else "response")
        except ShopeeError as exc:
            return _envelope_error(exc)
        except catalog.CatalogError as exc:
            return _envelope_error(ShopeeError(exc.error, exc.message))
