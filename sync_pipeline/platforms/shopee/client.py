"""Shopee Open Platform v2 client (contract ``platforms.md`` sections 3 and 5).

Every call is signed (HMAC-SHA256 over ``partner_id + api_path + timestamp [+ access_token +
shop_id]``), paced by one ``RequestRateLimiter`` shared by the push's threads, and retried by the
shared policy. Shopee answers errors in a JSON envelope whatever the HTTP status, so the ``error``
field decides the class.

Choices worth knowing:

* rate: the store's ``rate_limit.requests_per_second``, else ``DEFAULT_REQUESTS_PER_SECOND`` (10/s;
  Shopee publishes no product-API quota, contract 3.4), paced evenly (burst 1) so that network
  jitter never turns into a burst on the shop's side;
* tokens: the ``TokenStore``'s pair wins over the environment's (it is newer); on
  ``error_auth "Invalid access_token."`` the client refreshes once (single-use refresh token: the
  new pair is saved before it is used) and replays the request;
* creates are idempotent without an idempotency key (contract 5): ``item_sku`` is the listing SKU,
  and after an unknown outcome (NETWORK_ERROR) the SKU is looked up with ``search_item`` before
  ``add_item`` is sent again; ``error_repeated_mtsku`` adopts the existing item and updates it;
* ``init_tier_variation`` waits ``tier_variation_wait_seconds`` (default 5 s, the guide's figure)
  after ``add_item``; this blocks the calling thread, so the push's pool should be wide enough;
* partial failures in ``update_price``/``update_stock`` raise INVALID_PRODUCT naming the failing
  variant SKUs (the successful models stay updated: Shopee applies them independently);
* prices: Shopee sells at ``original_price``; a compare-at price has no place in the item API
  (discounts are promotions), so it is not sent;
* images: Shopee only takes uploaded files (contract 3.5), so each image URL is downloaded and sent
  to ``media_space/upload_image`` once per client (ids cached per URL).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant, Package
from sync_pipeline.listings.rules import AttributeRule, CategoryRules, ShippingChannel, StoreRules
from sync_pipeline.platforms.base import (
    CallObserver,
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    RemoteVariant,
    StoreClient,
    TokenPair,
    TokenStore,
)
from sync_pipeline.platforms.http import HttpTransport
from sync_pipeline.platforms.ratelimit import RequestRateLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.stores import StoreConfig

DEFAULT_REQUESTS_PER_SECOND = 10.0
DEFAULT_TIER_WAIT_SECONDS = 5.0  # contract 3.5: wait >= 5 s after add_item before init_tier_variation
REFRESH_MARGIN_SECONDS = 60.0  # refresh a little before expiry rather than fail a call
REFRESH_PATH = "/api/v2/auth/access_token/get"
UPLOAD_IMAGE_PATH = "/api/v2/media_space/upload_image"
BATCH = 50  # contract 3.5: price_list / stock_list / item_id_list / models per call
IMAGES_PER_UPLOAD = 8  # contract 3.5: "<9 per call"
PAGE_SIZE = 100
NO_MODEL = 0  # contract 3.5: model_id 0 addresses an item without variations
THROTTLE_ERRORS = frozenset({"error_too_many_request", "error_system_busy"})  # contract 5: back off
SERVER_ERRORS = frozenset({"error_server", "error_inner", "error_network", "error_get_shop_fail"})
# real-stores 2.4/2.5: a dead token, as documented and as real shops spell it (misspelled included).
DEAD_TOKEN_ERRORS = frozenset({"invalid_acceess_token", "invalid_access_token"})
ACCOUNT_ERRORS = frozenset({
    "error_sign", "error_shop", "error_auth_shop_not_found", "error_param_shop_id_not_found",
    "refresh_token_expired", "error_shop_refresh_token", "shop_access_expired", "shop_no_linked", "shop_banned",
})
# error_auth is overloaded (real-stores 2.5): only these messages are about the credentials.
_AUTH_MESSAGES = ("access_token", "access token", "refresh_token", "no permission to current api", "partner")
NOT_READY_ERROR = "error_busi_item_not_ready"
DUPLICATE_SKU_ERROR = "error_repeated_mtsku"
STATUS_WORDS = {"NORMAL": "active", "UNLIST": "delisted", "REVIEWING": "pending"}
DELETED = frozenset({"SELLER_DELETE", "SHOPEE_DELETE"})

ImageLoader = Callable[[str], bytes]
FormPart = tuple[str, tuple[str | None, bytes | str, str | None]]  # requests' multipart field
DEFAULT_RETRY = RetryPolicy()


def signature_base_string(
    partner_id: int | str, api_path: str, timestamp: int | str, access_token: str = "", shop_id: int | str = ""
) -> str:
    """Contract 3.2: shop calls sign all five parts, public calls only the first three."""
    return f"{partner_id}{api_path}{timestamp}{access_token}{shop_id}"


def sign(partner_key: str, base_string: str) -> str:
    return hmac.new(partner_key.encode(), base_string.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    files: list[FormPart] | None = None
    public: bool = False

    @property
    def operation(self) -> str:
        return "shopee." + self.path.removeprefix("/api/v2/").replace("/", ".")


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
        timeout: float = 30.0,
        pool_size: int = 32,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if "shop_id" not in store.settings:
            raise ValueError(f"store '{store.key}': settings.shop_id is required for Shopee")
        self.store = store
        self.base_url = store.endpoint.rstrip("/")
        self.shop_id = int(store.settings["shop_id"])
        self.partner_id = int(store.credential("partner_id"))
        self._partner_key = store.credential("partner_key")
        self.token_store = token_store
        self.retry = retry
        self.tier_wait = float(store.settings.get("tier_variation_wait_seconds", DEFAULT_TIER_WAIT_SECONDS))
        self.limiter = RequestRateLimiter(
            store.rate_limit.requests_per_second or DEFAULT_REQUESTS_PER_SECOND, burst=1
        )
        self.transport = HttpTransport(
            timeout=timeout, pool_size=pool_size, observer=observer, secrets=[self._partner_key]
        )
        self._image_loader = image_loader or self._download_image
        self._clock = clock
        self._sleep = sleep
        self._tokens: TokenPair | None = None
        self._token_lock = threading.Lock()
        self._image_ids: dict[str, str] = {}
        self._image_lock = threading.Lock()
        self._logistics: list[dict[str, Any]] | None = None
        self._logistics_lock = threading.Lock()

    # == StoreClient ====================================================================================

    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        item = self._find_item(sku)
        return None if item is None else self._remote_product(item)

    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        tiers = _tiers(listing)
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
            _Call("POST", "/api/v2/product/unlist_item", body={"item_list": [{"item_id": item_id, "unlist": True}]})
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
            self._call(_Call("POST", "/api/v2/product/delete_item", body={"item_id": int(ref.product_id)}))
        except PlatformError as exc:
            if exc.error_class is not ErrorClass.NOT_FOUND:
                raise

    def close(self) -> None:
        self.transport.close()

    def store_products(self) -> Iterator[RemoteProduct]:
        """Every live item (NORMAL and UNLIST), page by page, then its base info and models."""
        offset: int | None = 0
        while offset is not None:
            answer = self._call(_Call("GET", "/api/v2/product/get_item_list", params={
                "offset": offset, "page_size": PAGE_SIZE, "item_status": ["NORMAL", "UNLIST"]}))
            ids = [int(i["item_id"]) for i in answer.get("item") or []]
            for chunk in _chunks(ids, BATCH):
                for item in self._base_info(chunk):
                    if item.get("item_status") not in DELETED:
                        yield self._remote_product(item)
            offset = int(answer["next_offset"]) if answer.get("has_next_page") else None

    # == create / update =================================================================================

    def _create(self, listing: Listing, tiers: list[_Tier]) -> RemoteRef:
        image_ids = self._upload_images(_all_images(listing))
        body = self._item_body(listing, image_ids)
        body.update(
            original_price=_money(listing.variants[0].price if not tiers else min(v.price for v in listing.variants)),
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
        call = _Call("POST", "/api/v2/product/add_item", body=body)

        def attempt(number: int) -> tuple[int, bool]:
            nonlocal outcome_unknown
            if outcome_unknown:
                found = self._find_item(sku)
                if found is not None:
                    return int(found["item_id"]), True
            try:
                return int(self._send(call, number)["item_id"]), False
            except PlatformError as exc:
                if exc.error_class is ErrorClass.NETWORK_ERROR:
                    outcome_unknown = True  # the item may exist although we never heard so
                if exc.platform_code == DUPLICATE_SKU_ERROR:
                    found = self._find_item(sku)
                    if found is not None:
                        return int(found["item_id"]), True
                raise

        return call_with_retries(attempt, self.retry, sleep=self._sleep)

    def _update(self, listing: Listing, item_id: int, tiers: list[_Tier], *, not_before: float) -> RemoteRef:
        image_ids = self._upload_images(_all_images(listing))
        body = self._item_body(listing, image_ids)
        body["item_id"] = item_id
        self._call(_Call("POST", "/api/v2/product/update_item", body=body))
        if not tiers:
            ids = {listing.sku: NO_MODEL}
            self._set_prices(item_id, ids, listing.variants)
            self._set_stock(item_id, ids, {v.sku: v.stock_qty for v in listing.variants})
            return RemoteRef(str(item_id), {listing.sku: str(NO_MODEL)})
        models = self._model_list(item_id)
        current = _structure(models)
        if current is not None and current == _wanted_structure(listing, tiers):
            ids = {m["model_sku"]: int(m["model_id"]) for m in models["model"]}
            self._set_prices(item_id, ids, listing.variants)
            self._set_stock(item_id, ids, {v.sku: v.stock_qty for v in listing.variants})
            return RemoteRef(str(item_id), {sku: str(i) for sku, i in ids.items()})
        # A new variation structure: re-initialising replaces the models (contract 3.5/5).
        return RemoteRef(str(item_id), self._init_tiers(item_id, listing, tiers, image_ids, not_before))

    def _item_body(self, listing: Listing, image_ids: dict[str, str]) -> dict[str, Any]:
        if listing.category_id is None or not str(listing.category_id).isdigit():
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: Shopee needs a numeric category_id"
            )
        weight = listing.weight_kg or next((v.weight_kg for v in listing.variants if v.weight_kg), None)
        weight = weight or _decimal_setting(self.store.settings.get("default_weight_kg"))
        if weight is None:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT,
                f"listing {listing.sku}: add_item requires a weight (set settings.default_weight_kg)",
            )
        details = listing.details or CatalogDetails()
        body: dict[str, Any] = {
            "item_name": listing.title,
            "description": listing.description,
            "item_sku": listing.sku,
            "category_id": int(listing.category_id),
            "weight": float(_kilograms(weight, details.package.weight_unit if details.package else "KILOGRAM")),
            "image": {"image_id_list": [image_ids[url] for url in listing.images]},
            "logistic_info": self._logistic_info(details),
            "item_status": "NORMAL" if listing.action == "list" else "UNLIST",
        }
        if details.package is not None and details.package.has_dimensions:
            body["dimension"] = _dimension(details.package)
        if details.brand_id is not None:
            body["brand"] = {"brand_id": int(details.brand_id) if details.brand_id.isdigit() else 0,
                             "original_brand_name": details.brand_name or "NoBrand"}
        attributes = [a for a in details.attributes if a.attribute_id and a.attribute_id.isdigit()]
        if attributes:
            body["attribute_list"] = [
                {"attribute_id": int(a.attribute_id or 0), "attribute_value_list": [
                    {"value_id": int(v.value_id)} if v.value_id and v.value_id.isdigit()
                    else {"value_id": 0, "original_value_name": v.name}  # free text (real-stores 2.1)
                    for v in a.values
                ]}
                for a in attributes
            ]
        return body

    def _init_tiers(
        self, item_id: int, listing: Listing, tiers: list[_Tier], image_ids: dict[str, str], not_before: float
    ) -> dict[str, str]:
        wait = not_before - self._clock()
        if wait > 0:
            self._sleep(wait)  # contract 3.5: the item must settle before its variations are set
        option_images = _option_images(listing, tiers)
        # real-stores 2.2: standardise_tier_variation (tier_variation is deprecated); custom
        # variations and options carry id 0; first-tier images go on every option or on none.
        body = {
            "item_id": item_id,
            "standardise_tier_variation": [
                {
                    "variation_id": 0,
                    "variation_name": tier.name,
                    "variation_group_id": 0,
                    "variation_option_list": [
                        {"variation_option_id": 0, "variation_option_name": option,
                         **({"image_id": image_ids[option_images[option]]} if index == 0 and option_images else {})}
                        for option in tier.options
                    ],
                }
                for index, tier in enumerate(tiers)
            ],
            "model": [
                {
                    "tier_index": _tier_index(v, tiers),
                    "original_price": _money(v.price),
                    "model_sku": v.sku,
                    "seller_stock": [{"stock": v.stock_qty}],
                }
                for v in listing.variants
            ],
        }
        answer = self._call(_Call("POST", "/api/v2/product/init_tier_variation", body=body))
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
        entries = [(v.sku, {"model_id": model_ids.get(v.sku), "original_price": _money(v.price)}) for v in variants]
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
        for chunk in _chunks(known, BATCH):
            answer = self._call(_Call("POST", f"/api/v2/product/{api}", body={"item_id": item_id, list_name: chunk}))
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
        return self._call(_Call("GET", "/api/v2/product/get_model_list", params={"item_id": item_id}))

    # == reads ============================================================================================

    def _find_item(self, sku: str) -> dict[str, Any] | None:
        """The live item whose item_sku is exactly ``sku`` (search_item matches by keyword)."""
        ids: list[int] = []
        offset: int | None = 0
        while offset is not None:
            answer = self._call(
                _Call("GET", "/api/v2/product/search_item",
                      params={"item_sku": sku, "page_size": PAGE_SIZE, "offset": offset})
            )
            ids += [int(i) for i in answer.get("item_id_list") or []]
            offset = answer.get("next_offset") if answer.get("next_offset") else None
        matches = [
            item for chunk in _chunks(ids, BATCH) for item in self._base_info(chunk)
            if item.get("item_sku") == sku and item.get("item_status") not in DELETED
        ]
        return min(matches, key=lambda i: int(i["item_id"])) if matches else None

    def _base_info(self, item_ids: Sequence[int]) -> list[dict[str, Any]]:
        try:
            answer = self._call(
                _Call("GET", "/api/v2/product/get_item_base_info",
                      params={"item_id_list": ",".join(str(i) for i in item_ids)})
            )
        except PlatformError as exc:
            if exc.error_class is ErrorClass.NOT_FOUND:
                return []
            raise
        return list(answer.get("item_list") or [])

    def _remote_product(self, item: dict[str, Any]) -> RemoteProduct:
        item_id = int(item["item_id"])
        if item.get("has_model"):
            models = self._model_list(item_id)
            tiers = [t["name"] for t in models.get("tier_variation") or []]
            options = [[o["option"] for o in t.get("option_list") or []] for t in models.get("tier_variation") or []]
            variants = tuple(
                RemoteVariant(
                    sku=m["model_sku"],
                    price=_first_price(m),
                    compare_at_price=None,
                    stock_qty=_stock_of(m),
                    options={tiers[n]: options[n][i] for n, i in enumerate(m["tier_index"])},
                    variant_id=str(m["model_id"]),
                )
                for m in models.get("model") or []
            )
        else:
            variants = (
                RemoteVariant(item["item_sku"], _first_price(item), None, _stock_of(item), {}, str(NO_MODEL)),
            )
        image = item.get("image") or {}
        return RemoteProduct(
            ref=RemoteRef(str(item_id), {v.sku: v.variant_id or "" for v in variants}),
            sku=item.get("item_sku") or "",
            title=item.get("item_name") or "",
            status=STATUS_WORDS.get(item.get("item_status", ""), str(item.get("item_status", "")).lower()),
            image_count=len(image.get("image_id_list") or []),
            variants=variants,
            description=item.get("description"),
            raw=item,
        )

    def _logistic_info(self, details: CatalogDetails) -> list[dict[str, Any]]:
        """The mapping's channels (real-stores 2.1: per fee_type), else settings.logistic_ids, else every
        channel usable without settings: enabled, not masked, a fixed default price (read once)."""
        if details.shipping:
            return [
                _without_none({"logistic_id": int(c.channel_id), "enabled": True, "size_id": c.size_id,
                               "shipping_fee": float(c.shipping_fee) if c.shipping_fee is not None else None})
                for c in details.shipping
            ]
        with self._logistics_lock:
            if self._logistics is None:
                configured = self.store.settings.get("logistic_ids")
                if configured:
                    ids = [int(i) for i in configured]
                else:
                    ids = [int(c["logistics_channel_id"]) for c in self._channels() if _usable_as_is(c)]
                if not ids:
                    raise PlatformError(ErrorClass.INVALID_PRODUCT, "the shop has no logistics channel usable without "
                                        "settings: choose channels in the store's mapping.shipping")
                self._logistics = [{"logistic_id": i, "enabled": True} for i in ids]
            return [dict(entry) for entry in self._logistics]

    def _channels(self) -> list[dict[str, Any]]:
        answer = self._call(_Call("GET", "/api/v2/logistics/get_channel_list"))
        return list(answer.get("logistics_channel_list") or [])

    # == the shop's catalog rules (real-stores 2.3) ========================================================

    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules:
        wanted = [str(c) for c in dict.fromkeys(category_ids) if str(c).isdigit()]
        tree = {str(c["category_id"]): c for c in
                self._call(_Call("GET", "/api/v2/product/get_category", params={"language": "en"}))
                .get("category_list") or []}
        known = [c for c in wanted if c in tree]
        attributes: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(known, 20):  # get_attribute_tree: <= 20 categories per call
            answer = self._call(_Call("GET", "/api/v2/product/get_attribute_tree",
                                      params={"category_id_list": ",".join(chunk), "language": "en"}))
            for entry in answer.get("list") or []:
                attributes[str(entry["category_id"])] = list(entry.get("attribute_tree") or [])
        categories = {}
        for category_id in known:
            node = tree[category_id]
            leaf = not node.get("has_children")
            brands, mandatory = self._brand_list(category_id) if leaf else ({}, False)
            limits = self._call(_Call("GET", "/api/v2/product/get_item_limit",
                                      params={"category_id": int(category_id)})) if leaf else {}
            categories[category_id] = CategoryRules(
                category_id=category_id,
                name=str(node.get("original_category_name") or ""),
                leaf=leaf,
                attributes=tuple(_attribute_rule(a) for a in attributes.get(category_id, [])),
                brand_required=mandatory,
                brands=brands,
                no_brand_allowed=not mandatory,
                dimensions_required=bool((limits.get("dimension_limit") or {}).get("dimension_mandatory")),
                # real-stores 2.3 get_item_limit: absent flags keep the strict reading (2.1: weight required).
                weight_required=bool((limits.get("weight_limit") or {}).get("weight_mandatory", True)),
                size_chart_required=bool((limits.get("size_chart_limit") or {}).get("size_chart_mandatory")),
                image_limit=int((limits.get("item_image_count_limit") or {}).get("max_limit") or 0) or None,
            )
        channels = tuple(
            ShippingChannel(
                channel_id=str(c["logistics_channel_id"]),
                name=str(c.get("logistics_channel_name") or ""),
                usable=bool(c.get("enabled")) and int(c.get("mask_channel_id") or 0) == 0,
                fee_type=str(c.get("fee_type") or ""),
                size_ids=tuple(str(size["size_id"]) for size in c.get("size_list") or []),
            )
            for c in self._channels()
        )
        return StoreRules(store_key=self.store.key, platform=self.platform, read_at=datetime.now(UTC),
                          categories=categories, channels=channels)

    def _brand_list(self, category_id: str) -> tuple[dict[str, str], bool]:
        brands: dict[str, str] = {}
        mandatory = False
        offset: int | None = 0
        while offset is not None:
            answer = self._call(_Call("GET", "/api/v2/product/get_brand_list", params={
                "category_id": int(category_id), "offset": offset, "page_size": PAGE_SIZE, "status": 1}))
            mandatory = mandatory or bool(answer.get("is_mandatory"))
            brands.update({str(b["original_brand_name"]): str(b["brand_id"]) for b in answer.get("brand_list") or []})
            offset = int(answer["next_offset"]) if answer.get("has_next_page") else None
        return brands, mandatory

    # == images ===========================================================================================

    def _upload_images(self, urls: Sequence[str]) -> dict[str, str]:
        with self._image_lock:
            missing = [u for u in dict.fromkeys(urls) if u not in self._image_ids]
        for chunk in _chunks(missing, IMAGES_PER_UPLOAD):
            files: list[FormPart] = [("image", (_file_name(url), self._image_loader(url), _mime(url))) for url in chunk]
            files.append(("scene", (None, "normal", None)))
            answer = self._call(_Call("POST", UPLOAD_IMAGE_PATH, files=files, public=True))
            infos = image_infos(answer, chunk)
            with self._image_lock:
                self._image_ids.update({url: str(info["image_id"]) for url, info in zip(chunk, infos, strict=True)})
        with self._image_lock:
            return {url: self._image_ids[url] for url in urls}

    def _download_image(self, url: str) -> bytes:
        """The image's bytes from the catalog's media host (not a store call: no limiter, no signing)."""
        try:
            response = self.transport.session.get(url, timeout=self.transport.timeout)
        except requests.RequestException:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"image download failed: {url}") from None
        if response.status_code in (404, 410):
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT, f"image not found: {url}", http_status=response.status_code
            )
        if response.status_code >= 400:
            raise PlatformError(
                ErrorClass.NETWORK_ERROR,
                f"image download failed (HTTP {response.status_code}): {url}",
                http_status=response.status_code,
            )
        return response.content

    # == transport: signing, tokens, errors ===============================================================

    def _call(self, call: _Call) -> dict[str, Any]:
        """One API call with retries; returns the envelope's ``response``."""
        return call_with_retries(lambda attempt: self._send(call, attempt), self.retry, sleep=self._sleep)

    def _send(self, call: _Call, attempt: int) -> dict[str, Any]:
        """One attempt, refreshing the access token once if the shop says it is invalid."""
        token = None if call.public else self._access_token()
        try:
            return self._send_signed(call, attempt, token)
        except PlatformError as exc:
            if token is None or not _is_expired_token(exc):
                raise
        self._refresh(stale=token)
        return self._send_signed(call, attempt, self._access_token())

    def _send_signed(self, call: _Call, attempt: int, token: str | None) -> dict[str, Any]:
        timestamp = int(self._clock())
        params: dict[str, Any] = {"partner_id": self.partner_id, "timestamp": timestamp}
        if token is None:
            base = signature_base_string(self.partner_id, call.path, timestamp)
        else:
            base = signature_base_string(self.partner_id, call.path, timestamp, token, self.shop_id)
            params.update(access_token=token, shop_id=self.shop_id)
        params["sign"] = sign(self._partner_key, base)
        params.update(call.params or {})
        data = None if call.body is None else json.dumps(call.body, separators=(",", ":"))
        headers = {"Content-Type": "application/json"} if data is not None else None
        self.limiter.acquire()
        result = self.transport.request(
            call.method, self.base_url + call.path, operation=call.operation, attempt=attempt,
            params=params, headers=headers, data=data, files=call.files,
        )
        try:
            envelope = result.json()
        except PlatformError as malformed:  # e.g. a proxy's HTML page: the call's row says so
            self.transport.observe_failure(call.operation, attempt, malformed)
            raise
        if not isinstance(envelope, dict) or envelope.get("error") or result.status >= 400:
            if isinstance(envelope, dict) and envelope.get("error"):
                error = self._classify(call, envelope, result.status)
            elif isinstance(envelope, dict):
                error = PlatformError(ErrorClass.NETWORK_ERROR, f"{call.operation}: HTTP {result.status}",
                                      http_status=result.status)
            else:
                error = PlatformError(ErrorClass.NETWORK_ERROR, f"{call.operation}: response is not a JSON object",
                                      http_status=result.status)
            self.transport.observe_failure(call.operation, attempt, error)  # the call's verdict, on its row
            raise error
        if call.path == REFRESH_PATH:
            return envelope  # the auth answer is flat: the pair sits beside request_id
        response = envelope.get("response")
        return response if isinstance(response, dict) else {}

    def _classify(self, call: _Call, envelope: dict[str, Any], status: int) -> PlatformError:
        code = str(envelope.get("error"))
        message = self.transport.redact(f"{call.operation}: {envelope.get('message') or code}")
        if code in THROTTLE_ERRORS or status == 429:
            self.limiter.penalize(1.0 / self.limiter.rate)
            return PlatformError(ErrorClass.RATE_LIMITED, message, platform_code=code, http_status=status,
                                 retry_after=1.0 / self.limiter.rate)
        if code == NOT_READY_ERROR:
            return PlatformError(ErrorClass.RATE_LIMITED, message, platform_code=code, http_status=status,
                                 retry_after=1.0)
        if code in SERVER_ERRORS or status >= 500:
            return PlatformError(ErrorClass.NETWORK_ERROR, message, platform_code=code, http_status=status)
        if (
            code in ACCOUNT_ERRORS
            or code in DEAD_TOKEN_ERRORS
            or (code == "error_auth" and _is_credentials_message(message))
            or (code == "error_param" and _is_common_param(message))
        ):
            return PlatformError(ErrorClass.UNAUTHORIZED, message, platform_code=code, http_status=status)
        if code == "error_item_not_found":
            return PlatformError(ErrorClass.NOT_FOUND, message, platform_code=code, http_status=status)
        return PlatformError(ErrorClass.INVALID_PRODUCT, message, platform_code=code, http_status=status)

    def _access_token(self) -> str:
        with self._token_lock:
            pair = self._current_pair()
        expires = pair.access_expires_at
        if expires is not None and expires - REFRESH_MARGIN_SECONDS <= self._clock():
            self._refresh(stale=pair.access_token)
            with self._token_lock:
                pair = self._current_pair()
        return pair.access_token

    def _current_pair(self) -> TokenPair:
        """The pair in use; on first use the token store's (newer) pair, else the environment's."""
        if self._tokens is None:
            stored = self.token_store.load(self.store.key) if self.token_store is not None else None
            self._tokens = stored or TokenPair(
                self.store.credential("access_token"), self.store.credential("refresh_token")
            )
            self.transport.add_secret(self._tokens.access_token)
            self.transport.add_secret(self._tokens.refresh_token)
        return self._tokens

    def _refresh(self, stale: str) -> None:
        """Swap the pair once per expiry, however many threads noticed it (the refresh token is single-use)."""
        with self._token_lock:
            pair = self._current_pair()
            if pair.access_token != stale:
                return  # another thread refreshed already
            body = {"refresh_token": pair.refresh_token, "partner_id": self.partner_id, "shop_id": self.shop_id}
            answer = self._call(_Call("POST", REFRESH_PATH, body=body, public=True))
            access, refresh = answer.get("access_token"), answer.get("refresh_token")
            if not access or not refresh:
                raise PlatformError(ErrorClass.UNAUTHORIZED, "token refresh answered without a token pair")
            now = self._clock()
            self.transport.add_secret(str(access))
            self.transport.add_secret(str(refresh))
            new = TokenPair(
                access_token=str(access),
                refresh_token=str(refresh),
                access_expires_at=now + float(answer.get("expire_in") or 0) if answer.get("expire_in") else None,
                refresh_expires_at=now + 30 * 86400,  # contract 3.3: 30 days
            )
            if self.token_store is not None:
                self.token_store.save(self.store.key, new)  # committed before the new token is used
            self._tokens = new


