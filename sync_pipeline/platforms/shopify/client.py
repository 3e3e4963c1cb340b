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
* Publications (real-stores 3.1): ``productSet`` leaves a new product unpublished, invisible to
  shoppers. Every ``productSet`` answer says where the product is published, and the client
  publishes it (``publishablePublish``) on the store's ``settings.publications`` (names, default
  "Online Store"; ids looked up once per client with the ``publications`` query) where it is
  missing. A delist sets the status to DRAFT and keeps the publications: a DRAFT product is hidden
  from every channel, and relisting is one status change. A token without ``write_publications``
  (or ``read_publications``) gets ``ACCESS_DENIED``, which stops the store naming the scope.
* Category (real-stores 3.1): the store's ``category_map`` value is a Shopify taxonomy path (or a
  ``gid://shopify/TaxonomyCategory/...`` id) resolved once per client with ``taxonomy {
  categories(search:) }`` and sent as ``category``; ``productType`` stays free text (the last
  segment of the path), as Shopify never derives the category from it. ``vendor`` is the product's
  brand (Magento's brand / manufacturer), renamed through ``settings.vendors`` when the store
  spells it differently.
* Media (contract 1.5): ``files`` is a list field that replaces, so an update sends the existing
  file ``id`` for every image whose source URL is unchanged and ``originalSource`` only for new
  ones; images no longer in the listing are left out and so removed. Shopify does not give our
  source URL back (``MediaImage.originalSource.url`` is its own short-lived copy), so each image's
  alt text ends with a short digest of its source URL (``[src:<16 hex>]``), and an update first
  reads the product's media (id, alt) to map source URLs to media ids. The mapping lives on the
  store itself, so it survives any client and needs nothing from the push's ledger; media a
  merchant added or whose alt lost the marker are not ours to keep and are replaced.
* Tokens: static, expiring offline tokens with rotating refresh tokens, or the client credentials
  grant, by the credentials the stores file names (``auth.py``); a 401 renews once.
* Rate limit: one ``CostBucketLimiter`` per client. Each call reserves its requested cost, refunds
  the unspent part and adopts the server's ``throttleStatus``. A ``THROTTLED`` answer waits for the
  missing points and sends again without using one of the retry policy's attempts (being throttled
  is the bucket working as designed, not a failure), up to ``MAX_THROTTLE_WAITS`` times.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.platforms.base import (
    CallObserver,
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    RemoteVariant,
    StoreClient,
    TokenStore,
)
from sync_pipeline.platforms.http import HttpResult, HttpTransport
from sync_pipeline.platforms.ratelimit import CostBucketLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.platforms.shopify.auth import ShopifyTokens
from sync_pipeline.stores import StoreConfig

DEFAULT_API_VERSION = "2026-07"
DEFAULT_BUCKET_SIZE = 2000.0  # contract 1.7: observed maximumAvailable on current stores
DEFAULT_RESTORE_RATE = 100.0  # points per second, Standard plan
MAX_THROTTLE_WAITS = 20
SKU_TAG_PREFIX = "sku:"
DEFAULT_PUBLICATION = "Online Store"
TAXONOMY_ID_PREFIX = "gid://shopify/TaxonomyCategory/"
MAX_PRODUCT_MEDIA = 250  # contract 1.5: files per productSet call (and a product's media cap)
MEDIA_SOURCE_MARK = re.compile(r"\[src:([0-9a-f]{16})\]$")
SIMPLE_OPTION = ("Title", "Default Title")  # Shopify's option for a product without variants
STATUS_NAMES = {"ACTIVE": "active", "DRAFT": "delisted", "ARCHIVED": "archived", "UNLISTED": "unlisted"}
_KEY_NAMESPACE = uuid.UUID("5b0d5a1e-7c61-4b8e-9a53-2f5c3b7e9d10")

# ---- documents the client sends (the contract test validates each against Shopify's schema) ----

