"""Which dead letters are worth another push: failures of a retryable class (rate limited, network)
that have rested long enough and have not been tried too often."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from sync_pipeline.platforms.base import RETRYABLE
from sync_pipeline.push import ledger


@dataclass(frozen=True)
class RetryableDeadLetters:
    per_store: dict[str, int]  # store key -> dead letters due for a retry
    error_classes: tuple[str, ...]
    latest_failure: datetime | None
    attempts: int

    @property
    def total(self) -> int:
        return sum(self.per_store.values())

    @property
    def digest(self) -> str:
        """Changes whenever the set moves (new failures, another failed attempt, one cleared)."""
        text = repr((sorted(self.per_store.items()), self.error_classes, self.latest_failure, self.attempts))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def retryable_dead_letters(engine: Engine, *, failed_before: datetime, max_attempts: int) -> RetryableDeadLetters:
    classes = sorted(str(c) for c in RETRYABLE)
    tallies = ledger.dead_letter_tallies(engine, error_classes=classes, failed_before=failed_before,
                                         max_attempts=max_attempts)
    latest = max((t.latest_failure for t in tallies if t.latest_failure is not None), default=None)
    return RetryableDeadLetters(
        per_store={t.store_key: t.count for t in tallies},
        error_classes=tuple(classes),
        latest_failure=latest,
        attempts=sum(t.attempts for t in tallies),
    )