def image_infos(answer: dict[str, Any], urls: Sequence[str]) -> list[dict[str, Any]]:
    """One ``image_info`` per uploaded file, in order (real-stores 2.3: ``image_info_list`` with a
    per-file ``error``, or - which one a single file fills is unverified - ``image_info`` alone)."""
    entries = answer.get("image_info_list")
    if not entries and answer.get("image_info") and len(urls) == 1:
        entries = [{"error": "", "image_info": answer["image_info"]}]
    entries = list(entries or [])
    for url, entry in zip(urls, entries, strict=False):
        if entry.get("error"):
            raise PlatformError(ErrorClass.INVALID_PRODUCT, f"upload_image refused {url}: {entry.get('message')}",
                                platform_code=str(entry["error"]))
    infos = [entry.get("image_info") or {} for entry in entries]
    if len(infos) != len(urls) or not all(info.get("image_id") for info in infos):
        raise PlatformError(ErrorClass.NETWORK_ERROR, "upload_image answered without an image id per file")
    return infos


# == listing -> wire helpers =================================================================================


@dataclass(frozen=True)
class _Tier:
    name: str
    options: tuple[str, ...]


def _tiers(listing: Listing) -> list[_Tier]:
    """The listing's variation tiers (empty for a simple product), values in first-seen order."""
    if not listing.variants:
        raise PlatformError(ErrorClass.INVALID_PRODUCT, f"listing {listing.sku} has no variant")
    if not listing.options:
        if len(listing.variants) != 1:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: several variants but no variant axes"
            )
        return []
    if len(listing.options) > 2:
        raise PlatformError(
            ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: Shopee allows at most 2 variation tiers"
        )
    tiers = []
    for axis in listing.options:
        values = []
        for variant in listing.variants:
            value = variant.options.get(axis)
            if value is None:
                raise PlatformError(
                    ErrorClass.INVALID_PRODUCT, f"listing {listing.sku}: variant {variant.sku} has no {axis}"
                )
            if value not in values:
                values.append(value)
        tiers.append(_Tier(axis, tuple(values)))
    return tiers


