"""Trigger and watch the pipeline from outside, through the Dagster webserver's GraphQL API.

The seed exposed ``POST /jobs/import`` and ``GET /jobs/{id}``; here the Dagster webserver is that
API and this module is the one-line way to use it (``sync-pipeline`` wraps it on the command line)::

    from sync_pipeline.remote import RemotePipeline
    pipeline = RemotePipeline.connect("127.0.0.1", 3000)
    run_id = pipeline.start_import(limit=500)
    pipeline.wait(run_id).state          # "completed" (or "failed")
    pipeline.metrics(run_id)["catalog_products"]["inserted"]

Runs go through the instance's run queue like any other: an import waits while another runs, and
a store's push waits while that store is being pushed. Built on dagster-graphql's
``DagsterGraphQLClient``; the only query of our own reads a run's materialization metadata.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

IMPORT_JOB = "magento_import"
CATALOG_SYNC_JOB = "catalog_sync"
STORE_SYNC_JOB = "store_sync"
MANUAL_SYNC_JOB = "manual_sync"
PARTITION_TAG = "dagster/partition"
TRIGGER_TAG = "sync_pipeline/trigger"

# The seed's four job states, from Dagster's run statuses.
STATES: dict[DagsterRunStatus, str] = {
    DagsterRunStatus.QUEUED: "queued",
    DagsterRunStatus.NOT_STARTED: "queued",
    DagsterRunStatus.STARTING: "queued",
    DagsterRunStatus.MANAGED: "queued",
    DagsterRunStatus.SUSPENDED: "queued",  # paused, to be resumed: not finished
    DagsterRunStatus.STARTED: "running",
    DagsterRunStatus.CANCELING: "running",
    DagsterRunStatus.SUCCESS: "completed",
    DagsterRunStatus.FAILURE: "failed",
    DagsterRunStatus.CANCELED: "failed",
}
FINISHED = frozenset({"completed", "failed"})

_RUN_QUERY = """
query SyncPipelineRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      jobName
      status
      startTime
      endTime
      tags { key value }
      assetMaterializations {
        assetKey { path }
        partition
        metadataEntries {
          label
          __typename
          ... on IntMetadataEntry { intValue }
          ... on FloatMetadataEntry { floatValue }
          ... on BoolMetadataEntry { boolValue }
          ... on TextMetadataEntry { text }
          ... on MarkdownMetadataEntry { mdStr }
          ... on JsonMetadataEntry { jsonString }
          ... on UrlMetadataEntry { url }
          ... on PathMetadataEntry { path }
        }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


class RemoteError(RuntimeError):
    """The webserver refused or could not be reached; the message says why (never a secret)."""


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    job: str
    state: str  # queued | running | completed | failed
    dagster_status: str
    partition: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset (/partition) -> metadata

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "job": self.job, "state": self.state, "dagster_status": self.dagster_status,
            "partition": self.partition, "started_at": self.started_at, "finished_at": self.finished_at,
            "metrics": self.metrics,
        }


