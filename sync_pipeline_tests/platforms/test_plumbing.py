"""Retry policy, rate limiters and redaction: pure logic, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from sync_pipeline.platforms.base import ErrorClass, PlatformError
from sync_pipeline.platforms.http import redact
from sync_pipeline.platforms.ratelimit import CostBucketLimiter, RequestRateLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retryable_errors_are_retried_until_success() -> None:
    clock = FakeClock()
    attempts: list[int] = []

    def flaky(attempt: int) -> str:
        attempts.append(attempt)
        if attempt < 3:
            raise PlatformError(ErrorClass.NETWORK_ERROR, "reset")
        return "ok"

    assert call_with_retries(flaky, RetryPolicy(attempts=3), sleep=clock.sleep) == "ok"
    assert attempts == [1, 2, 3]
    assert len(clock.sleeps) == 2


def test_invalid_product_is_not_retried() -> None:
    calls = []

    def bad(attempt: int) -> None:
        calls.append(attempt)
        raise PlatformError(ErrorClass.INVALID_PRODUCT, "title too long", platform_code="12052051")

    with pytest.raises(PlatformError) as err:
        call_with_retries(bad, RetryPolicy(attempts=5), sleep=lambda s: None)
    assert calls == [1]
    assert err.value.platform_code == "12052051"


def test_retry_after_is_honoured_and_last_error_reraised() -> None:
    clock = FakeClock()

    def throttled(attempt: int) -> None:
        raise PlatformError(ErrorClass.RATE_LIMITED, "slow down", retry_after=7.0)

    with pytest.raises(PlatformError) as err:
        call_with_retries(throttled, RetryPolicy(attempts=3, base_delay=0.1), sleep=clock.sleep)
    assert err.value.error_class is ErrorClass.RATE_LIMITED
    assert clock.sleeps and all(s >= 7.0 for s in clock.sleeps)


def test_request_limiter_holds_the_average_rate() -> None:
    clock = FakeClock()
    limiter = RequestRateLimiter(rate=10, burst=10, clock=clock, sleep=clock.sleep)
    for _ in range(110):
        limiter.acquire()
    # 10 from the initial burst, then 100 more at 10/s
    assert clock.now == pytest.approx(10.0, rel=0.01)


def test_cost_bucket_waits_for_points_and_follows_server_report() -> None:
    clock = FakeClock()
    bucket = CostBucketLimiter(maximum=100, restore_rate=10, clock=clock, sleep=clock.sleep)
    assert bucket.acquire(100) == 0
    waited = bucket.acquire(50)
    assert waited == pytest.approx(5.0)
    bucket.report(currently_available=0, maximum=100, restore_rate=10)
    assert bucket.acquire(20) == pytest.approx(2.0)


def test_redact_masks_secret_values_and_keys() -> None:
    text = '{"access_token": "abc123xyz", "x": 1} ?sign=deadbeef&shop_id=5 token tok-SECRET-1'
    out = redact(text, secrets=["tok-SECRET-1"])
    assert "abc123xyz" not in out
    assert "deadbeef" not in out
    assert "tok-SECRET-1" not in out
    assert "shop_id=5" in out
