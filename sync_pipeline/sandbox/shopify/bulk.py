"""Shopify's bulk mutations in the sandbox: staged uploads, bulk mutation runs and their results.

Shopify's flow (https://shopify.dev/docs/api/usage/bulk-operations/imports):

1. ``stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename, mimeType: "text/jsonl",
   httpMethod: POST}])`` answers an upload target: a ``url`` and ``parameters`` (among them ``key``,
   the ``stagedUploadPath`` of step 3).
2. The JSONL (one line of variables per mutation) is uploaded to that url: a multipart form POST with
   the parameters then ``file`` (or a PUT of the bytes, for ``httpMethod: PUT``). Here the target is
   ``/shopify/_staged-uploads/<shop>`` on the sandbox itself.
3. ``bulkOperationRunMutation(mutation, stagedUploadPath)`` creates the operation (status CREATED);
   one bulk mutation per shop at a time: another one while it runs is refused with the userError
   ``OPERATION_IN_PROGRESS``.
4. ``bulkOperation(id)`` / ``currentBulkOperation(type: MUTATION)`` report ``status`` (CREATED ->
   RUNNING -> COMPLETED or FAILED), ``objectCount`` (lines done, an ``UnsignedInt64``: a string) and,
   once COMPLETED, ``url``: the result JSONL, one line per input line,
   ``{"data": {...}, "__lineNumber": n}``; a line's failure is in its own ``userErrors`` (or
   ``errors``) and never fails the operation.

Processing is lazy and driven by the sandbox clock: an operation has done ``(now - createdAt) *
rate`` lines, run when anyone looks (a poll, the next bulk mutation), at most ``WORK_PER_LOOK_S`` of
real work per look (so a run can also fall behind its rate: the machine's own limit). ``rate`` is the store's
``bulk_lines_per_second`` (provision config; ``settings.sandbox_bulk_lines_per_second`` of a stores
file). Shopify publishes no such rate: it is an assumption a test or benchmark states. A test steps
an operation by advancing the sandbox clock instead of sleeping. ``fail_after[shop] = n`` makes the
shop's next operations FAIL (``INTERNAL_SERVER_ERROR``) once ``n`` lines are done, with the lines done
so far at ``partialDataUrl``.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    parse,
    validate,
)

from sync_pipeline.sandbox.core import Request, Response, Routed
from sync_pipeline.sandbox.shopify import webhooks

BULK_SDL_FILE = Path(__file__).with_name("bulk.graphql")
DEFAULT_LINES_PER_SECOND = 50.0
# Real seconds of line processing one request may do: a poll of a run far behind its due lines
# answers within a client's timeout, and the run catches up over the following polls.
WORK_PER_LOOK_S = 2.0
STAGED_OPERATION = "staged_upload"
RESULT_OPERATION = "bulk_result"
FILE_OPERATIONS = frozenset({STAGED_OPERATION, RESULT_OPERATION})
_STAGED = re.compile(r"^/_staged-uploads/(?P<shop>[a-z0-9][a-z0-9-]*)(?P<key>/.*)?$")
_RESULT = re.compile(r"^/_bulk-results/(?P<shop>[a-z0-9][a-z0-9-]*)/(?P<name>[0-9]+(-partial)?)\.jsonl$")
_SHOP = re.compile(r"^/(?P<shop>[a-z0-9][a-z0-9-]*)/")
_RUNNING = ("CREATED", "RUNNING")
# Shopify's own messages (bulk import guide; BulkMutationErrorCode descriptions).
_IN_PROGRESS = "A bulk mutation operation for this app and shop is already in progress: {id}."
_NO_SUCH_FILE = "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument."

RootFactory = Callable[[str, dict[str, Any]], Any]


@dataclass
class _Operation:
    number: int
    shop: str
    mutation: str
    lines: list[str]
    created_at: float
    status: str = "CREATED"
    done: int = 0
    results: list[str] = field(default_factory=list)
    completed_at: float | None = None
    error_code: str | None = None
    base_url: str = ""

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"


class BulkOperations:
    """The Shopify emulator's bulk mutations; ``bind`` adds their root fields to a request's root."""

    def __init__(self, clock: Callable[[], float], schema: Callable[[], GraphQLSchema], root: RootFactory) -> None:
        self._clock = clock
        self._schema = schema
        self._root = root
        self._lock = threading.RLock()
        self._files: dict[str, bytes] = {}  # staged upload key -> bytes
        self._operations: dict[int, _Operation] = {}
        self._base_urls: dict[str, str] = {}  # shop -> how its client reaches the sandbox
        self._next = 1
        self.fail_after: dict[str, int] = {}
        # set by the emulator: a shop's webhook subscriptions and its config (webhooks.py)
        self.subscriptions: Callable[[str], list[dict[str, Any]]] = lambda shop: []
        self.config_of: Callable[[str], dict[str, Any] | None] = lambda shop: None

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._operations.clear()
            self.fail_after.clear()

    def clock_source(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    # -- HTTP: uploads and result files ---------------------------------------------------------

    def route(self, request: Request, known: Callable[[str], bool]) -> Routed | None:
        shop = _SHOP.match(request.path + "/")
        host = request.headers.get("host")
        if shop is not None and host and self._base_urls.get(shop["shop"]) != f"http://{host}/shopify" \
                and known(shop["shop"]):
            with self._lock:
                self._base_urls[shop["shop"]] = f"http://{host}/shopify"
        for pattern, operation, write in ((_STAGED, STAGED_OPERATION, True), (_RESULT, RESULT_OPERATION, False)):
            match = pattern.match(request.path)
            if match is not None and known(match["shop"]):
                return Routed(match["shop"], operation, write)
        return None

    def handle(self, request: Request, routed: Routed) -> Response:
        if routed.operation == RESULT_OPERATION:
            match = _RESULT.match(request.path)
            assert match is not None
            name = match["name"]
            with self._lock:
                operation = self._operations.get(int(name.split("-")[0]))
                if operation is None or operation.shop != routed.store or request.method != "GET":
                    return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
                ready = operation.status == "COMPLETED" or (name.endswith("-partial") and operation.status == "FAILED")
                body = "".join(line + "\n" for line in operation.results).encode() if ready else None
            if body is None:
                return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
            return Response(200, body, {"Content-Type": "application/jsonl"})
        return self._upload(request, routed)

    def _upload(self, request: Request, routed: Routed) -> Response:
        """A staged upload: POST multipart form (``key``, ..., ``file`` last) or PUT of the bytes."""
        match = _STAGED.match(request.path)
        assert match is not None
        if request.method == "PUT":
            key = (match["key"] or "").lstrip("/")
            content = request.body
        elif request.method == "POST":
            form = _multipart(request)
            if form is None or "key" not in form or "file" not in form:
                return Response(400, b"<Error><Code>InvalidArgument</Code><Message>POST requires a key and a file"
                                     b"</Message></Error>", {"Content-Type": "application/xml"})
            key, content = form["key"].decode(), form["file"]
        else:
            return Response(405, b"", {})
        if not key.startswith(f"tmp/{routed.store}/bulk/"):
            return Response(403, b"<Error><Code>AccessDenied</Code></Error>", {"Content-Type": "application/xml"})
        with self._lock:
            self._files[key] = content
        return Response(201, b"", {"Location": f"{self._base(routed.store or '')}/_staged-uploads/{routed.store}/{key}"})

    # -- GraphQL root fields --------------------------------------------------------------------

    def bind(self, root: Any, shop: str, config: dict[str, Any]) -> None:
        root.stagedUploadsCreate = lambda info, input: self.staged_uploads_create(shop, input)  # noqa: A002
        root.bulkOperationRunMutation = lambda info, **args: self.run_mutation(shop, config, **args)
        root.bulkOperation = lambda info, id: self.operation_view(shop, config, id)  # noqa: A002
        root.currentBulkOperation = lambda info, type="QUERY": self.current(shop, config, type)  # noqa: A002

    def staged_uploads_create(self, shop: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        targets = []
        for item in inputs:
            key = f"tmp/{shop}/bulk/{uuid.uuid4()}/{item['filename']}"
            base = f"{self._base(shop)}/_staged-uploads/{shop}"
            if item.get("httpMethod", "PUT") == "POST":
                parameters = [("Content-Type", item["mimeType"]), ("success_action_status", "201"),
                              ("acl", "private"), ("key", key)]
                url = base
            else:
                parameters = [("content_type", item["mimeType"]), ("acl", "private"), ("key", key)]
                url = f"{base}/{key}"
            targets.append({"url": url, "resourceUrl": f"{base}/{key}",
                            "parameters": [{"name": n, "value": v} for n, v in parameters]})
        return {"stagedTargets": targets, "userErrors": []}

    def run_mutation(self, shop: str, config: dict[str, Any], mutation: str, stagedUploadPath: str,  # noqa: N803
                     groupObjects: bool = True, clientIdentifier: str | None = None) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            for operation in self._operations.values():
                if operation.shop == shop:
                    self._catch_up(operation, config)
                    if operation.status in _RUNNING:
                        return _refused(_IN_PROGRESS.format(id=operation.gid), "OPERATION_IN_PROGRESS", None)
            problem = self._invalid_mutation(mutation)
            if problem is not None:
                return _refused(problem, "INVALID_MUTATION", ["mutation"])
            content = self._files.get(stagedUploadPath)
            if content is None:
                return _refused(_NO_SUCH_FILE, "NO_SUCH_FILE", ["stagedUploadPath"])
            try:
                lines = [line for line in content.decode("utf-8").splitlines() if line.strip()]
                for line in lines:
                    if not isinstance(json.loads(line), dict):
                        raise ValueError("a line is not a JSON object")
            except ValueError as exc:
                return _refused(f"The JSONL file is invalid: {exc}", "INVALID_STAGED_UPLOAD_FILE", None)
            operation = _Operation(self._next, shop, mutation, lines, self._clock(), base_url=self._base(shop))
            self._next += 1
            self._operations[operation.number] = operation
            if self.subscriptions(shop):  # someone waits for the webhook rather than polling
                webhooks.start_stepper(lambda: self._step(shop))
            return {"bulkOperation": self._view(operation), "userErrors": []}

    def operation_view(self, shop: str, config: dict[str, Any], gid: str) -> dict[str, Any] | None:
        number = re.fullmatch(r"gid://shopify/BulkOperation/([0-9]+)", gid)
        with self._lock:
            operation = self._operations.get(int(number.group(1))) if number else None
            if operation is None or operation.shop != shop:
                return None
            self._catch_up(operation, config)
            return self._view(operation)

    def current(self, shop: str, config: dict[str, Any], kind: str) -> dict[str, Any] | None:
        if kind != "MUTATION":
            return None  # the sandbox runs no bulk queries
        with self._lock:
            mine = [o for o in self._operations.values() if o.shop == shop]
            if not mine:
                return None
            latest = max(mine, key=lambda o: o.number)
            self._catch_up(latest, config)
            return self._view(latest)

    def stats(self, shop: str) -> list[dict[str, Any]]:
        """Every operation of the shop as the API shows it (tests: how many were started)."""
        with self._lock:
            return [self._view(o) for o in self._operations.values() if o.shop == shop]

    # -- processing ------------------------------------------------------------------------------

    def _step(self, shop: str) -> bool:
        """Advance the shop's runs as a poll would; True while one is still running."""
        config = self.config_of(shop)
        with self._lock:
            mine = [o for o in self._operations.values() if o.shop == shop and o.status in _RUNNING]
            for operation in mine:
                self._catch_up(operation, config or {})
            return config is not None and any(o.status in _RUNNING for o in mine)

    def _catch_up(self, operation: _Operation, config: dict[str, Any]) -> None:
        if operation.status not in _RUNNING:
            return
        self._advance(operation, config)
        if operation.status not in _RUNNING:
            subscriptions = self.subscriptions(operation.shop)
            if subscriptions:
                webhooks.deliver_bulk_finish(subscriptions, operation.shop, config, self._view(operation))

    def _advance(self, operation: _Operation, config: dict[str, Any]) -> None:
        elapsed = self._clock() - operation.created_at
        if elapsed <= 0:
            return
        operation.status = "RUNNING"
        rate = float(config.get("bulk_lines_per_second") or DEFAULT_LINES_PER_SECOND)
        due = min(len(operation.lines), math.floor(elapsed * rate + 1e-9))
        fail_at = self.fail_after.get(operation.shop)
        schema = self._schema()
        document = parse(operation.mutation)
        deadline = time.monotonic() + WORK_PER_LOOK_S
        while operation.done < due and time.monotonic() < deadline:
            if fail_at is not None and operation.done >= fail_at:
                operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                operation.completed_at = self._clock()
                return
            operation.results.append(self._run_line(schema, document, operation, config))
            operation.done += 1
        if operation.done == len(operation.lines):
            operation.status, operation.completed_at = "COMPLETED", self._clock()

    def _run_line(self, schema: GraphQLSchema, document: Any, operation: _Operation, config: dict[str, Any]) -> str:
        number = operation.done
        variables = json.loads(operation.lines[number])
        result = execute_sync(schema, document, root_value=self._root(operation.shop, config),
                              variable_values=variables)
        line: dict[str, Any] = {}
        if result.data is not None:
            line["data"] = result.data
        if result.errors:
            line["errors"] = [e.formatted for e in result.errors]
        line["__lineNumber"] = number
        return json.dumps(line, separators=(",", ":"))

    def _invalid_mutation(self, mutation: str) -> str | None:
        try:
            document = parse(mutation)
        except GraphQLError as exc:
            return f"Failed to parse the mutation - {exc.message}"
        problems = validate(self._schema(), document)
        if problems:
            return f"Failed to validate the mutation - {problems[0].message}"
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
            return "Bulk mutations must contain exactly one mutation operation."
        roots = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
        if len(roots) != 1 or roots[0].name.value.startswith("bulkOperation") or \
                roots[0].name.value == "stagedUploadsCreate":
            return "Bulk mutations must call exactly one supported mutation field."
        return None

    def _view(self, operation: _Operation) -> dict[str, Any]:
        done = operation.status == "COMPLETED"
        failed = operation.status == "FAILED"
        results = f"{operation.base_url}/_bulk-results/{operation.shop}/{operation.number}"
        size = sum(len(r) + 1 for r in operation.results)
        return {
            "id": operation.gid, "status": operation.status, "type": "MUTATION",
            "errorCode": operation.error_code, "createdAt": _iso(operation.created_at),
            "completedAt": _iso(operation.completed_at) if operation.completed_at is not None else None,
            "objectCount": str(operation.done), "rootObjectCount": str(operation.done),
            "fileSize": str(size) if done else None, "url": f"{results}.jsonl" if done else None,
            "partialDataUrl": f"{results}-partial.jsonl" if failed and operation.results else None,
            "query": operation.mutation,
        }

    def _base(self, shop: str) -> str:
        with self._lock:
            return self._base_urls.get(shop, "http://127.0.0.1/shopify")


def _refused(message: str, code: str, path: list[str] | None) -> dict[str, Any]:
    return {"bulkOperation": None, "userErrors": [{"field": path, "message": message, "code": code}]}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _multipart(request: Request) -> dict[str, bytes] | None:
    """The fields of a multipart/form-data body (the staged upload POST)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = payload if isinstance(payload, bytes) else b""
    return fields
