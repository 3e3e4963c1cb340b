"""``InMemoryStoreClient``: a test double of the StoreClient interface, for the engine's unit tests.

Used only where the pure push logic is tested (planning, bookkeeping, failure handling). Every
test of the push against a store uses the real sandbox over HTTP instead.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import (
    CallObserver,
    CallRecord,
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    RemoteVariant,
    StoreClient,
)


@dataclass
class StoredProduct:
    listing: Listing
    status: str = "active"


@dataclass
class InMemoryStoreClient(StoreClient):
    observer: CallObserver | None = None
    platform: str = "memory"
    products: dict[str, StoredProduct] = field(default_factory=dict)  # product id -> product
    writes: Counter[str] = field(default_factory=Counter)
    reads: Counter[str] = field(default_factory=Counter)
    fail_skus: dict[str, PlatformError] = field(default_factory=dict)  # every write of the SKU fails so
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, operation: str, sku: str, write: bool) -> None:
        error = self.fail_skus.get(sku) if write else None
        if self.observer is not None:
            self.observer(CallRecord(operation=operation, attempt=1, outcome="error" if error else "ok",
                                     latency_ms=0.1, error_class=error.error_class.value if error else None))
        with self._lock:
            (self.writes if write else self.reads)[operation] += 1
        if error is not None:
            raise error

    def _by_sku(self, sku: str) -> tuple[str, StoredProduct] | None:
        return next(((pid, p) for pid, p in self.products.items() if p.listing.sku == sku), None)

    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        self._call("find_by_sku", sku, write=False)
        found = self._by_sku(sku)
        return self._remote(found[0], found[1]) if found else None

    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        self._call("upsert", listing.sku, write=True)
        with self._lock:
            if ref is None:
                pid = f"p{next(self._ids)}"
            elif ref.product_id in self.products:
                pid = ref.product_id
            else:
                raise PlatformError(ErrorClass.NOT_FOUND, "no such product")
            self.products[pid] = StoredProduct(listing)
        return RemoteRef(pid, {v.sku: f"{pid}-{v.sku}" for v in listing.variants})

    def _existing(self, ref: RemoteRef) -> StoredProduct:
        product = self.products.get(ref.product_id)
        if product is None:
            raise PlatformError(ErrorClass.NOT_FOUND, "no such product")
        return product

    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        self._call("update_prices", listing.sku, write=True)
        product = self._existing(ref)
        product.listing = listing  # prices only, but the double keeps the whole listing for checks

    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        self._call("update_stock", listing.sku, write=True)
        self._existing(ref).listing = listing

    def delist(self, ref: RemoteRef, listing: Listing) -> None:
        self._call("delist", listing.sku, write=True)
        self._existing(ref).status = "delisted"

    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        product = self.products.get(ref.product_id)
        self._call("read_product", product.listing.sku if product else "", write=False)
        return self._remote(ref.product_id, product) if product else None

    def delete_product(self, ref: RemoteRef) -> None:
        product = self._existing(ref)
        self._call("delete_product", product.listing.sku, write=True)
        del self.products[ref.product_id]

    def _remote(self, pid: str, product: StoredProduct) -> RemoteProduct:
        listing = product.listing
        return RemoteProduct(
            ref=RemoteRef(pid), sku=listing.sku, title=listing.title, status=product.status,
            image_count=len(listing.images), description=listing.description,
            variants=tuple(RemoteVariant(v.sku, v.price, v.compare_at_price, v.stock_qty, v.options)
                           for v in listing.variants))

    def skus(self) -> list[str]:
        return sorted(p.listing.sku for p in self.products.values())

    @property
    def write_count(self) -> int:
        return sum(self.writes.values())
