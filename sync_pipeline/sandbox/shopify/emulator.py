"""Sandbox of Shopify's Admin GraphQL API (2026-07), served under ``/shopify/<shop>``.

``POST /shopify/<shop>/admin/api/<version>/graphql.json`` stands for
``https://<shop>.myshopify.com/admin/api/<version>/graphql.json`` (contract 1.1). Every request:

1. checks ``X-Shopify-Access-Token`` (401 with Shopify's body otherwise);
2. parses and validates the document against ``schema.graphql`` (the subset of Shopify's
   schema the sandbox implements; unknown fields are rejected as Shopify rejects them);
3. prices it (``cost``) and charges the shop's leaky bucket: over 1000 points is
   ``MAX_COST_EXCEEDED``, a bucket short of points answers ``THROTTLED`` with HTTP 200 (1.7);
4. runs it with graphql-core against the shop's products (``catalog``) and answers
   ``{data, errors?, extensions: {cost}}``.

Provision config: ``access_token`` (required), ``bucket_size`` (2000), ``restore_rate`` (100),
``locations`` (``["gid://shopify/Location/1"]``), ``api_versions`` (``["2026-07"]``),
``publications`` (``[[id, name], ...]``: Online Store, Point of Sale, Shop), ``scopes`` (every scope
the sync needs; see ``channels``), ``media_processing_seconds`` (0: media READY on the next read), ``product_set_seconds`` (0: an
asynchronous ``productSet`` completes by the next request).

``GET /shopify/<shop>/products.json`` is the Online Store's public product list: only ACTIVE
products published there, which is how a test sees what a shopper sees.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import channels, errors, gids
from sync_pipeline.sandbox.shopify.auth import ShopifyTokens
from sync_pipeline.sandbox.shopify.bulk import FILE_OPERATIONS, BulkOperations
from sync_pipeline.sandbox.shopify.cost import (
    SINGLE_QUERY_MAX_COST,
    CostContext,
    LeakyBucket,
    actual_cost,
    requested_cost,
)
from sync_pipeline.sandbox.shopify.root import Root as _Root
from sync_pipeline.sandbox.state import SandboxState

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
DEFAULT_VERSIONS = ("2026-07",)
DEFAULT_LOCATIONS = ("gid://shopify/Location/1",)
INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
_PATH = re.compile(r"^/(?P<shop>[a-z0-9][a-z0-9-]*)/admin/api/(?P<version>[^/]+)/graphql\.json$")
_OAUTH = re.compile(r"^/(?P<shop>[a-z0-9][a-z0-9-]*)/admin/oauth/access_token$")
_STOREFRONT = re.compile(r"^/(?P<shop>[a-z0-9][a-z0-9-]*)/products\.json$")
STOREFRONT_PAGE_LIMIT = 250
_IDEMPOTENT_MUTATIONS = frozenset({"inventorySetQuantities", "inventoryAdjustQuantities"})  # contract 1.4: required from 2026-04


@cache
def sandbox_schema() -> GraphQLSchema:
    """``schema.graphql`` and the package's other SDL files (``extend type`` for their roots)."""
    extensions = sorted(p for p in SCHEMA_FILE.parent.glob("*.graphql") if p != SCHEMA_FILE)
    return build_schema("\n".join(p.read_text(encoding="utf-8") for p in (SCHEMA_FILE, *extensions)))


