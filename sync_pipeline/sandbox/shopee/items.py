"""Shopee sandbox: items (add, update, delete, unlist, reads) and media uploads (contract 3.5, 3.6)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_pipeline.sandbox.core import Request
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.shop import (
    BATCH_LIMIT,
    ITEM_STATUSES,
    MAX_HASHTAGS,
    MAX_IMAGE_BYTES,
    MAX_IMAGES_PER_UPLOAD,
    MAX_SKU_LENGTH,
    ShopConfig,
    ShopeeBase,
    ShopeeError,
    _json_body,
    _multipart_parts,
    _not_found,
    _paging,
    _param_error,
    _reserved_stock_error,
)


class ShopeeItems(ShopeeBase):
    def _upload_image(self, partner_id: int, request: Request) -> dict[str, Any]:
        if request.content_type != "multipart/form-data":
            raise _param_error("upload_image needs multipart/form-data")
        files = [data for name, data in _multipart_parts(request) if name == "image"]
        if not files:
            raise _param_error("image is required")
        if len(files) > MAX_IMAGES_PER_UPLOAD:
            raise _param_error(f"at most {MAX_IMAGES_PER_UPLOAD} images per call")
        store = f"partner-{partner_id}"
        infos = []
        for data in files:
            if len(data) > MAX_IMAGE_BYTES:
                raise _param_error("image is larger than 10 MB")
            if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
                raise _param_error("image must be JPG, JPEG or PNG")
            image_id = f"sbx-{self.state.next_id('shopee_image')}-{hashlib.sha1(data).hexdigest()[:16]}"
            url = f"https://sandbox.invalid/shopee/file/{image_id}"
            self.state.put(self.platform, store, "image", image_id, {"image_id": image_id, "url": url})
            infos.append({"image_id": image_id, "image_url_list": [{"image_url_region": "SG", "image_url": url}]})
        answer: dict[str, Any] = {
            "image_info_list": [
                {"id": i, "error": "", "message": "", "image_info": info} for i, info in enumerate(infos)
            ]
        }
        if len(infos) == 1:
            answer["image_info"] = infos[0]
        return answer

    def _add_item(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)
        for required in ("original_price", "description", "weight", "item_name", "logistic_info", "category_id", "image"):
            if required not in body:
                if required == "item_name":
                    raise ShopeeError("error_nil_name_new_item", "Item name is required.")
                raise _param_error(f"{required} is required")
        item: dict[str, Any] = {
            "item_sku": "",
            "item_status": "NORMAL",
            "condition": "NEW",
            "stock": 0,
            "tier_variation": [],
            "models": [],
            "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
        }
        item.update(self._validated_fields(shop, config, body))
        item.update(_catalog_fields(int(item["category_id"]), body, add=True))
        item["size_chart_info"] = self._size_chart(config, int(item["category_id"]), body)
        item["original_price"] = _price(body["original_price"], config, "original_price")
        sku = str(item["item_sku"])
        with self._write_lock:
            if sku and self._sku_taken(shop, sku):
                raise ShopeeError("error_repeated_mtsku", "A similar product has already been uploaded")
            if len(self._live_items(shop)) >= config.limits.item_count_limit:
                raise _param_error("the shop has reached its item count limit")
            item["item_id"] = self.state.next_id(f"shopee_item_{shop}", start=100_000)
            item["create_time"] = int(self.clock())
            item["created_at"] = self.clock()
            self._save(shop, item)
        return {k: item[k] for k in ("item_id", "item_status", "item_name", "item_sku", "category_id", "original_price")}

    def _update_item(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            changes = self._validated_fields(shop, config, body)
            category = int(changes.get("category_id", item["category_id"]))
            changes.update(_catalog_fields(category, body, add=False))
            if "size_chart_info" in body or "category_id" in changes:
                # a size chart the item already has still counts for a mandatory category
                sent = body.get("size_chart_info") if "size_chart_info" in body else item.get("size_chart_info")
                changes["size_chart_info"] = self._size_chart(config, category, {"size_chart_info": sent})
            if "original_price" in body:
                if item["models"]:
                    raise _param_error("original_price of an item with models is set per model")
                changes["original_price"] = _price(body["original_price"], config, "original_price")
            sku = changes.get("item_sku")
            if sku and self._sku_taken(shop, sku, except_item=item["item_id"]):
                raise ShopeeError("error_repeated_mtsku", "A similar product has already been uploaded")
            item.update(changes)
            self._save(shop, item)
        return {"item_id": item["item_id"], **{k: v for k, v in changes.items() if k != "created_at"}}

    def _validated_fields(self, shop: str, config: ShopConfig, body: dict[str, Any]) -> dict[str, Any]:
        """The add_item/update_item fields present in ``body``, checked against the shop's limits."""
        limits = config.limits
        out: dict[str, Any] = {}
        if "item_name" in body:
            name = str(body["item_name"] or "").strip()
            if not name:
                raise ShopeeError("error_nil_name_new_item", "Item name is required.")
            if len(name) < limits.item_name_length_limit.min_limit:
                raise ShopeeError("error_item_name_is_too_short", "Item name is too short.")
            if len(name) > limits.item_name_length_limit.max_limit:
                raise ShopeeError(
                    "error_title_exceeds_max_length",
                    f"Item name length exceeds {int(limits.item_name_length_limit.max_limit)} characters.",
                )
            out["item_name"] = name
        if "description" in body:
            text = str(body["description"] or "")
            length = limits.item_description_length_limit
            if not length.min_limit <= len(text) <= length.max_limit:
                raise _param_error(
                    f"description length must be {int(length.min_limit)}-{int(length.max_limit)} characters"
                )
            if len(re.findall(r"#\w+", text)) > MAX_HASHTAGS:
                raise ShopeeError("error_desc_hash_tag_over_limit", f"At most {MAX_HASHTAGS} hashtags.")
            out["description"] = text
        if "weight" in body:
            out["weight"] = _positive_number(body["weight"], "weight")
        if "category_id" in body:
            category = body["category_id"]
            if not isinstance(category, int) or isinstance(category, bool) or category <= 0:
                raise _param_error("category_id must be a positive integer")
            catalog.check_category(category)
            out["category_id"] = category
        if "image" in body:
            out["image_id_list"] = self._checked_images(shop, config, body["image"])
        if "dimension" in body:
            out["dimension"] = _dimension(body["dimension"])
        if "logistic_info" in body:
            out["logistic_info"] = catalog.check_logistics(config.logistics_channels, body["logistic_info"],
                                                           has_dimension="dimension" in out)
        if "item_sku" in body:
            sku = str(body["item_sku"] or "")
            if len(sku) > MAX_SKU_LENGTH:
                raise _param_error(f"item_sku longer than {MAX_SKU_LENGTH} characters")
            out["item_sku"] = sku
        if "item_status" in body:
            if body["item_status"] not in ("NORMAL", "UNLIST"):
                raise _param_error("item_status must be NORMAL or UNLIST")
            out["item_status"] = body["item_status"]
        if "seller_stock" in body:
            out["stock"] = _stock(body["seller_stock"], config)
            if out["stock"] < config.reserved_stock:
                raise _reserved_stock_error()
        if "condition" in body:
            if body["condition"] not in ("NEW", "USED"):
                raise _param_error("condition must be NEW or USED")
            out["condition"] = body["condition"]
        return out

    def _size_chart(self, config: ShopConfig, category_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        return catalog.check_size_chart(category_id, body.get("size_chart_info"),
                                        lambda image_id: self._image_url(config.partner_id, image_id) is not None)

    def _checked_images(self, shop: str, config: ShopConfig, image: Any) -> list[str]:
        ids = image.get("image_id_list") if isinstance(image, dict) else None
        count = config.limits.item_image_count_limit
        if not isinstance(ids, list) or not count.min_limit <= len(ids) <= count.max_limit:
            raise _param_error(f"image.image_id_list needs {int(count.min_limit)}-{int(count.max_limit)} images")
        for image_id in ids:
            if self._image_url(config.partner_id, str(image_id)) is None:
                raise _param_error(f"image_id {image_id} is invalid")
        return [str(i) for i in ids]

    def _delete_item(self, shop: str, request: Request) -> dict[str, Any]:
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            item["item_status"] = "SELLER_DELETE"
            self._save(shop, item)
        return {}

    def _unlist_item(self, shop: str, request: Request) -> dict[str, Any]:
        entries = _json_body(request).get("item_list")
        if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_LIMIT:
            raise _param_error(f"item_list needs 1-{BATCH_LIMIT} entries")
        success, failure = [], []
        with self._write_lock:
            for entry in entries:
                item_id = entry.get("item_id") if isinstance(entry, dict) else None
                try:
                    item = self._item(shop, item_id)
                except ShopeeError as exc:
                    failure.append({"item_id": item_id, "failed_reason": exc.message})
                    continue
                unlist = bool(entry.get("unlist"))
                item["item_status"] = "UNLIST" if unlist else "NORMAL"
                self._save(shop, item)
                success.append({"item_id": item_id, "unlist": unlist})
        return {"success_list": success, "failure_list": failure}

    # -- models ----------------------------------------------------------------------------------------
    def _get_item_list(self, shop: str, request: Request) -> dict[str, Any]:
        offset, page_size = _paging(request)
        statuses = request.query.get("item_status") or []
        if not statuses or any(s not in ITEM_STATUSES for s in statuses):
            raise _param_error("item_status is required: NORMAL, BANNED, UNLIST, REVIEWING, SELLER_DELETE, SHOPEE_DELETE")
        items = [i for i in self.state.list(self.platform, shop, "item") if i["item_status"] in statuses]
        since, until = request.arg("update_time_from"), request.arg("update_time_to")
        if since:
            items = [i for i in items if i["update_time"] >= int(since)]
        if until:
            items = [i for i in items if i["update_time"] <= int(until)]
        page = items[offset : offset + page_size]
        has_next = offset + page_size < len(items)
        return {
            "item": [{k: i[k] for k in ("item_id", "item_status", "update_time")} for i in page],
            "total_count": len(items),
            "has_next_page": has_next,
            "next_offset": offset + page_size if has_next else len(items),
        }

    def _get_item_base_info(self, shop: str, request: Request) -> dict[str, Any]:
        raw = request.arg("item_id_list") or ""
        ids = [part for part in raw.split(",") if part]
        if not ids or len(ids) > BATCH_LIMIT or not all(part.isdigit() for part in ids):
            raise _param_error(f"item_id_list needs 1-{BATCH_LIMIT} item ids")
        config = self._config(shop)
        found = [self.state.get(self.platform, shop, "item", part) for part in ids]
        items = [i for i in found if i is not None]
        if not items:
            raise _not_found(raw)
        return {"item_list": [self._item_view(config, i) for i in items]}

    def _item_view(self, config: ShopConfig, item: dict[str, Any]) -> dict[str, Any]:
        view = {k: item[k] for k in ("item_id", "category_id", "item_name", "description", "item_sku",
                                     "create_time", "update_time", "weight", "item_status", "condition",
                                     "logistic_info", "brand")}
        view["attribute_list"] = item.get("attribute_list") or []
        if item.get("size_chart_info"):
            view["size_chart_info"] = item["size_chart_info"]
        if item.get("dimension"):
            view["dimension"] = item["dimension"]
        view["has_model"] = bool(item["models"])
        view["image"] = {
            "image_id_list": item["image_id_list"],
            "image_url_list": [self._image_url(config.partner_id, i) for i in item["image_id_list"]],
        }
        if not item["models"]:
            price = item["original_price"]
            view["price_info"] = [{"currency": "SGD", "original_price": price, "current_price": price}]
            view["stock_info_v2"] = _stock_view(item["stock"])
        return view

    def _search_item(self, shop: str, request: Request) -> dict[str, Any]:
        offset, page_size = _paging(request)
        sku, name = request.arg("item_sku"), request.arg("item_name")
        status = request.arg("attribute_status")
        if not (sku or name or status):
            raise _param_error("one of item_sku, item_name, attribute_status is required")
        items = self._live_items(shop)
        if sku:  # contract 3.5: item_sku wins over item_name
            items = [i for i in items if sku.lower() in i["item_sku"].lower()]
        elif name:
            items = [i for i in items if name.lower() in i["item_name"].lower()]
        wanted = request.query.get("item_status")
        if wanted:
            items = [i for i in items if i["item_status"] in wanted]
        page = items[offset : offset + page_size]
        has_next = offset + page_size < len(items)
        answer: dict[str, Any] = {"item_id_list": [i["item_id"] for i in page], "total_count": len(items)}
        if has_next:
            answer["next_offset"] = offset + page_size
        return answer


def _positive_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _param_error(f"{field} must be a positive number")
    return float(value)


def _price(value: Any, config: ShopConfig, field: str) -> float:
    price = _positive_number(value, field)
    limit = config.limits.price_limit
    if not limit.min_limit <= price <= limit.max_limit:
        raise _param_error(f"{field} must be between {limit.min_limit:g} and {limit.max_limit:g}")
    try:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        raise _param_error(f"{field} is not a number") from None
    if isinstance(exponent, int) and -exponent > config.price_decimals:
        raise _param_error(f"{field} allows at most {config.price_decimals} decimal places")
    return price


def _stock(seller_stock: Any, config: ShopConfig) -> int:
    if not isinstance(seller_stock, list) or not seller_stock:
        raise _param_error("seller_stock needs at least one {stock}")
    total = 0
    limit = config.limits.stock_limit
    for entry in seller_stock:
        stock = entry.get("stock") if isinstance(entry, dict) else None
        if isinstance(stock, bool) or not isinstance(stock, int) or not limit.min_limit <= stock <= limit.max_limit:
            raise _param_error(f"stock must be an integer between {limit.min_limit:g} and {limit.max_limit:g}")
        total += stock
    return total


def _catalog_fields(category_id: int, body: dict[str, Any], add: bool) -> dict[str, Any]:
    """Brand and attributes against the category's lists (rule 2): always on add, when sent on update."""
    fields: dict[str, Any] = {}
    if add or "brand" in body:
        fields["brand"] = catalog.check_brand(category_id, body.get("brand"))
    if add or "attribute_list" in body:
        fields["attribute_list"] = catalog.check_attributes(category_id, body.get("attribute_list"))
    return fields


def _dimension(value: Any) -> dict[str, int]:
    keys = ("package_length", "package_width", "package_height")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int) and value[k] > 0 for k in keys):
        raise _param_error("dimension needs positive whole package_length, package_width and package_height (cm)")
    return {k: int(value[k]) for k in keys}



def _stock_view(stock: int) -> dict[str, Any]:
    return {"summary_info": {"total_reserved_stock": 0, "total_available_stock": stock},
            "seller_stock": [{"location_id": "", "stock": stock}]}
