"""TikTok Shop on the wire: signing, the response envelope, error classes, tokens, pacing.

Follows ``../shared/contracts/platforms.md`` section 4 (cited as "4.x") and ``real-stores.md``.

* Rate limit: TikTok counts 50 QPS per API per app + shop (4.4). ONE limiter for all the store's
  APIs at ``rate_limit.requests_per_second`` (default 50): never above any per-API ceiling, at the
  cost of not using several APIs' ceilings at once. Its burst is a tenth of a second's worth, so
  requests that bunch up on the wire do not overrun the server's bucket.
* Tokens: the pair in the TokenStore wins over the environment (the environment keeps the first,
  long since rotated pair). On 105002 the wire refreshes once, saves the new pair BEFORE using it
  (a refresh token works once, 4.3) and replays the request.
* ``shop_cipher`` goes only on shop-scoped endpoints: app-level ones (image upload, ...) refuse it
  with 36009004 (real-stores 1.1).
* 36009004 is overloaded (real-stores 1.6): it is a credentials problem only when its message names
  the signature, app key, access token or timestamp; a complaint about the identifier is a defect
  of the request, reported as permanent and never answered by a token refresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync_pipeline.platforms.base import CallObserver, ErrorClass, PlatformError, TokenPair, TokenStore
from sync_pipeline.platforms.http import HttpResult, HttpTransport, http_timeout
from sync_pipeline.platforms.ratelimit import RequestRateLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.stores import StoreConfig

DEFAULT_AUTH_ENDPOINT = "https://auth.tiktok-shops.com"  # 4.3
DEFAULT_QPS = 50.0  # 4.4
REFRESH_MARGIN_SECONDS = 60.0  # refresh a little before the access token's stated expiry

# real-stores 1.1: app-level endpoints that must NOT carry shop_cipher (every other one must).
_APP_LEVEL_PATHS = re.compile(
    r"/product/\d+/(images/upload|files/upload|sizecharts/search|compliance/.*|global_.*)"
    r"|/authorization/.*"
)
_APP_LEVEL_POSTS = re.compile(r"/product/\d+/brands")  # POST creates a custom brand (app-level)

# 4.4, T-SPEC and real-stores 1.6 codes the client acts on.
EXPIRED_TOKEN = 105002
OVERLOADED_INVALID = 36009004  # credentials or a malformed request: the message tells which
_THROTTLED = frozenset({36009002})
_UNAUTHORIZED = frozenset({106001, 105002, 105005, 101000, 36009033, 12052700})
_CREDENTIAL_WORDS = ("sign", "app_key", "app key", "access token", "access_token", "timestamp", "credential")
_NOT_FOUND = frozenset({12052032, 12052260, 12052031})
_TRANSIENT = frozenset({36009003, 36009007, 12001000})


def sign(app_secret: str, path: str, params: Mapping[str, str], body: bytes = b"") -> str:
    """4.2: HMAC-SHA256 (hex) of ``secret + path + sorted key+value (no sign/access_token) + body + secret``.

    ``body`` is the raw JSON sent, or ``b""`` for multipart uploads (their body is not signed).
    """
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    wrapped = b"".join((app_secret.encode(), path.encode(), pairs.encode(), body, app_secret.encode()))
    return hmac.new(app_secret.encode(), wrapped, hashlib.sha256).hexdigest()


def is_shop_scoped(method: str, path: str) -> bool:
    """real-stores 1.1: whether the endpoint needs ``shop_cipher`` (else it must not carry it)."""
    if _APP_LEVEL_PATHS.fullmatch(path):
        return False
    return not (method == "POST" and _APP_LEVEL_POSTS.fullmatch(path))


def classify(http_status: int | None, code: int | None, message: str) -> PlatformError:
    """One TikTok failure as a PlatformError, keeping the platform's code and message."""
    platform_code = str(code) if code is not None else None

    def error(error_class: ErrorClass) -> PlatformError:
        return PlatformError(error_class, message, platform_code=platform_code, http_status=http_status)

    if http_status == 429 or code in _THROTTLED:
        return error(ErrorClass.RATE_LIMITED)
    if code == OVERLOADED_INVALID:
        lowered = message.lower()
        credentials = "shop_cipher" not in lowered and any(word in lowered for word in _CREDENTIAL_WORDS)
        return error(ErrorClass.UNAUTHORIZED if credentials else ErrorClass.INVALID_PRODUCT)
    if code in _UNAUTHORIZED:
        return error(ErrorClass.UNAUTHORIZED)
    if code in _NOT_FOUND:
        return error(ErrorClass.NOT_FOUND)
    if code in _TRANSIENT or (http_status is not None and http_status >= 500):
        return error(ErrorClass.NETWORK_ERROR)
    if http_status == 401 and code is None:
        return error(ErrorClass.UNAUTHORIZED)
    return error(ErrorClass.INVALID_PRODUCT)  # 106013 and other request defects too: never a refresh


