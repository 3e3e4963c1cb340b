"""Where a Shopify client's access token comes from (real-stores 3.2), chosen by the credentials named:

* ``access_token`` alone: a static token (a custom app's), sent as it is; a 401 stops the store.
* ``access_token`` + ``refresh_token`` + ``client_id`` + ``client_secret``: an expiring offline
  token (3600 s). It is renewed ahead of expiry and after a 401 with
  ``POST {endpoint}/admin/oauth/access_token`` ``grant_type=refresh_token``; Shopify answers a new
  access token **and a new refresh token**, and the pair is saved (committed to the ``TokenStore``)
  before either is used, as the Shopee and TikTok clients do, so a crash never loses the only
  valid refresh token.
* ``client_id`` + ``client_secret`` without a token: the client credentials grant (apps of the
  shop's own organisation): a token for 24 h, asked for again ahead of expiry or after a 401.

The token store's pair wins over the environment's: it is newer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode

from sync_pipeline.platforms.base import ErrorClass, PlatformError, TokenPair, TokenStore
from sync_pipeline.platforms.http import HttpTransport
from sync_pipeline.stores import StoreConfig

RENEW_AHEAD_SECONDS = 300.0  # renew this long before expiry rather than fail a call


class ShopifyTokens:
    def __init__(
        self,
        store: StoreConfig,
        transport: HttpTransport,
        token_store: TokenStore | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.transport = transport
        self.token_store = token_store
        self.clock = clock
        self.url = f"{store.endpoint.rstrip('/')}/admin/oauth/access_token"
        named = set(store.credentials)
        if "refresh_token" in named:
            self.mode = "refresh_token"
        elif "access_token" not in named:
            self.mode = "client_credentials"
        else:
            self.mode = "static"
        if self.renewable and token_store is None:
            raise ValueError(f"store '{store.key}': renewable Shopify tokens need a token store to save them in")
        self._pair: TokenPair | None = None
        self._lock = threading.Lock()

    @property
    def renewable(self) -> bool:
        return self.mode != "static"

    def token(self) -> str:
        """The access token to send now, renewed first when it is about to expire."""
        with self._lock:
            pair = self._current()
            expires = pair.access_expires_at
            if self.renewable and (not pair.access_token or (expires is not None and
                                                              expires - self.clock() < RENEW_AHEAD_SECONDS)):
                pair = self._renew()
            return pair.access_token

    def renew_after_rejection(self, rejected: str) -> None:
        """After a 401 with ``rejected``: renew once, however many threads saw the 401."""
        if not self.renewable:
            return
        with self._lock:
            if self._current().access_token == rejected:
                self._renew()

    # -- inside the lock ------------------------------------------------------------------------

    def _current(self) -> TokenPair:
        if self._pair is None:
            stored = self.token_store.load(self.store.key) if self.token_store is not None and self.renewable else None
            if stored is not None:
                self._pair = stored
            elif self.mode == "client_credentials":
                self._pair = TokenPair("", "")
            else:
                refresh = self.store.credential("refresh_token") if self.mode == "refresh_token" else ""
                self._pair = TokenPair(self.store.credential("access_token"), refresh)
            self.transport.add_secret(self._pair.access_token)
            self.transport.add_secret(self._pair.refresh_token)
        return self._pair

    def _renew(self) -> TokenPair:
        client_id, client_secret = self.store.credential("client_id"), self.store.credential("client_secret")
        self.transport.add_secret(client_secret)
        if self.mode == "refresh_token":
            body = json.dumps({"client_id": client_id, "client_secret": client_secret,
                               "refresh_token": self._current().refresh_token, "grant_type": "refresh_token"})
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
        else:
            body = urlencode({"grant_type": "client_credentials", "client_id": client_id,
                              "client_secret": client_secret})
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        operation = f"oauth:{self.mode}"
        result = self.transport.request("POST", self.url, operation=operation, headers=headers, data=body)
        try:
            answer = json.loads(result.text)
        except ValueError:
            answer = None
        if result.status != 200 or not isinstance(answer, dict) or not answer.get("access_token"):
            reason = answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
            raise PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"store '{self.store.key}': the {self.mode} grant was refused (HTTP {result.status}: "
                f"{reason or 'no token in the answer'}); the app must be authorised again",
                http_status=result.status,
                platform_code=str(answer.get("error")) if isinstance(answer, dict) and answer.get("error") else None,
            )
        if self.mode == "refresh_token" and not answer.get("refresh_token"):
            raise PlatformError(ErrorClass.UNAUTHORIZED, "token refresh answered without a new refresh token")
        now = self.clock()
        access = str(answer["access_token"])
        refresh = str(answer.get("refresh_token") or "")
        self.transport.add_secret(access)
        self.transport.add_secret(refresh)
        expires_in = answer.get("expires_in")
        refresh_in = answer.get("refresh_token_expires_in")
        pair = TokenPair(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=now + float(expires_in) if expires_in else None,
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
        )
        if self.token_store is not None:
            self.token_store.save(self.store.key, pair)  # committed before the new token is used
        self._pair = pair
        return pair
