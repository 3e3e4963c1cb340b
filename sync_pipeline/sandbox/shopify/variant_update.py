"""One ``ProductVariantsBulkInput`` of ``productVariantsBulkUpdate`` applied to a stored variant.

Every field the sandbox models is applied: ``price``, ``compareAtPrice``, ``barcode``, the SKU
(``inventoryItem.sku``: the 2026-07 input has no top-level ``sku``), ``inventoryPolicy``,
``taxable``, ``taxCode``, the inventory item's ``requiresShipping``, ``tracked``, ``cost``,
``measurement.weight`` and origin codes (``fields.apply_variant_extras``), ``optionValues`` (an
option changed by name; a new value name is added to the option, as Shopify does), ``mediaId`` and
``metafields`` (set by namespace and key, the others kept).

Refusals, field paths and codes as Shopify answers them (recorded by airhorns/shopify-draft-proxy,
``2025-01/products/product-variants-bulk-*`` captures, and the ``ProductVariantsBulkUpdateUserErrorCode``
descriptions of the 2026-07 schema):

* ``inventoryQuantities`` given: ``[variants, i, inventoryQuantities]`` "Inventory quantities can
  only be provided during create. To update inventory for existing variants, use
  inventoryAdjustQuantities." ``NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE``;
* ``inventoryItem.sku`` over 255 characters: two errors on ``[variants, i]``, "SKU is too long
  (maximum is 255 characters)" ``INVALID_INPUT`` and "is too long (maximum is 255 characters)" with
  no code; ``barcode`` over 255: ``[variants, i, barcode]`` "Barcode is too long (maximum is 255
  characters)" ``INVALID_INPUT``;
* a negative weight: ``[variants, i]`` "Weight must be greater than or equal to 0"
  ``GREATER_THAN_OR_EQUAL_TO``;
* ``optionValues``: an unknown option ``[variants, i, optionValues, j]`` "Option does not exist"
  ``OPTION_DOES_NOT_EXIST``; ``optionId`` with ``optionName`` "cannot specify both `optionId` and
  `optionName`" ``INVALID_INPUT``; a value name over 255 ``[variants, i, optionValues, j, name]``
  "Option value name is too long" ``INVALID_INPUT``; an unknown value id "Option value does not
  exist" ``OPTION_VALUE_DOES_NOT_EXIST``; two variants with the same options ``[variants, i]`` "The
  variant '<S / Red>' already exists. Please change at least one option value."
  ``VARIANT_ALREADY_EXISTS`` (the recorded capture's code is not in 2026-07's enum; this is the one
  the enum describes as "The variant already exists");
* ``mediaId`` that is not one of the product's media: ``[variants, i, mediaId]`` "Media does not
  exist" ``INVALID_INPUT`` (no recorded answer found for this case: wording is the sandbox's own).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import fields
from sync_pipeline.sandbox.shopify.catalog import MAX_TEXT

INVENTORY_ON_UPDATE = (
    "Inventory quantities can only be provided during create. To update inventory for existing variants, "
    "use inventoryAdjustQuantities."
)


def apply_change(
    catalog: cat.Catalog,
    conn: sqlite3.Connection,
    change: dict[str, Any],
    variant: dict[str, Any],
    options: list[dict[str, Any]],
    media_ids: set[str],
    path: list[Any],
    errors: cat.UserErrors,
) -> None:
    """Apply ``change`` to ``variant`` (a copy the caller saves only when no error was added)."""
    if "inventoryQuantities" in change:
        errors.add([*path, "inventoryQuantities"], INVENTORY_ON_UPDATE, "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE")
    item_input = change.get("inventoryItem") or {}
    sku = item_input.get("sku")
    if sku is not None and len(sku) > MAX_TEXT:
        errors.add(path, f"SKU is too long (maximum is {MAX_TEXT} characters)", "INVALID_INPUT")
        errors.add(path, f"is too long (maximum is {MAX_TEXT} characters)", None)
    barcode = change.get("barcode")
    if barcode is not None and len(barcode) > MAX_TEXT:
        errors.add([*path, "barcode"], f"Barcode is too long (maximum is {MAX_TEXT} characters)", "INVALID_INPUT")
    weight = ((item_input.get("measurement") or {}).get("weight") or {}).get("value")
    if weight is not None and float(weight) < 0:
        errors.add(path, "Weight must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO")
    if change.get("mediaId") is not None and change["mediaId"] not in media_ids:
        errors.add([*path, "mediaId"], "Media does not exist", "INVALID_INPUT")
    selected = _selected(catalog, conn, change.get("optionValues"), variant, options, path, errors)
    if "barcode" in change:
        variant["barcode"] = barcode
    if "sku" in item_input:
        variant["sku"] = sku
        variant["inventoryItem"] = dict(variant["inventoryItem"], sku=sku)
    if "mediaId" in change:
        variant["mediaId"] = change["mediaId"]
    fields.apply_variant_extras(variant, change)
    if change.get("metafields") is not None:
        variant["metafields"] = fields.merge_metafields(
            variant.get("metafields") or [], change["metafields"], lambda: catalog.new_id(conn, "Metafield"),
            cat.now_iso(),
        )  # fmt: skip
    if selected is not None:
        variant["selectedOptions"] = selected
        variant["title"] = " / ".join(s["value"] for s in selected)


def _selected(
    catalog: cat.Catalog,
    conn: sqlite3.Connection,
    given: list[dict[str, Any]] | None,
    variant: dict[str, Any],
    options: list[dict[str, Any]],
    path: list[Any],
    errors: cat.UserErrors,
) -> list[dict[str, str]] | None:
    """The variant's options after ``given`` (options not named keep their value); None: unchanged."""
    if not given:
        return None
    chosen = {s["name"]: s["value"] for s in variant["selectedOptions"]}
    for j, value in enumerate(given):
        where = [*path, "optionValues", j]
        if value.get("optionId") is not None and value.get("optionName") is not None:
            errors.add(where, "cannot specify both `optionId` and `optionName`", "INVALID_INPUT")
            return None
        option = next((o for o in options if value.get("optionName") == o["name"]
                       or (value.get("optionId") and value.get("optionId") == o["id"])), None)  # fmt: skip
        if option is None:
            errors.add(where, "Option does not exist", "OPTION_DOES_NOT_EXIST")
            return None
        name = value.get("name")
        if name is not None and len(name) > MAX_TEXT:
            errors.add([*where, "name"], "Option value name is too long", "INVALID_INPUT")
            return None
        found = next((v for v in option["values"] if v["name"] == name or (value.get("id") and v["id"] == value["id"])),
                     None)  # fmt: skip
        if found is None and name is None:
            errors.add(where, "Option value does not exist", "OPTION_VALUE_DOES_NOT_EXIST")
            return None
        if found is None:
            found = {"id": catalog.new_id(conn, "ProductOptionValue"), "name": name}
            option["values"].append(found)
        chosen[option["name"]] = found["name"]
    return [{"name": o["name"], "value": chosen.get(o["name"], "")} for o in options]


def duplicate_errors(variants: list[dict[str, Any]], changed: list[tuple[int, str]], errors: cat.UserErrors) -> None:
    """Two variants left with the same options: the first changed one that collides is refused."""
    seen: dict[tuple[str, ...], str] = {}
    for variant in variants:
        seen.setdefault(tuple(s["value"] for s in variant["selectedOptions"]), variant["id"])
    by_id = {v["id"]: v for v in variants}
    for index, variant_id in changed:
        key = tuple(s["value"] for s in by_id[variant_id]["selectedOptions"])
        if seen[key] != variant_id or sum(
            1 for v in variants if tuple(s["value"] for s in v["selectedOptions"]) == key
        ) > 1:
            errors.add(["variants", index], f"The variant '{' / '.join(key)}' already exists. "
                       "Please change at least one option value.", "VARIANT_ALREADY_EXISTS")  # fmt: skip
            return
