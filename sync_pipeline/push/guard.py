"""At most one push per store at a time, guarded in the app DB.

The lock row is taken with a conditional UPDATE, which is atomic on SQLite, PostgreSQL and MySQL,
so two processes can never both win. A holder that stopped heart-beating (a killed process) is
taken over after ``stale_after``; a live holder refreshes its heartbeat as it writes progress.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.catalog.tables import push_store_locks
from sync_pipeline.push.timeutil import utcnow

DEFAULT_STALE_AFTER = timedelta(minutes=10)


class StorePushLocked(RuntimeError):
    """Another push of the same store is running; this one refuses to start."""


@dataclass
class StorePushGuard:
    engine: Engine
    store_key: str
    run_id: str
    stale_after: timedelta = DEFAULT_STALE_AFTER

    def acquire(self) -> None:
        now = utcnow()
        holder = f"{socket.gethostname()}:{os.getpid()}"
        self._ensure_row()
        table = push_store_locks
        with self.engine.begin() as conn:
            taken = conn.execute(
                sa.update(table)
                .where(table.c.store_key == self.store_key)
                .where(sa.or_(table.c.run_id.is_(None), table.c.run_id == self.run_id,
                              table.c.heartbeat_at < now - self.stale_after))
                .values(run_id=self.run_id, holder=holder, acquired_at=now, heartbeat_at=now)
            ).rowcount
        if taken != 1:
            raise StorePushLocked(self._refusal())

    def heartbeat(self) -> None:
        table = push_store_locks
        with self.engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.store_key == self.store_key)
                         .where(table.c.run_id == self.run_id).values(heartbeat_at=utcnow()))

    def release(self) -> None:
        table = push_store_locks
        with self.engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.store_key == self.store_key)
                         .where(table.c.run_id == self.run_id)
                         .values(run_id=None, holder=None, acquired_at=None, heartbeat_at=None))

    def __enter__(self) -> StorePushGuard:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _ensure_row(self) -> None:
        table = push_store_locks
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(table.c.store_key).where(table.c.store_key == self.store_key)).first()
            if exists is None:
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(table).values(store_key=self.store_key))
                except sa.exc.IntegrityError:
                    pass  # another process created it first: fine, the UPDATE decides

    def _refusal(self) -> str:
        table = push_store_locks
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.store_key == self.store_key)).mappings().first()
        if row is None or row["run_id"] is None:
            return f"store '{self.store_key}': could not take the push guard; try again"
        return (
            f"store '{self.store_key}' is already being pushed by run {row['run_id']} ({row['holder']}), "
            f"started {row['acquired_at']:%Y-%m-%d %H:%M:%S} UTC, last heartbeat "
            f"{row['heartbeat_at']:%H:%M:%S} UTC; this push refuses to interleave with it. It will be "
            f"taken over only if that run stops heart-beating for {self.stale_after}."
        )
