"""Rate limiters shared by all threads that talk to one store.

Two models, as the platforms count: requests per second (Shopee, TikTok: a token bucket), and
Shopify's calculated query cost (a leaky bucket of points whose level the server reports after
every call). No library models the second one, because it must follow the server's own report,
so both are written here, small and thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Refill arithmetic in floats can land a hair below a whole token; without this tolerance a
# waiter could compute a wait so small that the clock does not move, and spin forever.
_EPSILON = 1e-9


class RequestRateLimiter:
    """At most ``rate`` requests per second on average, with bursts up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = float(burst if burst is not None else max(1, int(rate)))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one request slot, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1 - _EPSILON:
                    self._tokens -= 1
                    return waited
                delay = max((1 - self._tokens) / self.rate, 1e-6)
            self._sleep(delay)
            waited += delay

    def penalize(self, seconds: float) -> None:
        """The server said slow down: empty the bucket so the next calls wait ``seconds``."""
        with self._lock:
            self._tokens = min(self._tokens, -seconds * self.rate + 1)


class CostBucketLimiter:
    """Shopify's leaky bucket: wait until enough points are available for a query's cost.

    The local estimate restores at ``restore_rate`` points/s and is corrected by every
    ``throttleStatus`` the server reports, so several threads never overdraw the bucket.
    """

    def __init__(
        self,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._available = maximum
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._available = min(self.maximum, self._available + (now - self._updated) * self.restore_rate)
        self._updated = now

    def acquire(self, cost: float) -> float:
        """Reserve ``cost`` points (capped at the bucket size), waiting for them; returns seconds waited."""
        cost = min(cost, self.maximum)
        waited = 0.0
        while True:
            with self._lock:
                self._refill(self._clock())
                if self._available >= cost - _EPSILON:
                    self._available -= cost
                    return waited
                delay = max((cost - self._available) / self.restore_rate, 1e-6)
            self._sleep(delay)
            waited += delay

    def refund(self, points: float) -> None:
        """Give back what a call reserved but did not spend (actual cost below the estimate)."""
        with self._lock:
            self._available = min(self.maximum, self._available + points)

    def report(self, currently_available: float, maximum: float, restore_rate: float) -> None:
        """Adopt the server's view after a call (it is the authority; our estimate drifts)."""
        with self._lock:
            self._refill(self._clock())  # credit the time since the last update before comparing
            self.maximum = maximum
            self.restore_rate = restore_rate
            self._available = min(self._available, currently_available)

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._available