def raise_product_errors(data: Mapping[str, Any]) -> None:
    """Deactivate/Activate/Delete answer per product in ``data.errors`` under code 0 (T-SPEC)."""
    errors = data.get("errors") or []
    if errors:
        first = errors[0]
        raise classify(None, first.get("code"), str(first.get("message") or "product operation failed"))


def required_setting(store: StoreConfig, name: str) -> str:
    value = store.settings.get(name)
    if value in (None, ""):
        raise ValueError(f"store '{store.key}': TikTok needs settings.{name}")
    return str(value)


@dataclass(frozen=True)
class Request:
    """One API request as sent on every attempt (the body already encoded, so a replay is identical)."""

    method: str
    path: str
    operation: str
    query: Mapping[str, str]
    payload: bytes
    files: Mapping[str, Any] | None


class TokenKeeper:
    """The store's current token pair, refreshed once for all threads when it expires."""

    def __init__(
        self,
        store_key: str,
        token_store: TokenStore,
        initial: TokenPair,
        refresher: Callable[[str], TokenPair],
        clock: Callable[[], float],
    ) -> None:
        self._store_key = store_key
        self._token_store = token_store
        self._pair = token_store.load(store_key) or initial
        self._refresher = refresher
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def pair(self) -> TokenPair:
        with self._lock:
            return self._pair

    def access_token(self) -> str:
        pair = self.pair
        if pair.access_expires_at is not None and self._clock() >= pair.access_expires_at - REFRESH_MARGIN_SECONDS:
            self.refresh(stale_access_token=pair.access_token)
            pair = self.pair
        return pair.access_token

    def refresh(self, stale_access_token: str) -> None:
        """Replace ``stale_access_token`` unless another thread or process already did."""
        with self._lock:
            if self._pair.access_token != stale_access_token:
                return
            stored = self._token_store.load(self._store_key)
            if stored is not None and stored.access_token != stale_access_token:
                self._pair = stored
                return
            fresh = self._refresher(self._pair.refresh_token)
            # Saved (committed) before anyone uses it: the old refresh token no longer works.
            self._token_store.save(self._store_key, fresh)
            self._pair = fresh


