"""What a Shopee sandbox shop knows about its catalog: categories, attribute trees, brand lists and
logistics channels (real-stores.md 2.1-2.3), and the add_item/update_item checks they imply
(section 4, Shopee rules 1-3), with Shopee's error names and messages.

The seed is a realistic subset for the demo's apparel, bags, fitness and watches categories:
mandatory attributes (one without custom values), a category whose brand is mandatory, and channels
that are masked, disabled, or need a size or a fee.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

# top-level category (id, name) -> its leaves {id: name}; a top level has children, a leaf has none.
CATEGORY_TREE: dict[tuple[int, str], dict[int, str]] = {
    (100001, "Men Clothes"): {100017: "Tops", 100018: "Pants"},
    (100002, "Women Clothes"): {100019: "Tops", 100020: "Skirts & Pants", 100024: "Dresses"},
    (100003, "Sports & Outdoors"): {100021: "Bags", 100022: "Fitness Equipment"},
    (100004, "Watches"): {100023: "Sports Watches"},
}
# (category_id, parent_category_id, name, has_children), parents first
CATEGORIES: tuple[tuple[int, int, str, bool], ...] = tuple(
    row for (top, top_name), leaves in CATEGORY_TREE.items()
    for row in ((top, 0, top_name, True), *((leaf, top, name, False) for leaf, name in leaves.items()))
)

MATERIAL_VALUES = {"Cotton": 1001, "Polyester": 1002, "Nylon": 1003, "Wool": 1004, "Leather": 1005}
WARRANTY_VALUES = {"No Warranty": 2001, "Supplier Warranty": 2002, "Manufacturer Warranty": 2003}
# category -> (attribute_id, name, mandatory, input_type, values); input_type 1 = DROP_DOWN (ids only),
# 2 = MULTIPLE_SELECT, 3 = TEXT_FILED, 4 = COMBO_BOX (custom text allowed), 5 = MULTIPLE_SELECT_COMBO_BOX.
ATTRIBUTES: dict[int, tuple[tuple[int, str, bool, int, dict[str, int]], ...]] = {
    100017: ((100134, "Material", False, 5, MATERIAL_VALUES),),
    100018: ((100134, "Material", True, 5, MATERIAL_VALUES),),
    100019: ((100134, "Material", False, 5, MATERIAL_VALUES),),
    100020: ((100134, "Material", True, 5, MATERIAL_VALUES),),
    100022: ((100999, "Warranty Type", True, 1, WARRANTY_VALUES),),
}
# get_variation_tree (real-stores 2.2): standard variations per category, as
# variation (id, name) -> groups {group_id: {option name: option id}}.
COLOUR = (101054, "Colour")
SIZE = (305033, "Size")
COLOUR_GROUPS = {849982774362112: {"Black": 6241, "White": 6242, "Red": 6243, "Blue": 6244, "Green": 6245,
                                   "Grey": 6246, "Navy": 6247, "Pink": 6248, "Beige": 6249, "Brown": 6250}}
APPAREL_SIZES = {849982774362113: {"XS": 7001, "S": 7002, "M": 7003, "L": 7004, "XL": 7005, "XXL": 7006},
                 849982774362114: {"34": 7101, "36": 7102, "38": 7103, "40": 7104, "42": 7105, "44": 7106}}
APPAREL_VARIATIONS = {COLOUR: COLOUR_GROUPS, SIZE: APPAREL_SIZES}
STANDARD_VARIATIONS: dict[int, dict[tuple[int, str], dict[int, dict[str, int]]]] = {
    **dict.fromkeys((100017, 100018, 100019, 100020, 100024), APPAREL_VARIATIONS),
    100021: {COLOUR: COLOUR_GROUPS},  # bags come in colours; fitness equipment and watches: none seeded
}
CUSTOM_INPUT_TYPES = frozenset({3, 4, 5})
MULTIPLE_INPUT_TYPES = frozenset({2, 5})
BRANDS = {"Luma": 3001, "Atlas Outfitters": 3002, "Nimbus Co.": 3003}
MANDATORY_BRAND = frozenset({100023})  # get_brand_list is_mandatory
# get_item_limit per category (real-stores 2.3): weight_limit.weight_mandatory (true unless listed
# here) and size_chart_limit.size_chart_mandatory.
WEIGHT_OPTIONAL = frozenset({100021})
SIZE_CHART_MANDATORY = frozenset({100024})
# get_size_chart_list per category: the shop's size chart templates (size_chart_info.size_chart_id).
SIZE_CHART_TEMPLATES: dict[int, frozenset[int]] = {100024: frozenset({810001, 810002})}


def category_limits(category_id: int) -> dict[str, Any]:
    """The per-category part of get_item_limit's answer."""
    return {
        "weight_limit": {"weight_mandatory": category_id not in WEIGHT_OPTIONAL},
        "dimension_limit": {"dimension_mandatory": False},
        "size_chart_limit": {"size_chart_mandatory": category_id in SIZE_CHART_MANDATORY},
    }


