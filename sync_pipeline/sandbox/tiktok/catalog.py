"""What a TikTok Shop sandbox shop knows about its catalog: categories, their rules and attributes,
brands and warehouses (real-stores.md 1.2-1.3), and the create/edit checks they imply (section 4,
TikTok rules 3-8), with TikTok's codes and messages.

The seed is a realistic subset for the demo's apparel, bags, fitness and watches categories: a
category that needs a size chart, one that needs a certification always and another only for
electric machines (requirement_conditions), an attribute required under a condition, required
attributes without custom values, apparel that supports cash on delivery in the COD markets, and an
unauthorized top-tier brand. [sandbox choice] The same tree answers v1 and v2.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# Top-level category (id, local_name) -> its leaves (id, local_name, permission status).
_TREE: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("600001", "Menswear & Underwear", (("601152", "Men's Tops", "AVAILABLE"),
                                        ("601153", "Men's Bottoms", "AVAILABLE"))),
    ("600002", "Womenswear & Underwear", (("601226", "Women's Tops", "AVAILABLE"),
                                          ("601227", "Women's Bottoms", "AVAILABLE"))),
    ("600003", "Luggage & Bags", (("602001", "Backpacks", "AVAILABLE"),)),
    ("600004", "Sports & Outdoor", (("603014", "Fitness Equipment", "AVAILABLE"),)),
    ("600005", "Fashion Accessories", (("604579", "Watches", "AVAILABLE"),
                                       ("605001", "Replica Watches", "NON_MAIN_CATEGORY"))),
)
# (id, parent_id, local_name, is_leaf, permission), parents first
CATEGORIES: tuple[tuple[str, str, str, bool, str], ...] = tuple(
    entry
    for parent_id, parent_name, leaves in _TREE
    for entry in ((parent_id, "0", parent_name, False, "AVAILABLE"),
                  *((leaf_id, parent_id, name, True, permission) for leaf_id, name, permission in leaves))
)

MATERIAL = {"id": "100157", "name": "Material", "values": {
    "Cotton": "1000059", "Polyester": "1000060", "Nylon": "1000061", "Wool": "1000062", "Leather": "1000063",
    "Organic Cotton": "1000064", "Cocona performance fabric": "1000065",
}}
STRAP = {"id": "100347", "name": "Strap Material", "values": {"Silicone": "1001201", "Leather": "1001202",
                                                                 "Stainless Steel": "1001203"}}
POWER = {"id": "100610", "name": "Power Source", "values": {"Electric": "1002001", "Manual": "1002002"}}
ELECTRIC = {"condition_type": "VALUE_ID_MATCH", "attribute_id": "100610", "attribute_value_id": "1002001"}
VOLTAGE = {"id": "100611", "name": "Voltage", "values": {"110V": "1002101", "220V": "1002102"},
           # real-stores 1.2: required only when the condition is met (an electric machine)
           "requirement_conditions": [ELECTRIC]}
# category -> (attribute template, is_requried, is_customizable, is_multiple_selection)
ATTRIBUTES: dict[str, tuple[tuple[dict[str, Any], bool, bool, bool], ...]] = {
    "601152": ((MATERIAL, False, True, True),),
    "601153": ((MATERIAL, True, False, True),),
    "601226": ((MATERIAL, False, True, True),),
    "601227": ((MATERIAL, True, False, True),),
    "603014": ((POWER, False, False, False), (VOLTAGE, False, False, False)),
    "604579": ((STRAP, False, False, False),),
}
# Rules cod.is_supported: these categories, in the markets where TikTok offers COD at all (LZ
# create-product is_cod_allowed: local sellers in ID, MY, PH, SA, TH, VN).
COD_SUPPORTED = frozenset({"601152", "601153", "601226", "601227"})
COD_REGIONS = frozenset({"ID", "MY", "PH", "SA", "TH", "VN"})
SIZE_CHART_REQUIRED = frozenset({"601226", "601227"})
SIZE_CHART_TEMPLATES = frozenset({"7267563252536723205", "7267563252536723206"})
# category -> (id, name, requirement_conditions): no conditions = always required (is_required true);
# with conditions = required only when one is met (is_required false).
CERTIFICATIONS: dict[str, tuple[tuple[str, str, tuple[dict[str, str], ...]], ...]] = {
    "603014": (("7182427311584347905", "Product Safety Test Report", ()),
               ("7182427311584347906", "Electrical Safety Certificate", (ELECTRIC,))),
}
# id, name, authorized_status, is_t1_brand
BRANDS: tuple[tuple[str, str, str, bool], ...] = (
    ("7082427311584347905", "Luma", "AUTHORIZED", False),
    ("7082427311584347906", "Atlas Outfitters", "UNAUTHORIZED", False),
    ("7082427311584347907", "Nimbus Co.", "AUTHORIZED", False),
    ("7082427311584347908", "Crown Horology", "UNAUTHORIZED", True),
)
NO_DIMENSIONS_REGIONS = frozenset({"ID", "TH", "VN"})  # real-stores 1.2: dimensions optional there
WEIGHT_UNITS_BY_REGION = {"POUND": frozenset({"US"}), "GRAM": frozenset({"BR", "JP", "MX"})}


class CatalogError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def warehouses(main_id: str) -> list[dict[str, Any]]:
    """The shop's warehouses: its sales warehouse, a disabled one and a return warehouse."""
    return [
        {"id": main_id, "name": "Main warehouse", "effect_status": "ENABLED", "type": "SALES_WAREHOUSE",
         "sub_type": "DOMESTIC_WAREHOUSE", "is_default": True},
        {"id": "7000002", "name": "Old warehouse", "effect_status": "DISABLED", "type": "SALES_WAREHOUSE",
         "sub_type": "DOMESTIC_WAREHOUSE", "is_default": False},
        {"id": "7000003", "name": "Returns", "effect_status": "ENABLED", "type": "RETURN_WAREHOUSE",
         "sub_type": "DOMESTIC_WAREHOUSE", "is_default": False},
    ]


