"""When the pipeline runs by itself: schedules and sensors.

* ``catalog_sync_schedule``: the incremental import every 15 minutes (``SYNC_CATALOG_CRON``), the
  safety net under the change sensor.
* ``magento_change_sensor``: polls the Magento change watermark (``magento/watermark.py``) every
  ``SYNC_CHANGE_POLL_SECONDS`` (5; the daemon evaluates sensors at most every 5 s) and asks for a
  ``catalog_sync`` run only when the catalog or its stock moved; the cursor is the watermark.
* ``push_stores_after_catalog_change``: when ``catalog_products`` is materialized with products
  inserted or updated by a run other than ``catalog_sync`` (which takes its changes to every store
  itself, in the same run), one ``store_sync`` run per store partition (listings, then push). An asset
  sensor rather than declarative automation because the push must run as the ``store_sync`` job,
  whose runs carry the store partition tag the run queue limits to one per store.
* ``retry_dead_letters_sensor``: asks for a ``retry_dead_letters`` run when dead letters of a
  retryable class have rested long enough (the cursor is a digest of that set).
* ``nightly_reconciliation``: each store read back every night (``reconcile_stores``, drift as
  metadata and the ``store_in_step`` check).
* ``notify_run_failure``: logs every failed run and, when ``SYNC_FAILURE_WEBHOOK_URL`` is set, posts
  a short JSON summary to it (the URL itself is never logged: webhook URLs often embed a token).

Everything starts STOPPED (turn it on in the UI, Automation tab) unless ``SYNC_AUTOMATION=on``,
which production deployments set, so a developer's `make ui` never starts pushing on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import requests
from dagster import (
    AssetKey,
    DagsterInvariantViolationError,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    EventLogEntry,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset_sensor,
    run_failure_sensor,
    schedule,
    sensor,
)
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from sync_pipeline.db import utcnow
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase
from sync_pipeline.magento.watermark import SourceWatermark, read_watermark, watermark_engine
from sync_pipeline.names import CATALOG_CHANGES_PUSHED, CATALOG_PRODUCTS, CATALOG_SYNC_JOB, STORE_SYNC_JOB
from sync_pipeline.status.dead_letters import retryable_dead_letters

DEFAULT_CATALOG_CRON = "*/15 * * * *"
WEBHOOK_ENV = "SYNC_FAILURE_WEBHOOK_URL"
WAITING_STATUSES = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING]
CHANGE_POLL_ENV = "SYNC_CHANGE_POLL_SECONDS"
PUSH_SENSOR_ENV = "SYNC_PUSH_SENSOR_SECONDS"


def interval_seconds(name: str, default: int) -> int:
    """A sensor's minimum interval from the environment; a change waits at most about this long."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: a whole number of seconds") from None
    if seconds < 1:
        raise ValueError(f"{name}={raw!r}: at least 1 second")
    return seconds


def automation_running() -> bool:
    return os.environ.get("SYNC_AUTOMATION", "").strip().lower() in {"1", "on", "true", "yes"}


def _schedule_status() -> DefaultScheduleStatus:
    return DefaultScheduleStatus.RUNNING if automation_running() else DefaultScheduleStatus.STOPPED


def _sensor_status() -> DefaultSensorStatus:
    return DefaultSensorStatus.RUNNING if automation_running() else DefaultSensorStatus.STOPPED


# --- catalog -------------------------------------------------------------------------------------

catalog_sync_schedule = ScheduleDefinition(
    name=f"{CATALOG_SYNC_JOB}_schedule",
    job_name=CATALOG_SYNC_JOB,
    cron_schedule=os.environ.get("SYNC_CATALOG_CRON") or DEFAULT_CATALOG_CRON,
    execution_timezone="UTC",
    default_status=_schedule_status(),
    description="The incremental Magento import (new, changed, stock drift); SYNC_CATALOG_CRON overrides the cron.",
)


@sensor(job_name=CATALOG_SYNC_JOB, minimum_interval_seconds=interval_seconds(CHANGE_POLL_ENV, 5),
        default_status=_sensor_status())
