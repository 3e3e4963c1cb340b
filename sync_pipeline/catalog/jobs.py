"""Import jobs, the saved cursor and the one-import-at-a-time guard, all in the app DB.

A job row goes queued → running → completed | failed. The guard is a single lock row taken with
a conditional UPDATE (``... WHERE job_id IS NULL OR <holder is stale or only staged>``): the DB
serializes concurrent UPDATEs of one row on SQLite, PostgreSQL and MySQL alike, so of two
imports started at once exactly one gets ``rowcount == 1`` and the other is refused.

The lock is a heartbeat lease (``sync_pipeline/lease.py``, shared with the push guard) and goes
through three phases: ``extracting`` (magento_products reads Magento), ``staged``
(the extract is waiting for catalog_products) and ``loading`` (catalog_products writes the
catalog). A staged extract that nobody loads is superseded by the next import (nothing is lost:
the cursor never moved for it); a holder that stops sending heartbeats for ``stale_after`` is
treated as dead and its job marked failed.

The cursor ``last_successful_source_id`` and the change watermark ``last_source_change_at`` are
written only in the transaction that completes a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from sync_pipeline.catalog.staging import clear_staged
from sync_pipeline.catalog.tables import product_import_jobs as jobs
from sync_pipeline.catalog.tables import product_import_lock as lock
from sync_pipeline.catalog.tables import product_import_meta as meta
from sync_pipeline.db import utcnow
from sync_pipeline.lease import Lease

CURSOR_KEY = "last_successful_source_id"
CHANGE_WATERMARK_KEY = "last_source_change_at"
LOCK_NAME = "catalog_import"
DEFAULT_STALE_AFTER = timedelta(minutes=30)

PHASE_EXTRACTING = "extracting"
PHASE_STAGED = "staged"
PHASE_LOADING = "loading"

LEASE = Lease(lock, "name", LOCK_NAME, holder_column="job_id")  # the guard (sync_pipeline/lease.py)


class ImportAlreadyRunning(RuntimeError):
    """Another import holds the guard; this one was refused and recorded as failed."""


class ImportLockLost(RuntimeError):
    """This import's guard was taken over (it was silent for too long); it must stop writing."""


@dataclass(frozen=True)
class ClaimedJob:
    """A staged import that catalog_products now loads."""

    job_id: int
    params: dict[str, Any]
    metrics: dict[str, Any]


# --- meta: cursor and change watermark -----------------------------------------------------------


def read_cursor(conn: Connection) -> int:
    value = _read_meta(conn, CURSOR_KEY)
    return int(value) if value else 0


def read_change_watermark(conn: Connection) -> datetime | None:
    value = _read_meta(conn, CHANGE_WATERMARK_KEY)
    return datetime.fromisoformat(value) if value else None


