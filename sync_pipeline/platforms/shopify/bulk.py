"""Shopify bulk mutations for the client: stage a JSONL, run it, poll it, read its results.

https://shopify.dev/docs/api/usage/bulk-operations/imports: ``stagedUploadsCreate`` (resource
``BULK_MUTATION_VARIABLES``, POST) gives an upload target whose ``key`` parameter is the
``stagedUploadPath``; the JSONL goes there as a multipart form (the parameters, then ``file``);
``bulkOperationRunMutation`` starts the run, one per shop at a time (``OPERATION_IN_PROGRESS``
otherwise); ``bulkOperation(id)`` reports ``status``, ``objectCount`` (a string: ``UnsignedInt64``)
and, when COMPLETED, ``url``: one result line per input line with its ``__lineNumber``.

A line's ``productSet`` creates a product without an identifier, like the client's per-call create
minus the handle look-up: a handle already taken on the store gets Shopify's suffixed handle rather
than taking the other product over. Publishing (``productSet`` never publishes) is a second bulk run
of ``publishablePublish`` lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteRef
from sync_pipeline.platforms.shopify.client import ShopifyClient
from sync_pipeline.platforms.shopify.graphql import _error_class

BULK_PRODUCT_SET = """mutation SyncBulkProductSet($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product { id handle variants(first: 250) { nodes { id sku } } }
    userErrors { field message code }
  }
}"""

BULK_PUBLISH = """mutation SyncBulkPublish($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) { userErrors { field message } }
}"""

STAGED_UPLOADS_CREATE = """
mutation SyncStagedUpload($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}"""

_OPERATION_FIELDS = "id status errorCode objectCount url partialDataUrl createdAt"

BULK_RUN = f"""
mutation SyncBulkRun($mutation: String!, $path: String!, $client: String) {{
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $client) {{
    bulkOperation {{ {_OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""

BULK_STATUS = f"""
query SyncBulkStatus($id: ID!) {{
  bulkOperation(id: $id) {{ {_OPERATION_FIELDS} }}
}}"""

BULK_CURRENT = f"""
query SyncBulkCurrent {{
  currentBulkOperation(type: MUTATION) {{ {_OPERATION_FIELDS} }}
}}"""

DOCUMENTS = (BULK_PRODUCT_SET, BULK_PUBLISH, STAGED_UPLOADS_CREATE, BULK_RUN, BULK_STATUS, BULK_CURRENT)
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


@dataclass(frozen=True)
class BulkStatus:
    id: str
    status: str
    object_count: int
    url: str | None
    partial_url: str | None
    error_code: str | None
    created_at: str

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def of(cls, node: dict[str, Any]) -> BulkStatus:
        return cls(node["id"], node["status"], int(node.get("objectCount") or 0), node.get("url"),
                   node.get("partialDataUrl"), node.get("errorCode"), str(node.get("createdAt") or ""))


class BulkInProgress(PlatformError):
    """Another bulk mutation runs on the shop (Shopify allows one at a time)."""

    def __init__(self, message: str, running_id: str | None) -> None:
        super().__init__(ErrorClass.RATE_LIMITED, message, platform_code="OPERATION_IN_PROGRESS")
        self.running_id = running_id


class ShopifyBulk:
    """Bulk mutations through one ``ShopifyClient`` (its token, limiter, retries and sync log)."""

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    # -- lines ---------------------------------------------------------------------------------

    def product_set_line(self, listing: Listing) -> str:
        product = self.client._product_input(listing, None, {})
        return json.dumps({"input": product}, separators=(",", ":"), default=str)

    def publish_line(self, product_id: str) -> str:
        publications = [{"publicationId": p} for p in self.client._target_publications()]
        return json.dumps({"id": product_id, "input": publications}, separators=(",", ":"))

    # -- running -------------------------------------------------------------------------------

    def stage(self, jsonl: bytes, filename: str) -> str:
        """Upload the JSONL to a staged target; returns its ``stagedUploadPath``."""
        data = self.client._call("stagedUploadsCreate", STAGED_UPLOADS_CREATE, {"input": [{
            "resource": "BULK_MUTATION_VARIABLES", "filename": filename, "mimeType": "text/jsonl",
            "httpMethod": "POST"}]}, 10 + 1 + 1)
        payload = data["stagedUploadsCreate"]
        self.client._check_user_errors("stagedUploadsCreate", payload)
        target = payload["stagedTargets"][0]
        fields = {p["name"]: p["value"] for p in target["parameters"]}
        # The form's fields in Shopify's order, the file last (a storage host reads the fields first).
        form: list[tuple[str, tuple[str | None, Any, str | None]]] = [
            (name, (None, value, None)) for name, value in fields.items()]
        form.append(("file", (filename, jsonl, "text/jsonl")))
        result = self.client.transport.request("POST", target["url"], operation="stagedUpload", files=form)
        if result.status >= 300:
            raise PlatformError(ErrorClass.NETWORK_ERROR if result.status >= 500 else ErrorClass.INVALID_PRODUCT,
                                f"staged upload: HTTP {result.status} {result.text[:200]}", http_status=result.status)
        return str(fields["key"])

    def start(self, mutation: str, staged_path: str, client_identifier: str) -> BulkStatus:
        data = self.client._call("bulkOperationRunMutation", BULK_RUN,
                                 {"mutation": mutation, "path": staged_path, "client": client_identifier}, 10 + 1)
        payload = data["bulkOperationRunMutation"]
        errors = payload.get("userErrors") or []
        busy = next((e for e in errors if e.get("code") == "OPERATION_IN_PROGRESS"), None)
        if busy is not None:
            message = str(busy.get("message"))
            running = next((w.rstrip(".") for w in message.split() if w.startswith("gid://shopify/BulkOperation/")),
                           None)
            raise BulkInProgress(f"bulkOperationRunMutation: {message}", running)
        self.client._check_user_errors("bulkOperationRunMutation", payload)
        return BulkStatus.of(payload["bulkOperation"])

    def status(self, operation_id: str) -> BulkStatus | None:
        node = self.client._call("bulkOperation", BULK_STATUS, {"id": operation_id}, 1 + 1)["bulkOperation"]
        return None if node is None else BulkStatus.of(node)

    def current(self) -> BulkStatus | None:
        node = self.client._call("currentBulkOperation", BULK_CURRENT, {}, 1 + 1)["currentBulkOperation"]
        return None if node is None else BulkStatus.of(node)

    def results(self, url: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The result file's lines: each as written (for the sync log) and parsed."""
        result = self.client.transport.request("GET", url, operation="bulkResults")
        if result.status != 200:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"bulk results: HTTP {result.status}",
                                http_status=result.status)
        for text in result.text.splitlines():
            if text.strip():
                yield text, json.loads(text)

    # -- reading one result line -------------------------------------------------------------------

    @staticmethod
    def product_set_outcome(line: dict[str, Any]) -> RemoteRef | PlatformError:
        failure = _line_failure(line, "productSet")
        if failure is not None:
            return failure
        product = line["data"]["productSet"]["product"]
        variants = product["variants"]["nodes"]
        return RemoteRef(product["id"], {v["sku"]: v["id"] for v in variants if v.get("sku")})

    @staticmethod
    def publish_outcome(line: dict[str, Any]) -> PlatformError | None:
        return _line_failure(line, "publishablePublish")


def _line_failure(line: dict[str, Any], field: str) -> PlatformError | None:
    errors = line.get("errors") or []
    payload = (line.get("data") or {}).get(field)
    if errors or not isinstance(payload, dict):
        codes = [(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]
        message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict)) or "no data in the line"
        return PlatformError(_error_class(codes), f"bulk {field}: {message}",
                             platform_code=next((c for c in codes if c), None))
    user_errors = payload.get("userErrors") or []
    if user_errors:
        message = "; ".join(f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')}" for e in user_errors)
        return PlatformError(ErrorClass.INVALID_PRODUCT, f"bulk {field}: {message}",
                             platform_code=next((e.get("code") for e in user_errors if e.get("code")), None))
    return None
