"""TikTok Shop client (Partner API 202309+): signed calls, rotating tokens, idempotent creates.

Follows ``../shared/contracts/platforms.md`` section 4 (cited as "4.x") and section 5.

Design choices, each for a reason the platform gives:

* Rate limit: TikTok counts 50 QPS per API per app + shop (4.4). The client keeps ONE limiter for
  all its APIs at the store's ``rate_limit.requests_per_second`` (default 50): never above any
  per-API ceiling, at the cost of not using several APIs' ceilings at once. Its burst is a tenth of
  a second's worth, so requests that bunch up on the wire do not overrun the server's bucket.
* Tokens: the pair in the TokenStore wins over the environment (the environment keeps the first,
  long since rotated pair). On 105002 the client refreshes once, saves the new pair BEFORE using it
  (a refresh token works once, 4.3) and replays the request.
* Idempotent create: ``idempotency_key`` is derived from the store, the parent SKU and the listing's
  content hash, so a retry after a lost response replays the first create (5: "UUID per logical
  create, reused on retry"). ``external_product_id`` carries the parent SKU.
* Audit: price, inventory and deactivation need an ACTIVATE product (4.5). When the platform says
  the status does not allow it and the product is still PENDING, the client polls Get Product for
  up to ``settings.audit_wait_seconds`` (default 30) and replays; past that it raises a retryable
  RATE_LIMITED error ("not yet"), so the push tries again later instead of giving up on the SKU.
* Delist = Deactivate Products. Stock is not set to 0: Update Inventory accepts 1..99,999 (4.5).
* ``shop_cipher`` goes only on shop-scoped endpoints: app-level ones (image upload, ...) refuse it
  with 36009004 (real-stores 1.1). US shops use the v2 category tree (``settings.region``, default
  US; ``settings.category_version`` overrides), other regions v1 (real-stores 1.2).
* 36009004 is overloaded (real-stores 1.6): it is a credentials problem only when its message names
  the signature, app key, access token or timestamp; a complaint about the identifier is a defect
  of the request, reported as permanent and never answered by a token refresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant
from sync_pipeline.listings.rules import AttributeRule, CategoryRules, StoreRules
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
from sync_pipeline.platforms.http import HttpResult, HttpTransport
from sync_pipeline.platforms.ratelimit import RequestRateLimiter
from sync_pipeline.platforms.retry import RetryPolicy, call_with_retries
from sync_pipeline.stores import StoreConfig

DEFAULT_AUTH_ENDPOINT = "https://auth.tiktok-shops.com"  # 4.3
DEFAULT_QPS = 50.0  # 4.4
DEFAULT_AUDIT_WAIT_SECONDS = 30.0
AUDIT_POLL_SECONDS = 0.25
REFRESH_MARGIN_SECONDS = 60.0  # refresh a little before the access token's stated expiry

PRODUCTS = "/product/202309/products"
SEARCH = "/product/202502/products/search"
IMAGES = "/product/202309/images/upload"
CATEGORIES = "/product/202309/categories"
BRANDS = "/product/202309/brands"
WAREHOUSES = "/logistics/202309/warehouses"
# real-stores 1.1: app-level endpoints that must NOT carry shop_cipher (every other one must).
_APP_LEVEL_PATHS = re.compile(
    r"/product/\d+/(images/upload|files/upload|sizecharts/search|compliance/.*|global_.*)"
    r"|/authorization/.*"
)
_APP_LEVEL_POSTS = re.compile(r"/product/\d+/brands")  # POST creates a custom brand (app-level)

# 4.4, T-SPEC and real-stores 1.6 codes the client acts on.
EXPIRED_TOKEN = 105002
STATUS_NOT_AVAILABLE = 12052901
OVERLOADED_INVALID = 36009004  # credentials or a malformed request: the message tells which
_THROTTLED = frozenset({36009002})
_UNAUTHORIZED = frozenset({106001, 105002, 105005, 101000, 36009033, 12052700})
_CREDENTIAL_WORDS = ("sign", "app_key", "app key", "access token", "access_token", "timestamp", "credential")
_NOT_FOUND = frozenset({12052032, 12052260, 12052031})
_TRANSIENT = frozenset({36009003, 36009007, 12001000})

_DEFAULT_RETRY = RetryPolicy()

_STATUS_WORDS = {
    "ACTIVATE": "active",
    "SELLER_DEACTIVATED": "delisted",
    "PLATFORM_DEACTIVATED": "delisted",
    "PENDING": "pending",
}


def sign(app_secret: str, path: str, params: Mapping[str, str], body: bytes = b"") -> str:
    """4.2: HMAC-SHA256 (hex) of ``secret + path + sorted key+value (no sign/access_token) + body + secret``.

    ``body`` is the raw JSON sent, or ``b""`` for multipart uploads (their body is not signed).
    """
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    wrapped = b"".join((app_secret.encode(), path.encode(), pairs.encode(), body, app_secret.encode()))
    return hmac.new(app_secret.encode(), wrapped, hashlib.sha256).hexdigest()


def is_shop_scoped(method: str, path: str) -> bool:
    """real-stores 1.1: whether the endpoint needs ``shop_cipher`` (else it must not carry it)."""
    if _APP_LEVEL_PATHS.fullmatch(path):
        return False
    return not (method == "POST" and _APP_LEVEL_POSTS.fullmatch(path))


def idempotency_key(listing: Listing) -> str:
    """The same logical create always gets the same key (4.5: at most 128 characters, UUID advised)."""
    seed = f"{listing.store_key}\n{listing.sku}\n{listing.content_hash()}".encode()
    return str(uuid.UUID(bytes=hashlib.sha256(seed).digest()[:16], version=4))


def classify(http_status: int | None, code: int | None, message: str) -> PlatformError:
    """One TikTok failure as a PlatformError, keeping the platform's code and message."""
    platform_code = str(code) if code is not None else None

    def error(error_class: ErrorClass) -> PlatformError:
        return PlatformError(error_class, message, platform_code=platform_code, http_status=http_status)

    if http_status == 429 or code in _THROTTLED:
        return error(ErrorClass.RATE_LIMITED)
    if code == OVERLOADED_INVALID:
        lowered = message.lower()
        credentials = "shop_cipher" not in lowered and any(word in lowered for word in _CREDENTIAL_WORDS)
        return error(ErrorClass.UNAUTHORIZED if credentials else ErrorClass.INVALID_PRODUCT)
    if code in _UNAUTHORIZED:
        return error(ErrorClass.UNAUTHORIZED)
    if code in _NOT_FOUND:
        return error(ErrorClass.NOT_FOUND)
    if code in _TRANSIENT or (http_status is not None and http_status >= 500):
        return error(ErrorClass.NETWORK_ERROR)
    if http_status == 401 and code is None:
        return error(ErrorClass.UNAUTHORIZED)
    return error(ErrorClass.INVALID_PRODUCT)  # 106013 and other request defects too: never a refresh


