"""The token bucket the sandboxes throttle with (in memory: throttling is transient).

``TokenBuckets``: one bucket per key (a Shopee shop; a TikTok app + shop + API), ``burst`` deep,
refilled at ``rate`` tokens a second on the time the caller passes, so a test can pin that time
and count calls. Shopify's cost bucket (``sandbox/shopify/cost.py: LeakyBucket``) is the same
``Bucket`` counted in query-cost points.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class Bucket:
    """One token bucket: ``capacity`` deep, starts full, refilled at ``rate`` a second on the time
    the caller passes. Not locked: its owner holds a lock around it."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.level = capacity
        self._updated = now

    def refill(self, now: float) -> float:
        self.level = min(self.capacity, self.level + (now - self._updated) * self.rate)
        self._updated = now
        return self.level

    def take(self, amount: float, now: float) -> bool:
        """Take ``amount`` if the bucket holds it; a refused take takes nothing."""
        if self.refill(now) < amount:
            return False
        self.level -= amount
        return True

    def give_back(self, amount: float, now: float) -> None:
        self.level = min(self.capacity, self.refill(now) + amount)


class TokenBuckets:
    def __init__(self) -> None:
        self._buckets: dict[Hashable, Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: Hashable, rate: float, burst: float, now: float) -> bool:
        """Take one token from ``key``'s bucket if it holds one (a new bucket starts full)."""
        with self._lock:
            bucket = self._buckets.setdefault(key, Bucket(burst, rate, now))
            bucket.capacity, bucket.rate = burst, rate
            return bucket.take(1, now)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._buckets.pop(key, None)
