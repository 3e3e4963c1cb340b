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
* media (1.5): a file's ``originalSource`` becomes a MediaImage, UPLOADED in the answer that creates
  it, PROCESSING until the store's ``media_processing_seconds`` (sandbox clock) have passed, then
  READY for an http(s) URL and FAILED for anything else (the sandbox downloads nothing).
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
        # set per request by the resolvers: media written now is UPLOADED in this answer, then
        # PROCESSING until ``now + media_seconds``, then READY (or FAILED)
        self.request_token: str | None = None
        self.now = 0.0
        self.media_seconds = 0.0

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

    def visible(self, product: dict[str, Any] | None) -> dict[str, Any] | None:
        """The product unless an asynchronous productSet creating it has not completed yet: not in the
        answer of the request that sent it, nor before its ``pendingUntil`` (sandbox time)."""
        if product is None or "pendingUntil" not in product:
            return product
        waiting = product.get("pendingToken") == self.request_token or self.now < float(product["pendingUntil"])
        return None if waiting else product

    def product(self, product_gid: str | None) -> dict[str, Any] | None:
        number = gid_number(product_gid, "Product")
        return None if number is None else self.visible(self.state.get(PLATFORM, self.shop, "product", number))

    def product_by_handle(self, handle: str) -> dict[str, Any] | None:
        index = self.state.get(PLATFORM, self.shop, "handle", handle)
        return None if index is None else self.product(gid("Product", index["product"]))

    def product_exists(self, product_gid: str) -> bool:
        """Stored, whether or not visible yet (an asynchronous productSet still running)."""
        number = gid_number(product_gid, "Product")
        return number is not None and self.state.get(PLATFORM, self.shop, "product", number) is not None

    def products(self) -> list[dict[str, Any]]:
        return [p for p in self.state.list(PLATFORM, self.shop, "product") if self.visible(p) is not None]

    def products_with_sku(self, sku: str) -> list[dict[str, Any]]:
        index = self.state.get(PLATFORM, self.shop, "sku", sku) or {"products": []}
        found = [self.product(gid("Product", n)) for n in index["products"]]
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

    def put_file(self, conn: sqlite3.Connection, record: dict[str, Any]) -> None:
        """A file of the shop's Files (fileCreate), by its id."""
        self._put(conn, "file", record["id"], record)

    def file(self, file_gid: str) -> dict[str, Any] | None:
        return self.state.get(PLATFORM, self.shop, "file", file_gid)

    def remember(self, conn: sqlite3.Connection, key: str, body: dict[str, Any]) -> None:
        self._put(conn, "idempotency", key, body)

    def recall(self, conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
        return self._get(conn, "idempotency", key)


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
