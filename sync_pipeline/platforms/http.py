"""HTTP plumbing shared by the platform clients: one pooled session per store, timeouts,
transport failures classified as NETWORK_ERROR, and redaction of secrets from anything logged.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from sync_pipeline.platforms.base import CallObserver, CallRecord, CallsStopped, ErrorClass, PlatformError

# Names whose values are secrets wherever they appear: query strings, JSON bodies, headers.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "partner_key",
        "app_secret",
        "sign",
        "x-shopify-access-token",
        "x-tts-access-token",
        "authorization",
        "password",
    }
)
REDACTED = "***"
_MAX_LOGGED_BODY = 4000


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and every ``secret_key=value`` pair masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for key in SECRET_KEYS:
        text = re.sub(rf'("{key}"\s*:\s*")[^"]*(")', rf"\1{REDACTED}\2", text, flags=re.IGNORECASE)
        text = re.sub(rf"(\b{key}=)[^&\s\"']+", rf"\1{REDACTED}", text, flags=re.IGNORECASE)
    return text


@dataclass
class HttpResult:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a NETWORK_ERROR (a proxy page, a cut stream)."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise PlatformError(
                ErrorClass.NETWORK_ERROR,
                f"malformed JSON in response (HTTP {self.status}, {len(self.text)} bytes)",
                http_status=self.status,
            ) from exc


DEFAULT_TIMEOUT_S = 30.0
TIMEOUT_ENV = "SYNC_HTTP_TIMEOUT_SECONDS"


def http_timeout(store_seconds: float | None) -> float:
    """A store call's timeout: the store's own ``http_timeout_seconds``, else the environment's
    ``SYNC_HTTP_TIMEOUT_SECONDS``, else 30 s. A bad value in the environment is refused, not ignored."""
    if store_seconds is not None:
        return store_seconds
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds above 0 (got {raw!r})")
    return seconds


class HttpTransport:
    """A ``requests.Session`` with connection reuse sized for the push's worker threads."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        pool_size: int = 16,
        observer: CallObserver | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout = timeout
        self.observer = observer
        self._secrets: set[str] = {s for s in secrets if s}

    def add_secret(self, secret: str) -> None:
        """Register a value (e.g. a freshly refreshed token) that must never appear in logs."""
        if secret:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        attempt: int = 1,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
        files: Any = None,
    ) -> HttpResult:
        """Send one request; transport failures become NETWORK_ERROR, and every call is observed.

        An observer with ``stopped_reason()`` can stop every further call (after the store
        rejected the credentials, one more call could lock the app out): ``CallsStopped``."""
        stopped = getattr(self.observer, "stopped_reason", None)
        reason = stopped() if stopped is not None else None
        if reason:
            raise CallsStopped(reason)
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, url, params=params, headers=headers, data=data, files=files, timeout=self.timeout
            )
            result = HttpResult(response.status_code, response.headers, response.text)
        except requests.RequestException as exc:
            error = PlatformError(ErrorClass.NETWORK_ERROR, f"{type(exc).__name__} calling {operation}")
            self._observe(operation, attempt, started, None, error, data, None)
            raise error from None  # the original message may carry the URL with secrets
        self._observe(operation, attempt, started, result.status, None, data, result.text)
        return result

    def download(self, url: str) -> bytes:
        """A catalog image's bytes from its media host, for platforms that only take uploaded files.

        Not a store call (no limiter, no signing, no call row); a missing image is the product's
        problem (INVALID_PRODUCT), any other failure may pass (NETWORK_ERROR)."""
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"image download failed: {url}") from None
        if response.status_code in (404, 410):
            raise PlatformError(ErrorClass.INVALID_PRODUCT, f"image not found (HTTP {response.status_code}): {url}",
                                http_status=response.status_code)
        if response.status_code >= 400:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"image download failed (HTTP {response.status_code}): {url}",
                                http_status=response.status_code)
        return response.content

    def observe_failure(self, operation: str, attempt: int, error: PlatformError) -> None:
        """The verdict on this thread's last call, found in its body (a THROTTLED or an error
        envelope in a 200, a userError): it amends that call's record rather than adding one."""
        if self.observer is not None:
            self.observer(
                CallRecord(
                    operation=operation,
                    attempt=attempt,
                    outcome="error",
                    latency_ms=0.0,
                    http_status=error.http_status,
                    error_class=str(error.error_class),
                    platform_code=error.platform_code,
                    amends=True,
                )
            )

    def _observe(
        self,
        operation: str,
        attempt: int,
        started: float,
        status: int | None,
        error: PlatformError | None,
        request_body: bytes | str | None,
        response_body: str | None,
    ) -> None:
        if self.observer is None:
            return
        req = request_body.decode("utf-8", "replace") if isinstance(request_body, bytes) else request_body
        ok = error is None and status is not None and status < 400
        self.observer(
            CallRecord(
                operation=operation,
                attempt=attempt,
                outcome="ok" if ok else "error",
                latency_ms=(time.perf_counter() - started) * 1000,
                http_status=status,
                error_class=str(error.error_class) if error else None,
                request_body=self.redact(req[:_MAX_LOGGED_BODY]) if req else None,
                response_body=self.redact(response_body[:_MAX_LOGGED_BODY]) if response_body else None,
            )
        )

    def close(self) -> None:
        self.session.close()