class Wire:
    """Signed, paced, retried calls to one TikTok shop; answers ``data`` of a code-0 envelope."""

    def __init__(
        self,
        store: StoreConfig,
        token_store: TokenStore,
        observer: CallObserver | None,
        retry: RetryPolicy,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        timeout: float | None,
        pool_size: int,
    ) -> None:
        self._base = store.endpoint.rstrip("/")
        self._auth_base = str(store.settings.get("auth_endpoint") or DEFAULT_AUTH_ENDPOINT).rstrip("/")
        self._cipher = required_setting(store, "shop_cipher")
        self._app_key = store.credential("app_key")
        self._app_secret = store.credential("app_secret")
        initial = TokenPair(store.credential("access_token"), store.credential("refresh_token"))
        self.transport = HttpTransport(
            timeout=http_timeout(store.http_timeout_seconds) if timeout is None else timeout,
            pool_size=pool_size,
            observer=observer,
            secrets=(self._app_secret, initial.access_token, initial.refresh_token),
        )
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        rate = store.rate_limit.requests_per_second or DEFAULT_QPS
        self._limiter = RequestRateLimiter(rate, burst=max(1, int(rate / 10)))
        self._tokens = TokenKeeper(store.key, token_store, initial, self._refresh_tokens, clock)
        self.transport.add_secret(self._tokens.pair.access_token)
        self.transport.add_secret(self._tokens.pair.refresh_token)

    def call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call with retries; returns ``data`` of a code-0 envelope."""
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body is not None else b""
        request = Request(method, path, operation, query or {}, payload, files)
        return call_with_retries(lambda number: self._call_once(request, number), self._retry, sleep=self._sleep)

    def close(self) -> None:
        self.transport.close()

    def _call_once(self, request: Request, attempt: int) -> dict[str, Any]:
        token = self._tokens.access_token()
        status, envelope = self._send(request, attempt, token)
        if envelope.get("code") == EXPIRED_TOKEN:
            # 4.3: refresh once (or adopt another thread's refresh) and replay the same request.
            self._tokens.refresh(stale_access_token=token)
            status, envelope = self._send(request, attempt, self._tokens.access_token())
        code = envelope.get("code")
        if status < 400 and code == 0:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        error = classify(status, code if isinstance(code, int) else None,
                         self.transport.redact(str(envelope.get("message") or f"HTTP {status}")))
        if error.error_class is ErrorClass.RATE_LIMITED:
            self._limiter.penalize(0.1)
        self.transport.observe_failure(request.operation, attempt, error)  # the call's verdict, on its own row
        raise error

    def _send(self, request: Request, attempt: int, access_token: str) -> tuple[int, dict[str, Any]]:
        files, payload = request.files, request.payload
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **request.query}
        if is_shop_scoped(request.method, request.path):
            params["shop_cipher"] = self._cipher
        params["sign"] = sign(self._app_secret, request.path, params, b"" if files is not None else payload)
        headers = {"x-tts-access-token": access_token}
        if files is None:
            headers["content-type"] = "application/json"
        self._limiter.acquire()
        result = self.transport.request(
            request.method, self._base + request.path, operation=request.operation, attempt=attempt,
            params=params, headers=headers, data=payload if files is None and payload else None, files=files,
        )
        return result.status, envelope_of(result)

    def _refresh_tokens(self, refresh_token: str) -> TokenPair:
        """4.3: ``GET /api/v2/token/refresh`` on the auth host; a new pair every time."""
        params = {"app_key": self._app_key, "app_secret": self._app_secret, "refresh_token": refresh_token,
                  "grant_type": "refresh_token"}

        def attempt(number: int) -> TokenPair:
            result = self.transport.request("GET", self._auth_base + "/api/v2/token/refresh",
                                            operation="token.refresh", attempt=number, params=params)
            envelope = envelope_of(result)
            code = envelope.get("code")
            if result.status >= 500 or result.status == 429:
                raise classify(result.status, code if isinstance(code, int) else None, "token refresh failed")
            if code != 0:
                raise PlatformError(ErrorClass.UNAUTHORIZED,
                                    "token refresh refused: " + self.transport.redact(str(envelope.get("message"))),
                                    platform_code=str(code), http_status=result.status)
            return self._token_pair(envelope.get("data") or {})

        return call_with_retries(attempt, self._retry, sleep=self._sleep)

    def _token_pair(self, data: Mapping[str, Any]) -> TokenPair:
        access, refresh = str(data.get("access_token") or ""), str(data.get("refresh_token") or "")
        if not access or not refresh:
            raise PlatformError(ErrorClass.UNAUTHORIZED, "token refresh answered without a token pair")
        self.transport.add_secret(access)
        self.transport.add_secret(refresh)
        return TokenPair(access, refresh, self._expiry(data.get("access_token_expire_in")),
                         self._expiry(data.get("refresh_token_expire_in")))

    def _expiry(self, value: Any) -> float | None:
        """4.3 documents a unix timestamp; a small number would be seconds from now."""
        if not isinstance(value, int | float) or value <= 0:
            return None
        return float(value) if value > 1_000_000_000 else self._clock() + float(value)


def envelope_of(result: HttpResult) -> dict[str, Any]:
    """4.4 envelope; a 429/5xx without one is still classified by its status."""
    try:
        body = result.json()
    except PlatformError:
        if result.status == 429 or result.status >= 500:
            return {"code": None, "message": f"HTTP {result.status}"}
        raise
    if not isinstance(body, dict) or "code" not in body:
        raise PlatformError(ErrorClass.NETWORK_ERROR, f"unexpected response shape (HTTP {result.status})",
                            http_status=result.status)
    return body