class _TokenKeeper:
    """The store's current token pair, refreshed once for all threads when it expires."""

    def __init__(
        self,
        store_key: str,
        token_store: TokenStore,
        initial: TokenPair,
        refresher: Callable[[str], TokenPair],
        clock: Callable[[], float],
    ) -> None:
        self._store_key = store_key
        self._token_store = token_store
        self._pair = token_store.load(store_key) or initial
        self._refresher = refresher
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def pair(self) -> TokenPair:
        with self._lock:
            return self._pair

    def access_token(self) -> str:
        pair = self.pair
        if pair.access_expires_at is not None and self._clock() >= pair.access_expires_at - REFRESH_MARGIN_SECONDS:
            self.refresh(stale_access_token=pair.access_token)
            pair = self.pair
        return pair.access_token

    def refresh(self, stale_access_token: str) -> None:
        """Replace ``stale_access_token`` unless another thread or process already did."""
        with self._lock:
            if self._pair.access_token != stale_access_token:
                return
            stored = self._token_store.load(self._store_key)
            if stored is not None and stored.access_token != stale_access_token:
                self._pair = stored
                return
            fresh = self._refresher(self._pair.refresh_token)
            # Saved (committed) before anyone uses it: the old refresh token no longer works.
            self._token_store.save(self._store_key, fresh)
            self._pair = fresh


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
        timeout: float = 30.0,
        pool_size: int = 16,
    ) -> None:
        self.store = store
        self._base = store.endpoint.rstrip("/")
        self._auth_base = str(store.settings.get("auth_endpoint") or DEFAULT_AUTH_ENDPOINT).rstrip("/")
        self._cipher = _required_setting(store, "shop_cipher")
        self._warehouse_id = _required_setting(store, "warehouse_id")
        self.region = str(store.settings.get("region") or "US").upper()
        self.category_version = str(store.settings.get("category_version") or ("v2" if self.region == "US" else "v1"))
        self._audit_wait = float(store.settings.get("audit_wait_seconds", DEFAULT_AUDIT_WAIT_SECONDS))
        self._app_key = store.credential("app_key")
        self._app_secret = store.credential("app_secret")
        initial = TokenPair(store.credential("access_token"), store.credential("refresh_token"))
        self._transport = HttpTransport(
            timeout=timeout,
            pool_size=pool_size,
            observer=observer,
            secrets=(self._app_secret, initial.access_token, initial.refresh_token),
        )
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        rate = store.rate_limit.requests_per_second or DEFAULT_QPS
        self._limiter = RequestRateLimiter(rate, burst=max(1, int(rate / 10)))
        self._tokens = _TokenKeeper(store.key, token_store, initial, self._refresh_tokens, clock)
        self._transport.add_secret(self._tokens.pair.access_token)
        self._transport.add_secret(self._tokens.pair.refresh_token)
        self._image_source = image_source or self._download
        self._image_uris: dict[tuple[str, str], str] = {}
        self._images_lock = threading.Lock()

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
        body = self._product_body(listing, ref)
        if ref is None:
            body["idempotency_key"] = idempotency_key(listing)
            return _ref_of(self._call("POST", PRODUCTS, "product.create", body=body))
        # 4.5: PUT overwrites every field, blanks included, so the body is always the full product.
        new_ref = _ref_of(self._call("PUT", f"{PRODUCTS}/{ref.product_id}", "product.edit", body=body))
        if listing.action == "list":
            self._reactivate_if_delisted(new_ref)
        return new_ref

    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        skus = [
            _without_none({"id": sku_id, "price": _money(v.price, listing.currency),
                           "list_price": _list_price(v, listing.currency)})
            for v, sku_id in self._known_variants(ref, listing)
        ]
        self._when_active(ref, lambda: self._call(
            "POST", f"{PRODUCTS}/{ref.product_id}/prices/update", "product.price", body={"skus": skus}))

    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        skus = [{"id": sku_id, "inventory": self._inventory(v)} for v, sku_id in self._known_variants(ref, listing)]

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
            _raise_product_errors(data)
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
        return _remote_product(data)

    def delete_product(self, ref: RemoteRef) -> None:
        data = self._call("DELETE", PRODUCTS, "product.delete", body={"product_ids": [ref.product_id]})
        try:
            _raise_product_errors(data)
        except PlatformError as err:
            if err.error_class is not ErrorClass.NOT_FOUND:
                raise  # already gone is what a rollback wants

    def close(self) -> None:
        self._transport.close()

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

    # -- the shop's catalog rules (real-stores 1.3) ---------------------------------------------------

    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules:
        version = {"category_version": self.category_version}
        tree = {str(c["id"]): c for c in self._call("GET", CATEGORIES, "category.list", query=version)
                .get("categories") or []}
        allowed, refused = self._brands()
        categories = {}
        for category_id in dict.fromkeys(str(c) for c in category_ids):
            node = tree.get(category_id)
            if node is None:
                continue  # reported by the listings' check: not a category of this shop
            leaf = bool(node.get("is_leaf"))
            rules = (self._call("GET", f"{CATEGORIES}/{category_id}/rules", "category.rules", query=version)
                     if leaf else {})
            attributes = (self._call("GET", f"{CATEGORIES}/{category_id}/attributes", "category.attributes",
                                     query=version).get("attributes") or []) if leaf else []
            categories[category_id] = CategoryRules(
                category_id=category_id,
                name=str(node.get("local_name") or ""),
                leaf=leaf,
                usable="AVAILABLE" in (node.get("permission_statuses") or []),
                attributes=tuple(
                    AttributeRule(
                        attribute_id=str(a["id"]), name=str(a["name"]),
                        required=bool(a.get("is_requried")),  # sic: TikTok's spelling
                        values={str(v["name"]): str(v["id"]) for v in a.get("values") or []},
                        customizable=bool(a.get("is_customizable")),
                        multiple=bool(a.get("is_multiple_selection")),
                        required_when=tuple((str(c["attribute_id"]), str(c["attribute_value_id"]))
                                            for c in a.get("requirement_conditions") or []
                                            if c.get("attribute_id") and c.get("attribute_value_id")),
                    )
                    for a in attributes if a.get("type") == "PRODUCT_PROPERTY"
                ),
                brands=allowed,
                refused_brands=refused,
                size_chart_required=bool((rules.get("size_chart") or {}).get("is_required")),
                certifications=tuple((str(c["id"]), str(c.get("name") or c["id"]))
                                     for c in rules.get("product_certifications") or [] if c.get("is_required")),
                dimensions_required=bool((rules.get("package_dimension") or {}).get("is_required")),
                cod_supported=bool((rules.get("cod") or {}).get("is_supported")),
            )
        warehouses = self._call("GET", WAREHOUSES, "warehouse.list").get("warehouses") or []
        return StoreRules(
            store_key=self.store.key, platform=self.platform, read_at=datetime.now(UTC), region=self.region,
            categories=categories,
            warehouses=tuple(str(w["id"]) for w in warehouses
                             if w.get("type") == "SALES_WAREHOUSE" and w.get("effect_status") == "ENABLED"),
        )

    def _brands(self) -> tuple[dict[str, str], dict[str, str]]:
        """(usable, refused) brands by name: unauthorized top-tier (T1) brands cannot be used."""
        allowed: dict[str, str] = {}
        refused: dict[str, str] = {}
        token = ""
        while True:
            query = {"page_size": "100", "category_version": self.category_version}
            if token:
                query["page_token"] = token
            data = self._call("GET", BRANDS, "brand.list", query=query)
            for brand in data.get("brands") or []:
                unauthorized = brand.get("authorized_status") != "AUTHORIZED"
                target = refused if brand.get("is_t1_brand") and unauthorized else allowed
                target[str(brand["name"])] = str(brand["id"])
            token = str(data.get("next_page_token") or "")
            if not token:
                return allowed, refused

    # -- encoding a listing (4.5) -------------------------------------------------------------------

    def _product_body(self, listing: Listing, ref: RemoteRef | None) -> dict[str, Any]:
        details = listing.details or CatalogDetails()
        with_images = _primary_images_complete(listing)
        return _without_none({
            "title": listing.title,
            "description": listing.description,
            "category_id": listing.category_id,
            "category_version": self.category_version,
            "main_images": [{"uri": self._image_uri(url, "MAIN_IMAGE")} for url in listing.images],
            "skus": [self._sku_body(listing, v, ref, with_images) for v in listing.variants],
            "product_attributes": [
                {"id": a.attribute_id,
                 "values": [{"id": v.value_id} if v.value_id else {"name": v.name} for v in a.values]}
                for a in details.attributes if a.attribute_id
            ] or None,
            "brand_id": details.brand_id if details.brand_id not in (None, "0") else None,
            "size_chart": self._size_chart(details),
            "certifications": [
                {"id": c.certification_id,
                 "images": [{"uri": self._image_uri(url, "CERTIFICATION_IMAGE")} for url in c.images]}
                for c in details.certifications
            ] or None,
            **self._package(listing, details),
            "external_product_id": listing.sku,
            "save_mode": "LISTING",
        })

    def _size_chart(self, details: CatalogDetails) -> dict[str, Any] | None:
        if details.size_chart_template:
            return {"template": {"id": details.size_chart_template}}
        if details.size_chart_image:
            return {"image": {"uri": self._image_uri(details.size_chart_image, "SIZE_CHART_IMAGE")}}
        return None

    def _package(self, listing: Listing, details: CatalogDetails) -> dict[str, Any]:
        """real-stores 1.2: weight and dimensions in one unit system (the mapping declares it)."""
        package = details.package
        if package is None:
            weight = listing.weight_kg
            return {"package_weight": {"value": str(weight), "unit": "KILOGRAM"} if weight is not None else None}
        dimensions = None
        if package.has_dimensions:
            dimensions = {"length": _whole(package.length), "width": _whole(package.width),
                          "height": _whole(package.height), "unit": package.dimension_unit}
        weight_body = None
        if package.weight is not None:
            weight_body = {"value": str(package.weight), "unit": package.weight_unit}
        return {"package_weight": weight_body, "package_dimensions": dimensions}

    def _sku_body(
        self, listing: Listing, variant: ListingVariant, ref: RemoteRef | None, with_images: bool
    ) -> dict[str, Any]:
        axes = listing.options or tuple(variant.options)
        attributes: list[dict[str, Any]] = [
            {"name": axis, "value_name": variant.options[axis]} for axis in axes if axis in variant.options
        ]
        if attributes and variant.image and with_images:
            # real-stores 1.2: images go on the primary sales attribute, for every value or none.
            attributes[0]["sku_img"] = {"uri": self._image_uri(variant.image, "ATTRIBUTE_IMAGE")}
        return _without_none({
            "id": ref.variant_ids.get(variant.sku) if ref else None,
            "seller_sku": variant.sku,
            "price": _money(variant.price, listing.currency),
            "list_price": _list_price(variant, listing.currency),
            "inventory": self._inventory(variant),
            "sales_attributes": attributes,
        })

    def _inventory(self, variant: ListingVariant) -> list[dict[str, Any]]:
        return [{"warehouse_id": self._warehouse_id, "quantity": variant.stock_qty}]

    def _known_variants(self, ref: RemoteRef, listing: Listing) -> list[tuple[ListingVariant, str]]:
        missing = [v.sku for v in listing.variants if v.sku not in ref.variant_ids]
        if missing:
            raise PlatformError(ErrorClass.INVALID_PRODUCT,
                                f"variants not on the store yet (update the product first): {', '.join(missing)}")
        return [(v, ref.variant_ids[v.sku]) for v in listing.variants]

    # -- images (4.5: only uris from Upload Image are accepted) -------------------------------------

    def _image_uri(self, url: str, use_case: str) -> str:
        with self._images_lock:
            cached = self._image_uris.get((url, use_case))
        if cached is not None:
            return cached
        content = self._image_source(url)
        name = url.rsplit("/", 1)[-1] or "image"
        files = {"data": (name, content), "use_case": (None, use_case)}
        uri = str(self._call("POST", IMAGES, "image.upload", files=files)["uri"])
        with self._images_lock:
            self._image_uris[(url, use_case)] = uri
        return uri

    def _download(self, url: str) -> bytes:
        try:
            response = self._transport.session.get(url, timeout=self._transport.timeout)
        except requests.RequestException:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"cannot download image {url}") from None
        if response.status_code in (404, 410):
            raise PlatformError(ErrorClass.INVALID_PRODUCT, f"image {url} not found (HTTP {response.status_code})",
                                http_status=response.status_code)
        if response.status_code >= 400:
            raise PlatformError(ErrorClass.NETWORK_ERROR, f"image {url}: HTTP {response.status_code}",
                                http_status=response.status_code)
        return response.content

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
            _raise_product_errors(data)

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

    # -- the wire -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call with retries; returns ``data`` of a code-0 envelope."""
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body is not None else b""

        def attempt(number: int) -> dict[str, Any]:
            return self._call_once(method, path, operation, number, query or {}, payload, files)

        return call_with_retries(attempt, self._retry, sleep=self._sleep)

    def _call_once(
        self,
        method: str,
        path: str,
        operation: str,
        attempt: int,
        query: Mapping[str, str],
        payload: bytes,
        files: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        token = self._tokens.access_token()
        status, envelope = self._send(method, path, operation, attempt, query, payload, files, token)
        if envelope.get("code") == EXPIRED_TOKEN:
            # 4.3: refresh once (or adopt another thread's refresh) and replay the same request.
            self._tokens.refresh(stale_access_token=token)
            status, envelope = self._send(method, path, operation, attempt, query, payload, files,
                                          self._tokens.access_token())
        code = envelope.get("code")
        if status < 400 and code == 0:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        error = classify(status, code if isinstance(code, int) else None,
                         self._transport.redact(str(envelope.get("message") or f"HTTP {status}")))
        if error.error_class is ErrorClass.RATE_LIMITED:
            self._limiter.penalize(0.1)
        self._transport.observe_failure(operation, attempt, error)  # the call's verdict, on its own row
        raise error

    def _send(
        self,
        method: str,
        path: str,
        operation: str,
        attempt: int,
        query: Mapping[str, str],
        payload: bytes,
        files: Mapping[str, Any] | None,
        access_token: str,
    ) -> tuple[int, dict[str, Any]]:
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **query}
        if is_shop_scoped(method, path):
            params["shop_cipher"] = self._cipher
        params["sign"] = sign(self._app_secret, path, params, b"" if files is not None else payload)
        headers = {"x-tts-access-token": access_token}
        if files is None:
            headers["content-type"] = "application/json"
        self._limiter.acquire()
        result = self._transport.request(
            method, self._base + path, operation=operation, attempt=attempt, params=params, headers=headers,
            data=payload if files is None and payload else None, files=files,
        )
        return result.status, _envelope(result)

    def _refresh_tokens(self, refresh_token: str) -> TokenPair:
        """4.3: ``GET /api/v2/token/refresh`` on the auth host; a new pair every time."""
        params = {"app_key": self._app_key, "app_secret": self._app_secret, "refresh_token": refresh_token,
                  "grant_type": "refresh_token"}

        def attempt(number: int) -> TokenPair:
            result = self._transport.request("GET", self._auth_base + "/api/v2/token/refresh",
                                             operation="token.refresh", attempt=number, params=params)
            envelope = _envelope(result)
            code = envelope.get("code")
            if result.status >= 500 or result.status == 429:
                raise classify(result.status, code if isinstance(code, int) else None, "token refresh failed")
            if code != 0:
                raise PlatformError(ErrorClass.UNAUTHORIZED,
                                    "token refresh refused: " + self._transport.redact(str(envelope.get("message"))),
                                    platform_code=str(code), http_status=result.status)
            return self._token_pair(envelope.get("data") or {})

        return call_with_retries(attempt, self._retry, sleep=self._sleep)

    def _token_pair(self, data: Mapping[str, Any]) -> TokenPair:
        access, refresh = str(data.get("access_token") or ""), str(data.get("refresh_token") or "")
        if not access or not refresh:
            raise PlatformError(ErrorClass.UNAUTHORIZED, "token refresh answered without a token pair")
        self._transport.add_secret(access)
        self._transport.add_secret(refresh)
        return TokenPair(access, refresh, self._expiry(data.get("access_token_expire_in")),
                         self._expiry(data.get("refresh_token_expire_in")))

    def _expiry(self, value: Any) -> float | None:
        """4.3 documents a unix timestamp; a small number would be seconds from now."""
        if not isinstance(value, int | float) or value <= 0:
            return None
        return float(value) if value > 1_000_000_000 else self._clock() + float(value)


