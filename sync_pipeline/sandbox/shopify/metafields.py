"""Shopify sandbox: metafieldsSet on products and variants.

Wording and codes from real responses recorded in ``airhorns/shopify-draft-proxy``
(``2025-01/products/metafields-set-*.json``): a missing ``type`` on a new metafield is
``BLANK`` "Type can't be blank" at ``["metafields", i, "type"]``; a missing namespace uses the app's
namespace; ``compareDigest`` must match the stored one when given; all metafields of one call are
written together or not at all; at most 25 a call.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import fields
from sync_pipeline.sandbox.shopify.base import Rejected, ResolverBase

MAX_METAFIELDS_A_CALL = 25


class MetafieldResolvers(ResolverBase):
    def metafieldsSet(self, _info: GraphQLResolveInfo, metafields: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N802
        if len(metafields) > MAX_METAFIELDS_A_CALL:
            raise cat.InputTooLarge(len(metafields), MAX_METAFIELDS_A_CALL, ["metafieldsSet", "metafields"])
        errors = cat.UserErrors()
        written: list[dict[str, Any]] = []
        try:
            with self.state.transaction() as conn:
                owners: dict[str, dict[str, Any]] = {}
                befores: dict[str, dict[str, Any]] = {}
                for i, given in enumerate(metafields):
                    owner = self._owner(conn, given["ownerId"], owners, befores)
                    if owner is None:
                        errors.add(["metafields", i, "ownerId"], "Owner does not exist.", "INVALID")
                        continue
                    target = owner["variant"] if owner.get("variant") is not None else owner["product"]
                    current = {(m["namespace"], m["key"]): m for m in target.get("metafields") or []}
                    key = (given.get("namespace") or fields.APP_NAMESPACE, given["key"])
                    before = current.get(key)
                    if before is None and not given.get("type"):
                        errors.add(["metafields", i, "type"], "Type can't be blank", "BLANK")
                        continue
                    if given.get("compareDigest") is not None and (before or {}).get("compareDigest") != given["compareDigest"]:
                        errors.add(["metafields", i], "The resource has been updated since it was loaded. Try again "
                                   "with an updated `compareDigest` value.", "STALE_OBJECT")  # fmt: skip
                        continue
                    target["metafields"] = fields.merge_metafields(
                        list(current.values()), [given], lambda: self.catalog.new_id(conn, "Metafield"), cat.now_iso()
                    )
                    written.append(next(m for m in target["metafields"] if (m["namespace"], m["key"]) == key))
                if errors:
                    raise Rejected
                for number, owner in owners.items():
                    self.catalog.save(conn, owner["product"], befores[number])
        except Rejected:
            return {"metafields": [], "userErrors": errors.errors}
        return {"metafields": written, "userErrors": []}

    def _owner(
        self, conn: Any, owner_id: str, owners: dict[str, dict[str, Any]], befores: dict[str, dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The product (and variant) a metafield belongs to, one working copy per product for the call."""
        product_number = cat.gid_number(owner_id, "Product")
        if product_number is not None:
            product = owners.get(product_number, {}).get("product") or self.catalog.locked_product(conn, owner_id)
            if product is None:
                return None
            befores.setdefault(product_number, dict(product))
            owners[product_number] = {"product": product}
            return {"product": product, "variant": None}
        if cat.gid_number(owner_id, "ProductVariant") is None:
            return None
        for candidate in self.catalog.products():
            number = cat.gid_number(candidate["id"], "Product") or ""
            product = owners.get(number, {}).get("product") or candidate
            variant = next((v for v in product["variants"] if v["id"] == owner_id), None)
            if variant is not None:
                befores.setdefault(number, dict(candidate))
                owners[number] = {"product": product}
                return {"product": product, "variant": variant}
        return None