_VARIANT_FIELDS = (
    "id sku price compareAtPrice inventoryQuantity selectedOptions { name value } inventoryItem { id }"
)
MAX_PUBLICATIONS_READ = 10  # a store's channels: Online Store, Point of Sale, Shop, a few apps
_PUBLICATIONS_FIELD = (
    f"resourcePublicationsV2(first: {MAX_PUBLICATIONS_READ}) {{ nodes {{ isPublished publication {{ id }} }} }}"
)
_PRODUCT_FIELDS = (
    "id handle title status descriptionHtml vendor productType tags mediaCount { count } "
    f"{_PUBLICATIONS_FIELD} "
    f"variants(first: $variantCount) {{ nodes {{ {_VARIANT_FIELDS} }} }}"
)

PRODUCT_SET = f"""
mutation SyncProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $variantCount: Int!) {{
  productSet(input: $input, identifier: $identifier, synchronous: true) {{
    product {{ id tags {_PUBLICATIONS_FIELD} variants(first: $variantCount) {{ nodes {{ id sku inventoryItem {{ id }} }} }} }}
    userErrors {{ field message code }}
  }}
}}"""

PUBLICATIONS_READ = """
query SyncPublications($after: String) {
  publications(first: 50, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } }
}"""

PUBLISH = """
mutation SyncPublish($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) { userErrors { field message } }
}"""

UNPUBLISH = """
mutation SyncUnpublish($id: ID!, $input: [PublicationInput!]!) {
  publishableUnpublish(id: $id, input: $input) { userErrors { field message } }
}"""

TAGS_ADD = """
mutation SyncTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { userErrors { field message } }
}"""

TAGS_REMOVE = """
mutation SyncTagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { userErrors { field message } }
}"""

TAXONOMY_SEARCH = """
query SyncTaxonomySearch($search: String!) {
  taxonomy { categories(search: $search, first: 50) { nodes { id fullName } } }
}"""

PRODUCT_READ = f"""
query SyncProductRead($id: ID!, $variantCount: Int!) {{
  product(id: $id) {{ {_PRODUCT_FIELDS} }}
}}"""

PRODUCT_BY_HANDLE = f"""
query SyncProductByHandle($handle: String!, $variantCount: Int!) {{
  productByIdentifier(identifier: {{handle: $handle}}) {{ {_PRODUCT_FIELDS} }}
}}"""

PRODUCT_MEDIA_READ = """
query SyncProductMedia($id: ID!, $mediaCount: Int!) {
  product(id: $id) { id media(first: $mediaCount) { nodes { id alt } } }
}"""

PRODUCT_MEDIA_SOURCES = """
query SyncProductMediaSources($id: ID!, $mediaCount: Int!) {
  product(id: $id) { id media(first: $mediaCount) { nodes { id alt ... on MediaImage { image { url } } } } }
}"""

PRODUCT_RESTORE = """
mutation SyncProductRestore($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id }
    userErrors { field message code }
  }
}"""

PRODUCTS_PAGE = f"""
query SyncProductsPage($after: String, $variantCount: Int!) {{
  products(first: {{page}}, after: $after) {{ nodes {{ {_PRODUCT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
}}"""

PRODUCT_SEARCH = f"""
query SyncProductSearch($query: String!, $variantCount: Int!) {{
  products(first: 2, query: $query) {{ nodes {{ {_PRODUCT_FIELDS} }} }}
}}"""

VARIANT_PRICES_UPDATE = """
mutation SyncVariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message code }
  }
}"""

