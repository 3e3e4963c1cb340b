"""Shopify sandbox: productSet, productUpdate and productDelete with Shopify's rules."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import channels, fields, rules
from sync_pipeline.sandbox.shopify.base import Rejected, ResolverBase


class ProductResolvers(ResolverBase):
    def productSet(  # noqa: N802
        self,
        _info: GraphQLResolveInfo,
        input: dict[str, Any],
        synchronous: bool = True,
        identifier: dict[str, Any] | None = None,  # noqa: A002
    ) -> dict[str, Any]:
        rules.check_input_sizes(input)
        errors = cat.UserErrors()
        product: dict[str, Any] | None = None
        try:
            with self.state.transaction() as conn:
                before = self._set_target(conn, input, identifier, errors)
                product = None if errors else self._apply_set(conn, input, identifier, before, errors)
                if product is None or errors:
                    raise Rejected  # roll back ids handed out while validating
                if not synchronous and before is None:  # created when the operation completes
                    product["pendingUntil"] = self.catalog.now + float(self.config.get("product_set_seconds") or 0)
                    product["pendingToken"] = self.catalog.request_token
                self.catalog.save(conn, product, before)
        except Rejected:
            product = None
        view = self._view(product) if product is not None else None
        if not synchronous:
            # Shopify answers CREATED with no product and runs the write later (recorded:
            # product-set-async-operation-parity.json in airhorns/shopify-draft-proxy). The sandbox writes
            # at once; a product it creates stays hidden until the operation completes: ACTIVE until
            # ``product_set_seconds`` of sandbox time have passed (default 0: the next request), then
            # COMPLETE with the product (or the userErrors). An update is visible at once.
            number = self.state.next_id("shopify:ProductSetOperation")
            done = {"id": cat.gid("ProductSetOperation", number), "status": "COMPLETE",
                    "productId": product["id"] if product is not None else None, "userErrors": errors.errors}  # fmt: skip
            self.state.put("shopify", self.catalog.shop, "product_operation", str(number), done)
            created = {"id": done["id"], "status": "CREATED", "product": None, "userErrors": []}
            return {"product": None, "productSetOperation": created, "userErrors": []}
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
        rules.validate_scalars(product_input, creating, errors)
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
        fields.apply_product_extras(product, product_input)
        if product_input.get("metafields") is not None:
            product["metafields"] = rules.replace_metafields(
                self.catalog, conn, product.get("metafields") or [], product_input["metafields"]
            )
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
            product["media"] = rules.build_media(
                self.catalog, conn, product_input["files"], product["media"], errors
            )
        if product_input.get("productOptions") is not None:
            product["options"] = rules.build_options(
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
            product["variants"] = rules.build_variants(
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
            product["variants"] = rules.build_variants(
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
        input: dict[str, Any] | None = None,  # noqa: A002 - deprecated ProductInput, same meaning
        media: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        changes = product or input or {}
        errors = cat.UserErrors()
        updated: dict[str, Any] = {}
        try:
            with self.state.transaction() as conn:
                target_id = (identifier or {}).get("id") or changes.get("id")
                if (identifier or {}).get("handle"):
                    found = self.catalog.locked_by_handle(conn, identifier["handle"])  # type: ignore[index]
                else:
                    found = self.catalog.locked_product(conn, target_id)
                if found is None:
                    errors.add(["id"], "Product does not exist", None)
                    raise Rejected
                rules.validate_scalars(changes, False, errors)
                if changes.get("category") is not None and not channels.known_category(changes["category"]):
                    errors.add(["category"], "The category does not exist.", None)
                if errors:
                    raise Rejected
                updated = dict(found)
                for key in ("title", "descriptionHtml", "vendor", "productType", "tags", "status", "category"):
                    if changes.get(key) is not None:
                        updated[key] = changes[key]
                fields.apply_product_extras(updated, changes)
                if changes.get("metafields") is not None:  # productUpdate adds or updates, never removes
                    updated["metafields"] = fields.merge_metafields(
                        found.get("metafields") or [], changes["metafields"],
                        lambda: self.catalog.new_id(conn, "Metafield"), cat.now_iso(),
                    )  # fmt: skip
                if changes.get("handle") and changes["handle"] != found["handle"]:
                    if self.catalog.locked_by_handle(conn, changes["handle"]) is not None:
                        errors.add(["handle"], "Handle has already been taken", None)
                        raise Rejected
                    updated["handle"] = changes["handle"]
                if media:  # CreateMediaInput: appended after the product's media, as productCreateMedia does
                    added = rules.build_media(self.catalog, conn, media, [], errors, ("media",))
                    if errors:
                        raise Rejected  # roll back the media ids handed out
                    updated["media"] = [*found["media"], *added]
                updated["updatedAt"] = cat.now_iso()
                self.catalog.save(conn, updated, found)
        except Rejected:
            return {"product": None, "userErrors": errors.errors}
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
