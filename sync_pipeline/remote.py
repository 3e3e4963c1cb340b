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

In production the webserver sits behind an authenticating proxy (``deploy/proxy/``): connect with
``RemotePipeline.from_url("https://dagster.example.com", credentials=Credentials.from_env())``. A 401
or 403 from the proxy, or a read-only webserver refusing a launch, is a ``RemoteAuthError``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError
from gql.transport.exceptions import TransportServerError
from gql.transport.requests import RequestsHTTPTransport

from sync_pipeline.names import CATALOG_SYNC_JOB, MAGENTO_PRODUCTS, MANUAL_IMPORT_JOB, STORE_SYNC_JOB

IMPORT_JOB = MANUAL_IMPORT_JOB
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

# The metadata values this client reads, for every query that reads an asset's metadata (a
# query names the fragment and appends it).
METADATA_ENTRIES = """
fragment SyncPipelineMetadataEntries on MetadataEntry {
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
"""

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
        metadataEntries { ...SyncPipelineMetadataEntries }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
""" + METADATA_ENTRIES


# Where the webserver is and how to log in to the proxy in front of it. The secrets are read from the
# environment only: a command-line flag would show in `ps` and in shell history.
ENV_URL = "SYNC_DAGSTER_URL"
ENV_USER = "SYNC_DAGSTER_USER"
ENV_PASSWORD = "SYNC_DAGSTER_PASSWORD"
ENV_TOKEN = "SYNC_DAGSTER_TOKEN"
ENV_CA_BUNDLE = "SYNC_DAGSTER_CA_BUNDLE"


class RemoteError(RuntimeError):
    """The webserver refused or could not be reached; the message says why (never a secret)."""


class RemoteAuthError(RemoteError):
    """The proxy in front of the webserver refused (401/403), or a read-only webserver refused a launch."""


class _BearerAuth(requests.auth.AuthBase):
    # An AuthBase rather than a fixed header: requests drops it when a redirect leads to another host.
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


@dataclass(frozen=True)
class Credentials:
    """Who we are to the proxy in front of the webserver: a user and password (basic auth) or a bearer
    token. Neither secret appears in ``repr`` or in any message."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.token and (self.user or self.password):
            raise ValueError(f"set either {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD}, not both")
        if bool(self.user) != bool(self.password):
            raise ValueError(f"{ENV_USER} and {ENV_PASSWORD} must be set together")
        if not (self.token or self.user):
            raise ValueError("credentials need a user and password, or a token")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials | None:
        """The credentials the environment names, or None when none are set."""
        env = os.environ if env is None else env
        user, password, token = (env.get(name) or None for name in (ENV_USER, ENV_PASSWORD, ENV_TOKEN))
        if not (user or password or token):
            return None
        return cls(user=user, password=password, token=token)

    @property
    def source(self) -> str:
        """Where these credentials came from, for messages (names, never values)."""
        return ENV_TOKEN if self.token else f"{ENV_USER}/{ENV_PASSWORD}"

    def auth(self) -> requests.auth.AuthBase:
        if self.token:
            return _BearerAuth(self.token)
        assert self.user is not None and self.password is not None  # __post_init__ guarantees both
        return requests.auth.HTTPBasicAuth(self.user, self.password)


