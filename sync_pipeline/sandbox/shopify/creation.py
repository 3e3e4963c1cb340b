"""Shopify sandbox: productCreate and productVariantsBulkCreate/Delete.

Rules and wording from real responses recorded in ``airhorns/shopify-draft-proxy``
(``2025-01/products/product-create-input-validation.json``,
``product-variants-bulk-validation-atomicity.json``, ``productVariantsBulkCreate-strategy-*.json``,
``product-variants-bulk-delete-parity.json``) and the 2026-07 SDL's descriptions:

* productCreate makes one variant from the first value of every option (``Default Title`` without
  options); its userErrors name the input field without the argument (``["title"]``) and carry no code;
  the vendor defaults to the shop's name;
* productVariantsBulkCreate is all or nothing; a value not yet on an option is added to it; strategy
  ``DEFAULT`` drops the standalone ``Default Title`` variant, ``REMOVE_STANDALONE_VARIANT`` drops any
  single standalone variant, ``PRESERVE_STANDALONE_VARIANT`` keeps it;
* productVariantsBulkDelete refuses ids of another product and never deletes the last variant.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import rules, views
from sync_pipeline.sandbox.shopify.base import Rejected
from sync_pipeline.sandbox.shopify.products import ProductResolvers

MAX_TEXT = cat.MAX_TEXT


def _create_errors(given: dict[str, Any], errors: cat.UserErrors) -> None:
    title = given.get("title") or ""
    if not title.strip():
        errors.add(["title"], "Title can't be blank", None)
    elif len(title) > MAX_TEXT:
        errors.add(["title"], f"Title is too long (maximum is {MAX_TEXT} characters)", None)
    if len(given.get("vendor") or "") > MAX_TEXT:
        errors.add(["vendor"], f"Vendor is too long (maximum is {MAX_TEXT} characters)", None)
    if len(given.get("productType") or "") > MAX_TEXT:
        errors.add(["productType"], f"Product type is too long (maximum is {MAX_TEXT} characters)", None)
        errors.add(["customProductType"], f"Custom product type is too long (maximum is {MAX_TEXT} characters)", None)
    if given.get("handle") is not None and len(given["handle"]) > MAX_TEXT:
        errors.add(["handle"], f"Handle is too long (maximum is {MAX_TEXT} characters)", None)


def _as_set_input(given: dict[str, Any], media: list[dict[str, Any]] | None, vendor: str) -> dict[str, Any]:
    options = given.get("productOptions") or []
    set_input = {k: v for k, v in given.items() if k not in ("productOptions", "collectionsToJoin")}
    set_input.setdefault("vendor", vendor)
    if options:
        set_input["productOptions"] = options
        set_input["variants"] = [{"optionValues": [
            {"optionName": o.get("name"), "name": (o.get("values") or [{}])[0].get("name")} for o in options
        ]}]  # fmt: skip
    if media:
        set_input["files"] = [
            {"originalSource": m.get("originalSource"), "alt": m.get("alt"), "contentType": m.get("mediaContentType")}
            for m in media
        ]
    return set_input


def _bulk_input(given: dict[str, Any]) -> dict[str, Any]:
    """A ProductVariantsBulkInput in productSet's variant shape (sku and stock live elsewhere there)."""
    variant = dict(given)
    if (given.get("inventoryItem") or {}).get("sku") is not None:
        variant["sku"] = given["inventoryItem"]["sku"]
    variant["inventoryQuantities"] = [
        {"locationId": q["locationId"], "name": "available", "quantity": q["availableQuantity"]}
        for q in given.get("inventoryQuantities") or []
    ]
    return variant