def magento_change_sensor(context: SensorEvaluationContext, magento_db: MagentoDatabase) -> SensorResult:
    """Asks for an import when Magento's products or stock changed since the last look."""
    # Resources are rebuilt every tick; the watermark's engine is kept, so a tick is one statement
    # on an open connection, not a new connection and the dialect's first-connect queries.
    current = read_watermark(watermark_engine(magento_db.url))
    previous = SourceWatermark.from_cursor(context.cursor)
    changes = current.changes_since(previous)
    if not changes:
        return SensorResult(skip_reason=SkipReason("Magento unchanged since the last import request"))
    if _import_waiting(context):
        # A queued import reads everything due when it starts, these changes included.
        return SensorResult(
            skip_reason=SkipReason(f"{'; '.join(changes)}: an import is already queued"),
            cursor=current.to_cursor(),
        )
    context.log.info(f"Magento changed: {'; '.join(changes)}")
    request = RunRequest(run_key=f"magento-{current.digest}", tags={"sync_pipeline/trigger": "magento_change"})
    return SensorResult(run_requests=[request], cursor=current.to_cursor())


def _import_waiting(context: SensorEvaluationContext) -> bool:
    try:
        instance = context.instance
    except DagsterInvariantViolationError:  # evaluated without an instance (unit tests of the rule)
        return False
    runs = instance.get_run_records(
        RunsFilter(job_name=CATALOG_SYNC_JOB, statuses=WAITING_STATUSES), limit=1
    )
    return bool(runs)


# --- stores --------------------------------------------------------------------------------------


@asset_sensor(
    asset_key=AssetKey(CATALOG_PRODUCTS),
    job_name=STORE_SYNC_JOB,
    name="push_stores_after_catalog_change",
    minimum_interval_seconds=interval_seconds(PUSH_SENSOR_ENV, 5),
    default_status=_sensor_status(),
)
def push_stores_after_catalog_change(
    context: SensorEvaluationContext, asset_event: EventLogEntry
) -> Iterator[RunRequest | SkipReason]:
    """After the catalog changed, rebuild each store's listings and push them (one run per store)."""
    metadata = _materialization_values(asset_event)
    written = int(metadata.get("inserted", 0) or 0) + int(metadata.get("updated", 0) or 0)
    if not written:
        yield SkipReason(f"{CATALOG_PRODUCTS} was materialized without a product inserted or updated")
        return
    if _run_job_name(context, asset_event.run_id) == CATALOG_SYNC_JOB:
        yield SkipReason(f"{CATALOG_SYNC_JOB} took its changes to the stores itself ({CATALOG_CHANGES_PUSHED})")
        return
    for store_key in store_partitions.get_partition_keys():
        yield RunRequest(
            run_key=f"catalog-{asset_event.run_id or 'reported'}-{asset_event.timestamp:.3f}-{store_key}",
            partition_key=store_key,
            tags={"sync_pipeline/trigger": "catalog_change"},
        )


def _run_job_name(context: SensorEvaluationContext, run_id: str | None) -> str | None:
    if not run_id:
        return None
    run = context.instance.get_run_by_id(run_id)
    return run.job_name if run is not None else None


def _materialization_values(entry: EventLogEntry) -> dict[str, Any]:
    materialization = entry.asset_materialization
    if materialization is None:
        return {}
    return {key: value.value for key, value in materialization.metadata.items()}


# --- dead letters --------------------------------------------------------------------------------

RETRY_JOB = "retry_dead_letters"
RETRY_OP = "retry_dead_letters_push"


def _retry_after() -> timedelta:
    return timedelta(minutes=float(os.environ.get("SYNC_DEAD_LETTER_RETRY_AFTER_MINUTES", "15")))


def _max_attempts() -> int:
    return int(os.environ.get("SYNC_DEAD_LETTER_MAX_ATTEMPTS", "10"))


@sensor(job_name=RETRY_JOB, minimum_interval_seconds=300, default_status=_sensor_status())
def retry_dead_letters_sensor(context: SensorEvaluationContext, app_db: AppDatabase) -> SensorResult:
    """Asks for a ``retry_dead_letters`` run when dead letters of a retryable class (rate limited,
    network) have rested ``SYNC_DEAD_LETTER_RETRY_AFTER_MINUTES`` (15) and were tried fewer than
    ``SYNC_DEAD_LETTER_MAX_ATTEMPTS`` (10) times. The cursor is the set's digest: one request per set."""
    try:
        due = retryable_dead_letters(app_db.engine, failed_before=utcnow() - _retry_after(),
                                     max_attempts=_max_attempts())
    finally:
        app_db.engine.dispose()
    if not due.total:
        return SensorResult(skip_reason=SkipReason("no retryable dead letter is due"))
    if due.digest == context.cursor:
        return SensorResult(skip_reason=SkipReason(f"a retry of these {due.total} dead letters was already requested"))
    stores = sorted(due.per_store)
    context.log.info("retryable dead letters: " + ", ".join(f"{k} {n}" for k, n in due.per_store.items()))
    config = {"ops": {RETRY_OP: {"config": {"stores": stores, "error_classes": list(due.error_classes)}}}}
    request = RunRequest(run_key=f"dead-letters-{due.digest}", run_config=config,
                         tags={"sync_pipeline/trigger": "dead_letters"})
    return SensorResult(run_requests=[request], cursor=due.digest)