@dataclass(frozen=True)
class Endpoint:
    """The webserver's address: scheme, host, port and the path prefix a proxy may serve it under."""

    host: str = "127.0.0.1"
    port: int | None = 3000
    use_https: bool = False
    path_prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"the webserver URL must be http(s)://host[:port][/prefix], not {url!r}")
        if parts.username or parts.password:
            # Never echo the URL back: it holds a secret.
            raise ValueError(f"put credentials in {ENV_USER}/{ENV_PASSWORD} or {ENV_TOKEN}, not in the URL")
        return cls(host=parts.hostname, port=parts.port, use_https=parts.scheme == "https",
                   path_prefix=parts.path.rstrip("/"))

    @property
    def url(self) -> str:
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        netloc += f":{self.port}" if self.port else ""
        return f"{'https' if self.use_https else 'http'}://{netloc}{self.path_prefix}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


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

    def __init__(self, client: DagsterGraphQLClient, location: str | None = None, in_process: bool = False,
                 *, url: str = "the Dagster webserver", credentials: Credentials | None = None) -> None:
        self.client = client
        self.location = location  # None: let the webserver find the job's code location
        # Run every step of a run in the run's own process instead of one process per step: far
        # less start-up cost for small runs; the run itself is still launched and queued as usual.
        self.in_process = in_process
        self.url = url  # for messages only
        self._credentials = credentials

    @classmethod
    def connect(cls, host: str = "127.0.0.1", port: int | None = 3000, *, location: str | None = None,
                use_https: bool = False, timeout: int = 60, in_process: bool = False,
                credentials: Credentials | None = None, ca_bundle: str | None = None,
                path_prefix: str = "") -> RemotePipeline:
        """The webserver at ``host:port``; with ``credentials`` every request carries them (basic auth
        or a bearer token) and ``ca_bundle`` is the CA file that signed the proxy's certificate."""
        endpoint = Endpoint(host, port, use_https, path_prefix.rstrip("/"))
        if credentials is not None and not (endpoint.use_https or endpoint.is_loopback):
            raise ValueError(f"credentials are sent over https:// only, not to {endpoint.url}")
        if ca_bundle is not None and not Path(ca_bundle).is_file():
            raise ValueError(f"the CA bundle {ca_bundle} is not a file ({ENV_CA_BUNDLE})")
        transport = RequestsHTTPTransport(
            url=f"{endpoint.url}/graphql", use_json=True, timeout=timeout,
            auth=credentials.auth() if credentials else None, verify=ca_bundle or True,
        )
        client = DagsterGraphQLClient(host, port_number=port, transport=transport)
        return cls(client, location, in_process, url=endpoint.url, credentials=credentials)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RemotePipeline:
        """The webserver (or the proxy in front of it) at ``url``, e.g. ``https://dagster.example.com``."""
        endpoint = Endpoint.parse(url)
        return cls.connect(endpoint.host, endpoint.port, use_https=endpoint.use_https,
                           path_prefix=endpoint.path_prefix, **options)

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
        return self._submit(IMPORT_JOB, {"ops": {MAGENTO_PRODUCTS: {"config": settings}}},
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
            raise self._error(f"could not start {job}", exc) from None
        except Exception as exc:  # noqa: BLE001 - transport errors (refused, timeout) come in many types
            raise RemoteError(f"could not reach {self.url} to start {job}: {type(exc).__name__}") from None

    # --- watching runs ---------------------------------------------------------------------------

    def status(self, run_id: str) -> RunStatus:
        """The run's state (queued, running, completed, failed) and the metadata it reported."""
        try:
            data = self.client._execute(_RUN_QUERY, {"runId": run_id})
        except DagsterGraphQLClientError as exc:
            raise self._error(f"could not read run {run_id}", exc) from None
        except Exception as exc:  # noqa: BLE001
            raise RemoteError(f"could not reach {self.url}: {type(exc).__name__}") from None
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

    def _error(self, action: str, exc: DagsterGraphQLClientError) -> RemoteError:
        """One line saying why, without the query, its variables or any secret."""
        cause = exc.__cause__
        if isinstance(cause, TransportServerError) and cause.code in (401, 403):
            if self._credentials is None:
                hint = f"it needs credentials: set {ENV_USER} and {ENV_PASSWORD}, or {ENV_TOKEN}"
            elif cause.code == 401:
                hint = f"the credentials from {self._credentials.source} were refused"
            else:
                hint = f"the credentials from {self._credentials.source} may not do this"
            return RemoteAuthError(f"{action}: {self.url} answered HTTP {cause.code}; {hint}")
        if exc.args and exc.args[0] == "UnauthorizedError":
            # What a read-only webserver answers to a launch, whoever asks.
            return RemoteAuthError(f"{action}: {self.url} launches nothing for anyone, it is a read-only "
                                   f"webserver ({_message(exc)}); use the owners' address")
        if any(isinstance(link, requests.exceptions.SSLError | ssl.SSLError) for link in _chain(exc)):
            return RemoteError(f"{action}: the TLS certificate of {self.url} is not trusted "
                               f"(set {ENV_CA_BUNDLE} to the CA file that signed it)")
        return RemoteError(f"{action}: {_describe(exc)}")

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
        key, values = event_figures(event)
        metrics[key] = values
    return RunStatus(
        run_id=run["runId"], job=run["jobName"], state=STATES.get(status, "running"),
        dagster_status=status.value, partition=tags.get(PARTITION_TAG),
        started_at=run.get("startTime"), finished_at=run.get("endTime"), metrics=metrics,
    )


_VALUE_FIELDS = ("intValue", "floatValue", "boolValue", "text", "mdStr", "url", "path")


def event_figures(event: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """An asset event's ``asset/partition`` key and its metadata values by label (entries read
    with ``METADATA_ENTRIES``)."""
    name = "/".join(event["assetKey"]["path"])
    key = f"{name}/{event['partition']}" if event.get("partition") else name
    return key, {entry["label"]: _entry_value(entry) for entry in event.get("metadataEntries") or []}


def _entry_value(entry: Mapping[str, Any]) -> Any:
    if "jsonString" in entry and entry["jsonString"] is not None:
        return json.loads(entry["jsonString"])
    for name in _VALUE_FIELDS:
        if name in entry:
            return entry[name]
    return None  # a metadata kind this query does not read (tables, asset refs, ...)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every cause behind it (gql and requests each wrap the transport's error)."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _message(exc: DagsterGraphQLClientError) -> str:
    return str(exc.args[1] if len(exc.args) > 1 else getattr(exc, "body", None) or exc.args[0])


def _describe(exc: DagsterGraphQLClientError) -> str:
    body = getattr(exc, "body", None)
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    if message.startswith("Server error with code"):
        # The client's message holds the whole query and its variables: keep the status alone.
        cause = exc.__cause__
        return f"the Dagster webserver answered HTTP {getattr(cause, 'code', None) or '?'}"
    if message.startswith(("Exception occured during execution of query", "Error when connecting to url")):
        # The client's message is the whole query; what matters is that nothing answered.
        cause = exc.__cause__ or exc.__context__
        return f"the Dagster webserver did not answer ({type(cause).__name__ if cause else 'no answer'})"
    if body:
        message += f": {str(body)[:500]}"
    elif len(exc.args) > 1 and isinstance(exc.args[1], str):
        # E.g. a launch the job's config mapping refused: the reason, without the exception's path.
        message += f": {_without_exception_name(exc.args[1].strip())[:500]}"
    return message


def _without_exception_name(text: str) -> str:
    head, sep, rest = text.partition(": ")
    return rest if sep and re.fullmatch(r"[\w.]+(Error|Exception)", head) else text


def status_name(status: DagsterRunStatus) -> str:
    """The seed's name for a Dagster run status."""
    return STATES.get(status, "running")


__all__ = ["Credentials", "Endpoint", "RemoteAuthError", "RemoteError", "RemotePipeline", "RunStatus", "STATES", "manual_sync_run_config", "status_name"]
