"""productSet's rules in the Shopify sandbox: sizes and lengths, options, variants, media and metafields
(contract 1.2, 1.5 and 1.10; wording from Shopify's recorded answers, see ``catalog``'s notes)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sync_pipeline.sandbox.shopify import fields
from sync_pipeline.sandbox.shopify.catalog import (
    MAX_FILES,
    MAX_INVENTORY_QUANTITIES,
    MAX_OPTION_VALUES,
    MAX_OPTIONS,
    MAX_TEXT,
    MAX_VARIANTS,
    QUANTITY_NAMES,
    Catalog,
    InputTooLarge,
    UserErrors,
    gid,
    money,
    now_iso,
)


def check_input_sizes(product_input: dict[str, Any]) -> None:
    for name, maximum in (("variants", MAX_VARIANTS), ("files", MAX_FILES)):
        items = product_input.get(name) or []
        if len(items) > maximum:
            raise InputTooLarge(len(items), maximum, ["productSet", "input", name])


def validate_scalars(product_input: dict[str, Any], creating: bool, errors: UserErrors) -> None:
    title = product_input.get("title")
    if creating and not (title or "").strip():
        errors.add(["input", "title"], "Title can't be blank", "INVALID_PRODUCT")
    if title is not None and len(title) > MAX_TEXT:
        errors.add(["input", "title"], f"is too long (maximum is {MAX_TEXT} characters)", "INVALID_PRODUCT")
        if creating and product_input.get("handle") is None:
            errors.add(["input"], f"Handle is too long (maximum is {MAX_TEXT} characters)", "INVALID_PRODUCT")
    for key, label in (("handle", "Handle"), ("vendor", "Vendor"), ("productType", "Product type")):
        value = product_input.get(key)
        if value is not None and len(value) > MAX_TEXT:
            errors.add(
                ["input"], f"{label} is too long (maximum is {MAX_TEXT} characters)", "INVALID_PRODUCT"
            )
            if key == "productType":  # recorded: Shopify reports the custom product type as well
                errors.add(["input"], f"Custom product type is too long (maximum is {MAX_TEXT} characters)",
                           "INVALID_PRODUCT")  # fmt: skip


def build_options(
    catalog: Catalog, conn: sqlite3.Connection, given: list[dict[str, Any]], before: list[dict[str, Any]],
    errors: UserErrors,
) -> list[dict[str, Any]]:  # fmt: skip
    if len(given) > MAX_OPTIONS:
        errors.add(
            ["input", "productOptions"],
            f"Can only specify a maximum of {MAX_OPTIONS} options",
            "OPTIONS_OVER_LIMIT",
        )
        return []
    previous = {o["name"]: o for o in before}
    options: list[dict[str, Any]] = []
    for i, option in enumerate(given):
        path: list[Any] = ["input", "productOptions", i]
        name = (option.get("name") or "").strip()
        values = option.get("values") or []
        if not name:
            errors.add([*path, "name"], "Option name can't be blank", "INVALID_INPUT")
            continue
        if any(o["name"].lower() == name.lower() for o in options):
            errors.add([*path, "name"], f"Option '{name}' already exists", "DUPLICATED_OPTION_NAME")
            continue
        if not values:
            errors.add(
                [*path, "values"],
                "Each option must have at least one option value specified.",
                "OPTION_VALUES_MISSING",
            )
            continue
        if len(values) > MAX_OPTION_VALUES:
            errors.add(
                [*path, "values"],
                f"Option '{name}' has over {MAX_OPTION_VALUES} values",
                "OPTION_VALUES_OVER_LIMIT",
            )
            continue
        names = [(v.get("name") or "").strip() for v in values]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            errors.add(
                [*path, "values"],
                f"Duplicated option value '{sorted(duplicated)[0]}'",
                "DUPLICATED_OPTION_VALUE",
            )
            continue
        old = previous.get(name) or {"id": None, "values": []}
        old_values = {v["name"]: v["id"] for v in old["values"]}
        options.append(
            {
                "id": old["id"] or catalog.new_id(conn, "ProductOption"),
                "name": name,
                "position": option.get("position") or i + 1,
                "values": [
                    {"id": old_values.get(n) or catalog.new_id(conn, "ProductOptionValue"), "name": n}
                    for n in names
                ],
            }
        )
    options.sort(key=lambda o: o["position"])
    for position, option in enumerate(options, start=1):
        option["position"] = position
    return options


def build_variants(
    catalog: Catalog,
    conn: sqlite3.Connection,
    given: list[dict[str, Any]],
    options: list[dict[str, Any]],
    before: list[dict[str, Any]],
    media: list[dict[str, Any]],
    errors: UserErrors,
) -> list[dict[str, Any]]:
    previous = {v["id"]: v for v in before}
    seen: dict[tuple[str, ...], int] = {}
    inventory_total = sum(len(v.get("inventoryQuantities") or []) for v in given)
    if inventory_total > MAX_INVENTORY_QUANTITIES:
        errors.add(
            ["input", "variants"],
            f"Inventory quantity input exceeds the limit of {MAX_INVENTORY_QUANTITIES}. "
            "Consider using separate `inventorySetQuantities` mutations.",
            "INVENTORY_QUANTITIES_LIMIT_EXCEEDED",
        )
        return []
    variants: list[dict[str, Any]] = []
    for i, variant_input in enumerate(given):
        path: list[Any] = ["input", "variants", i]
        selected = _selected_options(variant_input.get("optionValues") or [], options, path, errors)
        if selected is None:
            continue
        key = tuple(s["value"] for s in selected)
        if key in seen:
            title = " / ".join(key)
            errors.add(
                path,
                f"The variant '{title}' already exists. Please change at least one option value.",
                "INVALID_VARIANT",
            )
            continue
        seen[key] = i
        variant = _variant(catalog, conn, variant_input, previous, selected, path, media, errors)
        if variant is not None:
            variant["position"] = variant_input.get("position") or len(variants) + 1
            variants.append(variant)
    variants.sort(key=lambda v: v["position"])
    return variants


def _selected_options(
    option_values: list[dict[str, Any]], options: list[dict[str, Any]], path: list[Any], errors: UserErrors
) -> list[dict[str, str]] | None:
    chosen: dict[str, str] = {}
    for j, value in enumerate(option_values):
        option = next(
            (
                o
                for o in options
                if o["name"] == value.get("optionName")
                or (value.get("optionId") and o["id"] == value.get("optionId"))
            ),
            None,
        )
        if option is None:
            errors.add([*path, "optionValues", j], "Option does not exist", "OPTION_DOES_NOT_EXIST")
            return None
        match = next(
            (
                v
                for v in option["values"]
                if v["name"] == value.get("name") or (value.get("id") and v["id"] == value.get("id"))
            ),
            None,
        )
        if match is None:
            errors.add(
                [*path, "optionValues", j], "Option value does not exist", "OPTION_VALUE_DOES_NOT_EXIST"
            )
            return None
        chosen[option["name"]] = match["name"]
    if len(chosen) != len(options):
        errors.add(
            [*path, "optionValues"],
            "The variant must have a value for every product option",
            "INVALID_VARIANT",
        )
        return None
    return [{"name": o["name"], "value": chosen[o["name"]]} for o in options]


def _variant(
    catalog: Catalog,
    conn: sqlite3.Connection,
    variant_input: dict[str, Any],
    previous: dict[str, dict[str, Any]],
    selected: list[dict[str, str]],
    path: list[Any],
    media: list[dict[str, Any]],
    errors: UserErrors,
) -> dict[str, Any] | None:
    old: dict[str, Any] | None = None
    if variant_input.get("id") is not None:
        old = previous.get(variant_input["id"])
        if old is None:
            errors.add([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
            return None
    variant: dict[str, Any] = (
        dict(old)
        if old
        else {
            "id": catalog.new_id(conn, "ProductVariant"),
            "inventoryItem": {"id": catalog.new_id(conn, "InventoryItem"), "sku": None, "tracked": True},
            "price": "0.00",
            "compareAtPrice": None,
            "sku": None,
            "barcode": None,
            "inventory": {},
            "mediaId": None,
        }
    )
    ok = True
    for key in ("price", "compareAtPrice"):
        if key in variant_input:
            raw = variant_input[key]
            amount = None if raw is None else money(raw)
            if raw is not None and (amount is None or amount < 0):
                errors.add(
                    [*path, key],
                    f"{'Price' if key == 'price' else 'Compare at price'} must be a non-negative amount",
                    "INVALID_VARIANT",
                )
                ok = False
            elif key == "price" and amount is None:
                errors.add([*path, key], "Price can't be blank", "INVALID_VARIANT")
                ok = False
            else:
                variant[key] = None if amount is None else str(amount)
    sku = variant_input.get("sku", (variant_input.get("inventoryItem") or {}).get("sku"))
    if sku is not None and len(sku) > MAX_TEXT:
        errors.add([*path, "sku"], f"SKU is too long (maximum is {MAX_TEXT} characters)", "INVALID_VARIANT")
        ok = False
    if "sku" in variant_input or (variant_input.get("inventoryItem") or {}).get("sku") is not None:
        variant["sku"] = sku
    if "barcode" in variant_input:
        variant["barcode"] = variant_input["barcode"]
    item = dict(variant["inventoryItem"], sku=variant["sku"])
    if (variant_input.get("inventoryItem") or {}).get("tracked") is not None:
        item["tracked"] = variant_input["inventoryItem"]["tracked"]
    variant["inventoryItem"] = item
    inventory = dict(variant.get("inventory") or {})
    for k, quantity in enumerate(variant_input.get("inventoryQuantities") or []):
        qpath = [*path, "inventoryQuantities", k]
        if quantity["locationId"] not in catalog.locations:
            errors.add([*qpath, "locationId"], "Location not found", "INVALID_INPUT")
            ok = False
        elif quantity["name"] not in QUANTITY_NAMES:
            errors.add(
                [*qpath, "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_INPUT",
            )
            ok = False
        else:
            inventory[quantity["locationId"]] = quantity["quantity"]
    variant["inventory"] = inventory
    file_input = variant_input.get("file")
    if file_input is not None:
        wanted = file_input.get("id") or file_input.get("originalSource")
        found = next((m for m in media if wanted in (m["id"], m.get("originalSource"))), None)
        if found is None:
            errors.add(
                [*path, "file"],
                "The variant's file must also be one of the product's files",
                "INVALID_VARIANT",
            )
            ok = False
        else:
            variant["mediaId"] = found["id"]
    fields.apply_variant_extras(variant, variant_input)
    if variant_input.get("metafields") is not None:
        variant["metafields"] = replace_metafields(catalog, conn, variant.get("metafields") or [],
                                                   variant_input["metafields"])  # fmt: skip
    variant["selectedOptions"] = selected
    variant["title"] = " / ".join(s["value"] for s in selected)
    return variant if ok else None


def replace_metafields(
    catalog: Catalog, conn: sqlite3.Connection, current: list[dict[str, Any]], given: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """productSet's rule for list fields: the metafields given are the owner's metafields afterwards."""
    wanted = {(m.get("namespace") or fields.APP_NAMESPACE, m.get("key")) for m in given}
    kept = [m for m in current if (m["namespace"], m["key"]) in wanted]
    return fields.merge_metafields(kept, given, lambda: catalog.new_id(conn, "Metafield"), now_iso())


def build_media(
    catalog: Catalog,
    conn: sqlite3.Connection,
    files: list[dict[str, Any]],
    before: list[dict[str, Any]],
    errors: UserErrors,
    path: tuple[str, ...] = ("input", "files"),
) -> list[dict[str, Any]]:
    existing = {m["id"]: m for m in before}
    media = []
    for i, file in enumerate(files):
        if file.get("id"):
            found = existing.get(file["id"])
            if found is None:
                errors.add([*path, i, "id"], "File does not exist", "INVALID_INPUT")
                continue
            media.append(dict(found, alt=file.get("alt", found.get("alt"))))
            continue
        source = file.get("originalSource")
        if not source:
            errors.add([*path, i], "Either id or originalSource must be given", "INVALID_INPUT")
            continue
        media_id = catalog.new_id(conn, "MediaImage")
        ready = source.startswith(("http://", "https://"))
        media.append(
            {
                "__typename": "MediaImage",
                "id": media_id,
                "alt": file.get("alt") or "",
                "mediaContentType": "IMAGE",
                "status": "READY" if ready else "FAILED",  # where processing ends
                "uploadedBy": catalog.request_token,
                "readyAt": catalog.now + catalog.media_seconds,
                "originalSource": source,
                "image": {
                    "id": gid("ImageSource", media_id.rsplit("/", 1)[1]),
                    "url": source,
                    "altText": file.get("alt"),
                    "width": None,
                    "height": None,
                }
                if ready
                else None,
            }
        )
    return media


