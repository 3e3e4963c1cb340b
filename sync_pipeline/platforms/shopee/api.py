"""Shopee Open Platform v2 calls: signing, the JSON envelope, error classes and the token pair
(contract ``platforms.md`` 3.2-3.4 and 5, real-stores.md 2.4-2.5).

Every call is signed (HMAC-SHA256 over ``partner_id + api_path + timestamp [+ access_token +
shop_id]``), paced by one ``RequestRateLimiter`` shared by the push's threads, and retried by the
shared policy. Shopee answers errors in a JSON envelope whatever the HTTP status, so the ``error``
field decides the class.

* rate: the store's ``rate_limit.requests_per_second``, else ``DEFAULT_REQUESTS_PER_SECOND`` (10/s;
  Shopee publishes no product-API quota, contract 3.4), paced evenly (burst 1) so that network
  jitter never turns into a burst on the shop's side;
* tokens: the ``TokenStore``'s pair wins over the environment's (it is newer); on
  ``error_auth "Invalid access_token."`` the client refreshes once (single-use refresh token: the
  new pair is saved before it is used) and replays the request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync_pipeline.platforms.base import CallObserver, ErrorClass, PlatformError, TokenPair, TokenStore
from sync_pipeline.platforms.http import HttpTransport, http_timeout
from sync_pipeline.platforms.ratelimit import RequestRateLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.platforms.shopee.signing import sign, signature_base_string
from sync_pipeline.stores import StoreConfig

__all__ = ["Call", "ShopeeApi", "sign", "signature_base_string"]

DEFAULT_REQUESTS_PER_SECOND = 10.0
REFRESH_MARGIN_SECONDS = 60.0  # refresh a little before expiry rather than fail a call
REFRESH_PATH = "/api/v2/auth/access_token/get"
THROTTLE_ERRORS = frozenset({"error_too_many_request", "error_system_busy"})  # contract 5: back off
SERVER_ERRORS = frozenset({"error_server", "error_inner", "error_network", "error_get_shop_fail"})
# real-stores 2.4/2.5: a dead token, as documented and as real shops spell it (misspelled included).
DEAD_TOKEN_ERRORS = frozenset({"invalid_acceess_token", "invalid_access_token"})
ACCOUNT_ERRORS = frozenset({
    "error_sign", "error_shop", "error_auth_shop_not_found", "error_param_shop_id_not_found",
    "refresh_token_expired", "error_shop_refresh_token", "shop_access_expired", "shop_no_linked", "shop_banned",
})
# error_auth is overloaded (real-stores 2.5): only these messages are about the credentials.
_AUTH_MESSAGES = ("access_token", "access token", "refresh_token", "no permission to current api", "partner")
NOT_READY_ERROR = "error_busi_item_not_ready"

FormPart = tuple[str, tuple[str | None, bytes | str, str | None]]  # requests' multipart field
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    files: list[FormPart] | None = None
    public: bool = False

    @property
    def operation(self) -> str:
        return "shopee." + self.path.removeprefix("/api/v2/").replace("/", ".")



class ShopeeApi:
    """The shop's signed, paced, retried calls; one per client, shared by the push's threads."""

    def __init__(
        self,
        store: StoreConfig,
        token_store: TokenStore | None,
        observer: CallObserver | None,
        retry: RetryPolicy,
        *,
        timeout: float | None,
        pool_size: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if "shop_id" not in store.settings:
            raise ValueError(f"store '{store.key}': settings.shop_id is required for Shopee")
        self.store = store
        self.base_url = store.endpoint.rstrip("/")
        self.shop_id = int(store.settings["shop_id"])
        self.partner_id = int(store.credential("partner_id"))
        self._partner_key = store.credential("partner_key")
        self.token_store = token_store
        self.retry = retry
        self.limiter = RequestRateLimiter(
            store.rate_limit.requests_per_second or DEFAULT_REQUESTS_PER_SECOND, burst=1
        )
        self.transport = HttpTransport(
            timeout=http_timeout(store.http_timeout_seconds) if timeout is None else timeout, pool_size=pool_size, observer=observer, secrets=[self._partner_key]
        )
        self.clock = clock
        self.sleep = sleep
        self._tokens: TokenPair | None = None
        self._token_lock = threading.Lock()

    def call(self, call: Call) -> dict[str, Any]:
        """One API call with retries; returns the envelope's ``response``."""
        return call_with_retries(lambda attempt: self.send(call, attempt), self.retry, sleep=self.sleep)

    def send(self, call: Call, attempt: int) -> dict[str, Any]:
        """One attempt, refreshing the access token once if the shop says it is invalid."""
        token = None if call.public else self._access_token()
        try:
            return self._send_signed(call, attempt, token)
        except PlatformError as exc:
            if token is None or not _is_expired_token(exc):
                raise
        self._refresh(stale=token)
        return self._send_signed(call, attempt, self._access_token())

    def _send_signed(self, call: Call, attempt: int, token: str | None) -> dict[str, Any]:
        timestamp = int(self.clock())
        params: dict[str, Any] = {"partner_id": self.partner_id, "timestamp": timestamp}
        if token is None:
            base = signature_base_string(self.partner_id, call.path, timestamp)
        else:
            base = signature_base_string(self.partner_id, call.path, timestamp, token, self.shop_id)
            params.update(access_token=token, shop_id=self.shop_id)
        params["sign"] = sign(self._partner_key, base)
        params.update(call.params or {})
        data = None if call.body is None else json.dumps(call.body, separators=(",", ":"))
        headers = {"Content-Type": "application/json"} if data is not None else None
        self.limiter.acquire()
        result = self.transport.request(
            call.method, self.base_url + call.path, operation=call.operation, attempt=attempt,
            params=params, headers=headers, data=data, files=call.files,
        )
        try:
            envelope = result.json()
        except PlatformError as malformed:  # e.g. a proxy's HTML page: the call's row says so
            self.transport.observe_failure(call.operation, attempt, malformed)
            raise
        if not isinstance(envelope, dict) or envelope.get("error") or result.status >= 400:
            if isinstance(envelope, dict) and envelope.get("error"):
                error = self._classify(call, envelope, result.status)
            elif isinstance(envelope, dict):
                error = PlatformError(ErrorClass.NETWORK_ERROR, f"{call.operation}: HTTP {result.status}",
                                      http_status=result.status)
            else:
                error = PlatformError(ErrorClass.NETWORK_ERROR, f"{call.operation}: response is not a JSON object",
                                      http_status=result.status)
            self.transport.observe_failure(call.operation, attempt, error)  # the call's verdict, on its row
            raise error
        if call.path == REFRESH_PATH:
            return envelope  # the auth answer is flat: the pair sits beside request_id
        response = envelope.get("response")
        if not isinstance(response, dict):
            response = envelope.get("data")  # get_variation_tree documents its payload under "data"
        return response if isinstance(response, dict) else {}

    def _classify(self, call: Call, envelope: dict[str, Any], status: int) -> PlatformError:
        code = str(envelope.get("error"))
        message = self.transport.redact(f"{call.operation}: {envelope.get('message') or code}")
        if code in THROTTLE_ERRORS or status == 429:
            self.limiter.penalize(1.0 / self.limiter.rate)
            return PlatformError(ErrorClass.RATE_LIMITED, message, platform_code=code, http_status=status,
                                 retry_after=1.0 / self.limiter.rate)
        if code == NOT_READY_ERROR:
            return PlatformError(ErrorClass.RATE_LIMITED, message, platform_code=code, http_status=status,
                                 retry_after=1.0)
        if code in SERVER_ERRORS or status >= 500:
            return PlatformError(ErrorClass.NETWORK_ERROR, message, platform_code=code, http_status=status)
        if (
            code in ACCOUNT_ERRORS
            or code in DEAD_TOKEN_ERRORS
            or (code == "error_auth" and _is_credentials_message(message))
            or (code == "error_param" and _is_common_param(message))
        ):
            return PlatformError(ErrorClass.UNAUTHORIZED, message, platform_code=code, http_status=status)
        if code == "error_item_not_found":
            return PlatformError(ErrorClass.NOT_FOUND, message, platform_code=code, http_status=status)
        return PlatformError(ErrorClass.INVALID_PRODUCT, message, platform_code=code, http_status=status)

    def _access_token(self) -> str:
        with self._token_lock:
            pair = self._current_pair()
        expires = pair.access_expires_at
        if expires is not None and expires - REFRESH_MARGIN_SECONDS <= self.clock():
            self._refresh(stale=pair.access_token)
            with self._token_lock:
                pair = self._current_pair()
        return pair.access_token

    def _current_pair(self) -> TokenPair:
        """The pair in use; on first use the token store's (newer) pair, else the environment's."""
        if self._tokens is None:
            stored = self.token_store.load(self.store.key) if self.token_store is not None else None
            self._tokens = stored or TokenPair(
                self.store.credential("access_token"), self.store.credential("refresh_token")
            )
            self.transport.add_secret(self._tokens.access_token)
            self.transport.add_secret(self._tokens.refresh_token)
        return self._tokens

    def _refresh(self, stale: str) -> None:
        """Swap the pair once per expiry, however many threads noticed it (the refresh token is single-use)."""
        with self._token_lock:
            pair = self._current_pair()
            if pair.access_token != stale:
                return  # another thread refreshed already
            body = {"refresh_token": pair.refresh_token, "partner_id": self.partner_id, "shop_id": self.shop_id}
            answer = self.call(Call("POST", REFRESH_PATH, body=body, public=True))
            access, refresh = answer.get("access_token"), answer.get("refresh_token")
            if not access or not refresh:
                raise PlatformError(ErrorClass.UNAUTHORIZED, "token refresh answered without a token pair")
            now = self.clock()
            self.transport.add_secret(str(access))
            self.transport.add_secret(str(refresh))
            new = TokenPair(
                access_token=str(access),
                refresh_token=str(refresh),
                access_expires_at=now + float(answer.get("expire_in") or 0) if answer.get("expire_in") else None,
                refresh_expires_at=now + 30 * 86400,  # contract 3.3: 30 days
            )
            if self.token_store is not None:
                self.token_store.save(self.store.key, new)  # committed before the new token is used
            self._tokens = new


def _is_common_param(message: str) -> bool:
    """error_param about the call itself (contract 3.2/3.4), not about the product's fields."""
    text = message.lower()
    return any(word in text for word in ("timestamp", "no sign", "partner_id", "access_token", "not from gateway"))


def _is_credentials_message(message: str) -> bool:
    """error_auth about the credentials, not a stock/location/shop-state message (real-stores 2.5)."""
    text = message.lower()
    return any(words in text for words in _AUTH_MESSAGES)


def _is_expired_token(exc: PlatformError) -> bool:
    """Only a dead access token is worth the (single-use) refresh token."""
    if exc.platform_code in DEAD_TOKEN_ERRORS:
        return True
    return exc.platform_code == "error_auth" and "invalid access_token" in exc.message.lower()

