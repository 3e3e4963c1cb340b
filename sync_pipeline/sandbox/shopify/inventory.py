"""Shopify sandbox: inventory quantities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify.base import ResolverBase, idempotency_key

# Shopify's bound for a stored quantity (INVALID_QUANTITY_TOO_HIGH / _TOO_LOW beyond it)
MAX_QUANTITY = 1_000_000_000


class InventoryResolvers(ResolverBase):
    def inventorySetQuantities(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        return self._idempotent(info, input, self._set_quantities)

    def inventoryAdjustQuantities(self, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        return self._idempotent(info, input, self._adjust_quantities)

    def _idempotent(
        self, info: GraphQLResolveInfo, request: dict[str, Any], run: Callable[[Any, dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Contract 1.4: the same @idempotent key replays the first answer; other parameters are refused."""
        key = idempotency_key(info)
        if not key or not key.strip():
            raise GraphQLError(
                "The idempotency key cannot be an empty string or whitespace only.",
                extensions={"code": "BAD_REQUEST"},
            )
        # a key is one mutation's: the same key on the other inventory mutation is a parameter mismatch
        request_print = cat.fingerprint(request if info.field_name == "inventorySetQuantities" else [info.field_name, request])
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
            payload = run(conn, request)
            if not payload["userErrors"]:
                self.catalog.remember(conn, key, {"fingerprint": request_print, "payload": payload})
        return payload

    def _adjust_quantities(self, conn: Any, request: dict[str, Any]) -> dict[str, Any]:
        """Deltas on top of the stored quantities; unlike a set, ``available`` may go below zero (overselling)."""
        errors = cat.UserErrors()
        if request["name"] not in cat.QUANTITY_NAMES:
            errors.add(["input", "name"], "The specified quantity name is invalid.", "INVALID_QUANTITY_NAME")
        if not request["reason"]:
            errors.add(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        products: dict[str, dict[str, Any]] = {}
        changes = []
        for i, change in enumerate(request["changes"]):
            path: list[Any] = ["input", "changes", i]
            if change["locationId"] not in self.catalog.locations:
                errors.add([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
                continue
            product = self.catalog.locked_by_inventory_item(conn, change["inventoryItemId"])
            product = products.setdefault(product["id"], product) if product is not None else None
            variant = next(
                (v for v in (product or {}).get("variants", []) if v["inventoryItem"]["id"] == change["inventoryItemId"]),
                None,
            )
            if variant is None:
                errors.add([*path, "inventoryItemId"], "The specified inventory item could not be found.",
                           "INVALID_INVENTORY_ITEM")  # fmt: skip
                continue
            current = int(variant["inventory"].get(change["locationId"], 0))
            if change.get("changeFromQuantity") is not None and change["changeFromQuantity"] != current:
                errors.add([*path, "changeFromQuantity"], "The changeFromQuantity value does not match persisted value.",
                           "CHANGE_FROM_QUANTITY_STALE")  # fmt: skip
                continue
            after = current + change["delta"]
            if abs(after) > MAX_QUANTITY:
                code = "INVALID_QUANTITY_TOO_HIGH" if after > 0 else "INVALID_QUANTITY_TOO_LOW"
                errors.add([*path, "delta"], f"The quantity can't be {'higher' if after > 0 else 'lower'} than "
                           f"{MAX_QUANTITY if after > 0 else -MAX_QUANTITY}.", code)  # fmt: skip
                continue
            variant["inventory"][change["locationId"]] = after
            changes.append({"name": request["name"], "delta": change["delta"], "quantityAfterChange": after,
                            "item": dict(variant["inventoryItem"])})  # fmt: skip
        if errors:  # the changes of one call land together or not at all
            return {"inventoryAdjustmentGroup": None, "userErrors": errors.errors}
        return {"inventoryAdjustmentGroup": self._group(conn, request, products, changes), "userErrors": []}

    def _group(
        self, conn: Any, request: dict[str, Any], products: dict[str, dict[str, Any]], changes: list[dict[str, Any]]
    ) -> dict[str, Any]:
        for product in products.values():
            before = self.catalog.locked_product(conn, product["id"])
            self.catalog.save(conn, dict(product, updatedAt=cat.now_iso()), before)
        return {
            "id": self.catalog.new_id(conn, "InventoryAdjustmentGroup"),
            "reason": request["reason"],
            "referenceDocumentUri": request.get("referenceDocumentUri"),
            "createdAt": cat.now_iso(),
            "changes": changes,
        }

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
        return {"inventoryAdjustmentGroup": self._group(conn, request, products, changes), "userErrors": []}