class SizeOption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size_id: str
    name: str
    default_price: float


class LogisticsChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    logistics_channel_id: int
    logistics_channel_name: str
    enabled: bool = True
    fee_type: str = "FIXED_DEFAULT_PRICE"  # SIZE_SELECTION | CUSTOM_PRICE | SIZE_INPUT | FIXED_DEFAULT_PRICE
    size_list: list[SizeOption] = []
    mask_channel_id: int = 0
    cod_enabled: bool = False


def seeded_channels() -> list[LogisticsChannel]:
    """A shop's channels: usable ones of each fee type, one masked behind another, one disabled."""
    return [
        LogisticsChannel(logistics_channel_id=10001, logistics_channel_name="Standard Delivery"),
        LogisticsChannel(logistics_channel_id=10002, logistics_channel_name="Standard Delivery - Economy",
                         mask_channel_id=10001),
        LogisticsChannel(logistics_channel_id=10003, logistics_channel_name="Express", enabled=False),
        LogisticsChannel(logistics_channel_id=10004, logistics_channel_name="Bulky Delivery", fee_type="SIZE_SELECTION",
                         size_list=[SizeOption(size_id="1", name="Small", default_price=4.5),
                                    SizeOption(size_id="2", name="Large", default_price=9.0)]),
        LogisticsChannel(logistics_channel_id=10005, logistics_channel_name="Seller Delivery", fee_type="CUSTOM_PRICE"),
        LogisticsChannel(logistics_channel_id=10006, logistics_channel_name="Parcel by Size", fee_type="SIZE_INPUT"),
    ]