def categories() -> list[dict[str, Any]]:
    return [{"id": cid, "parent_id": parent, "local_name": name, "is_leaf": leaf, "permission_statuses": [perm]}
            for cid, parent, name, leaf, perm in CATEGORIES]


def category_rules(category_id: str, region: str) -> dict[str, Any]:
    _category(category_id)
    return {
        "product_certifications": [
            {"id": cid, "name": name, "is_required": not conditions, "requirement_conditions": list(conditions),
             "expiration_date": {"is_required": False}}
            for cid, name, conditions in CERTIFICATIONS.get(category_id, ())
        ],
        "size_chart": {"is_supported": True, "is_required": category_id in SIZE_CHART_REQUIRED},
        "cod": {"is_supported": cod_supported(category_id, region)},
        "package_dimension": {"is_required": region not in NO_DIMENSIONS_REGIONS},
        "epr": {"is_required": False},
        "responsible_person": {"is_required": False},
        "manufacturer": {"is_required": False},
    }


def category_attributes(category_id: str) -> list[dict[str, Any]]:
    _category(category_id)
    return [
        {"id": template["id"], "name": template["name"], "type": "PRODUCT_PROPERTY", "is_requried": required,
         "values": [{"id": vid, "name": name} for name, vid in template["values"].items()],
         "is_customizable": customizable, "is_multiple_selection": multiple,
         "requirement_conditions": list(template.get("requirement_conditions", []))}
        for template, required, customizable, multiple in ATTRIBUTES.get(category_id, ())
    ]


def brands() -> list[dict[str, Any]]:
    return [{"id": bid, "name": name, "authorized_status": status, "is_t1_brand": t1, "brand_status": "AVAILABLE"}
            for bid, name, status, t1 in BRANDS]


# -- create / edit checks -----------------------------------------------------------------------------


def check_category(category_id: str) -> None:
    """Rule 3: a leaf the shop may use."""
    _, _, _, leaf, permission = _category(category_id)
    if not leaf:
        raise CatalogError(12052024, "Category is not final category")
    if permission != "AVAILABLE":
        raise CatalogError(12052225, "You are not authorized to sell in this category because it does not fall "
                           "under your shop's main category. Contact your account manager for help or select "
                           "another category.")


