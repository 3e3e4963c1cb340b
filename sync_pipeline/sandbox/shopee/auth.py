"""Shopee sandbox: request signing, shop authentication, throttling and the token refresh (contract 3.1-3.4).

The signature is computed by ``platforms/shopee/signing.py``, which tests pin to Shopee's published
examples (so sharing it cannot hide a wrong base string)."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from sync_pipeline.platforms.shopee.signing import sign as expected_sign
from sync_pipeline.platforms.shopee.signing import signature_base_string
from sync_pipeline.sandbox.core import Request
from sync_pipeline.sandbox.shopee.shop import (
    REFRESH_TOKEN_LIFETIME_SECONDS,
    THROTTLE_ERROR,
    TIMESTAMP_WINDOW_SECONDS,
    ShopeeBase,
    ShopeeError,
    _dead_token,
    _json_body,
)


class ShopeeAuth(ShopeeBase):
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
        if not any(hmac.compare_digest(expected_sign(key, base), sign) for key in keys):
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
        if not hmac.compare_digest(expected_sign(config.partner_key, base), sign):
            raise ShopeeError("error_sign", "Wrong sign.", 403)
        token = self.state.get(self.platform, shop, "access_token", access)
        if token is None or token["expires_at"] <= self.clock():
            raise _dead_token(config)  # contract 5: expiry looks the same
        burst = float(config.burst or max(1, int(config.requests_per_second)))
        if not self._throttle.allow(shop, config.requests_per_second, burst, time.monotonic()):
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