# --- nightly reconciliation -----------------------------------------------------------------------

RECONCILE_JOB = "reconcile_stores"
DEFAULT_RECONCILE_CRON = "30 2 * * *"


@schedule(
    job_name=RECONCILE_JOB,
    cron_schedule=os.environ.get("SYNC_RECONCILE_CRON") or DEFAULT_RECONCILE_CRON,
    execution_timezone="UTC",
    default_status=_schedule_status(),
)
def nightly_reconciliation(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    """Every night (02:30 UTC; ``SYNC_RECONCILE_CRON``) read each store back and report drift:
    one ``reconcile_stores`` run per store, queued like that store's pushes."""
    night = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for store_key in store_partitions.get_partition_keys():
        yield RunRequest(run_key=f"reconcile-{night}-{store_key}", partition_key=store_key,
                         tags={"sync_pipeline/trigger": "nightly_reconciliation"})


# --- failures ------------------------------------------------------------------------------------


@run_failure_sensor(name="notify_run_failure", default_status=_sensor_status(), minimum_interval_seconds=30)
def notify_run_failure(context: RunFailureSensorContext) -> None:
    """Every failed run is logged; with ``SYNC_FAILURE_WEBHOOK_URL`` set it is also posted there."""
    summary = failure_summary(context)
    context.log.error(
        f"run {summary['run_id']} of {summary['job']}"
        + (f" (store {summary['partition']})" if summary["partition"] else "")
        + f" failed: {summary['message']}"
    )
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return
    try:
        post_webhook(url, summary)
    except requests.RequestException as exc:
        # The URL is left out on purpose: it often carries the webhook's token.
        context.log.warning(f"could not notify the failure webhook: {type(exc).__name__}")


def failure_summary(context: RunFailureSensorContext) -> dict[str, Any]:
    run = context.dagster_run
    steps = [
        {"step": event.step_key, "error": redact(_event_error(event.event_specific_data))}
        for event in context.get_step_failure_events()
    ]
    return {
        "event": "run_failed",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": run.tags.get("dagster/partition"),
        "trigger": run.tags.get("sync_pipeline/trigger") or run.tags.get("dagster/sensor_name")
        or run.tags.get("dagster/schedule_name") or "manual",
        "message": redact(context.failure_event.message or "run failed"),
        "failed_steps": steps,
    }


def _event_error(data: Any) -> str:
    """The root cause's message: the outer one only says which op raised."""
    error = getattr(data, "error", None)
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[union-attr]
    return str(getattr(error, "message", "") or "").strip() or "step failed"


_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_SECRET_PAIRS = re.compile(
    r"(?i)(?P<name>[\w-]*(?:token|secret|password|passwd|api[_-]?key|partner[_-]?key|sign)[\w-]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s\"'&,;}]+)"
)


def redact(text: str, limit: int = 1000) -> str:
    """``text`` with credentials in URLs and ``name=secret`` pairs masked, cut to ``limit``."""
    text = _CREDENTIALS_IN_URL.sub(lambda m: f"{m['scheme']}***@", text)
    text = _SECRET_PAIRS.sub(lambda m: f"{m['name']}{m['sep']}***", text)
    return text[:limit]


@retry(
    retry=retry_if_exception_type((requests.ConnectionError, requests.Timeout)),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.5, max=4),
    reraise=True,
)
def post_webhook(url: str, payload: Mapping[str, Any]) -> None:
    response = requests.post(url, json=payload, timeout=5)
    response.raise_for_status()


defs = Definitions(
    schedules=[catalog_sync_schedule, nightly_reconciliation],
    sensors=[magento_change_sensor, push_stores_after_catalog_change, retry_dead_letters_sensor, notify_run_failure],
)
