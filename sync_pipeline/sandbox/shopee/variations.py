"""Shopee sandbox: tier variations and models, their prices and stock (contract 3.5, real-stores 2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync_pipeline.sandbox.core import Request
from sync_pipeline.sandbox.shopee import catalog
from sync_pipeline.sandbox.shopee.items import _price, _stock, _stock_view
from sync_pipeline.sandbox.shopee.shop import (
    BATCH_LIMIT,
    MAX_SKU_LENGTH,
    NOT_READY_ERROR,
    ShopConfig,
    ShopeeBase,
    ShopeeError,
    _json_body,
    _param_error,
    _reserved_stock_error,
)


class ShopeeVariations(ShopeeBase):
    def _init_tier_variation(self, shop: str, request: Request) -> dict[str, Any]:
        """Contract 3.5: <= 2 tiers; <= 50 models; a new structure replaces the old model ids."""
        config = self._config(shop)
        body = _json_body(request)
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            if self.clock() - item["created_at"] < config.tier_variation_delay_seconds:
                raise ShopeeError(
                    NOT_READY_ERROR,
                    f"Please wait {config.tier_variation_delay_seconds:g} seconds after add_item "
                    "before init_tier_variation.",
                )
            tiers = self._checked_tiers(config, _tiers_of(config, body, int(item["category_id"])))
            models = self._checked_models(config, body.get("model"), tiers)
            for model in models:
                model["model_id"] = self.state.next_id(f"shopee_model_{shop}", start=200_000)
            item["tier_variation"] = tiers
            item["models"] = models
            self._save(shop, item)
        return {
            "item_id": item["item_id"],
            "tier_variation": tiers,
            "standardise_tier_variation": _standardised(tiers),
            "model": [{k: m[k] for k in ("model_id", "model_sku", "tier_index")} for m in models],
        }

    def _checked_tiers(self, config: ShopConfig, tiers: Any) -> list[dict[str, Any]]:
        if not isinstance(tiers, list) or not 1 <= len(tiers) <= 2:
            raise _param_error("tier_variation needs 1 or 2 tiers")
        name_limit = config.limits.tier_variation_name_length_limit
        option_limit = config.limits.tier_variation_option_length_limit
        checked: list[dict[str, Any]] = []
        for tier in tiers:
            name = str(tier.get("name") or "") if isinstance(tier, dict) else ""
            if not name_limit.min_limit <= len(name) <= name_limit.max_limit:
                raise _param_error(f"tier_variation name must be 1-{int(name_limit.max_limit)} characters")
            options = tier.get("option_list")
            if not isinstance(options, list) or not 1 <= len(options) <= BATCH_LIMIT:
                raise _param_error(f"option_list of {name} needs 1-{BATCH_LIMIT} options")
            texts = [str(o.get("option") or "") if isinstance(o, dict) else "" for o in options]
            if len(set(texts)) != len(texts):
                raise _param_error(f"options of {name} must be unique")
            for text in texts:
                if not option_limit.min_limit <= len(text) <= option_limit.max_limit:
                    raise _param_error(f"option {text!r} must be 1-{int(option_limit.max_limit)} characters")
            option_list: list[dict[str, Any]] = []
            for option, text in zip(options, texts, strict=True):
                entry: dict[str, Any] = {"option": text, "variation_option_id": option.get("variation_option_id", 0)}
                image_id = (option.get("image") or {}).get("image_id")
                if image_id:
                    if self._image_url(config.partner_id, str(image_id)) is None:
                        raise _param_error(f"image_id {image_id} is invalid")
                    entry["image"] = {"image_id": str(image_id)}
                option_list.append(entry)
            checked.append({"name": name, "option_list": option_list, "variation_id": tier.get("variation_id", 0),
                            "variation_group_id": tier.get("variation_group_id", 0)})
        first_tier: list[dict[str, Any]] = checked[0]["option_list"]
        images = [bool(o.get("image")) for o in first_tier]
        if any(images) and not all(images):
            # real-stores 2.2 (P-CREATE 7): once one first-tier option has an image, all must.
            raise ShopeeError("error_tier_img_partial",
                              "Images are required for all options of the first tier variation, or for none.")
        if any("image" in o for tier in checked[1:] for o in tier["option_list"]):
            raise _param_error("only options of the first tier variation may have an image")
        return checked

    def _checked_models(self, config: ShopConfig, models: Any, tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = min(BATCH_LIMIT, config.limits.model_count_limit)
        if not isinstance(models, list) or not 1 <= len(models) <= limit:
            raise _param_error(f"model needs 1-{limit} entries")
        seen: set[tuple[int, ...]] = set()
        skus: set[str] = set()
        checked = []
        for model in models:
            index = model.get("tier_index") if isinstance(model, dict) else None
            if (
                not isinstance(index, list)
                or len(index) != len(tiers)
                or not all(isinstance(i, int) and 0 <= i < len(t["option_list"]) for i, t in zip(index, tiers, strict=True))
            ):
                raise _param_error(f"tier_index {index} does not match tier_variation")
            if tuple(index) in seen:
                raise _param_error(f"tier_index {index} is repeated")
            seen.add(tuple(index))
            sku = str(model.get("model_sku") or "")
            if len(sku) > MAX_SKU_LENGTH:
                raise _param_error(f"model_sku longer than {MAX_SKU_LENGTH} characters")
            if sku and sku in skus:
                raise _param_error(f"model_sku {sku} is repeated")
            skus.add(sku)
            checked.append(
                {
                    "tier_index": index,
                    "model_sku": sku,
                    "original_price": _price(model.get("original_price"), config, "original_price"),
                    "stock": _stock(model.get("seller_stock"), config),
                }
            )
        return checked

    def _get_model_list(self, shop: str, request: Request) -> dict[str, Any]:
        item = self._item(shop, request.arg("item_id"))
        return {
            "tier_variation": item["tier_variation"],
            "standardise_tier_variation": _standardised(item["tier_variation"]),
            "model": [_model_view(m) for m in item["models"]],
        }

    def _update_price(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)

        def apply(target: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
            target["original_price"] = _price(entry.get("original_price"), config, "original_price")
            return {"model_id": entry["model_id"], "original_price": target["original_price"]}

        return self._per_model(shop, body, "price_list", apply)

    def _update_stock(self, shop: str, request: Request) -> dict[str, Any]:
        config = self._config(shop)
        body = _json_body(request)

        def apply(target: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
            stock = _stock(entry.get("seller_stock"), config)
            if stock < config.reserved_stock:
                raise _reserved_stock_error()
            target["stock"] = stock
            return {"model_id": entry["model_id"], "stock": target["stock"]}

        return self._per_model(shop, body, "stock_list", apply)

    def _per_model(
        self,
        shop: str,
        body: dict[str, Any],
        list_name: str,
        apply: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Contract 3.5/5: one item per call, partial success in success_list / failure_list."""
        entries = body.get(list_name)
        if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_LIMIT:
            raise _param_error(f"{list_name} needs 1-{BATCH_LIMIT} entries")
        success, failure = [], []
        with self._write_lock:
            item = self._item(shop, body.get("item_id"))
            models = {m["model_id"]: m for m in item["models"]}
            for entry in entries:
                model_id = entry.get("model_id") if isinstance(entry, dict) else None
                if models:
                    target = models.get(model_id) if isinstance(model_id, int) else None
                else:
                    target = item if model_id == 0 else None  # contract 3.5: model_id 0 = no-model item
                if target is None:
                    failure.append({"model_id": model_id, "failed_reason": "model_id is invalid"})
                    continue
                try:
                    success.append(apply(target, entry))
                except ShopeeError as exc:
                    failure.append({"model_id": model_id, "failed_reason": exc.message})
            self._save(shop, item)
        return {"success_list": success, "failure_list": failure}

    # -- reads -------------------------------------------------------------------------------------------


