"""One retry policy for every store call: exponential backoff with full jitter, Retry-After honoured.

Built on tenacity. Only retryable errors (rate limits, network trouble) are retried; an invalid
product or bad credentials fail at once, since repeating the same request cannot help.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from sync_pipeline.platforms.base import PlatformError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5  # seconds; the backoff window doubles per attempt
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, PlatformError) and exc.retryable


class _BackoffHonouringRetryAfter(tenacity.wait.wait_base):
    """Full-jitter exponential backoff, but never sooner than the server's Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._jitter = tenacity.wait_random_exponential(multiplier=policy.base_delay, max=policy.max_delay)
        self._max = policy.max_delay

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = float(self._jitter(retry_state))
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, PlatformError) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self._max))
        return delay


def call_with_retries(
    call: Callable[[int], T],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call(attempt_number)`` until it succeeds, fails for good, or attempts run out.

    The last error is re-raised as it is, so the caller sees the platform's class and code.
    """
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_BackoffHonouringRetryAfter(policy),
        retry=tenacity.retry_if_exception(_is_retryable),
        reraise=True,
        sleep=sleep,
    )
    for attempt in retrying:
        with attempt:
            return call(attempt.retry_state.attempt_number)
    raise AssertionError("unreachable: tenacity re-raises or returns")  # pragma: no cover