def _tier_index(variant: ListingVariant, tiers: list[_Tier]) -> list[int]:
    return [tier.options.index(variant.options[tier.name]) for tier in tiers]


def _option_images(listing: Listing, tiers: list[_Tier]) -> dict[str, str]:
    """First-tier option -> image URL of its first variant that has one (Shopee shows them per option).

    Empty unless every first-tier option has one: a partial set is refused (real-stores 2.2)."""
    images: dict[str, str] = {}
    for variant in listing.variants:
        option = variant.options.get(tiers[0].name) if tiers else None
        if option is not None and variant.image and option not in images:
            images[option] = variant.image
    return images if tiers and set(images) == set(tiers[0].options) else {}


def _all_images(listing: Listing) -> list[str]:
    return list(dict.fromkeys([*listing.images, *(v.image for v in listing.variants if v.image)]))


def _wanted_structure(listing: Listing, tiers: list[_Tier]) -> tuple[Any, ...]:
    return (
        tuple((t.name, t.options) for t in tiers),
        frozenset((v.sku, tuple(_tier_index(v, tiers))) for v in listing.variants),
    )


def _structure(models: dict[str, Any]) -> tuple[Any, ...] | None:
    tiers = models.get("tier_variation") or []
    if not tiers:
        return None
    return (
        tuple((t["name"], tuple(o["option"] for o in t.get("option_list") or [])) for t in tiers),
        frozenset((m["model_sku"], tuple(m["tier_index"])) for m in models.get("model") or []),
    )