INVENTORY_SET = """
mutation SyncInventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""

PRODUCT_STATUS_UPDATE = """
mutation SyncProductStatus($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}"""

PRODUCT_DELETE = """
mutation SyncProductDelete($input: ProductDeleteInput!) {
  productDelete(input: $input) {
    deletedProductId
    userErrors { field message }
  }
}"""

# Products per page when reading a whole store, sized so a page stays under the 1000-point query limit.
STORE_PAGE_PRODUCTS = 4
STORE_PAGE_VARIANTS = 60
STORE_PAGE_DOCUMENT = PRODUCTS_PAGE.replace("{page}", str(STORE_PAGE_PRODUCTS))

DOCUMENTS = (
    PRODUCT_SET,
    PUBLICATIONS_READ,
    PUBLISH,
    UNPUBLISH,
    TAGS_ADD,
    TAGS_REMOVE,
    TAXONOMY_SEARCH,
    PRODUCT_READ,
    PRODUCT_BY_HANDLE,
    PRODUCT_MEDIA_READ,
    PRODUCT_MEDIA_SOURCES,
    PRODUCT_RESTORE,
    STORE_PAGE_DOCUMENT,
    PRODUCT_SEARCH,
    VARIANT_PRICES_UPDATE,
    INVENTORY_SET,
    PRODUCT_STATUS_UPDATE,
    PRODUCT_DELETE,
)


# Requested cost of each document under Shopify's rules (contract 1.7), to reserve before sending.
_COST_OF_PUBLICATIONS_FIELD = 2 + MAX_PUBLICATIONS_READ * 2


def _cost_of_product_set(variants: int) -> int:
    return 10 + 1 + 2 + variants * 2 + _COST_OF_PUBLICATIONS_FIELD


def _cost_of_product_read(variants: int) -> int:
    return 1 + 1 + 2 + variants * 3 + _COST_OF_PUBLICATIONS_FIELD


def _cost_of_media_read(media: int) -> int:
    return 1 + 2 + media


_DEFAULT_RETRY = RetryPolicy()


class ShopifyClient(StoreClient):
    platform = "shopify"
    # Shopify does not enforce SKU uniqueness, and this client finds products by handle, not SKU.
    sku_in_several_products = True

    def __init__(
        self,
        store: StoreConfig,
        observer: CallObserver | None = None,
        retry: RetryPolicy = _DEFAULT_RETRY,
        token_store: TokenStore | None = None,
    ) -> None:
        self.store = store
        self.retry = retry
        version = str(store.settings.get("api_version") or DEFAULT_API_VERSION)
        self.url = f"{store.endpoint.rstrip('/')}/admin/api/{version}/graphql.json"
        self.location_id = str(store.settings.get("location_id") or "")
        self.transport = HttpTransport(observer=observer)
        self.tokens = ShopifyTokens(store, self.transport, token_store)
        self.tokens.token()  # a missing credential fails here, before any product is tried
        self.limiter = CostBucketLimiter(
            maximum=float(store.rate_limit.bucket_size or DEFAULT_BUCKET_SIZE),
            restore_rate=float(store.rate_limit.restore_rate or DEFAULT_RESTORE_RATE),
        )
        self._inventory_items: dict[str, str] = {}  # variant id -> inventory item id
        self._lock = threading.Lock()
        self.publication_names = tuple(store.settings.get("publications") or (DEFAULT_PUBLICATION,))
        self._publication_ids: tuple[str, ...] | None = None
        self._categories: dict[str, str] = {}  # taxonomy path -> category id

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
            {"id": ids[v.sku], "price": _money(v.price), "compareAtPrice": _money(v.compare_at_price)}
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

    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        count = max(len(ref.variant_ids), 1)
        data = self._call(
            "product",
            PRODUCT_READ,
            {"id": ref.product_id, "variantCount": min(count, 250)},
            _cost_of_product_read(count),
        )
        product = data["product"]
        return None if product is None else self._remote_product(product)

    def delete_product(self, ref: RemoteRef) -> None:
        data = self._call("productDelete", PRODUCT_DELETE, {"input": {"id": ref.product_id}}, 10)
        payload = data["productDelete"]
        if payload["deletedProductId"] is None and _says_missing(payload["userErrors"]):
            raise PlatformError(
                ErrorClass.NOT_FOUND, f"product {ref.product_id} does not exist", platform_code="NOT_FOUND"
            )
        self._check_user_errors("productDelete", payload)

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
            _cost_of_product_read(count),
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
                2 + STORE_PAGE_PRODUCTS * _cost_of_product_read(STORE_PAGE_VARIANTS),
            )
            page = data["products"]
            for node in page["nodes"]:
                if len(node["variants"]["nodes"]) >= STORE_PAGE_VARIANTS:  # maybe more: read it whole
                    node = self._call(
                        "product", PRODUCT_READ, {"id": node["id"], "variantCount": 250}, _cost_of_product_read(250)
                    )["product"] or node
                yield self._remote_product(node)
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def restore(self, ref: RemoteRef, state: RemoteProduct) -> None:
        raw = state.raw
        nodes = raw["variants"]["nodes"]
        names: list[str] = []
        values: dict[str, list[str]] = {}
        for variant in nodes:
            for option in variant["selectedOptions"]:
                if option["name"] not in values:
                    names.append(option["name"])
                    values[option["name"]] = []
                if option["value"] not in values[option["name"]]:
                    values[option["name"]].append(option["value"])
        variants = []
        for variant in nodes:
            encoded: dict[str, Any] = {
                "id": variant["id"],
                "optionValues": [{"optionName": o["name"], "name": o["value"]} for o in variant["selectedOptions"]],
                "sku": variant.get("sku"),
                "price": variant["price"],
                "compareAtPrice": variant.get("compareAtPrice"),
            }
            if self.location_id and variant.get("inventoryQuantity") is not None:
                encoded["inventoryQuantities"] = [
                    {"locationId": self.location_id, "name": "available", "quantity": variant["inventoryQuantity"]}
                ]
            variants.append(encoded)
        product_input: dict[str, Any] = {
            "title": raw["title"],
            "handle": raw["handle"],
            "descriptionHtml": raw.get("descriptionHtml") or "",
            "vendor": raw.get("vendor") or "",
            "productType": raw.get("productType") or "",
            "status": raw["status"],
            "productOptions": [
                {"name": name, "position": i + 1, "values": [{"name": v} for v in values[name]]}
                for i, name in enumerate(names)
            ],
            "variants": variants,
        }
        if "media" in raw:
            product_input["files"] = [
                {"originalSource": m["url"], "contentType": "IMAGE", "alt": m.get("alt") or ""} for m in raw["media"]
            ]
        data = self._call(
            "productSet",
            PRODUCT_RESTORE,
            {"input": product_input, "identifier": {"id": ref.product_id}},
            _cost_of_product_set(len(variants)),
        )
        self._check_user_errors("productSet", data["productSet"])
        # Tags and publications the merchant changed since are theirs: only ours are taken back.
        ours = [t for t in (self.read_product(ref) or state).raw.get("tags", []) if t.startswith(SKU_TAG_PREFIX)]
        ours = [t for t in ours if t not in (raw.get("tags") or [])]
        if ours:
            self._change_tags(TAGS_REMOVE, "tagsRemove", ref.product_id, ours)
        before = _published_ids(raw)
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
        data = self._call("productSet", PRODUCT_SET, variables, _cost_of_product_set(len(listing.variants)))
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
        simple = not listing.options
        options = [SIMPLE_OPTION[0]] if simple else list(listing.options)
        product: dict[str, Any] = {
            "title": listing.title,
            "handle": listing.handle,
            "status": "ACTIVE" if listing.action == "list" else "DRAFT",
            "productOptions": [
                {
                    "name": name,
                    "position": i + 1,
                    "values": [{"name": value} for value in _option_values(listing, name, simple)],
                }
                for i, name in enumerate(options)
            ],
            "variants": [
                self._variant_input(listing, v, ref, simple, media_ids) for v in listing.variants
            ],
            "files": _files_input(listing, media_ids),
        }
        if listing.brand:  # settings.vendors maps a Magento brand to the store's vendor name
            product["vendor"] = str((self.store.settings.get("vendors") or {}).get(listing.brand, listing.brand))
        if ref is None:  # a new product: our marker; later the tag list is the merchant's too
            product["tags"] = [f"{SKU_TAG_PREFIX}{listing.sku}"]
        if listing.description is not None:  # None: the store owns the description; leave it alone
            product["descriptionHtml"] = listing.description
        if listing.category_id:
            product["category"] = self._category_id(listing.category_id)
            if not listing.category_id.startswith(TAXONOMY_ID_PREFIX):
                product["productType"] = listing.category_id.split(" > ")[-1]
        return product

    def _variant_input(
        self,
        listing: Listing,
        variant: ListingVariant,
        ref: RemoteRef | None,
        simple: bool,
        media_ids: Mapping[str, str],
    ) -> dict[str, Any]:
        option_values = (
            [{"optionName": SIMPLE_OPTION[0], "name": SIMPLE_OPTION[1]}]
            if simple
            else [{"optionName": name, "name": variant.options[name]} for name in listing.options]
        )
        encoded: dict[str, Any] = {
            "optionValues": option_values,
            "sku": variant.sku,
            "price": _money(variant.price),
            "compareAtPrice": _money(variant.compare_at_price),
            "inventoryItem": {"tracked": True},
        }
        if ref is not None and variant.sku in ref.variant_ids:
            encoded["id"] = ref.variant_ids[variant.sku]  # without an id productSet makes a new variant
        if self.location_id:
            encoded["inventoryQuantities"] = [
                {"locationId": self.location_id, "name": "available", "quantity": variant.stock_qty}
            ]
        weight = variant.weight_kg if variant.weight_kg is not None else listing.weight_kg
        if weight is not None:
            encoded["inventoryItem"]["measurement"] = {
                "weight": {"value": float(weight), "unit": "KILOGRAMS"}
            }
        if variant.image and variant.image in listing.images:
            # Must name one of the product's files (contract 1.5): the kept file by id, else the new one.
            kept = media_ids.get(variant.image)
            encoded["file"] = (
                {"id": kept} if kept else {"originalSource": variant.image, "contentType": "IMAGE"}
            )
        return encoded

    def _kept_media_ids(self, ref: RemoteRef, listing: Listing) -> dict[str, str]:
        """Source URL -> media id of the listing's images that this client already put on the product."""
        data = self._call(
            "product",
            PRODUCT_MEDIA_READ,
            {"id": ref.product_id, "mediaCount": MAX_PRODUCT_MEDIA},
            _cost_of_media_read(MAX_PRODUCT_MEDIA),
        )
        product = data["product"]
        if product is None:
            return {}  # gone: productSet with the handle creates it again, with new media
        by_key: dict[str, str] = {}
        for media in product["media"]["nodes"]:
            mark = MEDIA_SOURCE_MARK.search(media.get("alt") or "")
            if mark:
                by_key.setdefault(mark.group(1), media["id"])
        return {url: by_key[_source_key(url)] for url in listing.images if _source_key(url) in by_key}

    # ---- publications, tags, taxonomy ------------------------------------------------------

    def _target_publications(self) -> tuple[str, ...]:
        """Ids of the store's publications by name, read once per client (a push run)."""
        with self._lock:
            if self._publication_ids is not None:
                return self._publication_ids
        by_name: dict[str, str] = {}
        after = None
        while True:
            page = self._call("publications", PUBLICATIONS_READ, {"after": after}, 2 + 50 * 1)["publications"]
            by_name.update({node["name"]: node["id"] for node in page["nodes"]})
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        missing = [name for name in self.publication_names if name not in by_name]
        if missing:
            # A stores-file mistake that every product would hit: stop the store, saying what exists.
            raise PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"store '{self.store.key}': no publication named {', '.join(map(repr, missing))} "
                f"(the store has: {', '.join(sorted(by_name)) or 'none'}); fix settings.publications",
                platform_code="PUBLICATION_NOT_FOUND",
            )
        ids = tuple(by_name[name] for name in self.publication_names)
        with self._lock:
            self._publication_ids = ids
        return ids

    def _publish_where_missing(self, product: dict[str, Any]) -> None:
        missing = [p for p in self._target_publications() if p not in _published_ids(product)]
        if missing:
            self._publications_call(PUBLISH, "publishablePublish", product["id"], missing)

    def _publications_call(self, document: str, operation: str, product_id: str, publication_ids: list[str]) -> None:
        data = self._call(
            operation, document, {"id": product_id, "input": [{"publicationId": p} for p in publication_ids]}, 10
        )
        self._check_user_errors(operation, data[operation])

    def _change_tags(self, document: str, operation: str, product_id: str, tags: list[str]) -> None:
        data = self._call(operation, document, {"id": product_id, "tags": tags}, 10)
        self._check_user_errors(operation, data[operation])

    def _category_id(self, path: str) -> str:
        """The taxonomy category id of a stores-file category (a path, or already an id)."""
        if path.startswith(TAXONOMY_ID_PREFIX):
            return path
        with self._lock:
            known = self._categories.get(path)
        if known is not None:
            return known
        name = path.split(" > ")[-1]
        data = self._call("taxonomy", TAXONOMY_SEARCH, {"search": name}, 1 + 2 + 50)
        nodes = ((data.get("taxonomy") or {}).get("categories") or {}).get("nodes") or []
        found: str | None = next((str(n["id"]) for n in nodes if n["fullName"].casefold() == path.casefold()), None)
        if found is None:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT,
                f"category {path!r} is not in Shopify's product taxonomy (searching {name!r} found: "
                f"{'; '.join(n['fullName'] for n in nodes[:5]) or 'nothing'}); map it to a taxonomy path or id",
                platform_code="CATEGORY_NOT_FOUND",
            )
        with self._lock:
            self._categories[path] = found
        return found

    def _media_sources(self, product_id: str) -> list[dict[str, Any]]:
        data = self._call(
            "product",
            PRODUCT_MEDIA_SOURCES,
            {"id": product_id, "mediaCount": MAX_PRODUCT_MEDIA},
            _cost_of_media_read(MAX_PRODUCT_MEDIA),
        )
        product = data["product"] or {"media": {"nodes": []}}
        return [
            {"url": m["image"]["url"], "alt": m.get("alt")}
            for m in product["media"]["nodes"]
            if (m.get("image") or {}).get("url")
        ]

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
            and set(self._target_publications()) <= _published_ids(product),
        )

    # ---- one GraphQL call: rate limit, retries, error classes ----------------------------

    def _call(self, operation: str, document: str, variables: dict[str, Any], cost: int) -> dict[str, Any]:
        body = json.dumps({"query": document, "variables": variables})
        return call_with_retries(
            lambda attempt: self._send_until_not_throttled(operation, body, cost, attempt), self.retry
        )

    def _send_until_not_throttled(self, operation: str, body: str, cost: int, attempt: int) -> dict[str, Any]:
        for _ in range(MAX_THROTTLE_WAITS):
            self.limiter.acquire(cost)
            answer = self._send(operation, body, cost, attempt)
            if answer is not None:
                return answer
        raise PlatformError(
            ErrorClass.RATE_LIMITED,
            f"{operation}: still throttled after {MAX_THROTTLE_WAITS} waits",
            platform_code="THROTTLED",
        )

    def _send(self, operation: str, body: str, cost: int, attempt: int) -> dict[str, Any] | None:
        """The call's ``data``; None when throttled (the limiter now knows how long to wait)."""
        try:
            token = self.tokens.token()
            result = self._post(operation, attempt, token, body)
            if result.status == 401 and self.tokens.renewable:
                # Expired or revoked: renew once (real-stores 3.3), then the answer stands.
                self._observe_status(operation, attempt, result)
                self.tokens.renew_after_rejection(token)
                result = self._post(operation, attempt, self.tokens.token(), body)
        except PlatformError:
            self.limiter.refund(
                cost
            )  # never reached the store, or we cannot tell: the server report corrects it
            raise
        error = self._observe_status(operation, attempt, result)
        if error is not None:
            raise error
        try:
            payload = result.json()
        except PlatformError as malformed:
            self.transport.observe_failure(operation, attempt, malformed)
            raise
        if not isinstance(payload, dict):
            raise PlatformError(
                ErrorClass.NETWORK_ERROR, f"{operation}: unexpected response shape", http_status=result.status
            )
        self._adopt_cost(payload, cost)
        errors = payload.get("errors") or []
        codes = [((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)]
        if "THROTTLED" in codes:
            # HTTP 200, so the transport logged it as answered; the sync log must show the throttle.
            self.transport.observe_failure(
                operation,
                attempt,
                PlatformError(
                    ErrorClass.RATE_LIMITED, f"{operation}: throttled", platform_code="THROTTLED",
                    http_status=result.status,
                ),
            )
            return None
        if errors or not isinstance(payload.get("data"), dict):
            message = (
                "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
                or "no data in response"
            )
            error = PlatformError(
                _error_class(codes),
                f"{operation}: {message}",
                platform_code=next((c for c in codes if c), None),
                http_status=result.status,
            )
            self.transport.observe_failure(operation, attempt, error)
            raise error
        data: dict[str, Any] = payload["data"]
        return data

    def _post(self, operation: str, attempt: int, token: str, body: str) -> HttpResult:
        return self.transport.request(
            "POST",
            self.url,
            operation=operation,
            attempt=attempt,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            data=body,
        )

    def _observe_status(self, operation: str, attempt: int, result: HttpResult) -> PlatformError | None:
        """The error an HTTP 4xx/5xx answer means, recorded on that call's sync-log row (its class
        beside its status, as for an error in the body); None for a 2xx/3xx answer."""
        error = self._status_error(operation, result)
        if error is not None:
            self.transport.observe_failure(operation, attempt, error)
        return error

    def _status_error(self, operation: str, result: HttpResult) -> PlatformError | None:
        if result.status < 400:
            return None
        if result.status in (401, 402, 403, 423):  # bad token; unpaid, forbidden or locked shop (3.3)
            return PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"{operation}: {_shopify_error_text(result)}",
                http_status=result.status,
            )
        if result.status == 404:
            return PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"{operation}: endpoint not found (check the store's endpoint and api_version)",
                http_status=404,
            )
        if result.status == 429 or result.status >= 500:
            retry_after = _float(result.headers.get("Retry-After"))
            error_class = ErrorClass.RATE_LIMITED if result.status == 429 else ErrorClass.NETWORK_ERROR
            return PlatformError(
                error_class,
                f"{operation}: HTTP {result.status} {_shopify_error_text(result)}",
                http_status=result.status,
                retry_after=retry_after,
            )
        return PlatformError(
            ErrorClass.INVALID_PRODUCT,
            f"{operation}: HTTP {result.status} {_shopify_error_text(result)}",
            http_status=result.status,
        )

    def _adopt_cost(self, payload: dict[str, Any], reserved: int) -> None:
        cost = (payload.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        actual = cost.get("actualQueryCost")
        self.limiter.refund(max(reserved - actual, 0) if isinstance(actual, int | float) else reserved)
        if status:
            self.limiter.report(
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
            )

    def _check_user_errors(self, operation: str, payload: dict[str, Any]) -> None:
        errors = payload.get("userErrors") or []
        if not errors:
            return
        message = "; ".join(f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')}" for e in errors)
        code = next((e.get("code") for e in errors if e.get("code")), None)
        error = PlatformError(ErrorClass.INVALID_PRODUCT, f"{operation}: {message}", platform_code=code)
        self.transport.observe_failure(operation, 1, error)
        raise error


# ---- small helpers -------------------------------------------------------------------------


def _error_class(codes: list[Any]) -> ErrorClass:
    """Top-level GraphQL errors (real-stores 3.3). A missing scope is not fixed by a retry or a
    token refresh: it stops the store (the message names ``requiredAccess``). Shopify's own
    failure is retried (every call here is idempotent: upserts by identifier, keyed inventory).
    Cost-limit and ``BAD_REQUEST`` answers are this client's defects: reported, never retried."""
    if "ACCESS_DENIED" in codes:
        return ErrorClass.UNAUTHORIZED
    if "INTERNAL_SERVER_ERROR" in codes:
        return ErrorClass.NETWORK_ERROR
    return ErrorClass.INVALID_PRODUCT


def _published_ids(product: Mapping[str, Any]) -> set[str]:
    nodes = (product.get("resourcePublicationsV2") or {}).get("nodes") or []
    return {n["publication"]["id"] for n in nodes if n.get("isPublished")}


def _source_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _media_alt(title: str, url: str) -> str:
    return f"{title} [src:{_source_key(url)}]"


def _files_input(listing: Listing, media_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The product's files: kept images by id, new ones by URL; images left out are removed."""
    files: list[dict[str, Any]] = []
    for url in dict.fromkeys(listing.images):  # one file per URL: a repeat would be a second copy
        alt = _media_alt(listing.title, url)
        kept = media_ids.get(url)
        files.append(
            {"id": kept, "alt": alt} if kept else {"originalSource": url, "contentType": "IMAGE", "alt": alt}
        )
    return files


def _option_values(listing: Listing, name: str, simple: bool) -> list[str]:
    if simple:
        return [SIMPLE_OPTION[1]]
    values: list[str] = []
    for variant in listing.variants:
        value = variant.options[name]
        if value not in values:
            values.append(value)
    return values


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _says_missing(user_errors: list[dict[str, Any]]) -> bool:
    return any("does not exist" in str(e.get("message", "")).lower() for e in user_errors)


def _shopify_error_text(result: HttpResult) -> str:
    try:
        body = json.loads(result.text)
    except ValueError:
        return f"({len(result.text)} bytes, not JSON)"
    errors = body.get("errors") if isinstance(body, dict) else None
    return str(errors)[:300] if errors else ""
