"""Token buckets the Shopee and TikTok sandboxes throttle with (in memory: throttling is transient).

One bucket per key (a Shopee shop; a TikTok app + shop + API), ``burst`` deep, refilled at ``rate``
tokens a second on the time the caller passes, so a test can pin that time and count calls.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class TokenBuckets:
    def __init__(self) -> None:
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: Hashable, rate: float, burst: float, now: float) -> bool:
        """Take one token from ``key``'s bucket if it holds one (a new bucket starts full)."""
        with self._lock:
            tokens, updated = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - updated) * rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._buckets.pop(key, None)
