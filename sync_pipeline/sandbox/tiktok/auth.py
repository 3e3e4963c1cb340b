"""TikTok sandbox: request signing (4.2), shop authentication (4.1, 4.3) and the auth host's token refresh."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.state import SandboxState
from sync_pipeline.sandbox.tiktok.routes import _Route
from sync_pipeline.sandbox.tiktok.shop import (
    AUTH_PLATFORM,
    EXPIRED_TOKEN,
    INTERNAL_ERROR,
    INVALID_CREDENTIALS,
    INVALID_METHOD,
    INVALID_PATH,
    INVALID_SIGN,
    MISSING_SHOP_CIPHER,
    MISSING_SHOP_CIPHER_MESSAGE,
    OK,
    PLATFORM,
    TIMESTAMP_FUTURE_SECONDS,
    TIMESTAMP_PAST_SECONDS,
    TOO_MANY_REQUESTS,
    UNEXPECTED_SHOP_CIPHER_MESSAGE,
    ApiError,
    TikTokBase,
    _digest,
    _Shop,
    envelope,
    load_shop,
    provision_shop,
)

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



class TikTokAuth(TikTokBase):
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