def check_attributes(category_id: str, given: Any) -> list[dict[str, Any]]:
    """Rule 4: every required PRODUCT_PROPERTY, values from the list unless customizable."""
    if given is None:
        given = []
    if not isinstance(given, list) or not all(isinstance(a, dict) for a in given):
        raise CatalogError(12052910, "Invalid input parameters. Refer to the API documentation for details.")
    known = {a["id"]: a for a in category_attributes(category_id)}
    chosen: dict[str, dict[str, Any]] = {}
    for attribute in given:
        attribute_id = str(attribute.get("id") or "")
        rule = known.get(attribute_id)
        if rule is None:
            raise CatalogError(12052241, "attribute name or attribute id is empty.") if not attribute_id else \
                CatalogError(12052910, "Invalid input parameters. Refer to the API documentation for details.")
        if attribute_id in chosen:
            raise CatalogError(12052254, "Duplicate attribute id")
        values = attribute.get("values")
        if not isinstance(values, list) or not values:
            raise CatalogError(12052248, "The product property value name or attribute value id is empty.")
        if len(values) > 1 and not rule["is_multiple_selection"]:
            raise CatalogError(12052246, f"The product property not support multi selected, attribute id is "
                               f":{attribute_id}.")
        allowed = {v["id"] for v in rule["values"]}
        for value in values:
            value_id = str(value.get("id") or "") if isinstance(value, dict) else ""
            if value_id:
                if value_id not in allowed:
                    raise CatalogError(12052529, "The property value id not exist.")
            elif not rule["is_customizable"]:
                raise CatalogError(12052247, "Do not support custom product attribute.")
            elif not (isinstance(value, dict) and str(value.get("name") or "").strip()):
                raise CatalogError(12052248, "The product property value name or attribute value id is empty.")
        chosen[attribute_id] = attribute
    for attribute_id, rule in known.items():
        if rule["is_requried"] and attribute_id not in chosen:
            raise CatalogError(12052104, "property is required")
    for attribute_id, rule in known.items():
        met = next((c for c in rule["requirement_conditions"] if _value_chosen(chosen, c)), None)
        if attribute_id not in chosen and met is not None:
            parent = known[str(met["attribute_id"])]
            value = next(v["name"] for v in parent["values"] if v["id"] == str(met["attribute_value_id"]))
            # The message template of LZ create-product's error list, filled in.
            raise CatalogError(12052182, f"The '{rule['name']}' field is required as you've selected '{value}' "
                               f"for '{parent['name']}'.")
    return list(chosen.values())


def _value_chosen(chosen: Mapping[str, dict[str, Any]], condition: Mapping[str, Any]) -> bool:
    attribute = chosen.get(str(condition.get("attribute_id")))
    return attribute is not None and any(isinstance(v, dict) and str(v.get("id") or "") ==
                                         str(condition.get("attribute_value_id")) for v in attribute["values"])


def cod_supported(category_id: str, region: str) -> bool:
    return category_id in COD_SUPPORTED and region in COD_REGIONS


def check_cod(category_id: str, is_cod_allowed: Any, region: str) -> bool:
    """real-stores 1.2: is_cod_allowed only where the category's rules say cod.is_supported."""
    if is_cod_allowed and not cod_supported(category_id, region):
        raise CatalogError(12052222, "category do not support cod")  # LZ create-product error list, verbatim
    return bool(is_cod_allowed)


def check_brand(brand_id: Any) -> str | None:
    """Rule 5: a known brand; an unauthorized top-tier (T1) brand cannot be used."""
    if brand_id in (None, ""):
        return None
    for bid, _name, status, t1 in BRANDS:
        if bid == str(brand_id):
            if t1 and status != "AUTHORIZED":
                raise CatalogError(12052201, "You are not authorized to sell this brand in this category. To do "
                                   "so, apply through the Qualification Center in Seller Center.")
            return bid
    raise CatalogError(12052026, "Brand does not exist")


def check_size_chart(category_id: str, size_chart: Any, image_known: Any) -> dict[str, Any] | None:
    """Rule 4: a size chart (template or uploaded image) where the category requires one."""
    if not size_chart:
        if category_id in SIZE_CHART_REQUIRED:
            raise CatalogError(12052673, "Product sizechart image is required")
        return None
    template = (size_chart.get("template") or {}).get("id") if isinstance(size_chart, dict) else None
    image = (size_chart.get("image") or {}).get("uri") if isinstance(size_chart, dict) else None
    if template:
        if str(template) not in SIZE_CHART_TEMPLATES:
            raise CatalogError(12052128, "Size chart not found")
        return {"template": {"id": str(template)}}
    if not image or not image_known(image, "SIZE_CHART_IMAGE"):
        raise CatalogError(12052670, "The size chart image URI is invalid. Note: API users must use the URI "
                           "generated by the Upload Product Image API.")
    return {"image": {"uri": image}}


