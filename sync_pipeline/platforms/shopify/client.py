"""Shopify store client: Admin GraphQL API (contract section 1), one ``productSet`` per listing.

* Creates and updates go through ``productSet`` with ``identifier: {handle}`` (contract 5): an
  upsert, so a retry after a lost response updates the product it already created.
* Prices change through ``productVariantsBulkUpdate``; stock through ``inventorySetQuantities``
  with the ``@idempotent`` key Shopify requires since 2026-04 and ``changeFromQuantity: null``
  (Magento is the source of truth for stock, contract 5).
* Delisting sets the status to DRAFT (hidden from every sales channel, kept with its history and
  relisted by one status change; ARCHIVED is meant for products that are gone for good) and the
  stock to 0.
* The parent SKU is kept as a product tag ``sku:<SKU>``: it lets ``find_by_sku`` find configurable
  products (whose variants carry only the child SKUs) and marks the product as the pipeline's.
  ``productSet`` replaces the whole tag list, so tags are sent only when a product is created;
  afterwards the marker is added with ``tagsAdd`` when missing (an adopted product) and removed with
  ``tagsRemove`` when an adoption is rolled back: the merchant's own tags are never overwritten.
* Publications, category, media and the transport are described where they live: catalog.py
  (publications, taxonomy, media look-ups), product_input.py (the ``productSet`` input, media
  files), reads.py (reading products back), graphql.py (tokens, rate limit, error classes),
  documents.py (every document and its requested cost), bulk.py (bulk mutations).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import (
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    StoreClient,
)
from sync_pipeline.platforms.shopify.catalog import published_ids
from sync_pipeline.platforms.shopify.documents import (
    INVENTORY_SET,
    PRODUCT_DELETE,
    PRODUCT_RESTORE,
    PRODUCT_SET,
    PRODUCT_STATUS_UPDATE,
    TAGS_ADD,
    TAGS_REMOVE,
    UNPUBLISH,
    VARIANT_PRICES_UPDATE,
    cost_of_product_set,
)
from sync_pipeline.platforms.shopify.product_input import (
    SKU_TAG_PREFIX,
    money,
    product_set_input,
    restore_input,
)
from sync_pipeline.platforms.shopify.reads import ShopifyReads
from sync_pipeline.stores import StoreConfig

_KEY_NAMESPACE = uuid.UUID("5b0d5a1e-7c61-4b8e-9a53-2f5c3b7e9d10")


class ShopifyClient(ShopifyReads, StoreClient):
    platform = "shopify"
    # Shopify does not enforce SKU uniqueness, and this client finds products by handle, not SKU.
    sku_in_several_products = True

    def _setup(self, store: StoreConfig) -> None:
        super()._setup(store)
        self.location_id = str(store.settings.get("location_id") or "")

    # ---- StoreClient ---------------------------------------------------------------------

    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        media_ids = self._kept_media_ids(ref, listing) if ref is not None and listing.images else {}
        try:
            return self._product_set(listing, ref, media_ids)
        except PlatformError as exc:
            if ref is None or exc.platform_code != "PRODUCT_VARIANT_DOES_NOT_EXIST":
                raise
            # Our variant ids are stale: let Shopify renew them (media too, as they may be stale as well).
            return self._product_set(listing, RemoteRef(ref.product_id), {})

    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        ids = self._variant_ids(ref, listing)
        variants = [
            {"id": ids[v.sku], "price": money(v.price), "compareAtPrice": money(v.compare_at_price)}
            for v in listing.variants
        ]
        data = self._call(
            "productVariantsBulkUpdate",
            VARIANT_PRICES_UPDATE,
            {"productId": ref.product_id, "variants": variants},
            10 + 1,
        )
        self._check_user_errors("productVariantsBulkUpdate", data["productVariantsBulkUpdate"])

    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        self._set_stock(ref, listing, {v.sku: v.stock_qty for v in listing.variants})

    def delist(self, ref: RemoteRef, listing: Listing) -> None:
        data = self._call(
            "productUpdate",
            PRODUCT_STATUS_UPDATE,
            {"product": {"id": ref.product_id, "status": "DRAFT"}},
            10 + 1,
        )
        payload = data["productUpdate"]
        if payload["product"] is None and _says_missing(payload["userErrors"]):
            raise PlatformError(
                ErrorClass.NOT_FOUND, f"product {ref.product_id} does not exist", platform_code="NOT_FOUND"
            )
        self._check_user_errors("productUpdate", payload)
        self._set_stock(ref, listing, {v.sku: 0 for v in listing.variants})

    def delete_product(self, ref: RemoteRef) -> None:
        data = self._call("productDelete", PRODUCT_DELETE, {"input": {"id": ref.product_id}}, 10)
        payload = data["productDelete"]
        if payload["deletedProductId"] is None and _says_missing(payload["userErrors"]):
            raise PlatformError(
                ErrorClass.NOT_FOUND, f"product {ref.product_id} does not exist", platform_code="NOT_FOUND"
            )
        self._check_user_errors("productDelete", payload)

    def restore(self, ref: RemoteRef, state: RemoteProduct) -> None:
        raw = state.raw
        product_input = restore_input(raw, self.location_id)
        data = self._call(
            "productSet",
            PRODUCT_RESTORE,
            {"input": product_input, "identifier": {"id": ref.product_id}},
            cost_of_product_set(len(raw["variants"]["nodes"])),
        )
        self._check_user_errors("productSet", data["productSet"])
        # Tags and publications the merchant changed since are theirs: only ours are taken back.
        ours = [t for t in (self.read_product(ref) or state).raw.get("tags", []) if t.startswith(SKU_TAG_PREFIX)]
        ours = [t for t in ours if t not in (raw.get("tags") or [])]
        if ours:
            self._change_tags(TAGS_REMOVE, "tagsRemove", ref.product_id, ours)
        before = published_ids(raw)
        added = [p for p in self._target_publications() if p not in before]
        if added:
            self._publications_call(UNPUBLISH, "publishableUnpublish", ref.product_id, added)

    def close(self) -> None:
        self.transport.close()

    # ---- encoding ------------------------------------------------------------------------

    def _product_set(
        self, listing: Listing, ref: RemoteRef | None, media_ids: Mapping[str, str]
    ) -> RemoteRef:
        # A known product is addressed by its id, so a changed handle renames it rather than
        # making a second product; a create by its handle, which makes a lost answer's retry an update.
        identifier = {"id": ref.product_id} if ref is not None else {"handle": listing.handle}
        variables = {
            "input": self._product_input(listing, ref, media_ids),
            "identifier": identifier,
            "variantCount": max(len(listing.variants), 1),
        }
        data = self._call("productSet", PRODUCT_SET, variables, cost_of_product_set(len(listing.variants)))
        payload = data["productSet"]
        if ref is not None and payload["product"] is None and any(
            e.get("code") == "NOT_FOUND" for e in payload.get("userErrors") or []
        ):
            raise PlatformError(
                ErrorClass.NOT_FOUND, f"product {ref.product_id} does not exist", platform_code="NOT_FOUND"
            )
        self._check_user_errors("productSet", payload)
        product = payload["product"]
        marker = f"{SKU_TAG_PREFIX}{listing.sku}"
        if marker not in (product.get("tags") or []):
            self._change_tags(TAGS_ADD, "tagsAdd", product["id"], [marker])
        self._publish_where_missing(product)
        variants = product["variants"]["nodes"]
        with self._lock:
            self._inventory_items.update({v["id"]: v["inventoryItem"]["id"] for v in variants})
        return RemoteRef(
            product_id=product["id"], variant_ids={v["sku"]: v["id"] for v in variants if v.get("sku")}
        )

    def _product_input(
        self, listing: Listing, ref: RemoteRef | None, media_ids: Mapping[str, str]
    ) -> dict[str, Any]:
        return product_set_input(
            listing,
            ref,
            media_ids,
            location_id=self.location_id,
            vendors=self.store.settings.get("vendors") or {},
            category=self._category_id,
        )

    def _set_stock(self, ref: RemoteRef, listing: Listing, quantities: dict[str, int]) -> None:
        if not self.location_id:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT, f"store '{self.store.key}': settings.location_id is not set"
            )
        items = self._inventory_item_ids(ref, listing)
        request = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": f"gid://sync-pipeline/Listing/{listing.sku}",
            "quantities": [
                {
                    "inventoryItemId": items[sku],
                    "locationId": self.location_id,
                    "quantity": qty,
                    "changeFromQuantity": None,
                }
                for sku, qty in quantities.items()
            ],
        }
        # One key per logical update, reused by every retry of it. A key made from the content
        # alone would be wrong: stock 5 -> 3 -> 5 would replay the first answer and leave 3.
        key = str(
            uuid.uuid5(
                _KEY_NAMESPACE, json.dumps([self.store.key, ref.product_id, request, uuid.uuid4().hex])
            )
        )
        data = self._call("inventorySetQuantities", INVENTORY_SET, {"input": request, "key": key}, 10 + 1)
        self._check_user_errors("inventorySetQuantities", data["inventorySetQuantities"])


def _says_missing(user_errors: list[dict[str, Any]]) -> bool:
    return any("does not exist" in str(e.get("message", "")).lower() for e in user_errors)