# -- helpers ------------------------------------------------------------------------------------


def _required_setting(store: StoreConfig, name: str) -> str:
    value = store.settings.get(name)
    if value in (None, ""):
        raise ValueError(f"store '{store.key}': TikTok needs settings.{name}")
    return str(value)


def _envelope(result: HttpResult) -> dict[str, Any]:
    """4.4 envelope; a 429/5xx without one is still classified by its status."""
    try:
        body = result.json()
    except PlatformError:
        if result.status == 429 or result.status >= 500:
            return {"code": None, "message": f"HTTP {result.status}"}
        raise
    if not isinstance(body, dict) or "code" not in body:
        raise PlatformError(ErrorClass.NETWORK_ERROR, f"unexpected response shape (HTTP {result.status})",
                            http_status=result.status)
    return body


def _raise_product_errors(data: Mapping[str, Any]) -> None:
    """Deactivate/Activate/Delete answer per product in ``data.errors`` under code 0 (T-SPEC)."""
    errors = data.get("errors") or []
    if errors:
        first = errors[0]
        raise classify(None, first.get("code"), str(first.get("message") or "product operation failed"))


def _primary_images_complete(listing: Listing) -> bool:
    """Every value of the primary (first) sales attribute has an image."""
    if not listing.options:
        return False
    primary = listing.options[0]
    values = {v.options.get(primary) for v in listing.variants}
    pictured = {v.options.get(primary) for v in listing.variants if v.image}
    return bool(pictured) and pictured == values


