"""Reading Shopify products back (the push's checks, adoption, rollback and store-wide reads) and
the variant / inventory-item ids the price and stock updates need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import (
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    RemoteVariant,
)
from sync_pipeline.platforms.shopify.catalog import ShopifyCatalog, published_ids
from sync_pipeline.platforms.shopify.documents import (
    PRODUCT_BY_HANDLE,
    PRODUCT_READ,
    PRODUCT_SEARCH,
    STORE_PAGE_DOCUMENT,
    STORE_PAGE_PRODUCTS,
    STORE_PAGE_VARIANTS,
    cost_of_product_read,
)
from sync_pipeline.platforms.shopify.product_input import SIMPLE_OPTION, SKU_TAG_PREFIX
from sync_pipeline.stores import StoreConfig

STATUS_NAMES = {"ACTIVE": "active", "DRAFT": "delisted", "ARCHIVED": "archived", "UNLISTED": "unlisted"}


class ShopifyReads(ShopifyCatalog):
    def _setup(self, store: StoreConfig) -> None:
        super()._setup(store)
        self._inventory_items: dict[str, str] = {}  # variant id -> inventory item id

    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        count = max(len(ref.variant_ids), 1)
        data = self._call(
            "product",
            PRODUCT_READ,
            {"id": ref.product_id, "variantCount": min(count, 250)},
            cost_of_product_read(count),
        )
        product = data["product"]
        return None if product is None else self._remote_product(product)

    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        for query in (f'tag:"{SKU_TAG_PREFIX}{sku}"', f'sku:"{sku}"'):
            data = self._call(
                "products", PRODUCT_SEARCH, {"query": query, "variantCount": 100}, 2 + 2 * (1 + 1 + 2 + 300)
            )
            nodes = data["products"]["nodes"]
            if nodes:
                return self._remote_product(nodes[0])
        return None

    def existing_for_create(self, listing: Listing) -> RemoteProduct | None:
        """The product holding the listing's handle, if any. A product the pipeline did not make
        also brings its media sources, so that a rollback can put the merchant's images back."""
        count = min(len(listing.variants) + 1, 250)  # one more than ours is enough to tell a mismatch
        data = self._call(
            "productByIdentifier",
            PRODUCT_BY_HANDLE,
            {"handle": listing.handle, "variantCount": count},
            cost_of_product_read(count),
        )
        product = data["productByIdentifier"]
        if product is None:
            return None
        found = self._remote_product(product)
        return found if found.created_by_pipeline else self.restorable(found)

    def restorable(self, remote: RemoteProduct) -> RemoteProduct:
        """With its images' sources: the push replaces media it did not put there."""
        if "media" in remote.raw:
            return remote
        return replace(remote, raw={**remote.raw, "media": self._media_sources(remote.ref.product_id)})

    def store_products(self) -> Iterator[RemoteProduct]:
        after = None
        while True:
            data = self._call(
                "products",
                STORE_PAGE_DOCUMENT,
                {"after": after, "variantCount": STORE_PAGE_VARIANTS},
                2 + STORE_PAGE_PRODUCTS * cost_of_product_read(STORE_PAGE_VARIANTS),
            )
            page = data["products"]
            for node in page["nodes"]:
                if len(node["variants"]["nodes"]) >= STORE_PAGE_VARIANTS:  # maybe more: read it whole
                    node = self._call(
                        "product", PRODUCT_READ, {"id": node["id"], "variantCount": 250}, cost_of_product_read(250)
                    )["product"] or node
                yield self._remote_product(node)
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    # ---- ids we may need to look up ------------------------------------------------------

    def _variant_ids(self, ref: RemoteRef, listing: Listing) -> dict[str, str]:
        if all(v.sku in ref.variant_ids for v in listing.variants):
            return dict(ref.variant_ids)
        remote = self._require(ref)
        return {v.sku: v.variant_id for v in remote.variants if v.variant_id}

    def _inventory_item_ids(self, ref: RemoteRef, listing: Listing) -> dict[str, str]:
        ids = self._variant_ids(ref, listing)
        if not all(self._known_item(ids.get(v.sku)) for v in listing.variants):
            ids = {
                v.sku: v.variant_id for v in self._require(ref).variants if v.variant_id
            }  # refreshes the cache
        items = {v.sku: self._known_item(ids.get(v.sku)) for v in listing.variants}
        missing = [sku for sku, item in items.items() if item is None]
        if missing:
            raise PlatformError(
                ErrorClass.NOT_FOUND,
                f"variants not on the store: {', '.join(missing)}",
                platform_code="NOT_FOUND",
            )
        return {sku: item for sku, item in items.items() if item is not None}

    def _known_item(self, variant_id: str | None) -> str | None:
        with self._lock:
            return None if variant_id is None else self._inventory_items.get(variant_id)

    def _require(self, ref: RemoteRef) -> RemoteProduct:
        remote = self.read_product(ref)
        if remote is None:
            raise PlatformError(
                ErrorClass.NOT_FOUND, f"product {ref.product_id} does not exist", platform_code="NOT_FOUND"
            )
        return remote

    # ---- decoding ------------------------------------------------------------------------

    def _remote_product(self, product: dict[str, Any]) -> RemoteProduct:
        nodes = product["variants"]["nodes"]
        with self._lock:
            self._inventory_items.update({v["id"]: v["inventoryItem"]["id"] for v in nodes})
        variants = tuple(
            RemoteVariant(
                sku=v.get("sku") or "",
                price=_decimal(v.get("price")),
                compare_at_price=_decimal(v.get("compareAtPrice")),
                stock_qty=v.get("inventoryQuantity"),
                options={
                    o["name"]: o["value"] for o in v["selectedOptions"] if o["name"] != SIMPLE_OPTION[0]
                },
                variant_id=v["id"],
            )
            for v in nodes
        )
        tags = [t for t in product.get("tags", []) if t.startswith(SKU_TAG_PREFIX)]
        parent_sku = tags[0][len(SKU_TAG_PREFIX) :] if tags else (variants[0].sku if variants else "")
        return RemoteProduct(
            ref=RemoteRef(product["id"], {v.sku: v.variant_id for v in variants if v.sku and v.variant_id}),
            sku=parent_sku,
            title=product["title"],
            status=STATUS_NAMES.get(product["status"], product["status"].lower()),
            image_count=int((product.get("mediaCount") or {}).get("count") or 0),
            variants=variants,
            description=product.get("descriptionHtml"),
            raw=product,
            created_by_pipeline=bool(tags),
            handle=product.get("handle"),
            visible=product["status"] == "ACTIVE"
            and set(self._target_publications()) <= published_ids(product),
        )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
