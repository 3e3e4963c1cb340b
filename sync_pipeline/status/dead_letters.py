"""Which dead letters are worth another push: failures of a retryable class (rate limited, network)
that have rested long enough and have not been tried too often."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.platforms.base import RETRYABLE
from sync_pipeline.push.tables import push_dead_letters


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
    table = push_dead_letters
    classes = sorted(str(c) for c in RETRYABLE)
    query = (
        sa.select(table.c.store_key, sa.func.count(), sa.func.max(table.c.last_failed_at), sa.func.sum(table.c.attempts))
        .where(table.c.error_class.in_(classes))
        .where(table.c.last_failed_at <= failed_before)
        .where(table.c.attempts < max_attempts)
        .group_by(table.c.store_key)
        .order_by(table.c.store_key)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    latest = max((row[2] for row in rows if row[2] is not None), default=None)
    return RetryableDeadLetters(
        per_store={row[0]: int(row[1]) for row in rows},
        error_classes=tuple(classes),
        latest_failure=latest,
        attempts=sum(int(row[3] or 0) for row in rows),
    )