class CatalogError(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


def category_list() -> list[dict[str, Any]]:
    return [{"category_id": cid, "parent_category_id": parent, "original_category_name": name,
             "display_category_name": name, "has_children": children}
            for cid, parent, name, children in CATEGORIES]


def attribute_tree(category_id: int) -> list[dict[str, Any]]:
    return [
        {"attribute_id": aid, "mandatory": mandatory, "name": name,
         "attribute_value_list": [{"value_id": vid, "name": vname} for vname, vid in values.items()],
         "attribute_info": {"input_type": input_type, "input_validation_type": 0, "format_type": 1,
                            "max_value_count": 5 if input_type in MULTIPLE_INPUT_TYPES else 1}}
        for aid, name, mandatory, input_type, values in ATTRIBUTES.get(category_id, ())
    ]


def brand_page(category_id: int, offset: int, page_size: int) -> dict[str, Any]:
    every = [{"brand_id": bid, "original_brand_name": name, "display_brand_name": name}
             for name, bid in BRANDS.items()]
    page = every[offset : offset + page_size]
    has_next = offset + page_size < len(every)
    return {"brand_list": page, "has_next_page": has_next, "next_offset": offset + page_size if has_next else 0,
            "is_mandatory": category_id in MANDATORY_BRAND, "input_type": "DROP_DOWN"}


def check_category(category_id: int) -> None:
    """Rule 1: only leaf categories (has_children false) take items. [sandbox choice] error_param."""
    for cid, _parent, _name, children in CATEGORIES:
        if cid == category_id:
            if children:
                raise CatalogError("error_param", "Wrong parameters, detail: category is not a leaf category.")
            return
    raise CatalogError("error_param", "Wrong parameters, detail: category_id is invalid.")


def check_brand(category_id: int, brand: Any) -> dict[str, Any]:
    """Rule 2: a brand where get_brand_list says mandatory; ids from the list, 0 = No Brand."""
    mandatory = category_id in MANDATORY_BRAND
    if not brand:
        if mandatory:
            raise CatalogError("error_invalid_brand", "Brand information required")
        return {"brand_id": 0, "original_brand_name": "NoBrand"}
    brand_id = brand.get("brand_id") if isinstance(brand, dict) else None
    if not isinstance(brand_id, int) or isinstance(brand_id, bool):
        raise CatalogError("error_invalid_brand", "Brand ID required")
    if brand_id == 0:
        if mandatory:
            raise CatalogError("error_invalid_brand", "Invalid brand")
        return {"brand_id": 0, "original_brand_name": "NoBrand"}
    name = next((n for n, bid in BRANDS.items() if bid == brand_id), None)
    if name is None:
        raise CatalogError("error_invalid_brand", "Invalid brand")
    return {"brand_id": brand_id, "original_brand_name": name}


def check_attributes(category_id: int, given: Any) -> list[dict[str, Any]]:
    """Rule 2: every mandatory attribute; value ids from the tree, or 0 + a name where custom text is allowed."""
    tree = {aid: (name, mandatory, input_type, values)
            for aid, name, mandatory, input_type, values in ATTRIBUTES.get(category_id, ())}
    given = given or []
    if not isinstance(given, list) or not all(isinstance(a, dict) for a in given):
        raise CatalogError("error_param", "Wrong parameters, detail: attribute_list must be a list of objects.")
    chosen = {}
    for attribute in given:
        attribute_id = attribute.get("attribute_id")
        if attribute_id not in tree:
            raise CatalogError("error_invalid_category_attribute", "Category and attribute not match.")
        _name, _mandatory, input_type, values = tree[attribute_id]
        value_list = attribute.get("attribute_value_list")
        if not isinstance(value_list, list) or not value_list:
            raise CatalogError("error_invalid_attribute_value", "Attribute value is required.")
        if len(value_list) > 1 and input_type not in MULTIPLE_INPUT_TYPES:
            raise CatalogError("error_invalid_attribute_value", "Only one value is allowed for this attribute.")
        for value in value_list:
            value_id = value.get("value_id") if isinstance(value, dict) else None
            if value_id == 0:
                if input_type not in CUSTOM_INPUT_TYPES:
                    raise CatalogError("error_invalid_attribute_value", "Invalid attribute value.")
                if not str(value.get("original_value_name") or "").strip():
                    raise CatalogError("error_value_name_required", "original_value_name is required when "
                                       "value_id is 0.")
            elif value_id not in values.values():
                raise CatalogError("error_invalid_attribute_value", "Invalid attribute value.")
        chosen[attribute_id] = attribute
    for attribute_id, (_name, mandatory, _type, _values) in tree.items():
        if mandatory and attribute_id not in chosen:
            raise CatalogError("error_invalid_attribute", "Mandatory attribute information required")
    return list(chosen.values())


def check_logistics(channels: list[LogisticsChannel], logistics: Any, has_dimension: bool) -> list[dict[str, Any]]:
    """Rule 3: enabled, unmasked channels, each with what its fee_type needs."""
    if not isinstance(logistics, list) or not logistics:
        raise CatalogError("error_param", "Invalid logistic info, logistic_info is required.")
    by_id = {c.logistics_channel_id: c for c in channels}
    for entry in logistics:
        channel_id = entry.get("logistic_id") if isinstance(entry, dict) else None
        channel = by_id.get(channel_id) if isinstance(channel_id, int) else None
        if channel is None or not channel.enabled or channel.mask_channel_id != 0:
            raise CatalogError("error_invalid_logistic_info", "Invalid logistic info.")
        if not entry.get("enabled"):
            continue
        if channel.fee_type == "SIZE_SELECTION" and str(entry.get("size_id") or "") not in {
            s.size_id for s in channel.size_list
        }:
            raise CatalogError("error_param", "Invalid logistic info, size_id is required for this channel.")
        if channel.fee_type == "CUSTOM_PRICE" and not isinstance(entry.get("shipping_fee"), int | float):
            raise CatalogError("error_param", "Invalid logistic info, shipping_fee is required for this channel.")
        if channel.fee_type == "SIZE_INPUT" and not has_dimension:
            raise CatalogError("error_param", "dimension is required")
    if not any(isinstance(e, dict) and e.get("enabled") for e in logistics):
        raise CatalogError("error_param", "Invalid logistic info, at least one channel must be enabled.")
    return list(logistics)


def check_size_chart(category_id: int, info: Any, image_known: Callable[[str], bool]) -> dict[str, Any] | None:
    """add_item/update_item ``size_chart_info{size_chart (image id) | size_chart_id (template)}``: required
    where get_item_limit says size_chart_mandatory (Shopee rule 1, real-stores 2.3).

    [sandbox choice] Shopee documents no error for a missing or unknown size chart: the closest
    documented add_item answer is ``error_param`` "Wrong parameters, detail: {msg}.", used here."""
    if isinstance(info, dict) and info.get("size_chart_id"):
        template = info["size_chart_id"]
        if not isinstance(template, int) or template not in SIZE_CHART_TEMPLATES.get(category_id, frozenset()):
            raise CatalogError("error_param", f"Wrong parameters, detail: size_chart_id {template} is not a size "
                                              f"chart template of category {category_id}.")
        return {"size_chart_id": template}  # the template wins when both are sent (add_item's doc)
    if isinstance(info, dict) and info.get("size_chart"):
        if not image_known(str(info["size_chart"])):
            raise CatalogError("error_param", "Image not exist.")
        return {"size_chart": str(info["size_chart"])}
    if category_id in SIZE_CHART_MANDATORY:
        raise CatalogError("error_param", "Wrong parameters, detail: size chart is required for this category: "
                                          "send size_chart_info.size_chart_id or size_chart_info.size_chart.")
    return None


def variation_tree(category_id: int) -> list[dict[str, Any]]:
    """get_variation_tree's ``standardise_variation_list`` for a category (empty when it has none)."""
    return [
        {"variation_id": vid, "variation_name": name, "variation_group_list": [
            {"variation_group_id": gid, "variation_option_list": [
                {"variation_option_id": oid, "variation_option_name": oname} for oname, oid in options.items()]}
            for gid, options in groups.items()]}
        for (vid, name), groups in STANDARD_VARIATIONS.get(category_id, {}).items()
    ]


def check_standard_variation(category_id: int, tier: dict[str, Any]) -> None:
    """A standardise_tier_variation entry's non-zero ids must be the category's: the variation, a group
    of it, and each option of that group (0 = custom, real-stores 2.2).

    [sandbox choice] Shopee documents no error for an unknown standard id: the closest documented
    init_tier_variation answer is ``error_param`` "Wrong parameters, detail: {msg}.", used here."""
    variation_id, group_id = tier.get("variation_id") or 0, tier.get("variation_group_id") or 0
    options = [o.get("variation_option_id") or 0 for o in tier.get("variation_option_list") or []
               if isinstance(o, dict)]
    if not variation_id:
        if group_id or any(options):
            raise CatalogError("error_param", "Wrong parameters, detail: a custom variation (variation_id 0) "
                                              "takes variation_group_id 0 and custom options only.")
        return
    groups = next((g for (vid, _name), g in STANDARD_VARIATIONS.get(category_id, {}).items() if vid == variation_id),
                  None)
    if groups is None:
        raise CatalogError("error_param", f"Wrong parameters, detail: variation_id {variation_id} is not a standard "
                                          f"variation of category {category_id}.")
    if group_id not in groups:
        raise CatalogError("error_param", f"Wrong parameters, detail: variation_group_id {group_id} is not a group "
                                          f"of variation {variation_id}.")
    unknown = [o for o in options if o and o not in groups[group_id].values()]
    if unknown:
        raise CatalogError("error_param", f"Wrong parameters, detail: variation_option_id {unknown[0]} is not an "
                                          f"option of variation group {group_id}.")
