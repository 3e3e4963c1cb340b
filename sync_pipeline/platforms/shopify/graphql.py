"""One Shopify Admin GraphQL call: token, rate limit, retries and error classes (real-stores 3.3).

* Tokens: static, expiring offline tokens with rotating refresh tokens, or the client credentials
  grant, by the credentials the stores file names (``auth.py``); a 401 renews once.
* Rate limit: one ``CostBucketLimiter`` per client. Each call reserves its requested cost, refunds
  the unspent part and adopts the server's ``throttleStatus``. A ``THROTTLED`` answer waits for the
  missing points and sends again without using one of the retry policy's attempts (being throttled
  is the bucket working as designed, not a failure), up to ``MAX_THROTTLE_WAITS`` times.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sync_pipeline.platforms.base import CallObserver, ErrorClass, PlatformError, TokenStore
from sync_pipeline.platforms.http import HttpResult, HttpTransport, http_timeout
from sync_pipeline.platforms.ratelimit import CostBucketLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.platforms.shopify.auth import ShopifyTokens
from sync_pipeline.stores import StoreConfig

DEFAULT_API_VERSION = "2026-07"
DEFAULT_BUCKET_SIZE = 2000.0  # contract 1.7: observed maximumAvailable on current stores
DEFAULT_RESTORE_RATE = 100.0  # points per second, Standard plan
MAX_THROTTLE_WAITS = 20
_DEFAULT_RETRY = RetryPolicy()


class ShopifyGraphQL:
    """The store's endpoint, token and cost bucket; ``_call`` sends one document."""

    def __init__(
        self,
        store: StoreConfig,
        observer: CallObserver | None = None,
        retry: RetryPolicy = _DEFAULT_RETRY,
        token_store: TokenStore | None = None,
    ) -> None:
        self.store = store
        self.retry = retry
        version = str(store.settings.get("api_version") or DEFAULT_API_VERSION)
        self.url = f"{store.endpoint.rstrip('/')}/admin/api/{version}/graphql.json"
        self.transport = HttpTransport(timeout=http_timeout(store.http_timeout_seconds), observer=observer)
        self.tokens = ShopifyTokens(store, self.transport, token_store)
        self.tokens.token()  # a missing credential fails here, before any product is tried
        self.limiter = CostBucketLimiter(
            maximum=float(store.rate_limit.bucket_size or DEFAULT_BUCKET_SIZE),
            restore_rate=float(store.rate_limit.restore_rate or DEFAULT_RESTORE_RATE),
        )
        self._lock = threading.Lock()
        self._setup(store)

    def _setup(self, store: StoreConfig) -> None:
        """Each layer's own state (catalog.py, reads.py, client.py), set after the transport's."""

    # ---- one GraphQL call: rate limit, retries, error classes ----------------------------

    def _call(self, operation: str, document: str, variables: dict[str, Any], cost: int) -> dict[str, Any]:
        body = json.dumps({"query": document, "variables": variables})
        return call_with_retries(
            lambda attempt: self._send_until_not_throttled(operation, body, cost, attempt), self.retry
        )

    def _send_until_not_throttled(self, operation: str, body: str, cost: int, attempt: int) -> dict[str, Any]:
        for _ in range(MAX_THROTTLE_WAITS):
            self.limiter.acquire(cost)
            answer = self._send(operation, body, cost, attempt)
            if answer is not None:
                return answer
        raise PlatformError(
            ErrorClass.RATE_LIMITED,
            f"{operation}: still throttled after {MAX_THROTTLE_WAITS} waits",
            platform_code="THROTTLED",
        )

    def _send(self, operation: str, body: str, cost: int, attempt: int) -> dict[str, Any] | None:
        """The call's ``data``; None when throttled (the limiter now knows how long to wait)."""
        try:
            token = self.tokens.token()
            result = self._post(operation, attempt, token, body)
            if result.status == 401 and self.tokens.renewable:
                # Expired or revoked: renew once (real-stores 3.3), then the answer stands.
                self._observe_status(operation, attempt, result)
                self.tokens.renew_after_rejection(token)
                result = self._post(operation, attempt, self.tokens.token(), body)
        except PlatformError:
            self.limiter.refund(
                cost
            )  # never reached the store, or we cannot tell: the server report corrects it
            raise
        error = self._observe_status(operation, attempt, result)
        if error is not None:
            raise error
        try:
            payload = result.json()
        except PlatformError as malformed:
            self.transport.observe_failure(operation, attempt, malformed)
            raise
        if not isinstance(payload, dict):
            raise PlatformError(
                ErrorClass.NETWORK_ERROR, f"{operation}: unexpected response shape", http_status=result.status
            )
        self._adopt_cost(payload, cost)
        errors = payload.get("errors") or []
        codes = [((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)]
        if "THROTTLED" in codes:
            # HTTP 200, so the transport logged it as answered; the sync log must show the throttle.
            self.transport.observe_failure(
                operation,
                attempt,
                PlatformError(
                    ErrorClass.RATE_LIMITED, f"{operation}: throttled", platform_code="THROTTLED",
                    http_status=result.status,
                ),
            )
            return None
        if errors or not isinstance(payload.get("data"), dict):
            message = (
                "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
                or "no data in response"
            )
            error = PlatformError(
                _error_class(codes),
                f"{operation}: {message}",
                platform_code=next((c for c in codes if c), None),
                http_status=result.status,
            )
            self.transport.observe_failure(operation, attempt, error)
            raise error
        data: dict[str, Any] = payload["data"]
        return data

    def _post(self, operation: str, attempt: int, token: str, body: str) -> HttpResult:
        return self.transport.request(
            "POST",
            self.url,
            operation=operation,
            attempt=attempt,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            data=body,
        )

    def _observe_status(self, operation: str, attempt: int, result: HttpResult) -> PlatformError | None:
        """The error an HTTP 4xx/5xx answer means, recorded on that call's sync-log row (its class
        beside its status, as for an error in the body); None for a 2xx/3xx answer."""
        error = self._status_error(operation, result)
        if error is not None:
            self.transport.observe_failure(operation, attempt, error)
        return error

    def _status_error(self, operation: str, result: HttpResult) -> PlatformError | None:
        if result.status < 400:
            return None
        if result.status in (401, 402, 403, 423):  # bad token; unpaid, forbidden or locked shop (3.3)
            return PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"{operation}: {_shopify_error_text(result)}",
                http_status=result.status,
            )
        if result.status == 404:
            return PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"{operation}: endpoint not found (check the store's endpoint and api_version)",
                http_status=404,
            )
        if result.status == 429 or result.status >= 500:
            retry_after = _float(result.headers.get("Retry-After"))
            error_class = ErrorClass.RATE_LIMITED if result.status == 429 else ErrorClass.NETWORK_ERROR
            return PlatformError(
                error_class,
                f"{operation}: HTTP {result.status} {_shopify_error_text(result)}",
                http_status=result.status,
                retry_after=retry_after,
            )
        return PlatformError(
            ErrorClass.INVALID_PRODUCT,
            f"{operation}: HTTP {result.status} {_shopify_error_text(result)}",
            http_status=result.status,
        )

    def _adopt_cost(self, payload: dict[str, Any], reserved: int) -> None:
        cost = (payload.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        actual = cost.get("actualQueryCost")
        self.limiter.refund(max(reserved - actual, 0) if isinstance(actual, int | float) else reserved)
        if status:
            self.limiter.report(
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
            )

    def _check_user_errors(self, operation: str, payload: dict[str, Any]) -> None:
        errors = payload.get("userErrors") or []
        if not errors:
            return
        message = "; ".join(f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')}" for e in errors)
        code = next((e.get("code") for e in errors if e.get("code")), None)
        error = PlatformError(ErrorClass.INVALID_PRODUCT, f"{operation}: {message}", platform_code=code)
        self.transport.observe_failure(operation, 1, error)
        raise error


# ---- small helpers -------------------------------------------------------------------------


def _error_class(codes: list[Any]) -> ErrorClass:
    """Top-level GraphQL errors (real-stores 3.3). A missing scope is not fixed by a retry or a
    token refresh: it stops the store (the message names ``requiredAccess``). Shopify's own
    failure is retried (every call here is idempotent: upserts by identifier, keyed inventory).
    Cost-limit and ``BAD_REQUEST`` answers are this client's defects: reported, never retried."""
    if "ACCESS_DENIED" in codes:
        return ErrorClass.UNAUTHORIZED
    if "INTERNAL_SERVER_ERROR" in codes:
        return ErrorClass.NETWORK_ERROR
    return ErrorClass.INVALID_PRODUCT


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _shopify_error_text(result: HttpResult) -> str:
    try:
        body = json.loads(result.text)
    except ValueError:
        return f"({len(result.text)} bytes, not JSON)"
    errors = body.get("errors") if isinstance(body, dict) else None
    return str(errors)[:300] if errors else ""
