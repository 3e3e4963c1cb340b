"""Shopify sandbox: publishing to sales channels and tags."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify.base import ResolverBase


class PublishingResolvers(ResolverBase):
    # Arguments ``id`` and ``input`` (the schema requires both).
    def publishablePublish(self, _info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:  # noqa: N802
        return self._publish(args["id"], args["input"], publish=True)

    def publishableUnpublish(self, _info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:  # noqa: N802
        return self._publish(args["id"], args["input"], publish=False)

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
            after = (
                (current + [p for p in wanted if p not in current])
                if publish
                else [p for p in current if p not in wanted]
            )
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
            changed = (
                (current + [t for t in tags if t not in current])
                if add
                else [t for t in current if t not in tags]
            )
            updated = dict(found, tags=changed, updatedAt=cat.now_iso())
            self.catalog.save(conn, updated, found)
        return {"node": self._view(updated), "userErrors": []}