def _usable_as_is(channel: dict[str, Any]) -> bool:
    """real-stores 2.1: enabled, not masked, and needing nothing but the item (a fixed default fee)."""
    return (bool(channel.get("enabled")) and int(channel.get("mask_channel_id") or 0) == 0
            and str(channel.get("fee_type") or "FIXED_DEFAULT_PRICE") == "FIXED_DEFAULT_PRICE")


def _attribute_rule(entry: dict[str, Any]) -> AttributeRule:
    info = entry.get("attribute_info") or {}
    input_type = int(info.get("input_type") or 0)
    return AttributeRule(
        attribute_id=str(entry["attribute_id"]),
        name=str(entry.get("name") or entry.get("display_attribute_name") or ""),
        required=bool(entry.get("mandatory")),
        values={str(v["name"]): str(v["value_id"]) for v in entry.get("attribute_value_list") or []},
        customizable=input_type in (3, 4, 5),  # TEXT_FILED, COMBO_BOX, MULTIPLE_SELECT_COMBO_BOX
        multiple=input_type in (2, 5) or int(info.get("max_value_count") or 1) > 1,
    )


_TO_KG = {"KILOGRAM": Decimal(1), "GRAM": Decimal("0.001"), "POUND": Decimal("0.45359237")}
_TO_CM = {"CENTIMETER": Decimal(1), "INCH": Decimal("2.54")}