def check_certifications(
    category_id: str, given: Any, image_known: Any, attributes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rule 4: every required certification (always, or because ``attributes`` meet one of its
    requirement conditions), with uploaded images; an optional one may be given too."""
    given = given or []
    if not isinstance(given, list):
        raise CatalogError(12052910, "Invalid input parameters. Refer to the API documentation for details.")
    chosen = {str(a.get("id")): a for a in attributes}
    known = {cid for cid, _, _ in CERTIFICATIONS.get(category_id, ())}
    required = {cid for cid, _, conditions in CERTIFICATIONS.get(category_id, ())
                if not conditions or any(_value_chosen(chosen, c) for c in conditions)}
    seen: set[str] = set()
    for cert in given:
        cert_id = str(cert.get("id") or "") if isinstance(cert, dict) else ""
        if cert_id not in known:
            raise CatalogError(12052655, "qualification id not exist")
        if cert_id in seen:
            raise CatalogError(12052656, "qualification id duplicate")
        seen.add(cert_id)
        images = cert.get("images") or []
        if not images or not all(isinstance(i, dict) and image_known(i.get("uri"), "CERTIFICATION_IMAGE")
                                 for i in images):
            raise CatalogError(12052650, "product qualification image uri illegal")
    if required - seen:
        raise CatalogError(12052105, "required qualification miss")
    return list(given)


def check_package(weight: Any, dimensions: Any, region: str) -> tuple[dict[str, str], dict[str, str] | None]:
    """Rule 6: weight > 0 in a unit of the region; dimensions unless ID/TH/VN; one unit system."""
    if not isinstance(weight, dict) or weight.get("unit") not in ("KILOGRAM", "POUND", "GRAM"):
        raise CatalogError(12019011, "product package weight is invalid")
    value = _number(weight.get("value"), 12019011, "product package weight is invalid")
    if value <= 0:
        raise CatalogError(12052181, "The package weight of the product can not be zero.")
    unit = str(weight["unit"])
    if unit in WEIGHT_UNITS_BY_REGION and region not in WEIGHT_UNITS_BY_REGION[unit]:
        if unit == "POUND":
            raise CatalogError(12019061, "Product weight or dimensions unit does not support the imperial units on "
                               "non-US local products.")
        raise CatalogError(12019011, "product package weight is invalid")
    stored_weight = {"value": str(value), "unit": unit}
    if not dimensions:
        if region not in NO_DIMENSIONS_REGIONS:
            raise CatalogError(12019012, "product package size is invalid")
        return stored_weight, None
    if not isinstance(dimensions, dict) or dimensions.get("unit") not in ("CENTIMETER", "INCH"):
        raise CatalogError(12019012, "product package size is invalid")
    if dimensions["unit"] == "INCH" and region != "US":
        raise CatalogError(12019061, "Product weight or dimensions unit does not support the imperial units on "
                           "non-US local products.")
    if (unit == "POUND") != (dimensions["unit"] == "INCH"):
        raise CatalogError(12052915, "package weight unit and dimension unit miss match")
    sizes = {}
    for axis in ("length", "width", "height"):
        size = _number(dimensions.get(axis), 12019012, "product package size is invalid")
        if size <= 0 or size != size.to_integral_value():
            raise CatalogError(12019012, "product package size is invalid")
        sizes[axis] = str(int(size))
    return stored_weight, {**sizes, "unit": str(dimensions["unit"])}


def check_sku_images(skus: list[Mapping[str, Any]], image_known: Any) -> None:
    """Rule 7: images on one sales attribute only, and then on every value of it."""
    with_images = {str(a.get("name")) for s in skus for a in s.get("sales_attributes") or []
                   if isinstance(a, dict) and a.get("sku_img")}
    if not with_images:
        return
    if len(with_images) > 1:
        raise CatalogError(12052528, "You can add images to only 1 product variation, which will serve as the "
                           "primary variation for display in the product options gallery.")
    (primary,) = with_images
    for sku in skus:
        for attribute in sku.get("sales_attributes") or []:
            if not isinstance(attribute, dict) or str(attribute.get("name")) != primary:
                continue
            image = attribute.get("sku_img")
            if not image:
                raise CatalogError(12052522, "Product sale property image is required")
            if not image_known(image.get("uri") if isinstance(image, dict) else None, "ATTRIBUTE_IMAGE"):
                raise CatalogError(12052520, "product sale property image uri illegal")


def check_warehouse(warehouse_id: str, shop_warehouses: list[dict[str, Any]]) -> tuple[int, str] | None:
    """Rule 8: a SALES warehouse of this shop, ENABLED; the problem's (code, message) otherwise."""
    found = next((w for w in shop_warehouses if w["id"] == warehouse_id), None)
    if found is None:
        return 12052530, f"The warehouse '{warehouse_id}' does not belong to this shop/seller."
    if found["effect_status"] != "ENABLED":
        return 12052531, "The warehouse is disabled."
    if found["type"] != "SALES_WAREHOUSE":
        return 12052532, "the warehouse not delivery warehouse"
    return None


def _category(category_id: str) -> tuple[str, str, str, bool, str]:
    for entry in CATEGORIES:
        if entry[0] == category_id:
            return entry
    raise CatalogError(12052023, "Category does not exist")


def _number(value: Any, code: int, message: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise CatalogError(code, message) from None
    if not number.is_finite():
        raise CatalogError(code, message)
    return number
