"""The sandboxes' memory: a small SQLite document store shared by all platform emulators.

It persists in a file so the stores outlive one server process and can be inspected; ``reset``
empties it. One lock serialises access: the sandbox is a test double, not a database server.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    platform TEXT NOT NULL, store TEXT NOT NULL, config TEXT NOT NULL,
    PRIMARY KEY (platform, store));
CREATE TABLE IF NOT EXISTS docs (
    platform TEXT NOT NULL, store TEXT NOT NULL, kind TEXT NOT NULL, doc_id TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (platform, store, kind, doc_id));
CREATE TABLE IF NOT EXISTS calls (
    platform TEXT NOT NULL, store TEXT NOT NULL, operation TEXT NOT NULL, is_write INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (platform, store, operation));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SandboxState:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self.lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one SQLite transaction: a handler's writes land together or not at all."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- stores -----------------------------------------------------------------------------------

    def put_store(self, platform: str, store: str, config: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO stores VALUES (?, ?, ?)", (platform, store, json.dumps(config))
            )

    def get_store(self, platform: str, store: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT config FROM stores WHERE platform = ? AND store = ?", (platform, store)
            ).fetchone()
        return None if row is None else json.loads(row[0])  # type: ignore[no-any-return]

    def list_stores(self, platform: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT store, config FROM stores WHERE platform = ?", (platform,)
            ).fetchall()
        return {store: json.loads(cfg) for store, cfg in rows}

    # -- documents --------------------------------------------------------------------------------

    def get(self, platform: str, store: str, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT body FROM docs WHERE platform=? AND store=? AND kind=? AND doc_id=?",
                (platform, store, kind, doc_id),
            ).fetchone()
        return None if row is None else json.loads(row[0])  # type: ignore[no-any-return]

    def put(self, platform: str, store: str, kind: str, doc_id: str, body: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)",
                (platform, store, kind, doc_id, json.dumps(body)),
            )

    def delete(self, platform: str, store: str, kind: str, doc_id: str) -> bool:
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM docs WHERE platform=? AND store=? AND kind=? AND doc_id=?",
                (platform, store, kind, doc_id),
            )
            return cur.rowcount > 0

    def list(self, platform: str, store: str, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT body FROM docs WHERE platform=? AND store=? AND kind=? ORDER BY rowid",
                (platform, store, kind),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def next_id(self, name: str, start: int = 1000) -> int:
        """A monotonically increasing id, unique across restarts of the sandbox."""
        with self.transaction() as c:
            row = c.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = (row[0] if row else start) + 1
            c.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
            return int(value)

    # -- call accounting (tests assert "zero write calls" on these) -------------------------------

    def count_call(self, platform: str, store: str, operation: str, is_write: bool) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO calls VALUES (?, ?, ?, ?, 1) "
                "ON CONFLICT(platform, store, operation) DO UPDATE SET n = n + 1",
                (platform, store, operation, int(is_write)),
            )

    def count_received(self, platform: str, store: str) -> None:
        """Every request addressed to the store, answered or not (faults, refusals included)."""
        with self.transaction() as c:
            c.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
                      (f"received:{platform}:{store}",))

    def call_counts(self, platform: str, store: str) -> dict[str, Any]:
        """``operations``/``writes``/``total``: calls the store handled (faulted and refused answers
        left out); ``received``: every HTTP request addressed to the store."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT operation, is_write, n FROM calls WHERE platform=? AND store=?", (platform, store)
            ).fetchall()
            received = self._conn.execute("SELECT value FROM counters WHERE name = ?",
                                          (f"received:{platform}:{store}",)).fetchone()
        by_op = {op: n for op, _w, n in rows}
        writes = sum(n for _op, w, n in rows if w)
        return {"operations": by_op, "writes": writes, "total": sum(by_op.values()),
                "received": int(received[0]) if received else 0}

    def reset(self) -> None:
        with self.transaction() as c:
            for table in ("stores", "docs", "calls", "counters"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        with self.lock:
            self._conn.close()
