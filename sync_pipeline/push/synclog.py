"""The sync log: one row per HTTP call of a push, with the call's final outcome, written in batches,
pruned by age.

The client reports each HTTP call to a ``CallObserver``; it does not know which run or SKU the call
serves, so the worker thread names its current SKU in a thread-local before calling the client
(clients call the observer synchronously, from the calling thread).

A call's verdict is sometimes in its body (Shopify's THROTTLED in an HTTP 200, an error envelope):
the client then reports an amendment of the thread's last call. So each thread's latest row is
held back until its next call, the end of its ``serving`` block, or a flush while it serves
nothing; an amendment rewrites the held row instead of adding one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.platforms.base import CallRecord
from sync_pipeline.push.tables import push_sync_log

DEFAULT_RETENTION = timedelta(days=30)
MAX_BODY_CHARS = 4000


class SyncLog:
    """A thread-safe buffer of call records; ``flush`` writes them in one insert."""

    def __init__(self, engine: Engine, run_id: str, store_key: str) -> None:
        self.engine = engine
        self.run_id = run_id
        self.store_key = store_key
        self._pending: deque[dict[str, Any]] = deque()
        self._context = threading.local()
        self.calls = 0
        self.write_calls = 0
        self._count_lock = threading.Lock()
        self._held: dict[int, dict[str, Any]] = {}  # thread id -> its latest row, still amendable
        self._serving: set[int] = set()
        self._stopped: str | None = None

    def stop_calls(self, reason: str) -> None:
        """Every further call of this run is refused before it is sent (``stopped_reason``)."""
        self._stopped = self._stopped or reason

    def stopped_reason(self) -> str | None:
        return self._stopped

    @contextmanager
    def serving(self, sku: str | None) -> Iterator[list[CallRecord]]:
        """Calls observed inside the block are logged for ``sku``; the block sees its own records."""
        self._context.sku = sku
        records: list[CallRecord] = []
        self._context.records = records
        me = threading.get_ident()
        with self._count_lock:
            self._serving.add(me)
        try:
            yield records
        finally:
            self._context.sku = None
            self._context.records = None
            with self._count_lock:
                self._serving.discard(me)
                self._release(me)

    def __call__(self, record: CallRecord) -> None:
        me = threading.get_ident()
        if record.amends:
            with self._count_lock:
                held = self._held.get(me)
                if held is not None:
                    held.update(outcome=record.outcome, error_class=record.error_class,
                                platform_code=record.platform_code,
                                http_status=record.http_status or held["http_status"])
                    return
            # No call to amend (it was flushed already): keep the verdict rather than lose it.
        records = getattr(self._context, "records", None)
        if records is not None:
            records.append(record)
        row = {
            "at": utcnow(), "run_id": self.run_id, "store_key": self.store_key,
            "sku": getattr(self._context, "sku", None), "operation": record.operation[:64],
            "attempt": record.attempt, "outcome": record.outcome, "http_status": record.http_status,
            "error_class": record.error_class, "platform_code": record.platform_code,
            "latency_ms": round(record.latency_ms, 2),
            "request_body": _clip(record.request_body), "response_body": _clip(record.response_body),
        }
        with self._count_lock:
            if not record.amends:
                self.calls += 1
            self._release(me)
            self._held[me] = row

    def _release(self, thread_id: int) -> None:
        row = self._held.pop(thread_id, None)
        if row is not None:
            self._pending.append(row)

    def flush(self) -> int:
        with self._count_lock:
            for thread_id in [t for t in self._held if t not in self._serving]:
                self._release(thread_id)
        rows = []
        while self._pending:
            rows.append(self._pending.popleft())
        if rows:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(push_sync_log), rows)
        return len(rows)


def prune_sync_log(engine: Engine, retention: timedelta = DEFAULT_RETENTION) -> int:
    """Delete log rows older than the retention; returns how many went."""
    with engine.begin() as conn:
        return int(conn.execute(sa.delete(push_sync_log).where(push_sync_log.c.at < utcnow() - retention)).rowcount)


def _clip(body: str | None) -> str | None:
    return body[:MAX_BODY_CHARS] if body else body


def logged_calls(engine: Engine, *, sku: str | None = None, store_key: str | None = None,
                 since: datetime | None = None, failed_only: bool = False, limit: int = 50) -> list[sa.RowMapping]:
    """The newest ``limit`` logged calls, newest first: of a SKU and/or a store, since a moment,
    only those that did not end ``ok`` when asked."""
    log = push_sync_log
    query = sa.select(log).order_by(log.c.at.desc(), log.c.id.desc()).limit(limit)
    if sku is not None:
        query = query.where(log.c.sku == sku)
    if store_key is not None:
        query = query.where(log.c.store_key == store_key)
    if since is not None:
        query = query.where(log.c.at >= since)
    if failed_only:
        query = query.where(log.c.outcome != "ok")
    with engine.connect() as conn:
        return list(conn.execute(query).mappings())
