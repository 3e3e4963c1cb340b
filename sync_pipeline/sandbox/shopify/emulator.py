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
the sync needs; see ``channels``).

``GET /shopify/<shop>/products.json`` is the Online Store's public product list: only ACTIVE
products published there, which is how a test sees what a shopper sees.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from sync_pipeline.sandbox.core import PlatformEmulator, Request, Response, Routed
from sync_pipeline.sandbox.faults import Fault
from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import channels
from sync_pipeline.sandbox.shopify.auth import ShopifyTokens
from sync_pipeline.sandbox.shopify.cost import (
    SINGLE_QUERY_MAX_COST,
    CostContext,
    LeakyBucket,
    actual_cost,
    requested_cost,
)
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
_IDEMPOTENT_MUTATIONS = frozenset({"inventorySetQuantities"})  # contract 1.4: required from 2026-04


@cache
def sandbox_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


class ShopifyEmulator(PlatformEmulator):
    platform = "shopify"
    prefix = "/shopify"

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.tokens = ShopifyTokens(state)
        self._buckets: dict[str, LeakyBucket] = {}
        self._lock = threading.Lock()

    def use_clock(self, clock: Callable[[], float]) -> None:
        super().use_clock(clock)
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
            **{key: config[key] for key in ("token_lifetime", "refresh_token", "client_id", "client_secret",
                                           "client_credentials_lifetime") if config.get(key)},
        }  # fmt: skip
        self.state.put_store(self.platform, store, stored)
        self.tokens.provision(store, stored)
        with self._lock:
            self._buckets[store] = LeakyBucket(stored["bucket_size"], stored["restore_rate"])
        return {k: v for k, v in stored.items() if k not in ("access_token", "refresh_token", "client_secret")}

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
        return shop, config

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def bucket(self, shop: str, config: dict[str, Any]) -> LeakyBucket:
        with self._lock:
            if shop not in self._buckets:
                self._buckets[shop] = LeakyBucket(config["bucket_size"], config["restore_rate"])
            return self._buckets[shop]

    # -- routing and faults --------------------------------------------------------------------

    def route(self, request: Request) -> Routed:
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
        # Shopify's edge answers an outage with a 503 and a short JSON error, no GraphQL body
        return Response(503, {"errors": "Service Unavailable"}, {"Retry-After": "1"})

    # -- one request ---------------------------------------------------------------------------

    def handle(self, request: Request, routed: Routed) -> Response:
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
        visible = [
            p for p in cat.Catalog(self.state, shop, config["locations"]).products() if channels.visible_on(config, p)
        ]
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
            return _errors_only([_error(exc, "PARSE_ERROR")], bucket)
        schema = sandbox_schema()
        problems = validate(schema, document)
        if problems:
            return _errors_only([_error(e, _validation_code(e.message)) for e in problems], bucket)
        operation = get_operation_ast(document, body.get("operationName"))
        if operation is None or not isinstance(variables, dict):
            return _errors_only(
                [{"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}], bucket
            )
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


def _error(exc: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(exc.formatted)
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted


def _validation_code(message: str) -> str:
    """Shopify's (graphql-ruby's) names for the common validation failures."""
    if message.startswith("Cannot query field"):
        return "undefinedField"
    if message.startswith("Unknown argument"):
        return "argumentNotAccepted"
    if "is required, but it was not provided" in message:
        return "missingRequiredArguments"
    if message.startswith("Variable"):
        return "variableMismatch"
    if message.startswith("Unknown type"):
        return "undefinedType"
    return "invalidDocument"


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


def _errors_only(errors: list[dict[str, Any]], bucket: LeakyBucket) -> Response:
    return Response(200, {"errors": errors, "extensions": {"cost": _cost(0, 0, bucket.status())}})


def _idempotency_key(info: GraphQLResolveInfo) -> str | None:
    for directive in info.field_nodes[0].directives:
        if directive.name.value == "idempotent":
            for argument in directive.arguments:
                if argument.name.value == "key":
                    value = argument.value
                    if isinstance(value, VariableNode):
                        raw = info.variable_values.get(value.name.value)
                    else:
                        raw = getattr(value, "value", None)
                    return str(raw) if raw is not None else None
    return None


# ---- resolvers -------------------------------------------------------------------------------


class _Rejected(Exception):
    """A mutation found user errors: leave the transaction without writing anything."""


class _Root:
    """Root value for one request: each attribute resolves the root field of the same name."""

    def __init__(self, emulator: ShopifyEmulator, shop: str, config: dict[str, Any]) -> None:
        self.state = emulator.state
        self.config = config
        self.catalog = cat.Catalog(emulator.state, shop, config["locations"])

    def _view(self, product: dict[str, Any]) -> dict[str, Any]:
        view = cat.product_view(product)
        view["__typename"] = "Product"
        view["category"] = channels.category_view(product.get("category"))
        view["publishedOnPublication"] = lambda _info, publicationId: publicationId in product.get(  # noqa: N803
            "publications", []
        )
        view["resourcePublicationsV2"] = lambda _info, first=None, after=None, **_: cat.connection(
            channels.resource_publications(self.config, product), first, after, lambda r: r
        )
        return view

    # sales channels and taxonomy

    def publications(
        self, _info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, **_: Any
    ) -> dict[str, Any]:
        return cat.connection(channels.publications(self.config), first, after, lambda p: p)

    def taxonomy(self, _info: GraphQLResolveInfo) -> dict[str, Any]:
        return {
            "categories": lambda _info, search=None, first=None, after=None: cat.connection(
                channels.search_categories(search), first, after, lambda c: c
            )
        }

    def publishablePublish(  # noqa: N802
        self, _info: GraphQLResolveInfo, id: str, input: list[dict[str, Any]]  # noqa: A002
    ) -> dict[str, Any]:
        return self._publish(id, input, publish=True)

    def publishableUnpublish(  # noqa: N802
        self, _info: GraphQLResolveInfo, id: str, input: list[dict[str, Any]]  # noqa: A002
    ) -> dict[str, Any]:
        return self._publish(id, input, publish=False)

    def _publish(self, product_id: str, targets: list[dict[str, Any]], publish: bool) -> dict[str, Any]:
        known = {pid for pid, _ in self.config["publications"]}
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, product_id)
            if found is None:
                return {"userErrors": [{"field": ["id"], "message": "Resource does not exist"}]}
            wanted = [t.get("publicationId") for t in targets]
            unknown = [i for i, pid in enumerate(wanted) if pid not in known]
            if unknown:
                return {"userErrors": [{"field": ["input", str(i), "publicationId"],
                                        "message": "Publication does not exist"} for i in unknown]}  # fmt: skip
            current = list(found.get("publications", []))
            after = (current + [p for p in wanted if p not in current]) if publish else [
                p for p in current if p not in wanted
            ]
            self.catalog.save(conn, dict(found, publications=after, updatedAt=cat.now_iso()), found)
        return {"userErrors": []}

    def tagsAdd(self, _info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict[str, Any]:  # noqa: N802, A002
        return self._tags(id, tags, add=True)

    def tagsRemove(self, _info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict[str, Any]:  # noqa: N802, A002
        return self._tags(id, tags, add=False)

    def _tags(self, product_id: str, tags: list[str], add: bool) -> dict[str, Any]:
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, product_id)
            if found is None:
                return {"node": None, "userErrors": [{"field": ["id"], "message": "Resource not found"}]}
            current = list(found.get("tags", []))
            changed = (current + [t for t in tags if t not in current]) if add else [t for t in current if t not in tags]
            updated = dict(found, tags=changed, updatedAt=cat.now_iso())
            self.catalog.save(conn, updated, found)
        return {"node": self._view(updated), "userErrors": []}

    # queries

    def product(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002 - GraphQL name
        found = self.catalog.product(id)
        return None if found is None else self._view(found)

    def productByIdentifier(
        self, _info: GraphQLResolveInfo, identifier: dict[str, Any]
    ) -> dict[str, Any] | None:  # noqa: N802
        if identifier.get("id"):
            found = self.catalog.product(identifier["id"])
        elif identifier.get("handle"):
            found = self.catalog.product_by_handle(identifier["handle"])
        else:
            raise GraphQLError(
                "Metafield definition of type 'id' is required when using custom ids.",
                extensions={"code": "NOT_FOUND"},
            )
        return None if found is None else self._view(found)

    def products(
        self,
        _info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
    ) -> dict[str, Any]:
        return cat.connection(self._search(query), first, after, self._view)

    def productVariants(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
    ) -> dict[str, Any]:
        terms = cat.parse_search(query)
        skus = {v for k, v in terms if k == "sku"}
        pairs = [
            (v, p) for p in self._search(query) for v in p["variants"] if not skus or v.get("sku") in skus
        ]
        return cat.connection(pairs, first, after, lambda pair: cat.variant_view(*pair))

    def _search(self, query: str | None) -> list[dict[str, Any]]:
        terms = cat.parse_search(query)
        skus = [v for k, v in terms if k == "sku"]
        candidates = self.catalog.products_with_sku(skus[0]) if skus else self.catalog.products()
        return [p for p in candidates if cat.product_matches(p, terms)]

    # mutations

    def productSet(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        input: dict[str, Any],
        synchronous: bool = True,
        identifier: dict[str, Any] | None = None,  # noqa: A002
    ) -> dict[str, Any]:
        cat.check_input_sizes(input)
        errors = cat.UserErrors()
        product: dict[str, Any] | None = None
        try:
            with self.state.transaction() as conn:
                before = self._set_target(conn, input, identifier, errors)
                product = None if errors else self._apply_set(conn, input, identifier, before, errors)
                if product is None or errors:
                    raise _Rejected  # roll back ids handed out while validating
                self.catalog.save(conn, product, before)
        except _Rejected:
            product = None
        view = self._view(product) if product is not None else None
        if not synchronous:
            operation = {
                "id": cat.gid("ProductSetOperation", self.state.next_id("shopify:ProductSetOperation")),
                "status": "COMPLETE",
                "product": view,
                "userErrors": errors.errors,
            }
            return {"product": None, "productSetOperation": operation, "userErrors": errors.errors}
        return {"product": view, "productSetOperation": None, "userErrors": errors.errors}

    def _set_target(
        self,
        conn: Any,
        product_input: dict[str, Any],
        identifier: dict[str, Any] | None,
        errors: cat.UserErrors,
    ) -> dict[str, Any] | None:
        if identifier and product_input.get("id") is not None:
            errors.add(["input"], "The id field is not allowed if identifier is provided.", "ID_NOT_ALLOWED")
            return None
        if identifier:
            if identifier.get("id"):
                found = self.catalog.locked_product(conn, identifier["id"])
                if found is None:
                    errors.add(
                        ["identifier", "id"], "Resource matching the identifier was not found.", "NOT_FOUND"
                    )
                return found
            if identifier.get("handle"):
                if product_input.get("handle") not in (None, identifier["handle"]):
                    errors.add(
                        ["input", "handle"],
                        "The identifier value does not match the value of the corresponding field in the input.",
                        "INPUT_MISMATCH",
                    )
                    return None
                return self.catalog.locked_by_handle(conn, identifier["handle"])
            errors.add(
                ["identifier", "customId"],
                "Metafield definition of type 'id' is required when using custom ids.",
                "NOT_FOUND",
            )
            return None
        if product_input.get("id") is not None:
            found = self.catalog.locked_product(conn, product_input["id"])
            if found is None:
                errors.add(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return found
        return None

    def _apply_set(
        self,
        conn: Any,
        product_input: dict[str, Any],
        identifier: dict[str, Any] | None,
        before: dict[str, Any] | None,
        errors: cat.UserErrors,
    ) -> dict[str, Any] | None:
        creating = before is None
        cat.validate_scalars(product_input, creating, errors)
        if product_input.get("productOptions") is not None and product_input.get("variants") is None:
            errors.add(
                ["input", "variants"],
                "Variants input is required when updating product options",
                "VARIANTS_INPUT_MISSING",
            )
        if errors:
            return None
        stamp = cat.now_iso()
        product: dict[str, Any] = (
            dict(before)
            if before
            else {
                "id": self.catalog.new_id(conn, "Product"),
                "handle": "",
                "title": "",
                "descriptionHtml": "",
                "vendor": "",
                "productType": "",
                "tags": [],
                "status": "ACTIVE",
                "createdAt": stamp,
                "options": [],
                "variants": [],
                "media": [],
            }
        )
        for key in ("title", "descriptionHtml", "vendor", "productType", "tags", "status"):
            if product_input.get(key) is not None:
                product[key] = product_input[key]
        if product_input.get("category") is not None:
            if not channels.known_category(product_input["category"]):
                errors.add(["input", "category"], "The category does not exist.", "INVALID_INPUT")
                return None
            product["category"] = product_input["category"]
        wanted_handle = product_input.get("handle") or (identifier or {}).get("handle")
        if creating:
            from_identifier = bool((identifier or {}).get("handle"))
            handle = wanted_handle or cat.slugify(product["title"])
            product["handle"] = handle if from_identifier else self.catalog.free_handle(conn, handle)
        elif wanted_handle and wanted_handle != product["handle"]:
            if self.catalog.locked_by_handle(conn, wanted_handle) is not None:
                errors.add(
                    ["input", "handle"],
                    "Handle already in use. Please provide a new handle.",
                    "HANDLE_NOT_UNIQUE",
                )
                return None
            product["handle"] = wanted_handle
        if product_input.get("files") is not None:
            product["media"] = cat.build_media(
                self.catalog, conn, product_input["files"], product["media"], errors
            )
        if product_input.get("productOptions") is not None:
            product["options"] = cat.build_options(
                self.catalog, conn, product_input["productOptions"], product["options"], errors
            )
        if product_input.get("variants") is not None:
            if not product["options"]:
                errors.add(
                    ["input", "productOptions"],
                    "Must specify product options when updating variants.",
                    "PRODUCT_OPTIONS_INPUT_MISSING",
                )
                return None
            product["variants"] = cat.build_variants(
                self.catalog,
                conn,
                product_input["variants"],
                product["options"],
                product["variants"],
                product["media"],
                errors,
            )
        elif product_input.get("productOptions") is None and creating:
            product["options"] = [
                {
                    "id": self.catalog.new_id(conn, "ProductOption"),
                    "name": "Title",
                    "position": 1,
                    "values": [
                        {"id": self.catalog.new_id(conn, "ProductOptionValue"), "name": "Default Title"}
                    ],
                }
            ]
            product["variants"] = cat.build_variants(
                self.catalog,
                conn,
                [{"optionValues": [{"optionName": "Title", "name": "Default Title"}]}],
                product["options"],
                [],
                product["media"],
                errors,
            )
        product["updatedAt"] = stamp
        return None if errors else product

    def productUpdate(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        product: dict[str, Any] | None = None,
        identifier: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        changes = product or {}
        errors = cat.UserErrors()
        with self.state.transaction() as conn:
            target_id = (identifier or {}).get("id") or changes.get("id")
            if (identifier or {}).get("handle"):
                found = self.catalog.locked_by_handle(conn, identifier["handle"])  # type: ignore[index]
            else:
                found = self.catalog.locked_product(conn, target_id)
            if found is None:
                errors.add(["id"], "Product does not exist", None)
                return {"product": None, "userErrors": errors.errors}
            cat.validate_scalars(changes, False, errors)
            if errors:
                return {"product": None, "userErrors": errors.errors}
            updated = dict(found)
            for key in ("title", "descriptionHtml", "vendor", "productType", "tags", "status"):
                if changes.get(key) is not None:
                    updated[key] = changes[key]
            if changes.get("handle") and changes["handle"] != found["handle"]:
                if self.catalog.locked_by_handle(conn, changes["handle"]) is not None:
                    errors.add(["handle"], "Handle has already been taken", None)
                    return {"product": None, "userErrors": errors.errors}
                updated["handle"] = changes["handle"]
            updated["updatedAt"] = cat.now_iso()
            self.catalog.save(conn, updated, found)
        return {"product": self._view(updated), "userErrors": []}

    def productDelete(
        self, _info: GraphQLResolveInfo, input: dict[str, Any], synchronous: bool = True
    ) -> dict[str, Any]:  # noqa: N802, A002
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, input["id"])
            if found is None:
                return {
                    "deletedProductId": None,
                    "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
                }
            self.catalog.remove(conn, found)
        return {"deletedProductId": found["id"], "userErrors": []}

    def productVariantsBulkUpdate(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        productId: str,
        variants: list[dict[str, Any]],
        allowPartialUpdates: bool = False,  # noqa: N803
    ) -> dict[str, Any]:
        errors = cat.UserErrors()
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, productId)
            if found is None:
                errors.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
                return {"product": None, "productVariants": None, "userErrors": errors.errors}
            by_id = {v["id"]: dict(v) for v in found["variants"]}
            for i, change in enumerate(variants):
                self._bulk_variant(change, by_id, ["variants", i], errors)
            if errors and not allowPartialUpdates:
                return {"product": None, "productVariants": None, "userErrors": errors.errors}
            updated = dict(
                found, variants=[by_id[v["id"]] for v in found["variants"]], updatedAt=cat.now_iso()
            )
            self.catalog.save(conn, updated, found)
        changed = [cat.variant_view(by_id[c["id"]], updated) for c in variants if c.get("id") in by_id]
        return {"product": self._view(updated), "productVariants": changed, "userErrors": errors.errors}

    @staticmethod
    def _bulk_variant(
        change: dict[str, Any], by_id: dict[str, dict[str, Any]], path: list[Any], errors: cat.UserErrors
    ) -> None:
        if not change.get("id"):
            errors.add([*path, "id"], "Product variant is missing ID attribute", "PRODUCT_VARIANT_ID_MISSING")
            return
        variant = by_id.get(change["id"])
        if variant is None:
            errors.add([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
            return
        for key in ("price", "compareAtPrice"):
            if key in change:
                amount = None if change[key] is None else cat.money(change[key])
                if change[key] is not None and (amount is None or amount < 0):
                    errors.add(
                        [*path, key], "Price must be greater than or equal to 0", "NEGATIVE_PRICE_VALUE"
                    )
                    continue
                if key == "price" and amount is None:
                    errors.add([*path, key], "Price can't be blank", "INVALID_INPUT")
                    continue
                variant[key] = None if amount is None else str(amount)
        if "barcode" in change:
            variant["barcode"] = change["barcode"]

    def inventorySetQuantities(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        key = _idempotency_key(info)
        if not key or not key.strip():
            raise GraphQLError(
                "The idempotency key cannot be an empty string or whitespace only.",
                extensions={"code": "BAD_REQUEST"},
            )
        request_print = cat.fingerprint(input)
        with self.state.transaction() as conn:
            seen = self.catalog.recall(conn, key)
            if seen is not None:
                if seen["fingerprint"] != request_print:
                    return {
                        "inventoryAdjustmentGroup": None,
                        "userErrors": [
                            {
                                "field": ["input"],
                                "message": "The same idempotency key cannot be used with different operation parameters.",
                                "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                            }
                        ],
                    }
                return dict(seen["payload"])  # a retry with the same key gets the original answer
            payload = self._set_quantities(conn, input)
            if not payload["userErrors"]:
                self.catalog.remember(conn, key, {"fingerprint": request_print, "payload": payload})
        return payload

    def _set_quantities(self, conn: Any, request: dict[str, Any]) -> dict[str, Any]:
        errors = cat.UserErrors()
        if request["name"] not in cat.QUANTITY_NAMES:
            errors.add(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        if not request["reason"]:
            errors.add(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        products: dict[str, dict[str, Any]] = {}
        changes = []
        seen_pairs = set()
        for i, quantity in enumerate(request["quantities"]):
            path: list[Any] = ["input", "quantities", i]
            pair = (quantity["inventoryItemId"], quantity["locationId"])
            if pair in seen_pairs:
                errors.add(
                    path,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
                continue
            seen_pairs.add(pair)
            if "changeFromQuantity" not in quantity:
                # contract 1.4: the field must be sent, even as null
                errors.add(
                    [*path, "changeFromQuantity"],
                    "changeFromQuantity must be provided (null skips the check).",
                    "COMPARE_QUANTITY_REQUIRED",
                )
                continue
            if quantity["locationId"] not in self.catalog.locations:
                errors.add(
                    [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
                )
                continue
            if quantity["quantity"] < 0 and request["name"] == "available":
                errors.add(
                    [*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"
                )
                continue
            product = self.catalog.locked_by_inventory_item(conn, pair[0])
            if product is not None:
                product = products.setdefault(
                    product["id"], product
                )  # one copy per product, all changes on it
            variant = next(
                (v for v in (product or {}).get("variants", []) if v["inventoryItem"]["id"] == pair[0]), None
            )
            if product is None or variant is None:
                errors.add(
                    [*path, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
                continue
            current = int(variant["inventory"].get(pair[1], 0))
            if quantity["changeFromQuantity"] is not None and quantity["changeFromQuantity"] != current:
                errors.add(
                    [*path, "changeFromQuantity"],
                    "The changeFromQuantity value does not match persisted value.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
                continue
            variant["inventory"][pair[1]] = quantity["quantity"]
            changes.append(
                {
                    "name": request["name"],
                    "delta": quantity["quantity"] - current,
                    "quantityAfterChange": quantity["quantity"],
                    "item": dict(variant["inventoryItem"]),
                }
            )
        if errors:  # nothing written: the quantities of one call land together or not at all
            return {"inventoryAdjustmentGroup": None, "userErrors": errors.errors}
        for product in products.values():
            before = self.catalog.locked_product(conn, product["id"])
            self.catalog.save(conn, dict(product, updatedAt=cat.now_iso()), before)
        group = {
            "id": self.catalog.new_id(conn, "InventoryAdjustmentGroup"),
            "reason": request["reason"],
            "referenceDocumentUri": request.get("referenceDocumentUri"),
            "createdAt": cat.now_iso(),
            "changes": changes,
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": []}
