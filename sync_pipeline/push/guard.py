"""At most one push per store at a time, guarded in the app DB.

The lock row is a heartbeat lease (``sync_pipeline/lease.py``), taken with a conditional UPDATE,
which is atomic on SQLite, PostgreSQL and MySQL, so two processes can never both win. A second push of a held store is refused at once with a
message naming the holder (it does not wait: the run queue already serialises a store's runs, so
a push meeting the guard is a manual run that the user should see refused).

A holder that stopped heart-beating (a killed process on another machine) is taken over after
``stale_after``; a live holder refreshes its heartbeat as it writes progress. A holder on this
machine whose process no longer exists (killed with SIGKILL, say) is taken over at once: the
holder is recorded as ``host:pid``, and the taking UPDATE still names that exact holder, so two
pushes that both see the dead holder cannot both win.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.lease import Lease
from sync_pipeline.push.tables import push_runs, push_store_locks

DEFAULT_STALE_AFTER = timedelta(minutes=10)


class StorePushLocked(RuntimeError):
    """Another push of the same store is running; this one refuses to start."""


@dataclass
class StorePushGuard:
    engine: Engine
    store_key: str
    run_id: str
    stale_after: timedelta = DEFAULT_STALE_AFTER
    lease: Lease = field(init=False)

    def __post_init__(self) -> None:
        self.lease = Lease(push_store_locks, "store_key", self.store_key, holder_column="run_id")

    def acquire(self) -> None:
        now = utcnow()
        holder = f"{socket.gethostname()}:{os.getpid()}"
        lease = self.lease
        lease.ensure_row(self.engine)
        with self.engine.connect() as conn:
            row = lease.read(conn)
        before = None if row is None else row["run_id"]
        with self.engine.begin() as conn:
            taken = lease.take(conn, self.run_id, now,
                               sa.or_(lease.is_free(), lease.held_by(self.run_id),
                                      lease.is_stale(now, self.stale_after)),
                               extra={"holder": holder, "acquired_at": now})
        if taken:
            if before is not None and before != self.run_id:
                self._mark_abandoned(before, "stopped heart-beating")
            return
        previous = self._take_over_dead_local_holder(holder, now)
        if previous is None:
            raise StorePushLocked(self._refusal())
        self._mark_abandoned(previous, "its process no longer exists")

    def _mark_abandoned(self, previous_run_id: str, why: str) -> None:
        """The run we took the store from will never finish its ``push_runs`` rows: say so, so the
        records do not show a dead run as running forever."""
        table = push_runs
        with self.engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.run_id == previous_run_id)
                         .where(table.c.store_key == self.store_key).where(table.c.status == "running")
                         .values(status="failed", finished_at=utcnow(),
                                 error_message=f"abandoned: {why}; store taken over by run {self.run_id}"))

    def _take_over_dead_local_holder(self, holder: str, now: datetime) -> str | None:
        """The dead holder's run id when this run took its place, else None."""
        lease = self.lease
        with self.engine.connect() as conn:
            current = lease.read(conn)
        if current is None or current["run_id"] is None or not _is_dead_local_process(current["holder"]):
            return None
        with self.engine.begin() as conn:
            taken = lease.take(conn, self.run_id, now, lease.held_by(current["run_id"]),
                               push_store_locks.c.holder == current["holder"],
                               extra={"holder": holder, "acquired_at": now})
        return str(current["run_id"]) if taken else None

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            self.lease.beat(conn, self.run_id, utcnow())

    def release(self) -> None:
        with self.engine.begin() as conn:
            self.lease.release(conn, self.run_id, "holder", "acquired_at")

    def __enter__(self) -> StorePushGuard:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _refusal(self) -> str:
        with self.engine.connect() as conn:
            row = self.lease.read(conn)
        if row is None or row["run_id"] is None:
            return f"store '{self.store_key}': could not take the push guard; try again"
        return (
            f"store '{self.store_key}' is already being pushed by run {row['run_id']} ({row['holder']}), "
            f"started {row['acquired_at']:%Y-%m-%d %H:%M:%S} UTC, last heartbeat "
            f"{row['heartbeat_at']:%H:%M:%S} UTC; this push refuses to interleave with it. It will be "
            f"taken over only if that run stops heart-beating for {self.stale_after}."
        )


def _is_dead_local_process(holder: str | None) -> bool:
    """True only when ``holder`` is a process of this machine that no longer runs."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False