class ShopifyEmulator(PlatformEmulator):
    platform = "shopify"
    prefix = "/shopify"

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.tokens = ShopifyTokens(state)
        self._buckets: dict[str, LeakyBucket] = {}
        self._lock = threading.Lock()
        self.bulk = BulkOperations(self.clock, sandbox_schema, lambda shop, config: _Root(self, shop, config))
        self.bulk.subscriptions = lambda shop: self.state.list(self.platform, shop, "webhook")
        self.bulk.config_of = lambda shop: self.state.get_store(self.platform, shop)

    def use_clock(self, clock: Callable[[], float]) -> None:
        super().use_clock(clock)
        self.bulk.clock_source(clock)
        self.tokens.clock = clock  # token lifetimes are the only Shopify rule that reads the clock

    # -- stores ------------------------------------------------------------------------------

    def provision(self, store: str, config: dict[str, Any]) -> dict[str, Any]:
        if not config.get("access_token") and not (config.get("client_id") and config.get("client_secret")):
            raise ValueError("a Shopify sandbox store needs an access_token, or a client_id and client_secret")
        stored: dict[str, Any] = {
            "access_token": str(config.get("access_token") or f"shpat_unused_{store}"),
            "bucket_size": float(config.get("bucket_size") or 2000),
            "restore_rate": float(config.get("restore_rate") or 100),
            "locations": list(config.get("locations") or DEFAULT_LOCATIONS),
            "api_versions": list(config.get("api_versions") or DEFAULT_VERSIONS),
            "publications": [list(p) for p in config.get("publications") or channels.DEFAULT_PUBLICATIONS],
            "scopes": list(config.get("scopes") or channels.ALL_SCOPES),
            "media_processing_seconds": float(config.get("media_processing_seconds") or 0),
            "product_set_seconds": float(config.get("product_set_seconds") or 0),
            **({"webhook_secret": str(config["webhook_secret"])} if config.get("webhook_secret") else {}),
            "bulk_lines_per_second": float(config.get("bulk_lines_per_second") or 0) or None,
            **{key: config[key] for key in ("token_lifetime", "refresh_token", "client_id", "client_secret",
                                           "client_credentials_lifetime") if config.get(key)},
        }  # fmt: skip
        self.state.put_store(self.platform, store, stored)
        self.tokens.provision(store, stored)
        with self._lock:
            self._buckets[store] = LeakyBucket(stored["bucket_size"], stored["restore_rate"])
        return {k: v for k, v in stored.items()
                if k not in ("access_token", "refresh_token", "client_secret", "webhook_secret")}  # fmt: skip

    def expire_tokens(self, store: str) -> None:
        self.tokens.expire(store)

    def sandbox_store(
        self,
        endpoint_path: str,
        settings: dict[str, Any],
        credentials: dict[str, str],
        rate_limit: dict[str, Any],
    ) -> tuple[str, dict[str, Any]]:
        shop, _ = super().sandbox_store(endpoint_path, settings, credentials, rate_limit)
        config: dict[str, Any] = {
            key: credentials.get(key) for key in ("access_token", "refresh_token", "client_id", "client_secret")
        }
        config["token_lifetime"] = settings.get("sandbox_token_lifetime")
        if settings.get("location_id"):
            config["locations"] = [settings["location_id"]]
        if settings.get("api_version"):
            config["api_versions"] = sorted({*DEFAULT_VERSIONS, str(settings["api_version"])})
        config["bucket_size"] = rate_limit.get("bucket_size")
        config["restore_rate"] = rate_limit.get("restore_rate")
        config["bulk_lines_per_second"] = settings.get("sandbox_bulk_lines_per_second")
        return shop, config

    def reset(self) -> None:
        self.bulk.reset()
        with self._lock:
            self._buckets.clear()

    def bucket(self, shop: str, config: dict[str, Any]) -> LeakyBucket:
        with self._lock:
            if shop not in self._buckets:
                self._buckets[shop] = LeakyBucket(config["bucket_size"], config["restore_rate"])
            return self._buckets[shop]

    # -- routing and faults --------------------------------------------------------------------

    def route(self, request: Request) -> Routed:
        bulk_file = self.bulk.route(request, lambda shop: self.state.get_store(self.platform, shop) is not None)
        if bulk_file is not None:
            return bulk_file
        oauth = _OAUTH.match(request.path)
        if oauth is not None and self.state.get_store(self.platform, oauth["shop"]) is not None:
            return Routed(oauth["shop"], "oauth_access_token", False)
        storefront = _STOREFRONT.match(request.path)
        if storefront is not None and self.state.get_store(self.platform, storefront["shop"]) is not None:
            return Routed(storefront["shop"], "storefront", False)
        match = _PATH.match(request.path)
        if match is None or self.state.get_store(self.platform, match["shop"]) is None:
            return Routed(None, "unknown", False)
        operation, is_write = _operation_of(request)
        return Routed(match["shop"], operation, is_write)

    def fault_response(self, fault: Fault, routed: Routed) -> Response:
        if fault is Fault.THROTTLE and routed.store is not None:
            config = self.state.get_store(self.platform, routed.store) or {}
            return Response(200, _throttled_body(0, self.bucket(routed.store, config).status()))
        if fault is Fault.INTERNAL_ERROR:
            return Response(200, internal_error_body(str(uuid.uuid4())))
        # Shopify's edge answers an outage with a 503 and a short JSON error, no GraphQL body
        return Response(503, {"errors": "Service Unavailable"}, {"Retry-After": "1"})

    # -- one request ---------------------------------------------------------------------------

    def handle(self, request: Request, routed: Routed) -> Response:
        if routed.operation in FILE_OPERATIONS:
            return self.bulk.handle(request, routed)
        if routed.operation == "storefront" and routed.store is not None:
            return self._storefront(routed.store, request)
        if routed.operation == "oauth_access_token" and routed.store is not None:
            if request.method != "POST":
                return Response(405, {"errors": "Method Not Allowed"})
            stored = self.state.get_store(self.platform, routed.store)
            assert stored is not None
            return self.tokens.grant(routed.store, stored, request)
        match = _PATH.match(request.path)
        if routed.store is None or match is None:
            return Response(404, {"errors": "Not Found"})
        config = self.state.get_store(self.platform, routed.store)
        assert config is not None
        if not self._authorized(routed.store, config, request.headers.get("x-shopify-access-token")):
            return Response(401, INVALID_TOKEN_BODY)
        if match["version"] not in config["api_versions"]:
            return Response(404, {"errors": "Not Found"})
        if request.method != "POST":
            return Response(405, {"errors": "Method Not Allowed"})
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return Response(400, {"errors": {"query": "Required parameter missing or invalid"}})
        return self._graphql(routed.store, config, body)

    def _authorized(self, shop: str, config: dict[str, Any], token: str | None) -> bool:
        if not config.get("token_lifetime") and token == config["access_token"]:
            return True  # a static token (a custom app's): valid until revoked
        return self.tokens.valid(shop, token)

    def _storefront(self, shop: str, request: Request) -> Response:
        config = self.state.get_store(self.platform, shop)
        assert config is not None
        limit = min(int(request.arg("limit") or 30), STOREFRONT_PAGE_LIMIT)
        page = max(int(request.arg("page") or 1), 1)
        catalog = cat.Catalog(self.state, shop, config["locations"])
        catalog.now = self.clock()
        visible = [p for p in catalog.products() if channels.visible_on(config, p)]
        chosen = visible[(page - 1) * limit : page * limit]
        return Response(200, {"products": [
            {"id": int(cat.gid_number(p["id"], "Product") or 0), "handle": p["handle"], "title": p["title"],
             "tags": ", ".join(p.get("tags", [])), "variants": [{"sku": v.get("sku"), "price": v["price"]}
                                                                for v in p["variants"]]}
            for p in chosen]})  # fmt: skip

    def _graphql(self, shop: str, config: dict[str, Any], body: dict[str, Any]) -> Response:
        bucket = self.bucket(shop, config)
        variables = body.get("variables") or {}
        try:
            document = parse(body["query"])
        except GraphQLError as exc:
            return Response(200, {"errors": [errors.parse_error(exc)]})
        schema = sandbox_schema()
        problems = validate(schema, document)
        if problems:  # nothing ran, nothing charged: Shopify sends neither data nor extensions.cost
            return Response(200, {"errors": errors.validation_errors(schema, document, problems)})
        malformed_ids = gids.literal_errors(schema, document)
        if malformed_ids:  # a coercion error of the document: nothing ran, nothing charged
            return Response(200, {"errors": malformed_ids})
        operation = get_operation_ast(document, body.get("operationName"))
        if operation is None or not isinstance(variables, dict):
            return _errors_only(
                [{"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}], bucket
            )
        invalid_variables = errors.variable_errors(schema, operation, variables)
        if invalid_variables:
            return Response(200, {"errors": invalid_variables})
        ctx = CostContext(schema, _fragments(document), variables)
        requested = requested_cost(ctx, operation)
        if requested > SINGLE_QUERY_MAX_COST:
            return _errors_only([_max_cost_error(requested)], bucket)
        if not bucket.try_take(requested):
            return Response(200, _throttled_body(requested, bucket.status()))
        denied = channels.missing_scopes(config, _root_fields(operation))
        if denied:
            bucket.give_back(requested)
            return Response(200, {
                "data": None if operation.operation == OperationType.MUTATION else {f: None for f, _ in denied},
                "errors": [channels.access_denied(f, scope) for f, scope in denied],
                "extensions": {"cost": _cost(requested, 0, bucket.status())},
            })  # fmt: skip
        missing_key = _missing_idempotency_key(operation)
        if missing_key is not None:
            bucket.give_back(requested)
            return _errors_only([missing_key], bucket)
        root = _Root(self, shop, config)
        self.bulk.bind(root, shop, config)
        result = execute_sync(
            schema,
            document,
            root_value=root,
            variable_values=variables,
            operation_name=body.get("operationName"),
        )
        too_large = [
            e for e in result.errors or () if (e.extensions or {}).get("code") == "MAX_INPUT_SIZE_EXCEEDED"
        ]
        data = None if too_large else result.data
        actual = actual_cost(ctx, operation, data) if data is not None else 0
        bucket.give_back(max(requested - actual, 0))
        payload: dict[str, Any] = {}
        if data is not None:
            payload["data"] = data
        if result.errors:
            payload["errors"] = [e.formatted for e in (too_large or result.errors)]
        payload["extensions"] = {"cost": _cost(requested, actual, bucket.status())}
        return Response(200, payload)


# ---- request helpers -------------------------------------------------------------------------


def _operation_of(request: Request) -> tuple[str, bool]:
    """The first root field (e.g. ``productSet``) and whether the operation is a mutation."""
    try:
        body = request.json()
        document = parse(body["query"])
        operation = get_operation_ast(document, body.get("operationName"))
    except (ValueError, KeyError, TypeError, GraphQLError):
        return "graphql", False
    if operation is None:
        return "graphql", False
    first = next((s for s in operation.selection_set.selections if isinstance(s, FieldNode)), None)
    return (first.name.value if first else "graphql"), operation.operation == OperationType.MUTATION


def _root_fields(operation: OperationDefinitionNode) -> list[str]:
    return [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _max_cost_error(cost: int) -> dict[str, Any]:
    return {
        "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({SINGLE_QUERY_MAX_COST}).",
        "extensions": {
            "code": "MAX_COST_EXCEEDED",
            "cost": cost,
            "maxCost": SINGLE_QUERY_MAX_COST,
            "documentation": RATE_LIMITS_DOC,
        },
    }


def _missing_idempotency_key(operation: OperationDefinitionNode) -> dict[str, Any] | None:
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in _IDEMPOTENT_MUTATIONS:
            directive = next((d for d in selection.directives if d.name.value == "idempotent"), None)
            if directive is None:
                return {
                    "message": f"The @idempotent directive is required for {selection.name.value} (API 2026-04 and later).",
                    "locations": [
                        {"line": selection.loc.start_token.line, "column": selection.loc.start_token.column}
                    ]
                    if selection.loc
                    else [],
                    "path": [selection.name.value],
                    "extensions": {"code": "BAD_REQUEST"},
                }
    return None


def _cost(requested: int, actual: int | None, status: dict[str, float | int]) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}


def _throttled_body(requested: int, status: dict[str, float | int]) -> dict[str, Any]:
    return {
        "errors": [
            {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC}}
        ],
        "extensions": {"cost": _cost(requested, None, status)},
    }


def internal_error_body(request_id: str) -> dict[str, Any]:
    """Shopify's failure inside the API: HTTP 200, no ``data``, one error with the request id.
    Shape: https://shopify.dev/changelog/improved-graphql-errors (code and requestId) and a recorded
    productUpdate answer (community.shopify.com, "760 internal errors when calling Shopify GraphQL
    API", 2021) for the message's second line."""
    return {"errors": [{
        "message": "Internal error. Looks like something went wrong on our end.\n"
                   f"Request ID: {request_id} (include this in support requests).",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    }]}  # fmt: skip


def _errors_only(errors: list[dict[str, Any]], bucket: LeakyBucket) -> Response:
    return Response(200, {"errors": errors, "extensions": {"cost": _cost(0, 0, bucket.status())}})
