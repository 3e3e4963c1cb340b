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

import re
import time
from collections.abc import Callable
from typing import Any

from sync_pipeline.sandbox.core import Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.state import SandboxState
from sync_pipeline.sandbox.throttle import TokenBuckets
from sync_pipeline.sandbox.tiktok import catalog
from sync_pipeline.sandbox.tiktok.auth import TikTokAuth, TikTokAuthEmulator, tiktok_sign
from sync_pipeline.sandbox.tiktok.lookups import TikTokLookups
from sync_pipeline.sandbox.tiktok.products import TikTokProducts
from sync_pipeline.sandbox.tiktok.routes import _match
from sync_pipeline.sandbox.tiktok.shop import (
    INTERNAL_ERROR,
    INVALID_METHOD,
    INVALID_PATH,
    PLATFORM,
    TOO_MANY_REQUESTS,
    ApiError,
    _Shop,
    envelope,
    provision_shop,
)

__all__ = ["TikTokAuthEmulator", "TikTokEmulator", "tiktok_sign"]


class TikTokEmulator(TikTokAuth, TikTokLookups, TikTokProducts):
    platform = PLATFORM
    prefix = "/tiktok"

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        super().__init__(state)
        self.clock = clock
        self._qps = TokenBuckets()
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
            qps = shop.config.settings.qps  # 4.4: a bucket one second deep
            if not self._qps.allow((shop.config.app_key, shop.cipher, route.operation), qps, qps, self.rate_clock()):
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
