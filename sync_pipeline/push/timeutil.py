"""The one clock of the push's bookkeeping: naive UTC, as the app DB's DateTime columns store it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
