"""Shopify sandbox: the read roots (product, products, productVariants, publications, taxonomy)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import channels, paging, views
from sync_pipeline.sandbox.shopify.base import ResolverBase
from sync_pipeline.sandbox.shopify.sorting import sort_products, sort_variant_pairs


class ReadResolvers(ResolverBase):
    # sales channels and taxonomy

    def publications(self, _info: GraphQLResolveInfo, catalogType: str | None = None, **page: Any) -> dict[str, Any]:  # noqa: N803
        # catalogType is accepted and not applied: the sandbox's publications are its sales channels only
        return paging.connection(channels.publications(self.config), lambda p: p, **page)

    def taxonomy(self, _info: GraphQLResolveInfo) -> dict[str, Any]:
        return {
            "categories": lambda _info, search=None, childrenOf=None, siblingsOf=None, descendantsOf=None, **page: (  # noqa: N803
                paging.connection(
                    channels.search_categories(search, childrenOf, siblingsOf, descendantsOf), lambda c: c, **page
                )
            )
        }

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
        self, _info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "ID", **page: Any  # noqa: N803
    ) -> dict[str, Any]:
        text = " ".join(v for k, v in views.parse_search(query) if k is None)
        found = sort_products(self._search(query, page.pop("savedSearchId", None)), sortKey, text)
        return paging.connection(found, self._view, sort=sortKey, **page)

    def productVariants(  # noqa: N802
        self, _info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "ID", **page: Any  # noqa: N803
    ) -> dict[str, Any]:
        terms = views.parse_search(query)
        skus = {v for k, v in terms if k == "sku"}
        pairs = [
            (v, p)
            for p in self._search(query, page.pop("savedSearchId", None))
            for v in p["variants"]
            if not skus or v.get("sku") in skus
        ]
        return paging.connection(
            sort_variant_pairs(pairs, sortKey), lambda pair: views.variant_view(pair[0], pair[1], self.at), sort=sortKey, **page
        )

    def _search(self, query: str | None, saved_search: str | None) -> list[dict[str, Any]]:
        if saved_search is not None:
            # the sandbox's shops have no saved searches: Shopify answers an unknown one with an error
            raise GraphQLError("Invalid saved search id.", extensions={"code": "BAD_REQUEST"})
        terms = views.parse_search(query)
        skus = [v for k, v in terms if k == "sku"]
        candidates = self.catalog.products_with_sku(skus[0]) if skus else self.catalog.products()
        return [p for p in candidates if views.product_matches(p, terms)]

    # locations, operations and single nodes

    def locations(
        self, _info: GraphQLResolveInfo, sortKey: str = "NAME", query: str | None = None,  # noqa: N803
        includeLegacy: bool = False, includeInactive: bool = False, **page: Any,  # noqa: N803
    ) -> dict[str, Any]:  # fmt: skip
        names = self.config.get("location_names") or {}
        found = [
            {"id": lid, "name": names.get(lid) or f"Location {i}", "isActive": True, "isPrimary": i == 1,
             "fulfillsOnlineOrders": True, "shipsInventory": True}
            for i, lid in enumerate(self.config["locations"], start=1)
        ]  # fmt: skip
        words = [w.split(":", 1)[-1].casefold() for w in (query or "").split()]
        found = [loc for loc in found if all(w in loc["name"].casefold() for w in words)]
        found.sort(key=lambda loc: loc["name"] if sortKey == "NAME" else loc["id"])
        return paging.connection(found, lambda loc: loc, sort=sortKey, **page)

    def productOperation(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: N802, A002
        number = cat.gid_number(id, "ProductSetOperation")
        stored = None if number is None else self.state.get("shopify", self.catalog.shop, "product_operation", number)
        if stored is None:
            return None
        product = self.catalog.product(stored["productId"]) if stored["productId"] else None
        running = stored["productId"] is not None and product is None and self.catalog.product_exists(stored["productId"])
        return {"__typename": "ProductSetOperation", "id": stored["id"], "status": "ACTIVE" if running else "COMPLETE",
                "product": None if product is None else self._view(product), "userErrors": stored["userErrors"]}  # fmt: skip

    def productVariant(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: N802, A002
        for product in self.catalog.products():
            for variant in product["variants"]:
                if variant["id"] == id:
                    return views.variant_view(variant, product, self.at)
        return None

    def inventoryItem(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: N802, A002
        for product in self.catalog.products():
            for variant in product["variants"]:
                if variant["inventoryItem"]["id"] == id:
                    return views.variant_view(variant, product, self.at)["inventoryItem"]  # type: ignore[no-any-return]
        return None