def _whole(value: Decimal | None) -> str:
    """TikTok takes whole numbers for package sizes: round up, never below 1."""
    return str(max(1, int((value or Decimal(1)).to_integral_value(rounding="ROUND_CEILING"))))


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def _list_price(variant: ListingVariant, currency: str) -> dict[str, str] | None:
    # T-SPEC update-price: list_price is the strikethrough (regular) price, only above the selling price.
    if variant.compare_at_price is None or variant.compare_at_price <= variant.price:
        return None
    return _money(variant.compare_at_price, currency)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _ref_of(data: Mapping[str, Any]) -> RemoteRef:
    skus = data.get("skus") or []
    return RemoteRef(str(data["product_id"]), {str(s["seller_sku"]): str(s["id"]) for s in skus})


def _remote_product(data: Mapping[str, Any]) -> RemoteProduct:
    variants = tuple(_remote_variant(s) for s in data.get("skus") or [])
    ref = RemoteRef(str(data["id"]), {v.sku: str(v.variant_id) for v in variants})
    status = str(data.get("status") or "")
    return RemoteProduct(
        ref=ref,
        sku=str(data.get("external_product_id") or (variants[0].sku if variants else "")),
        title=str(data.get("title") or ""),
        status=_STATUS_WORDS.get(status, status.lower()),
        image_count=len(data.get("main_images") or []),
        variants=variants,
        description=data.get("description"),
        raw=dict(data),
    )


def _remote_variant(sku: Mapping[str, Any]) -> RemoteVariant:
    price = sku.get("price") or {}
    amount = price.get("tax_exclusive_price") or price.get("sale_price")
    list_price = (sku.get("list_price") or {}).get("amount")
    return RemoteVariant(
        sku=str(sku["seller_sku"]),
        price=Decimal(str(amount)) if amount is not None else None,
        compare_at_price=Decimal(str(list_price)) if list_price is not None else None,
        stock_qty=sum(int(i.get("quantity") or 0) for i in sku.get("inventory") or []),
        options={str(a["name"]): str(a["value_name"]) for a in sku.get("sales_attributes") or []
                 if a.get("name") and a.get("value_name")},
        variant_id=str(sku["id"]),
    )
