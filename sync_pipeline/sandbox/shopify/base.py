"""What every resolver of the Shopify sandbox shares: the shop's catalog, its config and the product view."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from graphql import GraphQLResolveInfo, VariableNode

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import channels, paging, views
from sync_pipeline.sandbox.state import SandboxState


class HasState(Protocol):
    state: SandboxState
    clock: Callable[[], float]


class Rejected(Exception):
    """A mutation found user errors: leave the transaction without writing anything."""


class ResolverBase:
    """Root value for one request: each attribute resolves the root field of the same name."""

    def __init__(self, emulator: HasState, shop: str, config: dict[str, Any]) -> None:
        self.state = emulator.state
        self.config = config
        self.catalog = cat.Catalog(emulator.state, shop, config["locations"])
        # one instant and one token per request: media statuses read consistently within an answer
        self.catalog.now = emulator.clock()
        self.catalog.request_token = uuid.uuid4().hex
        self.catalog.media_seconds = float(config.get("media_processing_seconds") or 0)
        self.at: views.Moment = (self.catalog.now, self.catalog.request_token)

    def _product_or_reject(self, conn: sqlite3.Connection, product_id: str, errors: cat.UserErrors) -> dict[str, Any]:
        """The product the ``productId`` argument names, locked; else ``Rejected`` with Shopify's error."""
        found = self.catalog.locked_product(conn, product_id)
        if found is None:
            errors.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            raise Rejected
        return found

    def _view(self, product: dict[str, Any]) -> dict[str, Any]:
        view = views.product_view(product, self.at)
        view["__typename"] = "Product"
        view["category"] = channels.category_view(product.get("category"))
        published = product.get("publications", [])
        view["publishedOnPublication"] = lambda _info, publicationId: publicationId in published  # noqa: N803
        view["resourcePublicationsV2"] = lambda _info, onlyPublished=True, catalogType=None, **page: (  # noqa: N803
            paging.connection(
                channels.resource_publications(self.config, product, onlyPublished), lambda r: r, **page
            )
        )
        return view


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
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