def _tiers_of(config: ShopConfig, body: dict[str, Any], category_id: int) -> Any:
    """The tiers of an init_tier_variation body in the stored (name, option_list) form.

    real-stores 2.2: ``standardise_tier_variation`` replaced ``tier_variation`` on 2025-09-12;
    custom variations carry ``variation_id`` 0 and custom options ``variation_option_id`` 0; standard
    ones the ids of the category's get_variation_tree."""
    standard = body.get("standardise_tier_variation")
    if standard is None:
        if "tier_variation" in body and config.accept_legacy_tier_variation:
            return body["tier_variation"]
        raise _param_error("standardise_tier_variation is required; tier_variation is deprecated")
    if not isinstance(standard, list):
        raise _param_error("standardise_tier_variation must be a list")
    tiers = []
    for tier in standard:
        if not isinstance(tier, dict) or not isinstance(tier.get("variation_option_list"), list):
            raise _param_error("standardise_tier_variation needs variation_name and variation_option_list")
        catalog.check_standard_variation(category_id, tier)
        options = []
        for option in tier["variation_option_list"]:
            if not isinstance(option, dict):
                raise _param_error("variation_option_list must hold objects")
            entry: dict[str, Any] = {"option": option.get("variation_option_name"),
                                     "variation_option_id": option.get("variation_option_id") or 0}
            if option.get("image_id"):
                entry["image"] = {"image_id": option["image_id"]}
            options.append(entry)
        tiers.append({"name": tier.get("variation_name"), "option_list": options,
                      "variation_id": tier.get("variation_id") or 0,
                      "variation_group_id": tier.get("variation_group_id") or 0})
    return tiers


def _standardised(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"variation_id": t.get("variation_id", 0), "variation_name": t["name"],
         "variation_group_id": t.get("variation_group_id", 0),
         "variation_option_list": [
             {"variation_option_id": o.get("variation_option_id", 0), "variation_option_name": o["option"],
              **({"image_id": o["image"]["image_id"]} if o.get("image") else {})}
             for o in t["option_list"]]}
        for t in tiers
    ]



def _model_view(model: dict[str, Any]) -> dict[str, Any]:
    price = model["original_price"]
    return {
        "model_id": model["model_id"],
        "model_sku": model["model_sku"],
        "tier_index": model["tier_index"],
        "price_info": [{"original_price": price, "current_price": price}],
        "stock_info_v2": _stock_view(model["stock"]),
    }
