"""The Shopify sandbox's products: storage, read views and the product mutations' rules.

Products are stored whole (one JSON document per product, options, variants, media and stock
included) in the sandbox state, with small index documents by handle, SKU and inventory item, all
written in one transaction per mutation. Behaviour follows contract section 1:

* ``productSet`` (1.2): ``identifier`` handle/id is an upsert; without one every call creates a new
  product and a taken handle gets a numeric suffix; ``input.id`` with ``identifier`` is
  ``ID_NOT_ALLOWED``; list fields given (options, variants, files) replace the stored lists, scalar
  fields left out stay as they are. A variant without ``id`` is a new variant (new ids), as the
  schema says ("create a new variant if absent").
* limits (1.10): title/handle/vendor/productType <= 255, <= 3 options, <= 100 values an option,
  <= 2048 variants and <= 250 files (larger inputs are a top-level ``MAX_INPUT_SIZE_EXCEEDED``),
  SKU <= 255, duplicate option tuples rejected per variant index.
* media (1.5): a file's ``originalSource`` becomes a MediaImage. The sandbox does no download, so an
  http(s) URL is READY at once and anything else is FAILED (Shopify goes UPLOADED, PROCESSING,
  READY or FAILED asynchronously).
* customId identifiers need a metafield definition of type ``id``; the sandbox stores have none,
  so such lookups fail as on a store without one.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

from sync_pipeline.sandbox.shopify import fields, paging
from sync_pipeline.sandbox.shopify.sorting import sort_variants
from sync_pipeline.sandbox.state import SandboxState

PLATFORM = "shopify"
MAX_VARIANTS = 2048
MAX_FILES = 250
MAX_OPTIONS = 3
MAX_OPTION_VALUES = 100
MAX_TEXT = 255
MAX_INVENTORY_QUANTITIES = 50_000
QUANTITY_NAMES = ("available", "on_hand")


class InputTooLarge(GraphQLError):
    """A list argument over Shopify's size limit: a top-level error and no ``data`` at all."""

    def __init__(self, size: int, maximum: int, path: list[str | int]) -> None:
        super().__init__(
            f"The input array size of {size} is greater than the maximum allowed of {maximum}.",
            path=path,
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )


@dataclass
class UserErrors:
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, path: list[Any], message: str, code: str | None) -> None:
        error: dict[str, Any] = {"field": [str(p) for p in path] if path else None, "message": message}
        if code is not None:
            error["code"] = code
        self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str | None, kind: str) -> str | None:
    prefix = f"gid://shopify/{kind}/"
    if value and value.startswith(prefix) and value[len(prefix) :].isdigit():
        return value[len(prefix) :]
    return None


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


def money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


class Catalog:
    """One shop's products in the sandbox state. Mutating methods take an open transaction."""

    def __init__(self, state: SandboxState, shop: str, locations: list[str]) -> None:
        self.state = state
        self.shop = shop
        self.locations = locations

    # -- raw documents inside a transaction --------------------------------------------------

    def _get(self, conn: sqlite3.Connection, kind: str, doc_id: str) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT body FROM docs WHERE platform=? AND store=? AND kind=? AND doc_id=?",
            (PLATFORM, self.shop, kind, doc_id),
        ).fetchone()
        return None if row is None else json.loads(row[0])  # type: ignore[no-any-return]

    def _put(self, conn: sqlite3.Connection, kind: str, doc_id: str, body: dict[str, Any]) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)",
            (PLATFORM, self.shop, kind, doc_id, json.dumps(body)),
        )

    def _delete(self, conn: sqlite3.Connection, kind: str, doc_id: str) -> None:
        conn.execute(
            "DELETE FROM docs WHERE platform=? AND store=? AND kind=? AND doc_id=?",
            (PLATFORM, self.shop, kind, doc_id),
        )

    def _next(self, conn: sqlite3.Connection, name: str) -> int:
        # the state's counters, inside the caller's transaction (state.next_id opens its own)
        key = f"{PLATFORM}:{name}"
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (key,)).fetchone()
        value = int(row[0] if row else 1000) + 1
        conn.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (key, value))
        return value

    # -- reads -------------------------------------------------------------------------------

    def product(self, product_gid: str | None) -> dict[str, Any] | None:
        number = gid_number(product_gid, "Product")
        return None if number is None else self.state.get(PLATFORM, self.shop, "product", number)

    def product_by_handle(self, handle: str) -> dict[str, Any] | None:
        index = self.state.get(PLATFORM, self.shop, "handle", handle)
        return None if index is None else self.state.get(PLATFORM, self.shop, "product", index["product"])

    def products(self) -> list[dict[str, Any]]:
        return self.state.list(PLATFORM, self.shop, "product")

    def products_with_sku(self, sku: str) -> list[dict[str, Any]]:
        index = self.state.get(PLATFORM, self.shop, "sku", sku) or {"products": []}
        found = [self.state.get(PLATFORM, self.shop, "product", n) for n in index["products"]]
        return [p for p in found if p is not None]

    # -- writes ------------------------------------------------------------------------------

    def save(self, conn: sqlite3.Connection, product: dict[str, Any], before: dict[str, Any] | None) -> None:
        number = gid_number(product["id"], "Product")
        assert number is not None
        if before is not None:
            self._unindex(conn, number, before)
        self._put(conn, "product", number, product)
        self._put(conn, "handle", product["handle"], {"product": number})
        for variant in product["variants"]:
            if variant.get("sku"):
                index = self._get(conn, "sku", variant["sku"]) or {"products": []}
                if number not in index["products"]:
                    index["products"].append(number)
                self._put(conn, "sku", variant["sku"], index)
            self._put(conn, "inventory_item", variant["inventoryItem"]["id"], {"product": number})

    def remove(self, conn: sqlite3.Connection, product: dict[str, Any]) -> None:
        number = gid_number(product["id"], "Product")
        assert number is not None
        self._unindex(conn, number, product)
        self._delete(conn, "product", number)

    def _unindex(self, conn: sqlite3.Connection, number: str, product: dict[str, Any]) -> None:
        self._delete(conn, "handle", product["handle"])
        for variant in product["variants"]:
            if variant.get("sku"):
                index = self._get(conn, "sku", variant["sku"]) or {"products": []}
                index["products"] = [n for n in index["products"] if n != number]
                if index["products"]:
                    self._put(conn, "sku", variant["sku"], index)
                else:
                    self._delete(conn, "sku", variant["sku"])
            self._delete(conn, "inventory_item", variant["inventoryItem"]["id"])

    def locked_product(self, conn: sqlite3.Connection, product_gid: str | None) -> dict[str, Any] | None:
        number = gid_number(product_gid, "Product")
        return None if number is None else self._get(conn, "product", number)

    def locked_by_handle(self, conn: sqlite3.Connection, handle: str) -> dict[str, Any] | None:
        index = self._get(conn, "handle", handle)
        return None if index is None else self._get(conn, "product", index["product"])

    def locked_by_inventory_item(self, conn: sqlite3.Connection, item_gid: str) -> dict[str, Any] | None:
        index = self._get(conn, "inventory_item", item_gid)
        return None if index is None else self._get(conn, "product", index["product"])

    def free_handle(self, conn: sqlite3.Connection, wanted: str) -> str:
        """``wanted``, or with a numeric suffix when taken (as observed: ``…-1784466577199``)."""
        handle = wanted
        suffix = int(time.time() * 1000)
        while self._get(conn, "handle", handle) is not None:
            handle = f"{wanted[: MAX_TEXT - 14]}-{suffix}"
            suffix += 1
        return handle

    def new_id(self, conn: sqlite3.Connection, kind: str) -> str:
        return gid(kind, self._next(conn, kind))

    def remember(self, conn: sqlite3.Connection, key: str, body: dict[str, Any]) -> None:
        self._put(conn, "idempotency", key, body)

    def recall(self, conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
        return self._get(conn, "idempotency", key)


# ---- productSet ----------------------------------------------------------------------------


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
    catalog: Catalog,
    conn: sqlite3.Connection,
    given: list[dict[str, Any]],
    before: list[dict[str, Any]],
    errors: UserErrors,
) -> list[dict[str, Any]]:
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
                "status": "READY" if ready else "FAILED",
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


