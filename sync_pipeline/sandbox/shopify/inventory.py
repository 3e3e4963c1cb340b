"""Shopify sandbox: inventory quantities."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify.base import ResolverBase, idempotency_key


class InventoryResolvers(ResolverBase):
    def inventorySetQuantities(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        key = idempotency_key(info)
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
