"""What the owner reads from the app DB on the command line: the sync log, the dead letters, each
store's category of a product. Plain reads; ``sync_pipeline.cli_owner`` prints them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.push import ledger
from sync_pipeline.push.synclog import logged_calls

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class LogLine:
    at: datetime
    run_id: str
    store_key: str
    sku: str | None
    operation: str
    attempt: int
    outcome: str
    http_status: int | None
    error_class: str | None
    platform_code: str | None
    latency_ms: float | None
    message: str  # the response body's start when the call failed, else ""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat(sep=" ", timespec="seconds")}

    def text(self) -> str:
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no answer"
        error = f" {self.error_class}" + (f" ({self.platform_code})" if self.platform_code else "") \
            if self.error_class else ""
        latency = f" {self.latency_ms:.0f} ms" if self.latency_ms is not None else ""
        tail = f": {self.message}" if self.message else ""
        return (f"{self.at.isoformat(sep=' ', timespec='seconds')}  {self.store_key:<12} {self.sku or '-':<14} "
                f"{self.operation} #{self.attempt} {self.outcome} {status}{latency}{error}{tail}")


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: a duration back from now (``30m``, ``2h``, ``7d``) or an ISO date/time (UTC)."""
    if text is None:
        return None
    now = now or utcnow()
    matched = _DURATION.match(text)
    if matched:
        return now - timedelta(seconds=int(matched.group(1)) * _UNIT_SECONDS[matched.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a duration such as 30m, 2h, 7d or an ISO time such as "
                         "2026-12-01T08:00") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def sync_log(engine: Engine, *, sku: str | None = None, store: str | None = None, since: datetime | None = None,
             limit: int = 50) -> list[LogLine]:
    """The last ``limit`` store calls for a SKU and/or a store, oldest first (as a log reads)."""
    if sku is None and store is None:
        raise ValueError("give a SKU or --store KEY")
    rows = logged_calls(engine, sku=sku, store_key=store, since=since, limit=limit)
    return [
        LogLine(at=row["at"], run_id=row["run_id"], store_key=row["store_key"], sku=row["sku"],
                operation=row["operation"], attempt=row["attempt"], outcome=row["outcome"],
                http_status=row["http_status"], error_class=row["error_class"], platform_code=row["platform_code"],
                latency_ms=float(row["latency_ms"]) if row["latency_ms"] is not None else None,
                message="" if row["outcome"] == "ok" else " ".join((row["response_body"] or "").split())[:200])
        for row in reversed(rows)
    ]


_DEAD_LETTER_COLUMNS = ("store_key", "sku", "action", "error_class", "platform_code", "attempts", "first_failed_at",
                        "last_failed_at", "run_id", "message")


def dead_letters(engine: Engine, store: str | None = None) -> list[dict[str, Any]]:
    """Every dead letter (or one store's): what failed, its error class, attempts and last error."""
    return [{column: row[column] for column in _DEAD_LETTER_COLUMNS} for row in ledger.dead_letters(engine, store)]


def store_categories(engine: Engine, sku: str, store_keys: Sequence[str]) -> dict[str, str]:
    """Each store's category of the product, as its listing maps it ("" when unmapped or not built)."""
    table = platform_listings
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.store_key, table.c.payload)
                            .where(table.c.sku == sku, table.c.store_key.in_(list(store_keys)))).all()
    return {row.store_key: str((row.payload or {}).get("category_id") or "") for row in rows}