# ---- read views (dicts the GraphQL executor walks; callables take the field's arguments) ------


def product_view(product: dict[str, Any]) -> dict[str, Any]:
    media = product["media"]
    view = {k: v for k, v in product.items() if k not in ("variants", "media", "options")}
    view.update(
        {
            "options": lambda _info, first=None: [
                _option_view(o, product) for o in product["options"][: first or None]
            ],
            "variants": lambda _info, sortKey="POSITION", **page: paging.connection(  # noqa: N803
                sort_variants(product["variants"], sortKey), lambda v: variant_view(v, product), sort=sortKey, **page
            ),
            "variantsCount": {"count": len(product["variants"]), "precision": "EXACT"},
            "media": lambda _info, sortKey="POSITION", query=None, **page: paging.connection(  # noqa: N803
                sorted(media, key=lambda m: int(gid_number(m["id"], "MediaImage") or 0)) if sortKey == "ID" else media,
                _media_view,
                sort=sortKey,
                **page,
            ),
            "mediaCount": {"count": len(media), "precision": "EXACT"},
            "featuredMedia": _media_view(media[0]) if media else None,
            **fields.product_fields(product),
        }
    )
    return view


def _option_view(option: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    used = {
        s["value"] for v in product["variants"] for s in v["selectedOptions"] if s["name"] == option["name"]
    }
    return {
        "id": option["id"],
        "name": option["name"],
        "position": option["position"],
        "values": [v["name"] for v in option["values"] if v["name"] in used],  # only values with variants
        "optionValues": [dict(v, hasVariants=v["name"] in used) for v in option["values"]],
    }


def variant_view(variant: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in variant.items() if k not in ("inventory", "mediaId")}
    view["inventoryQuantity"] = sum(variant["inventory"].values())
    view["product"] = lambda _info: product_view(product)
    view.update(fields.variant_fields(variant))
    return view


def _media_view(media: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in media.items() if k != "originalSource"}


# ---- search syntax (products / productVariants ``query``) ----------------------------------

_TERM = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))|(\S+)')


def parse_search(query: str | None) -> list[tuple[str | None, str]]:
    """``sku:ABC handle:"x y" free text`` -> [("sku","ABC"), ("handle","x y"), (None,"free"), ...]."""
    terms: list[tuple[str | None, str]] = []
    for match in _TERM.finditer(query or ""):
        name, quoted, bare, free = match.groups()
        if name:
            terms.append((name.lower(), quoted if quoted is not None else bare))
        else:
            terms.append((None, free))
    return terms


def product_matches(product: dict[str, Any], terms: list[tuple[str | None, str]]) -> bool:
    for name, value in terms:
        if name == "sku" and not any(v.get("sku") == value for v in product["variants"]):
            return False
        if name == "handle" and product["handle"] != value:
            return False
        if name == "tag" and value not in product.get("tags", []):
            return False
        if name == "status" and product["status"].lower() != value.lower():
            return False
        if name == "id" and gid_number(product["id"], "Product") != value:
            return False
        if name in (None, "title") and value.lower() not in product["title"].lower():
            return False
    return True


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
