"""Shopee Open Platform v2 client (contract ``platforms.md`` sections 3 and 5): the ``StoreClient``.

Its parts, one concern each: ``api.py`` (signing, the envelope, error classes, tokens),
``payloads.py`` (listing -> wire bodies), ``media.py`` (image uploads), ``lookups.py`` (the shop's
catalog rules and logistics channels).

Choices worth knowing:

* creates are idempotent without an idempotency key (contract 5): ``item_sku`` is the listing SKU,
  and after an unknown outcome (NETWORK_ERROR) the SKU is looked up with ``search_item`` before
  ``add_item`` is sent again; ``error_repeated_mtsku`` adopts the existing item and updates it;
* ``init_tier_variation`` waits ``tier_variation_wait_seconds`` (default 5 s, the guide's figure)
  after ``add_item``; this blocks the calling thread, so the push's pool should be wide enough;
* partial failures in ``update_price``/``update_stock`` raise INVALID_PRODUCT naming the failing
  variant SKUs (the successful models stay updated: Shopee applies them independently).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant, package_weight
from sync_pipeline.listings.rules import StoreRules
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteProduct, RemoteRef, StoreClient
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.platforms.shopee import payloads as wire
from sync_pipeline.platforms.shopee.api import DEFAULT_REQUESTS_PER_SECOND, DEFAULT_RETRY, Call, ShopeeApi
from sync_pipeline.platforms.shopee.lookups import PAGE_SIZE, ShopeeLookups
from sync_pipeline.platforms.shopee.media import ImageLoader, ShopeeImages
from sync_pipeline.platforms.shopee.payloads import NO_MODEL, Tier, chunks
from sync_pipeline.platforms.shopee.spec import SPEC
from sync_pipeline.stores import StoreConfig

if TYPE_CHECKING:
    from sync_pipeline.platforms.base import CallObserver, TokenStore

__all__ = ["DEFAULT_REQUESTS_PER_SECOND", "ShopeeClient"]

DEFAULT_TIER_WAIT_SECONDS = 5.0  # contract 3.5: wait >= 5 s after add_item before init_tier_variation
BATCH = 50  # contract 3.5: price_list / stock_list / item_id_list / models per call
DUPLICATE_SKU_ERROR = "error_repeated_mtsku"
DELETED = frozenset({"SELLER_DELETE", "SHOPEE_DELETE"})


class ShopeeClient(StoreClient):
    platform = "shopee"
    # Whether Shopee accepts one model_sku in two items is not documented: keep each SKU in one item.
    sku_in_several_products = False
    publishes_catalog_rules = True

    def __init__(
        self,
        store: StoreConfig,
        token_store: TokenStore | None,
        observer: CallObserver | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        image_loader: ImageLoader | None = None,
        timeout: float | None = None,  # unset: the store's (platforms.http.http_timeout)
        pool_size: int = 32,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = ShopeeApi(store, token_store, observer, retry, timeout=timeout, pool_size=pool_size,
                             clock=clock, sleep=sleep)
        self.store = store
        self.limiter = self.api.limiter
        self.tier_wait = float(store.settings.get("tier_variation_wait_seconds", DEFAULT_TIER_WAIT_SECONDS))
        self.images = ShopeeImages(self.api, image_loader)
        self.lookups = ShopeeLookups(self.api)
        self._call = self.api.call
        self._clock = clock
        self._sleep = sleep

    # == StoreClient ====================================================================================

    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        item = self._find_item(sku)
        return None if item is None else self._remote_product(item)

    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        tiers = wire.tiers_of(listing)
        if ref is not None:
            return self._update(listing, int(ref.product_id), tiers, not_before=0.0)
        return self._create(listing, tiers)

    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        self._set_prices(int(ref.product_id), self._model_ids(ref, listing), listing.variants)

    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        stock = {v.sku: v.stock_qty for v in listing.variants}
        self._set_stock(int(ref.product_id), self._model_ids(ref, listing), stock)

    def delist(self, ref: RemoteRef, listing: Listing) -> None:
        item_id = int(ref.product_id)
        answer = self._call(
            Call("POST", "/api/v2/product/unlist_item", body={"item_list": [{"item_id": item_id, "unlist": True}]})
        )
        for failure in answer.get("failure_list") or []:
            raise PlatformError(
                ErrorClass.NOT_FOUND if "not found" in str(failure.get("failed_reason", "")).lower()
                else ErrorClass.INVALID_PRODUCT,
                f"unlist_item failed for item {item_id}: {failure.get('failed_reason')}",
                platform_code="failure_list",
            )
        self._set_stock(item_id, self._model_ids(ref, listing), {v.sku: 0 for v in listing.variants})

    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        items = self._base_info([int(ref.product_id)])
        live = [i for i in items if i.get("item_status") not in DELETED]
        return self._remote_product(live[0]) if live else None

    def delete_product(self, ref: RemoteRef) -> None:
        """Idempotent: an item already gone counts as deleted (a retried rollback must not fail)."""
        try:
            self._call(Call("POST", "/api/v2/product/delete_item", body={"item_id": int(ref.product_id)}))
        except PlatformError as exc:
            if exc.error_class is not ErrorClass.NOT_FOUND:
                raise

    def close(self) -> None:
        self.api.transport.close()

    def store_products(self) -> Iterator[RemoteProduct]:
        """Every live item (NORMAL and UNLIST), page by page, then its base info and models."""
        offset: int | None = 0
        while offset is not None:
            answer = self._call(Call("GET", "/api/v2/product/get_item_list", params={
                "offset": offset, "page_size": PAGE_SIZE, "item_status": ["NORMAL", "UNLIST"]}))
            ids = [int(i["item_id"]) for i in answer.get("item") or []]
            for chunk in chunks(ids, BATCH):
                for item in self._base_info(chunk):
                    if item.get("item_status") not in DELETED:
                        yield self._remote_product(item)
            offset = int(answer["next_offset"]) if answer.get("has_next_page") else None

    # == create / update =================================================================================

    def _create(self, listing: Listing, tiers: list[Tier]) -> RemoteRef:
        image_ids = self.images.upload(wire.all_images(listing))
        body = self._item_body(listing, image_ids)
        body.update(
            original_price=wire.money(listing.variants[0].price if not tiers else min(v.price for v in listing.variants)),
            seller_stock=[{"stock": listing.variants[0].stock_qty if not tiers else sum(v.stock_qty for v in listing.variants)}],
            condition="NEW",
        )
        item_id, adopted = self._add_item_once(listing.sku, body)
        # The item was created before its answer arrived, so waiting from now is always long enough.
        settled_at = self._clock() + self.tier_wait
        if adopted:
            # The SKU was already on the shop (our lost create, or an earlier listing): make it match.
            return self._update(listing, item_id, tiers, not_before=settled_at)
        if not tiers:
            return RemoteRef(str(item_id), {listing.sku: str(NO_MODEL)})
        return RemoteRef(str(item_id), self._init_tiers(item_id, listing, tiers, image_ids, settled_at))

    def _add_item_once(self, sku: str, body: dict[str, Any]) -> tuple[int, bool]:
        """add_item that never lists twice: after an unknown outcome, look the SKU up before resending.

        Returns (item_id, adopted) where ``adopted`` means the item existed already.
        """
        outcome_unknown = False
        call = Call("POST", "/api/v2/product/add_item", body=body)

        def attempt(number: int) -> tuple[int, bool]:
            nonlocal outcome_unknown
            if outcome_unknown:
                found = self._find_item(sku)
                if found is not None:
                    return int(found["item_id"]), True
            try:
                return int(self.api.send(call, number)["item_id"]), False
            except PlatformError as exc:
                if exc.error_class is ErrorClass.NETWORK_ERROR:
                    outcome_unknown = True  # the item may exist although we never heard so
                if exc.platform_code == DUPLICATE_SKU_ERROR:
                    found = self._find_item(sku)
                    if found is not None:
                        return int(found["item_id"]), True
                raise

        return call_with_retries(attempt, self.api.retry, sleep=self._sleep)

    def _update(self, listing: Listing, item_id: int, tiers: list[Tier], *, not_before: float) -> RemoteRef:
        image_ids = self.images.upload(wire.all_images(listing))
        body = self._item_body(listing, image_ids)
        body["item_id"] = item_id
        self._call(Call("POST", "/api/v2/product/update_item", body=body))
        if not tiers:
            ids = {listing.sku: NO_MODEL}
            self._set_prices(item_id, ids, listing.variants)
            self._set_stock(item_id, ids, {v.sku: v.stock_qty for v in listing.variants})
            return RemoteRef(str(item_id), {listing.sku: str(NO_MODEL)})
        models = self._model_list(item_id)
        current = wire.structure(models)
        if current is not None and current == wire.wanted_structure(listing, tiers):
            ids = {m["model_sku"]: int(m["model_id"]) for m in models["model"]}
            self._set_prices(item_id, ids, listing.variants)
            self._set_stock(item_id, ids, {v.sku: v.stock_qty for v in listing.variants})
            return RemoteRef(str(item_id), {sku: str(i) for sku, i in ids.items()})
        # A new variation structure: re-initialising replaces the models (contract 3.5/5).
        return RemoteRef(str(item_id), self._init_tiers(item_id, listing, tiers, image_ids, not_before))


    def _item_body(self, listing: Listing, image_ids: dict[str, str]) -> dict[str, Any]:
        wire.category_id(listing)
        # The same decision as the rules check's, so a listing it let through always has a weight.
        weight = package_weight(listing, SPEC.default_weight_kg(self.store))
        if weight is None:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT,
                f"listing {listing.sku}: add_item requires a weight (set settings.default_weight_kg)",
            )
        details = listing.details or CatalogDetails()
        return wire.item_body(listing, image_ids, weight, self.lookups.logistic_info(details))

    def _init_tiers(
        self, item_id: int, listing: Listing, tiers: list[Tier], image_ids: dict[str, str], not_before: float
    ) -> dict[str, str]:
        wait = not_before - self._clock()
        if wait > 0:
            self._sleep(wait)  # contract 3.5: the item must settle before its variations are set
        body = wire.tier_body(item_id, listing, tiers, image_ids)
        answer = self._call(Call("POST", "/api/v2/product/init_tier_variation", body=body))
        return {m["model_sku"]: str(m["model_id"]) for m in answer.get("model") or []}

    # == prices, stock, models ============================================================================

    def _model_ids(self, ref: RemoteRef, listing: Listing) -> dict[str, int]:
        """Each variant's model id: from the ref when it knows them all, else read from the shop."""
        wanted = {v.sku for v in listing.variants}
        if wanted <= set(ref.variant_ids):
            return {sku: int(ref.variant_ids[sku]) for sku in wanted}
        models = self._model_list(int(ref.product_id))
        if not models.get("model"):
            return {listing.sku: NO_MODEL} if wanted == {listing.sku} else {}
        return {m["model_sku"]: int(m["model_id"]) for m in models["model"]}

    def _set_prices(self, item_id: int, model_ids: dict[str, int], variants: Iterable[ListingVariant]) -> None:
        entries = [(v.sku, {"model_id": model_ids.get(v.sku), "original_price": wire.money(v.price)}) for v in variants]
        self._per_model(item_id, "update_price", "price_list", entries)

    def _set_stock(self, item_id: int, model_ids: dict[str, int], stock: dict[str, int]) -> None:
        entries = [
            (sku, {"model_id": model_ids.get(sku), "seller_stock": [{"stock": qty}]}) for sku, qty in stock.items()
        ]
        self._per_model(item_id, "update_stock", "stock_list", entries)

    def _per_model(self, item_id: int, api: str, list_name: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
        unknown = [sku for sku, entry in entries if entry["model_id"] is None]
        failed: list[str] = []
        sku_of = {entry["model_id"]: sku for sku, entry in entries}
        known = [entry for _sku, entry in entries if entry["model_id"] is not None]
        for chunk in chunks(known, BATCH):
            answer = self._call(Call("POST", f"/api/v2/product/{api}", body={"item_id": item_id, list_name: chunk}))
            failed += [
                f"{sku_of.get(f.get('model_id'), f.get('model_id'))} ({f.get('failed_reason')})"
                for f in answer.get("failure_list") or []
            ]
        if unknown or failed:
            reasons = failed + [f"{sku} (no such model on the item)" for sku in unknown]
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT,
                f"{api} of item {item_id} failed for: {', '.join(reasons)}",
                platform_code="failure_list",
            )

    def _model_list(self, item_id: int) -> dict[str, Any]:
        return self._call(Call("GET", "/api/v2/product/get_model_list", params={"item_id": item_id}))

    # == reads ============================================================================================

    def _find_item(self, sku: str) -> dict[str, Any] | None:
        """The live item whose item_sku is exactly ``sku`` (search_item matches by keyword)."""
        ids: list[int] = []
        offset: int | None = 0
        while offset is not None:
            answer = self._call(
                Call("GET", "/api/v2/product/search_item",
                      params={"item_sku": sku, "page_size": PAGE_SIZE, "offset": offset})
            )
            ids += [int(i) for i in answer.get("item_id_list") or []]
            offset = answer.get("next_offset") if answer.get("next_offset") else None
        matches = [
            item for chunk in chunks(ids, BATCH) for item in self._base_info(chunk)
            if item.get("item_sku") == sku and item.get("item_status") not in DELETED
        ]
        return min(matches, key=lambda i: int(i["item_id"])) if matches else None

    def _base_info(self, item_ids: Sequence[int]) -> list[dict[str, Any]]:
        try:
            answer = self._call(
                Call("GET", "/api/v2/product/get_item_base_info",
                      params={"item_id_list": ",".join(str(i) for i in item_ids)})
            )
        except PlatformError as exc:
            if exc.error_class is ErrorClass.NOT_FOUND:
                return []
            raise
        return list(answer.get("item_list") or [])

    def _remote_product(self, item: dict[str, Any]) -> RemoteProduct:
        models = self._model_list(int(item["item_id"])) if item.get("has_model") else None
        return wire.remote_product(item, models)

    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules:
        return self.lookups.read_catalog_rules(category_ids)
