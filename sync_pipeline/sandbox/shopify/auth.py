"""Shopify access tokens in the sandbox: static, expiring offline tokens, client credentials.

``POST /shopify/<shop>/admin/oauth/access_token`` stands for
``https://<shop>.myshopify.com/admin/oauth/access_token`` (real-stores 3.2):

* ``grant_type=refresh_token`` (JSON ``{client_id, client_secret, refresh_token, grant_type}``):
  a new access token (``expires_in`` = the store's ``token_lifetime``) **and a new refresh token**.
  The refresh token used stays valid until its successor is used (Shopify's rule since 2026-08-28),
  so a client that lost the answer can ask again; once the successor is used it is dead.
* ``grant_type=client_credentials`` (form ``client_id, client_secret``): an access token for 24 h
  (``client_credentials_lifetime``), no refresh token.

Provision config: ``token_lifetime`` (seconds; unset: the provisioned ``access_token`` never
expires, as a custom app's static token), ``refresh_token`` (the first one), ``client_id``,
``client_secret``, ``client_credentials_lifetime`` (86400). An expired or unknown token gets
HTTP 401 with Shopify's body. Tests expire tokens with ``expire_tokens`` (no clock races).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from sync_pipeline.sandbox.core import Request, Response
from sync_pipeline.sandbox.state import SandboxState

PLATFORM = "shopify"
CLIENT_CREDENTIALS_LIFETIME = 86_400.0  # real-stores 3.2 [secondary]: 24 h


class ShopifyTokens:
    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.clock = clock
        self._lock = threading.Lock()

    def provision(self, shop: str, config: dict[str, Any]) -> None:
        """Record the provisioned token (expiring when the store has a lifetime) and refresh token."""
        with self._lock:
            lifetime = config.get("token_lifetime")
            expires = self.clock() + float(lifetime) if lifetime else None
            self.state.put(PLATFORM, shop, "access_token", config["access_token"],
                           {"token": config["access_token"], "expires_at": expires})
            if config.get("refresh_token"):
                self.state.put(PLATFORM, shop, "refresh_token", config["refresh_token"],
                               {"token": config["refresh_token"], "dead": False, "predecessor": None})

    def valid(self, shop: str, token: str | None) -> bool:
        if not token:
            return False
        doc = self.state.get(PLATFORM, shop, "access_token", token)
        return doc is not None and (doc["expires_at"] is None or doc["expires_at"] > self.clock())

    def expire(self, shop: str) -> None:
        now = self.clock()
        with self._lock:
            for doc in self.state.list(PLATFORM, shop, "access_token"):
                self.state.put(PLATFORM, shop, "access_token", doc["token"], {**doc, "expires_at": now - 1})

    def grant(self, shop: str, config: dict[str, Any], request: Request) -> Response:
        params = _params(request)
        if params.get("client_id") != config.get("client_id") or params.get("client_secret") != config.get(
            "client_secret"
        ) or not config.get("client_id"):
            return Response(400, {"error": "invalid_client",
                                  "error_description": "Client authentication failed."})  # fmt: skip
        grant_type = params.get("grant_type")
        if grant_type == "client_credentials":
            lifetime = float(config.get("client_credentials_lifetime") or CLIENT_CREDENTIALS_LIFETIME)
            access = self._issue_access(shop, lifetime)
            return Response(200, {"access_token": access, "scope": ",".join(config["scopes"]),
                                  "expires_in": int(lifetime)})  # fmt: skip
        if grant_type == "refresh_token":
            return self._refresh(shop, config, params.get("refresh_token") or "")
        return Response(400, {"error": "unsupported_grant_type",
                              "error_description": f"The grant type {grant_type!r} is not supported."})  # fmt: skip

    def _refresh(self, shop: str, config: dict[str, Any], used: str) -> Response:
        lifetime = float(config.get("token_lifetime") or 3600)
        with self._lock:
            doc = self.state.get(PLATFORM, shop, "refresh_token", used)
            if doc is None or doc["dead"]:
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "The refresh token is invalid or has expired."})  # fmt: skip
            if doc["predecessor"]:  # the successor is in use: its predecessor dies now
                old = self.state.get(PLATFORM, shop, "refresh_token", doc["predecessor"])
                if old is not None:
                    self.state.put(PLATFORM, shop, "refresh_token", old["token"], {**old, "dead": True})
            fresh = f"shprt_{secrets.token_hex(16)}"
            self.state.put(PLATFORM, shop, "refresh_token", fresh, {"token": fresh, "dead": False, "predecessor": used})
            access = self._issue_access(shop, lifetime)
        return Response(200, {"access_token": access, "expires_in": int(lifetime), "refresh_token": fresh,
                              "refresh_token_expires_in": 90 * 86_400, "scope": ",".join(config["scopes"])})  # fmt: skip

    def _issue_access(self, shop: str, lifetime: float) -> str:
        token = f"shpat_{secrets.token_hex(16)}"
        self.state.put(PLATFORM, shop, "access_token", token, {"token": token, "expires_at": self.clock() + lifetime})
        return token


def _params(request: Request) -> dict[str, str]:
    if "json" in request.content_type:
        try:
            body = request.json()
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    parsed = parse_qs(request.body.decode("utf-8", "replace"))
    return {k: v[0] for k, v in parsed.items() if v}
