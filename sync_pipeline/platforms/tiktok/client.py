"""TikTok Shop client (Partner API 202309+): the StoreClient over signed calls, rotating tokens,
idempotent creates. The wire (signing, envelope, error classes, tokens) is ``wire.py``, the product
payloads ``payload.py``, image upload ``media.py``, the catalog rules' look-ups ``lookups.py``.

Follows ``../shared/contracts/platforms.md`` section 4 (cited as "4.x") and section 5.

Design choices, each for a reason the platform gives:

* Idempotent create: ``idempotency_key`` is derived from the store, the parent SKU and the listing's
  content hash, so a retry after a lost response replays the first create (5: "UUID per logical
  create, reused on retry"). ``external_product_id`` carries the parent SKU.
* Audit: price, inventory and deactivation need an ACTIVATE product (4.5). When the platform says
  the status does not allow it and the product is still PENDING, the client polls Get Product for
  up to ``settings.audit_wait_seconds`` (default 30) and replays; past that it raises a retryable
  RATE_LIMITED error ("not yet"), so the push tries again later instead of giving up on the SKU.
* Delist = Deactivate Products. Stock is not set to 0: Update Inventory accepts 1..99,999 (4.5).
* US shops use the v2 category tree (``settings.region``, default US; ``settings.category_version``
  overrides), other regions v1 (real-stores 1.2).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.rules import StoreRules
from sync_pipeline.platforms.base import (
    CallObserver,
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    StoreClient,
    TokenStore,
)
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.platforms.tiktok.lookups import read_catalog_rules
from sync_pipeline.platforms.tiktok.media import ImageUploader
from sync_pipeline.platforms.tiktok.payload import ProductEncoder, known_variants, ref_of, remote_product
from sync_pipeline.platforms.tiktok.wire import Wire, raise_product_errors, required_setting
from sync_pipeline.stores import StoreConfig

DEFAULT_AUDIT_WAIT_SECONDS = 30.0
AUDIT_POLL_SECONDS = 0.25
STATUS_NOT_AVAILABLE = 12052901

PRODUCTS = "/product/202309/products"
SEARCH = "/product/202502/products/search"

_DEFAULT_RETRY = RetryPolicy()


def idempotency_key(listing: Listing) -> str:
    """The same logical create always gets the same key (4.5: at most 128 characters, UUID advised)."""
    seed = f"{listing.store_key}\n{listing.sku}\n{listing.content_hash()}".encode()
    return str(uuid.UUID(bytes=hashlib.sha256(seed).digest()[:16], version=4))


class TikTokClient(StoreClient):
    platform = "tiktok"
    # Recovery after an unknown outcome searches products by seller_skus: a SKU must name one product.
    sku_in_several_products = False
    publishes_catalog_rules = True

    def __init__(
        self,
        store: StoreConfig,
        token_store: TokenStore,
        observer: CallObserver | None = None,
        retry: RetryPolicy = _DEFAULT_RETRY,
        *,
        image_source: Callable[[str], bytes] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float | None = None,  # unset: the store's (platforms.http.http_timeout)
        pool_size: int = 16,
    ) -> None:
        self.store = store
        self._wire = Wire(store, token_store, observer, retry, clock=clock, sleep=sleep, timeout=timeout,
                          pool_size=pool_size)
        self._call = self._wire.call
        self.region = str(store.settings.get("region") or "US").upper()
        self.category_version = str(store.settings.get("category_version") or ("v2" if self.region == "US" else "v1"))
        self._audit_wait = float(store.settings.get("audit_wait_seconds", DEFAULT_AUDIT_WAIT_SECONDS))
        self._clock = clock
        self._sleep = sleep
        self.images = ImageUploader(self._wire, image_source)
        self._encoder = ProductEncoder(self.category_version, required_setting(store, "warehouse_id"),
                                       self.images.uri)

    # -- StoreClient ---------------------------------------------------------------------------

    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        """Search by seller SKU (4.5), then read the hit. A configurable's parent SKU is not a seller
        SKU on TikTok, so only products with a SKU equal to ``sku`` are found this way."""
        data = self._call("POST", SEARCH, "product.search", query={"page_size": "20"},
                          body={"seller_skus": [sku]})
        for summary in data.get("products") or []:
            product = self.read_product(RemoteRef(str(summary["id"])))
            if product is not None:
                return product
        return None

    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        body = self._encoder.product_body(listing, ref)
        if ref is None:
            body["idempotency_key"] = idempotency_key(listing)
            return ref_of(self._call("POST", PRODUCTS, "product.create", body=body))
        # 4.5: PUT overwrites every field, blanks included, so the body is always the full product.
        new_ref = ref_of(self._call("PUT", f"{PRODUCTS}/{ref.product_id}", "product.edit", body=body))
        if listing.action == "list":
            self._reactivate_if_delisted(new_ref)
        return new_ref

    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        skus = self._encoder.price_skus(listing, known_variants(ref, listing))
        self._when_active(ref, lambda: self._call(
            "POST", f"{PRODUCTS}/{ref.product_id}/prices/update", "product.price", body={"skus": skus}))

    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        skus = [{"id": sku_id, "inventory": self._encoder.inventory(v)} for v, sku_id in known_variants(ref, listing)]

        def update() -> dict[str, Any]:
            return self._call("POST", f"{PRODUCTS}/{ref.product_id}/inventory/update", "product.inventory",
                              body={"skus": skus})

        data = self._when_active(ref, update)
        if data.get("errors"):
            raise self._partial_inventory_error(ref, data["errors"])

    def delist(self, ref: RemoteRef, listing: Listing) -> None:
        def deactivate() -> dict[str, Any]:
            data = self._call("POST", f"{PRODUCTS}/deactivate", "product.deactivate",
                              body={"product_ids": [ref.product_id]})
            raise_product_errors(data)
            return data

        try:
            self._when_active(ref, deactivate)
        except PlatformError as err:
            if err.platform_code == str(STATUS_NOT_AVAILABLE) and self._status(ref) in (
                "SELLER_DEACTIVATED", "PLATFORM_DEACTIVATED"
            ):
                return  # already off sale: delisting twice is a no-op
            raise

    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        try:
            data = self._call("GET", f"{PRODUCTS}/{ref.product_id}", "product.get")
        except PlatformError as err:
            if err.error_class is ErrorClass.NOT_FOUND:
                return None
            raise
        if data.get("status") == "DELETED":
            return None
        return remote_product(data)

    def delete_product(self, ref: RemoteRef) -> None:
        data = self._call("DELETE", PRODUCTS, "product.delete", body={"product_ids": [ref.product_id]})
        try:
            raise_product_errors(data)
        except PlatformError as err:
            if err.error_class is not ErrorClass.NOT_FOUND:
                raise  # already gone is what a rollback wants

    def close(self) -> None:
        self._wire.close()

    def store_products(self) -> Iterator[RemoteProduct]:
        """Every product but deleted ones, from the search (100 a page), each read in full."""
        token = ""
        while True:
            query = {"page_size": "100", **({"page_token": token} if token else {})}
            data = self._call("POST", SEARCH, "product.search", query=query, body={})
            for summary in data.get("products") or []:
                product = self.read_product(RemoteRef(str(summary["id"])))
                if product is not None:
                    yield product
            token = str(data.get("next_page_token") or "")
            if not token:
                return

    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules:
        """real-stores 1.3: categories, rules, attributes, brands and warehouses of this shop."""
        return read_catalog_rules(self._wire, self.store.key, self.platform, self.region, self.category_version,
                                  category_ids)

    # -- audit and status ---------------------------------------------------------------------------

    def _when_active(self, ref: RemoteRef, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``action``; if the product is still in audit, wait for ACTIVATE (bounded) and run it again."""
        try:
            return action()
        except PlatformError as err:
            if err.platform_code != str(STATUS_NOT_AVAILABLE):
                raise
            self._await_activation(ref, err)
        return action()

    def _await_activation(self, ref: RemoteRef, refused: PlatformError) -> None:
        deadline = self._clock() + self._audit_wait
        while True:
            status = self._status(ref)
            if status == "ACTIVATE":
                return
            if status == "FAILED":
                raise PlatformError(ErrorClass.INVALID_PRODUCT, "the product failed TikTok's audit",
                                    platform_code=refused.platform_code)
            if status != "PENDING":
                raise refused  # deactivated, frozen...: waiting will not help
            if self._clock() >= deadline:
                raise PlatformError(ErrorClass.RATE_LIMITED,
                                    f"product {ref.product_id} is still in audit (PENDING); try again later",
                                    platform_code=refused.platform_code, retry_after=self._audit_wait)
            self._sleep(AUDIT_POLL_SECONDS)

    def _status(self, ref: RemoteRef) -> str:
        return str(self._call("GET", f"{PRODUCTS}/{ref.product_id}", "product.get").get("status"))

    def _reactivate_if_delisted(self, ref: RemoteRef) -> None:
        if self._status(ref) == "SELLER_DEACTIVATED":
            data = self._call("POST", f"{PRODUCTS}/activate", "product.activate",
                              body={"product_ids": [ref.product_id]})
            raise_product_errors(data)

    def _partial_inventory_error(self, ref: RemoteRef, errors: list[dict[str, Any]]) -> PlatformError:
        """4.5: Update Inventory's code-0 answer with ``data.errors``, named by seller SKU."""
        seller_sku = {sku_id: sku for sku, sku_id in ref.variant_ids.items()}
        parts, codes = [], []
        for error in errors:
            detail = error.get("detail") or {}
            extra = detail.get("extra_errors") or []
            code = extra[0].get("code") if extra else error.get("code")
            message = extra[0].get("message") if extra else error.get("message")
            sku_id = str(detail.get("sku_id", ""))
            parts.append(f"{seller_sku.get(sku_id, sku_id)}: {message} [{code}]")
            codes.append(str(code))
        return PlatformError(ErrorClass.INVALID_PRODUCT, "inventory not updated for " + "; ".join(parts),
                             platform_code=codes[0])
