"""TikTok sandbox: products (create, edit, get, search, prices, inventory, status, delete; 4.5)."""

from __future__ import annotations

import re
from typing import Any

from sync_pipeline.sandbox.core import Request, Response
from sync_pipeline.sandbox.tiktok.shop import (
    ACTIVATE,
    CHECK_FAILED,
    DELETED,
    INVALID_PARAMETERS,
    MAX_IDEMPOTENCY_KEY,
    OK,
    PENDING,
    PLATFORM,
    PRODUCT_NOT_FOUND,
    SELLER_DEACTIVATED,
    SKU_ID_NOT_FOUND,
    STATUS_NOT_AVAILABLE,
    ApiError,
    _checked_inventory,
    _int_arg,
    _json_object,
    _list_of_objects,
    _page_offset,
    _page_token,
    _price,
    _product_error,
    _product_ids,
    _public_sku,
    _Shop,
    _sku_error,
    _sku_updates,
    _string_list,
    _write_result,
    envelope,
)
from sync_pipeline.sandbox.tiktok.validation import TikTokValidation


class TikTokProducts(TikTokValidation):
    # -- products --------------------------------------------------------------------------

    def _create(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        body = _json_object(request)
        key = body.get("idempotency_key")
        if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY):
            raise ApiError(INVALID_PARAMETERS, f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
        with self.state.lock:
            replay = self._idempotent_replay(shop, key)
            if replay is not None:
                return envelope(OK, "Success", replay)
            product = self._validated_product(body, shop, existing=None)
            product_id = str(self.state.next_id("tiktok.product", 1729592969712200000))
            now = self.clock()
            product.update(
                id=product_id,
                status=PENDING,  # 4.5: a new product goes to audit
                audit_until=now + shop.config.settings.audit_delay_seconds,
                create_time=int(now),
                update_time=int(now),
                idempotency_key=key,
            )
            self.state.put(PLATFORM, shop.cipher, "products", product_id, product)
            data = _write_result(product)
            if key is not None:
                self.state.put(PLATFORM, shop.cipher, "idempotency", key,
                               {"product_id": product_id, "data": data, "at": now})
        return envelope(OK, "Success", data)

    def _idempotent_replay(self, shop: _Shop, key: str | None) -> dict[str, Any] | None:
        """4.5 ``idempotency_key``: the same key within its lifetime answers the first outcome again."""
        if key is None:
            return None
        record = self.state.get(PLATFORM, shop.cipher, "idempotency", key)
        if record is None or self.clock() - float(record["at"]) > shop.config.settings.idempotency_ttl_seconds:
            return None
        product = self.state.get(PLATFORM, shop.cipher, "products", record["product_id"])
        if product is None or product["status"] == DELETED:
            return None  # [sandbox choice] a deleted product's key may be used again
        data: dict[str, Any] = record["data"]
        return data

    def _edit(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        with self.state.lock:
            existing = self._product(shop, found["product_id"])
            product = self._validated_product(body, shop, existing=existing)
            now = self.clock()
            status = self._status(existing)
            # 4.5: content edits re-enter audit; a live product stays live until the new version passes.
            product.update(
                id=existing["id"],
                status=status if status in (ACTIVATE, SELLER_DEACTIVATED) else PENDING,
                audit_until=now + shop.config.settings.audit_delay_seconds,
                create_time=existing["create_time"],
                update_time=int(now),
                idempotency_key=existing.get("idempotency_key"),
            )
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", _write_result(product))

    def _get(self, _request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        product = self._product(shop, found["product_id"], allow_deleted=True)
        return envelope(OK, "Success", self._public(product))

    def _search(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        page_size = _int_arg(request, "page_size")
        if page_size is None or not 1 <= page_size <= 100:
            raise ApiError(INVALID_PARAMETERS, "page_size must be between 1 and 100")
        body = _json_object(request) if request.body else {}
        wanted_status = str(body.get("status") or "ALL")
        seller_skus = set(_string_list(body, "seller_skus"))
        sku_ids = set(_string_list(body, "sku_ids"))
        if len(sku_ids) > 10:
            raise ApiError(INVALID_PARAMETERS, "sku_ids: at most 10")
        hits = []
        for product in self.state.list(PLATFORM, shop.cipher, "products"):
            status = self._status(product)
            # [sandbox choice] ALL leaves deleted products out; ask for DELETED to see them.
            if (wanted_status == "ALL" and status == DELETED) or wanted_status not in ("ALL", status):
                continue
            skus = product["skus"]
            if seller_skus and not any(s["seller_sku"] in seller_skus for s in skus):
                continue
            if sku_ids and not any(s["id"] in sku_ids for s in skus):
                continue
            hits.append(product)
        offset = _page_offset(request.arg("page_token"))
        page = hits[offset : offset + page_size]
        next_token = _page_token(offset + page_size) if offset + page_size < len(hits) else ""
        data = {"total_count": len(hits), "products": [self._summary(p) for p in page], "next_page_token": next_token}
        return envelope(OK, "Success", data)

    def _prices(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        with self.state.lock:
            product = self._live_product(shop, found["product_id"])
            updates = _sku_updates(body, product)
            for sku, change in updates:
                price = change.get("price")
                if not isinstance(price, dict):
                    raise ApiError(INVALID_PARAMETERS, "skus.price is required")
                sku["price"] = _price(price, shop)
                if isinstance(change.get("list_price"), dict):
                    sku["list_price"] = _price(change["list_price"], shop)
            product["update_time"] = int(self.clock())
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", {})  # T-SPEC update-price: data is always empty

    def _inventory(self, request: Request, shop: _Shop, found: re.Match[str]) -> Response:
        body = _json_object(request)
        errors: list[dict[str, Any]] = []
        with self.state.lock:
            product = self._live_product(shop, found["product_id"])
            by_id = {s["id"]: s for s in product["skus"]}
            for change in _list_of_objects(body, "skus"):
                sku = by_id.get(str(change.get("id")))
                if sku is None:
                    errors.append(_sku_error(SKU_ID_NOT_FOUND, "The SKU id not exist.", str(change.get("id")), []))
                    continue
                inventory, extra = _checked_inventory(change.get("inventory"), shop)
                if extra:
                    # 4.5: partial failure, reported in data.errors under code 0.
                    errors.append(_sku_error(CHECK_FAILED, "The check failed.", sku["id"], extra))
                    continue
                sku["inventory"] = inventory
            product["update_time"] = int(self.clock())
            self.state.put(PLATFORM, shop.cipher, "products", product["id"], product)
        return envelope(OK, "Success", {"errors": errors} if errors else {})

    def _deactivate(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC deactivate-products: only ACTIVATE products; per-product errors under code 0.
        return self._change_status(request, shop, from_status=ACTIVATE, to_status=SELLER_DEACTIVATED)

    def _activate(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC activate-product: brings a seller-deactivated product back.
        return self._change_status(request, shop, from_status=SELLER_DEACTIVATED, to_status=ACTIVATE)

    def _change_status(self, request: Request, shop: _Shop, from_status: str | None, to_status: str) -> Response:
        """Move each named product to ``to_status`` (from ``from_status`` only, when given); the
        products that cannot move are answered per product under code 0, as TikTok does."""
        ids = _product_ids(_json_object(request))
        errors = []
        with self.state.lock:
            for product_id in ids:
                product = self.state.get(PLATFORM, shop.cipher, "products", product_id)
                if product is None or product["status"] == DELETED:
                    errors.append(_product_error(PRODUCT_NOT_FOUND, "The product does not exist", product_id))
                elif from_status is not None and self._status(product) != from_status:
                    errors.append(_product_error(STATUS_NOT_AVAILABLE, "The product in its current status is not "
                                                 "available for this operation.", product_id))
                else:
                    product.update(status=to_status, update_time=int(self.clock()))
                    self.state.put(PLATFORM, shop.cipher, "products", product_id, product)
        return envelope(OK, "Success", {"errors": errors} if errors else {})

    def _delete(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        # T-SPEC delete-products: the product becomes DELETED (it can be recovered, so it is kept).
        return self._change_status(request, shop, from_status=None, to_status=DELETED)

    def _public(self, product: dict[str, Any]) -> dict[str, Any]:
        """Get Product's answer (T-SPEC get-product, the fields this sandbox keeps)."""
        return {
            "id": product["id"],
            "status": self._status(product),
            "title": product["title"],
            "description": product["description"],
            "category_chains": [{"id": product["category_id"], "is_leaf": True}],
            "main_images": [{"uri": i["uri"], "urls": [f"https://sandbox.invalid/{i['uri']}"]}
                            for i in product["main_images"]],
            "skus": [_public_sku(s) for s in product["skus"]],
            "package_weight": product["package_weight"],
            "package_dimensions": product.get("package_dimensions"),
            "product_attributes": product.get("product_attributes") or [],
            "brand": {"id": product["brand_id"]} if product.get("brand_id") else None,
            "size_chart": product.get("size_chart"),
            "certifications": product.get("certifications") or [],
            "external_product_id": product.get("external_product_id"),
            "audit": {"status": "AUDITING" if self.clock() < float(product.get("audit_until", 0)) else "APPROVED"},
            "create_time": product["create_time"],
            "update_time": product["update_time"],
        }

    def _summary(self, product: dict[str, Any]) -> dict[str, Any]:
        """Search Products' answer: key properties only (T-SPEC search-products 202502)."""
        return {
            "id": product["id"],
            "title": product["title"],
            "status": self._status(product),
            "skus": [{k: v for k, v in _public_sku(s).items() if k in ("id", "seller_sku", "price", "inventory")}
                     for s in product["skus"]],
            "create_time": product["create_time"],
            "update_time": product["update_time"],
        }
