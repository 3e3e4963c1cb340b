"""A run's live figures, from the asset observations it logs (``store_push`` every 50 products or
5 seconds, and once per store at the end of manual syncs, dry runs, retries and rollbacks).

``RemotePipeline.status`` reads a run's materializations; jobs made of ops (manual sync, dry run,
rollback) materialize nothing and a running push has not materialized yet, so their figures are
read here from the run's event stream, page by page from a cursor (a watcher polling a run reads
each event once).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from dagster_graphql import DagsterGraphQLClientError

from sync_pipeline.remote import METADATA_ENTRIES, RemoteError, RemotePipeline, RunStatus, event_figures

PAGE = 500

_EVENTS_QUERY = """
query SyncPipelineRunEvents($runId: ID!, $after: String, $limit: Int) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      eventConnection(afterCursor: $after, limit: $limit) {
        cursor
        hasMore
        events {
          __typename
          ... on ObservationEvent {
            assetKey { path }
            partition
            metadataEntries { ...SyncPipelineMetadataEntries }
          }
        }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
""" + METADATA_ENTRIES


@dataclass
class FigureReader:
    """Reads one run's observations incrementally: ``read()`` returns the latest figures per
    ``asset/partition`` seen so far (``store_push/shopify-us`` -> ``{"done": 50, ...}``)."""

    pipeline: RemotePipeline
    run_id: str
    cursor: str | None = None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def read(self) -> dict[str, dict[str, Any]]:
        while True:
            try:
                data = self.pipeline.client._execute(_EVENTS_QUERY, {"runId": self.run_id, "after": self.cursor,
                                                                     "limit": PAGE})
            except DagsterGraphQLClientError as exc:
                raise RemoteError(f"could not read the events of run {self.run_id}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - transport errors come in many types
                raise RemoteError(f"could not reach the Dagster webserver: {type(exc).__name__}") from None
            run = data["runOrError"]
            if run["__typename"] != "Run":
                raise RemoteError(f"run {self.run_id}: {run.get('message') or run['__typename']}")
            page = run["eventConnection"]
            for event in page["events"]:
                if event.get("__typename") == "ObservationEvent" and event.get("assetKey"):
                    key, values = event_figures(event)
                    self.figures[key] = values
            self.cursor = page["cursor"]
            if not page["hasMore"]:
                return self.figures


def with_live_figures(pipeline: RemotePipeline, current: RunStatus) -> RunStatus:
    """``current`` with each observed asset's latest figures where the run materialized nothing
    for it (a push still running; a manual sync, dry run or rollback, which materialize nothing)."""
    observed = FigureReader(pipeline, current.run_id).read()
    merged = dict(current.metrics)
    for key, values in observed.items():
        merged.setdefault(key, values)
    return dataclasses.replace(current, metrics=merged)
