"""Shopify sandbox: the productVariantsBulk* mutations."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import rules, views
from sync_pipeline.sandbox.shopify.base import Rejected, ResolverBase


class VariantResolvers(ResolverBase):
    def productVariantsBulkUpdate(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        productId: str,
        variants: list[dict[str, Any]],
        allowPartialUpdates: bool = False,  # noqa: N803
        media: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        errors = cat.UserErrors()
        rejected = {"product": None, "productVariants": None, "userErrors": errors.errors}
        try:
            with self.state.transaction() as conn:
                found = self._product_or_reject(conn, productId, errors)
                by_id = {v["id"]: dict(v) for v in found["variants"]}
                for i, change in enumerate(variants):
                    self._bulk_variant(change, by_id, ["variants", i], errors)
                added = rules.build_media(self.catalog, conn, media or [], [], errors, ("media",))
                if errors and not allowPartialUpdates:
                    raise Rejected  # nothing written, media ids handed out above rolled back
                updated = dict(
                    found,
                    variants=[by_id[v["id"]] for v in found["variants"]],
                    media=[*found["media"], *added],
                    updatedAt=cat.now_iso(),
                )
                self.catalog.save(conn, updated, found)
        except Rejected:
            return rejected
        changed = [views.variant_view(by_id[c["id"]], updated, self.at) for c in variants if c.get("id") in by_id]
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
