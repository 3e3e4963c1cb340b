"""Shopee look-ups (real-stores 2.3): the shop's catalog rules for ``store_catalog_rules`` and its
logistics channels for the item payloads; read once per client where the push needs them."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sync_pipeline.listings.model import CatalogDetails
from sync_pipeline.listings.rules import (
    AttributeRule,
    CategoryRules,
    ShippingChannel,
    StandardVariation,
    StoreRules,
    VariationGroup,
)
from sync_pipeline.platforms.base import ErrorClass, PlatformError
from sync_pipeline.platforms.shopee.api import Call, ShopeeApi
from sync_pipeline.platforms.shopee.payloads import chunks, without_none

PAGE_SIZE = 100
ATTRIBUTE_TREE_BATCH = 20  # get_attribute_tree: <= 20 categories per call


class ShopeeLookups:
    def __init__(self, api: ShopeeApi) -> None:
        self.api = api
        self.store = api.store
        self._logistics: list[dict[str, Any]] | None = None
        self._logistics_lock = threading.Lock()

    def logistic_info(self, details: CatalogDetails) -> list[dict[str, Any]]:
        """The mapping's channels (real-stores 2.1: per fee_type), else settings.logistic_ids, else every
        channel usable without settings: enabled, not masked, a fixed default price (read once)."""
        if details.shipping:
            return [
                without_none({"logistic_id": int(c.channel_id), "enabled": True, "size_id": c.size_id,
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
        answer = self.api.call(Call("GET", "/api/v2/logistics/get_channel_list"))
        return list(answer.get("logistics_channel_list") or [])



    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules:
        wanted = [str(c) for c in dict.fromkeys(category_ids) if str(c).isdigit()]
        tree = {str(c["category_id"]): c for c in
                self.api.call(Call("GET", "/api/v2/product/get_category", params={"language": "en"}))
                .get("category_list") or []}
        known = [c for c in wanted if c in tree]
        attributes: dict[str, list[dict[str, Any]]] = {}
        for chunk in chunks(known, ATTRIBUTE_TREE_BATCH):
            answer = self.api.call(Call("GET", "/api/v2/product/get_attribute_tree",
                                      params={"category_id_list": ",".join(chunk), "language": "en"}))
            for entry in answer.get("list") or []:
                attributes[str(entry["category_id"])] = list(entry.get("attribute_tree") or [])
        categories = {}
        for category_id in known:
            node = tree[category_id]
            leaf = not node.get("has_children")
            brands, mandatory = self._brand_list(category_id) if leaf else ({}, False)
            limits = self.api.call(Call("GET", "/api/v2/product/get_item_limit",
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
                variations=self._variation_tree(category_id) if leaf else (),
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
        return StoreRules(store_key=self.store.key, platform="shopee", read_at=datetime.now(UTC),
                          categories=categories, channels=channels)

    def _variation_tree(self, category_id: str) -> tuple[StandardVariation, ...]:
        """The category's standard variations (real-stores 2.2), which tiers use by id when they match."""
        answer = self.api.call(Call("GET", "/api/v2/product/get_variation_tree",
                                    params={"category_id": int(category_id)}))
        return tuple(
            StandardVariation(
                variation_id=str(v["variation_id"]),
                name=str(v.get("variation_name") or ""),
                groups=tuple(
                    VariationGroup(str(g["variation_group_id"]),
                                   {str(o["variation_option_name"]): str(o["variation_option_id"])
                                    for o in g.get("variation_option_list") or []})
                    for g in v.get("variation_group_list") or []),
            )
            for v in answer.get("standardise_variation_list") or []
        )

    def _brand_list(self, category_id: str) -> tuple[dict[str, str], bool]:
        brands: dict[str, str] = {}
        mandatory = False
        offset: int | None = 0
        while offset is not None:
            answer = self.api.call(Call("GET", "/api/v2/product/get_brand_list", params={
                "category_id": int(category_id), "offset": offset, "page_size": PAGE_SIZE, "status": 1}))
            mandatory = mandatory or bool(answer.get("is_mandatory"))
            brands.update({str(b["original_brand_name"]): str(b["brand_id"]) for b in answer.get("brand_list") or []})
            offset = int(answer["next_offset"]) if answer.get("has_next_page") else None
        return brands, mandatory


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

