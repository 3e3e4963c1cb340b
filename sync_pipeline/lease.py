"""Heartbeat leases in the app DB: one row per lease, held by one holder at a time.

Used by the catalog import's guard (``catalog/jobs.py``) and the per-store push guard
(``push/guard.py``). A lease is taken with a conditional UPDATE (``... WHERE <free or stale or
...>``): the DB serializes concurrent UPDATEs of one row on SQLite, PostgreSQL and MySQL alike, so
of two takers exactly one gets ``rowcount == 1``. A holder keeps its lease by beating (the UPDATE
names the holder, so a holder whose lease was taken over learns it: nothing is updated), and a
holder silent for ``stale_after`` may be taken over. What a taker does about the holder it
replaced (marking its job or run failed) is the caller's, in the same way on both guards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError


@dataclass(frozen=True)
class Lease:
    """One lease row of ``table``: ``name_column`` names the lease, ``holder_column`` its holder
    (NULL: free) and ``heartbeat_column`` the holder's last sign of life."""

    table: sa.Table
    name_column: str
    name: str
    holder_column: str
    heartbeat_column: str = "heartbeat_at"

    @property
    def holder(self) -> sa.Column[Any]:
        return self.table.c[self.holder_column]

    @property
    def heartbeat_at(self) -> sa.Column[Any]:
        return self.table.c[self.heartbeat_column]

    def this_row(self) -> sa.ColumnElement[bool]:
        return self.table.c[self.name_column] == self.name

    def ensure_row(self, engine: Engine) -> None:
        """The lease's row, created free when missing; a racing creator's row is just as good."""
        try:
            with engine.begin() as conn:
                exists = conn.execute(sa.select(self.table.c[self.name_column]).where(self.this_row())).first()
                if exists is None:
                    conn.execute(sa.insert(self.table).values({self.name_column: self.name}))
        except IntegrityError:
            pass  # another process created it first; the UPDATE that takes the lease decides

    def read(self, conn: Connection) -> sa.RowMapping | None:
        return conn.execute(sa.select(self.table).where(self.this_row())).mappings().first()

    def is_free(self) -> sa.ColumnElement[bool]:
        return self.holder.is_(None)

    def held_by(self, holder: object) -> sa.ColumnElement[bool]:
        return self.holder.is_(None) if holder is None else self.holder == holder

    def is_stale(self, now: datetime, stale_after: timedelta) -> sa.ColumnElement[bool]:
        """The holder gave no sign of life for ``stale_after`` (or never did)."""
        return sa.or_(self.heartbeat_at.is_(None), self.heartbeat_at < now - stale_after)

    def take(self, conn: Connection, taker: object, now: datetime, *conditions: sa.ColumnElement[bool],
             extra: Mapping[str, Any] | None = None) -> bool:
        """Give the lease to ``taker`` where every condition holds (say, free or stale), writing
        the ``extra`` columns with it; True when it was taken."""
        taken = conn.execute(
            sa.update(self.table).where(self.this_row(), *conditions)
            .values({self.holder_column: taker, self.heartbeat_column: now, **(extra or {})})
        ).rowcount
        return bool(taken == 1)

    def beat(self, conn: Connection, holder: object, now: datetime, extra: Mapping[str, Any] | None = None) -> bool:
        """The holder is alive (and writes the ``extra`` columns); False when the lease is no
        longer its own (taken over)."""
        kept = conn.execute(
            sa.update(self.table).where(self.this_row(), self.holder == holder)
            .values({self.heartbeat_column: now, **(extra or {})})
        ).rowcount
        return bool(kept == 1)

    def release(self, conn: Connection, holder: object, *cleared: str) -> None:
        """Free the lease if ``holder`` still holds it; ``cleared`` columns are emptied with it."""
        conn.execute(
            sa.update(self.table).where(self.this_row(), self.holder == holder)
            .values({self.holder_column: None, self.heartbeat_column: None, **dict.fromkeys(cleared)})
        )
