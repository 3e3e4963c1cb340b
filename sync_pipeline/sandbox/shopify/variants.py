"""Shopify sandbox: the productVariantsBulk* mutations."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import rules, variant_update, views
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
                options = [dict(o, values=list(o["values"])) for o in found["options"]]
                added = rules.build_media(self.catalog, conn, media or [], [], errors, ("media",))
                media_ids = {m["id"] for m in [*found["media"], *added]}
                touched: list[tuple[int, str]] = []
                for i, change in enumerate(variants):
                    before = len(errors.errors)
                    if not self._bulk_variant(change, by_id, ["variants", i], errors):
                        continue
                    variant = dict(by_id[change["id"]])
                    variant_update.apply_change(self.catalog, conn, change, variant, options, media_ids,
                                                ["variants", i], errors)  # fmt: skip
                    if len(errors.errors) == before:  # with allowPartialUpdates, only clean changes land
                        by_id[change["id"]] = variant
                        touched.append((i, change["id"]))
                variant_update.duplicate_errors([by_id[v["id"]] for v in found["variants"]], touched, errors)
                if errors and not allowPartialUpdates:
                    raise Rejected  # nothing written, media ids handed out above rolled back
                updated = dict(
                    found,
                    options=options,
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
    ) -> bool:
        """Price, compare-at price and the variant's existence; False when the variant is not there."""
        if not change.get("id"):
            errors.add([*path, "id"], "Product variant is missing ID attribute", "PRODUCT_VARIANT_ID_MISSING")
            return False
        variant = by_id.get(change["id"])
        if variant is None:
            errors.add([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
            return False
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
        return True