def _read_meta(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def _write_meta(conn: Connection, key: str, value: str) -> None:
    # Only the guard's holder writes meta, so update-then-insert cannot race another writer.
    if conn.execute(update(meta).where(meta.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(meta).values(key=key, value=value))


# --- job rows ----------------------------------------------------------------------------------


def create_job(engine: Engine, params: dict[str, Any], run_id: str | None = None,
               now: datetime | None = None) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(jobs).values(status="queued", params=params, metrics={}, run_id=run_id,
                                created_at=now or utcnow())
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def job_row(conn: Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
    return dict(row)


def save_metrics(engine: Engine, job_id: int, metrics: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(metrics=metrics))


def fail_job(engine: Engine, job_id: int, message: str, metrics: dict[str, Any] | None = None,
             now: datetime | None = None) -> None:
    """Record the failure, drop the job's staged rows and free the guard if this job held it."""
    values: dict[str, Any] = {"status": "failed", "error_message": message[:10_000],
                              "finished_at": now or utcnow()}
    if metrics is not None:
        values["metrics"] = metrics
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
        clear_staged(conn, job_id)
        _release(conn, job_id)


def complete_job(conn: Connection, job_id: int, metrics: dict[str, Any], cursor: int,
                 change_watermark: datetime | None, now: datetime | None = None) -> None:
    """Within the caller's transaction: move the cursor and watermark, close the job, free the guard."""
    _write_meta(conn, CURSOR_KEY, str(cursor))
    if change_watermark is not None:
        _write_meta(conn, CHANGE_WATERMARK_KEY, change_watermark.isoformat())
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(
        status="completed", metrics=metrics, finished_at=now or utcnow(), error_message=None))
    clear_staged(conn, job_id)
    _release(conn, job_id)


# --- the guard ---------------------------------------------------------------------------------


def start_job(engine: Engine, job_id: int, now: datetime | None = None,
              stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
    """Take the guard for ``job_id`` and mark it running, or refuse with ImportAlreadyRunning."""
    now = now or utcnow()
    LEASE.ensure_row(engine)
    for _attempt in range(3):
        with engine.begin() as conn:
            holder = LEASE.read(conn)
            assert holder is not None
            if not _takeable(holder, now, stale_after):
                refusal = _refusal(conn, holder)
                break
            taken = LEASE.take(conn, job_id, now, LEASE.held_by(holder["job_id"]), _takeable_clause(now, stale_after),
                               extra={"phase": PHASE_EXTRACTING})
            if not taken:
                continue  # someone moved the guard between our read and write: look again
            if holder["job_id"] is not None:
                _retire(conn, int(holder["job_id"]), holder, now)
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(status="running", started_at=now))
            return
    else:
        refusal = "another import took the guard at the same moment; try again"
    fail_job(engine, job_id, refusal, now=now)
    raise ImportAlreadyRunning(refusal)


def heartbeat(engine: Engine, job_id: int, now: datetime | None = None) -> None:
    """Tell the guard this job is alive; stop at once if the guard was taken over meanwhile."""
    with engine.begin() as conn:
        kept = LEASE.beat(conn, job_id, now or utcnow())
    if not kept:
        raise ImportLockLost(f"import job {job_id} lost its guard (silent too long); it stopped")


def mark_staged(engine: Engine, job_id: int, metrics: dict[str, Any], now: datetime | None = None) -> None:
    """The extract is complete: hand the job over to the catalog load."""
    with engine.begin() as conn:
        if not LEASE.beat(conn, job_id, now or utcnow(), {"phase": PHASE_STAGED}):
            raise ImportLockLost(f"import job {job_id} lost its guard before its extract was handed over")
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(metrics=metrics))


def claim_staged(engine: Engine, now: datetime | None = None) -> ClaimedJob | None:
    """The staged job, now in the loading phase; None when no extract is waiting."""
    LEASE.ensure_row(engine)
    with engine.begin() as conn:
        holder = LEASE.read(conn)
        assert holder is not None
        if holder["job_id"] is None or holder["phase"] != PHASE_STAGED:
            return None
        job_id = int(holder["job_id"])
        if not LEASE.take(conn, job_id, now or utcnow(), LEASE.held_by(job_id), lock.c.phase == PHASE_STAGED,
                          extra={"phase": PHASE_LOADING}):
            return None
        row = job_row(conn, job_id)
    return ClaimedJob(job_id=job_id, params=dict(row["params"] or {}), metrics=dict(row["metrics"] or {}))


def running_job_id(conn: Connection) -> int | None:
    row = LEASE.read(conn)
    return None if row is None or row["job_id"] is None else int(row["job_id"])


def _takeable(holder: Any, now: datetime, stale_after: timedelta) -> bool:
    if holder["job_id"] is None or holder["phase"] == PHASE_STAGED:
        return True
    beat = holder["heartbeat_at"]
    return beat is None or beat < now - stale_after


def _takeable_clause(now: datetime, stale_after: timedelta) -> Any:
    return or_(LEASE.is_free(), lock.c.phase == PHASE_STAGED, LEASE.is_stale(now, stale_after))


def _retire(conn: Connection, old_job: int, holder: Any, now: datetime) -> None:
    if holder["phase"] == PHASE_STAGED:
        reason = "superseded: its extract was never loaded into the catalog; a newer import took over"
    else:
        reason = f"abandoned: no sign of life since {holder['heartbeat_at']}; a newer import took over"
    conn.execute(update(jobs).where(jobs.c.id == old_job, jobs.c.status.in_(("queued", "running")))
                 .values(status="failed", error_message=reason, finished_at=now))
    clear_staged(conn, old_job)


def _refusal(conn: Connection, holder: Any) -> str:
    job = conn.execute(select(jobs.c.run_id, jobs.c.started_at).where(jobs.c.id == holder["job_id"])).first()
    run = f" (Dagster run {job.run_id})" if job is not None and job.run_id else ""
    since = f" since {job.started_at:%Y-%m-%d %H:%M:%S} UTC" if job is not None and job.started_at else ""
    return (f"another catalog import is already running: job {holder['job_id']}{run}, "
            f"{holder['phase']}{since}; only one import runs at a time, wait for it to finish")


def _release(conn: Connection, job_id: int) -> None:
    LEASE.release(conn, job_id, "phase")