def _kilograms(weight: Decimal, unit: str) -> Decimal:
    """Shopee's weight is in kg (real-stores 2.1); the store declares the catalog's unit."""
    return (weight * _TO_KG[unit]).quantize(Decimal("0.001"))


def _dimension(package: Package) -> dict[str, int]:
    factor = _TO_CM[package.dimension_unit]

    def whole(value: Decimal | None) -> int:
        return max(1, int(((value or Decimal(1)) * factor).to_integral_value(rounding="ROUND_CEILING")))

    return {"package_length": whole(package.length), "package_width": whole(package.width),
            "package_height": whole(package.height)}


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _money(value: Decimal) -> float:
    return float(value)


def _decimal_setting(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _first_price(entry: dict[str, Any]) -> Decimal | None:
    prices = entry.get("price_info") or []
    return Decimal(str(prices[0]["original_price"])) if prices else None


def _stock_of(entry: dict[str, Any]) -> int | None:
    info = entry.get("stock_info_v2") or {}
    summary = info.get("summary_info") or {}
    value = summary.get("total_available_stock")
    return None if value is None else int(value)


def _is_common_param(message: str) -> bool:
    """error_param about the call itself (contract 3.2/3.4), not about the product's fields."""
    text = message.lower()
    return any(word in text for word in ("timestamp", "no sign", "partner_id", "access_token", "not from gateway"))


def _is_credentials_message(message: str) -> bool:
    """error_auth about the credentials, not a stock/location/shop-state message (real-stores 2.5)."""
    text = message.lower()
    return any(words in text for words in _AUTH_MESSAGES)


def _is_expired_token(exc: PlatformError) -> bool:
    """Only a dead access token is worth the (single-use) refresh token."""
    if exc.platform_code in DEAD_TOKEN_ERRORS:
        return True
    return exc.platform_code == "error_auth" and "invalid access_token" in exc.message.lower()


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _file_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or "image.jpg"


def _mime(url: str) -> str:
    return mimetypes.guess_type(_file_name(url))[0] or "image/jpeg"