class RemotePipeline:
    """The pipeline's jobs as seen through one Dagster webserver."""

    def __init__(self, client: DagsterGraphQLClient, location: str | None = None, in_process: bool = False) -> None:
        self.client = client
        self.location = location  # None: let the webserver find the job's code location
        # Run every step of a run in the run's own process instead of one process per step: far
        # less start-up cost for small runs; the run itself is still launched and queued as usual.
        self.in_process = in_process

    @classmethod
    def connect(cls, host: str = "127.0.0.1", port: int | None = 3000, *, location: str | None = None,
                use_https: bool = False, timeout: int = 60, in_process: bool = False) -> RemotePipeline:
        client = DagsterGraphQLClient(host, port_number=port, use_https=use_https, timeout=timeout)
        return cls(client, location, in_process)

    # --- starting runs ---------------------------------------------------------------------------

    def start_import(self, limit: int | None = None, resume_from_last: bool = True,
                     start_after_id: int | None = None) -> str:
        """The seed's import request: up to ``limit`` new products after the cursor (100 unless set),
        or after ``start_after_id`` with ``resume_from_last=False``. Returns the run id."""
        settings: dict[str, Any] = {"resume_from_last": resume_from_last}
        if limit is not None:
            settings["limit"] = limit
        if start_after_id is not None:
            settings["start_after_id"] = start_after_id
        return self._submit(IMPORT_JOB, {"ops": {"magento_products": {"config": settings}}},
                            {TRIGGER_TAG: "remote"})

    def start_catalog_sync(self) -> str:
        """Everything due from Magento (new, changed, stock drift), as the schedule runs it."""
        return self._submit(CATALOG_SYNC_JOB, None, {TRIGGER_TAG: "remote"})

    def start_push(self, store: str) -> str:
        """One store: its listings, then the push (``store_sync`` for that store's partition)."""
        return self._submit(STORE_SYNC_JOB, None, {PARTITION_TAG: store, TRIGGER_TAG: "remote"})

    def start_push_all(self, stores: Iterable[str]) -> dict[str, str]:
        """One ``store_sync`` run per store (they run side by side; the queue keeps one per store)."""
        return {store: self.start_push(store) for store in stores}

    def start_manual_sync(self, run_config: Mapping[str, Any]) -> str:
        """``manual_sync`` with its config (which SKUs, which stores or platforms)."""
        return self._submit(MANUAL_SYNC_JOB, run_config, {TRIGGER_TAG: "remote"})

    def start_job(self, job: str, run_config: Mapping[str, Any] | None = None, partition: str | None = None) -> str:
        """Any other job by name, e.g. ``product_status_report`` or ``reconcile_stores`` (partition = store)."""
        tags = {TRIGGER_TAG: "remote"} | ({PARTITION_TAG: partition} if partition else {})
        return self._submit(job, run_config, tags)

    def _submit(self, job: str, run_config: Mapping[str, Any] | None, tags: dict[str, str]) -> str:
        if self.in_process:
            run_config = {**(run_config or {}), "execution": {"config": {"in_process": {}}}}
        try:
            return self.client.submit_job_execution(
                job, repository_location_name=self.location, run_config=run_config, tags=tags
            )
        except DagsterGraphQLClientError as exc:
            raise RemoteError(f"could not start {job}: {_describe(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - transport errors (refused, timeout) come in many types
            raise RemoteError(f"could not reach the Dagster webserver to start {job}: {type(exc).__name__}") from None

    # --- watching runs ---------------------------------------------------------------------------

    def status(self, run_id: str) -> RunStatus:
        """The run's state (queued, running, completed, failed) and the metadata it reported."""
        try:
            data = self.client._execute(_RUN_QUERY, {"runId": run_id})
        except DagsterGraphQLClientError as exc:
            raise RemoteError(f"could not read run {run_id}: {_describe(exc)}") from None
        except Exception as exc:  # noqa: BLE001
            raise RemoteError(f"could not reach the Dagster webserver: {type(exc).__name__}") from None
        run = data["runOrError"]
        if run["__typename"] != "Run":
            raise RemoteError(f"run {run_id}: {run.get('message') or run['__typename']}")
        return _run_status(run)

    def metrics(self, run_id: str) -> dict[str, dict[str, Any]]:
        """What each asset of the run reported, e.g. ``{"catalog_products": {"inserted": 10, ...}}``;
        partitioned assets are keyed ``asset/partition`` (``store_push/shopify-us``)."""
        return self.status(run_id).metrics

    def wait(self, run_id: str, timeout: float = 600.0, poll: float = 1.0,
             on_change: Callable[[RunStatus], None] | None = None) -> RunStatus:
        """Poll until the run completed or failed; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last_state = None
        while True:
            current = self.status(run_id)
            if on_change is not None and current.state != last_state:
                on_change(current)
            last_state = current.state
            if current.finished:
                return current
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} still {current.state} after {timeout:.0f}s")
            time.sleep(poll)

    def wait_all(self, run_ids: Sequence[str], timeout: float = 600.0, poll: float = 1.0) -> list[RunStatus]:
        deadline = time.monotonic() + timeout
        return [self.wait(run_id, timeout=max(0.0, deadline - time.monotonic()), poll=poll) for run_id in run_ids]


def manual_sync_run_config(skus: Sequence[str], stores: Sequence[str] = (),
                           platforms: Sequence[str] = ()) -> dict[str, Any]:
    """The ``manual_sync`` job's run config for these SKUs and stores (or every store of these platforms)."""
    if not skus:
        raise ValueError("manual sync needs at least one SKU")
    if bool(stores) == bool(platforms):
        raise ValueError("manual sync needs either stores or platforms")
    settings: dict[str, Any] = {"skus": list(skus)}
    settings["stores" if stores else "platforms"] = list(stores or platforms)
    return {"ops": {"manual_sync_push": {"config": settings}}}


def _run_status(run: Mapping[str, Any]) -> RunStatus:
    status = DagsterRunStatus(run["status"])
    tags = {tag["key"]: tag["value"] for tag in run.get("tags") or []}
    metrics: dict[str, dict[str, Any]] = {}
    for event in run.get("assetMaterializations") or []:
        name = "/".join(event["assetKey"]["path"])
        key = f"{name}/{event['partition']}" if event.get("partition") else name
        metrics[key] = {entry["label"]: _entry_value(entry) for entry in event.get("metadataEntries") or []}
    return RunStatus(
        run_id=run["runId"], job=run["jobName"], state=STATES.get(status, "running"),
        dagster_status=status.value, partition=tags.get(PARTITION_TAG),
        started_at=run.get("startTime"), finished_at=run.get("endTime"), metrics=metrics,
    )


_VALUE_FIELDS = ("intValue", "floatValue", "boolValue", "text", "mdStr", "url", "path")


def _entry_value(entry: Mapping[str, Any]) -> Any:
    if "jsonString" in entry and entry["jsonString"] is not None:
        return json.loads(entry["jsonString"])
    for name in _VALUE_FIELDS:
        if name in entry:
            return entry[name]
    return None  # a metadata kind this query does not read (tables, asset refs, ...)


def _describe(exc: DagsterGraphQLClientError) -> str:
    body = getattr(exc, "body", None)
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    if message.startswith("Exception occured during execution of query"):
        # The client's message is the whole query; what matters is that nothing answered.
        cause = exc.__cause__ or exc.__context__
        return f"the Dagster webserver did not answer ({type(cause).__name__ if cause else 'no answer'})"
    if body:
        message += f": {str(body)[:500]}"
    return message


def status_name(status: DagsterRunStatus) -> str:
    """The seed's name for a Dagster run status."""
    return STATES.get(status, "running")


__all__ = ["RemoteError", "RemotePipeline", "RunStatus", "STATES", "manual_sync_run_config", "status_name"]