class CreationResolvers(ProductResolvers):
    def productCreate(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        product: dict[str, Any] | None = None,
        input: dict[str, Any] | None = None,  # noqa: A002 - deprecated ProductInput, same meaning
        media: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        given = product or input or {}
        errors = cat.UserErrors()
        _create_errors(given, errors)
        if errors:
            return {"product": None, "userErrors": errors.errors}
        created: dict[str, Any] | None = None
        try:
            with self.state.transaction() as conn:
                created = self._apply_set(conn, _as_set_input(given, media, self.catalog.shop), None, None, errors)
                if created is None or errors:
                    raise Rejected
                self.catalog.save(conn, created, None)
        except Rejected:
            # productCreate names the input field alone: ["input", "title"] -> ["title"]
            return {"product": None, "userErrors": [
                dict(e, field=(e["field"] or [])[1:] or None) for e in errors.errors
            ]}  # fmt: skip
        return {"product": self._view(created), "userErrors": []}

    def productVariantsBulkCreate(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        productId: str,  # noqa: N803
        variants: list[dict[str, Any]],
        media: list[dict[str, Any]] | None = None,
        strategy: str = "DEFAULT",
    ) -> dict[str, Any]:
        errors = cat.UserErrors()
        failed = {"product": None, "productVariants": None, "userErrors": errors.errors}
        kept: list[dict[str, Any]] = []
        try:
            with self.state.transaction() as conn:
                found = self._product_or_reject(conn, productId, errors)
                options = [dict(o, values=list(o["values"])) for o in found["options"]]
                for i, variant in enumerate(variants):
                    self._add_option_values(conn, options, variant, i, errors)
                if errors:
                    raise Rejected
                kept = self._kept_variants(found, strategy)
                added_media = rules.build_media(self.catalog, conn, media or [], [], errors, ("media",))
                all_media = [*found["media"], *added_media]
                built = rules.build_variants(
                    self.catalog, conn, [*kept, *(_bulk_input(v) for v in variants)], options, found["variants"],
                    all_media, errors,
                )  # fmt: skip
                if errors:
                    raise Rejected
                used = {(s["name"], s["value"]) for v in built for s in v["selectedOptions"]}
                for option in options:  # a replaced standalone variant takes its option value with it
                    option["values"] = [v for v in option["values"] if (option["name"], v["name"]) in used]
                updated = dict(found, options=options, variants=built, media=all_media, updatedAt=cat.now_iso())
                self.catalog.save(conn, updated, found)
        except Rejected:
            for error in errors.errors:  # build_variants speaks productSet's paths: ["input", "variants", i, ...]
                if error["field"] and error["field"][:2] == ["input", "variants"]:
                    index = int(error["field"][2]) - len(kept) if len(error["field"]) > 2 else 0
                    error["field"] = ["variants", str(index), *error["field"][3:]]
                    error["code"] = "VARIANT_ALREADY_EXISTS" if "already exists" in error["message"] else "INVALID_INPUT"
                    if error["message"] == "Location not found":
                        error["field"] = error["field"][:3]
                        error["code"] = "TRACKED_VARIANT_LOCATION_NOT_FOUND"
                        error["message"] = "Quantity couldn't be set because the location was deleted."
            return failed
        new_ids = {v["id"] for v in built} - {v["id"] for v in found["variants"]}
        return {
            "product": self._view(updated),
            "productVariants": [views.variant_view(v, updated, self.at) for v in built if v["id"] in new_ids],
            "userErrors": [],
        }

    def _add_option_values(
        self, conn: Any, options: list[dict[str, Any]], variant: dict[str, Any], index: int, errors: cat.UserErrors
    ) -> None:
        given = variant.get("optionValues") or []
        named = [v.get("optionName") for v in given]
        for j, value in enumerate(given):
            option = next((o for o in options if o["name"] == value.get("optionName") or o["id"] == value.get("optionId")), None)
            if option is None:
                errors.add(["variants", index, "optionValues", j], "Option does not exist", "INVALID_INPUT")
                return
            if named.count(option["name"]) > 1:
                errors.add(["variants", index, "optionValues"], f"Duplicated option name '{option['name']}'", "INVALID_INPUT")
                return
            if value.get("name") and all(v["name"] != value["name"] for v in option["values"]):
                option["values"].append({"id": self.catalog.new_id(conn, "ProductOptionValue"), "name": value["name"]})
        missing = [o["name"] for o in options if o["name"] not in named and o["id"] not in {v.get("optionId") for v in given}]
        if missing:
            errors.add(["variants", index], f"You need to add option values for {', '.join(missing)}",
                       "NEED_TO_ADD_OPTION_VALUES")  # fmt: skip

    @staticmethod
    def _kept_variants(product: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
        """The product's variants, as productSet variant inputs, after the strategy's standalone rule."""
        current = product["variants"]
        standalone = len(current) == 1
        default = standalone and current[0]["title"] == "Default Title"
        if (strategy == "DEFAULT" and default) or (strategy == "REMOVE_STANDALONE_VARIANT" and standalone):
            return []
        return [{"id": v["id"], "optionValues": [{"optionName": s["name"], "name": s["value"]}
                                                 for s in v["selectedOptions"]]} for v in current]  # fmt: skip

    def productVariantsBulkDelete(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        productId: str,  # noqa: N803
        variantsIds: list[str],  # noqa: N803
    ) -> dict[str, Any]:
        errors = cat.UserErrors()
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, productId)
            if found is None:
                errors.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
                return {"product": None, "userErrors": errors.errors}
            ours = {v["id"] for v in found["variants"]}
            for i, variant_id in enumerate(variantsIds):
                if variant_id not in ours:
                    errors.add(["variantsIds", i], "At least one variant does not belong to the product",
                               "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT")  # fmt: skip
            remaining = [v for v in found["variants"] if v["id"] not in set(variantsIds)]
            if not errors and not remaining:
                errors.add(["variantsIds"], "Cannot delete the last variant of a product", "CANNOT_DELETE_LAST_VARIANT")
            if errors:
                return {"product": None, "userErrors": errors.errors}
            for position, variant in enumerate(remaining, start=1):
                variant["position"] = position
            updated = dict(found, variants=remaining, updatedAt=cat.now_iso())
            self.catalog.save(conn, updated, found)
        return {"product": self._view(updated), "userErrors": []}
