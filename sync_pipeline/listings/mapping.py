"""A listing's marketplace details from the store's mapping, checked against the store's rules.

``catalog_details`` turns the stores file's ``mapping`` (and, when read, the store's rules: value
and brand ids by name) into the listing's ``CatalogDetails``. ``rule_violations`` says, for a listing,
every way it fails its category's rules as the store published them, each as a reason the owner can
act on. ``apply_store_rules`` does both for ``platform_listings``: a listing that fails is kept
invalid with those reasons and never pushed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_pipeline.listings.model import (
    AttributeValue,
    CatalogDetails,
    Certification,
    Listing,
    ListingAttribute,
    Package,
    ShippingChoice,
    VariationChoice,
    package_weight,
)
from sync_pipeline.listings.rules import AttributeRule, CategoryRules, StoreRules
from sync_pipeline.money import to_decimal
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.stores import CategoryDefaults, Dimensions, StoreConfig

# Reason codes (the part before the colon is what the metrics count).
CATEGORY_NOT_IN_RULES = "category_not_in_store_rules"
CATEGORY_NOT_USABLE = "category_not_usable"
MISSING_ATTRIBUTE = "missing_required_attribute"
ATTRIBUTE_VALUE_NOT_ALLOWED = "attribute_value_not_allowed"
UNKNOWN_ATTRIBUTE = "unknown_attribute"
BRAND_REQUIRED = "brand_required"
BRAND_NOT_ALLOWED = "brand_not_allowed"
SIZE_CHART_REQUIRED = "size_chart_required"
CERTIFICATION_REQUIRED = "certification_required"
COD_NOT_SUPPORTED = "cod_not_supported"
PACKAGE_REQUIRED = "package_data_required"
SHIPPING_UNUSABLE = "shipping_channel_unusable"
TOO_MANY_IMAGES = "too_many_images_for_category"
RULE_REASONS = frozenset({
    CATEGORY_NOT_IN_RULES, CATEGORY_NOT_USABLE, MISSING_ATTRIBUTE, ATTRIBUTE_VALUE_NOT_ALLOWED, UNKNOWN_ATTRIBUTE,
    BRAND_REQUIRED, BRAND_NOT_ALLOWED, SIZE_CHART_REQUIRED, CERTIFICATION_REQUIRED, PACKAGE_REQUIRED,
    SHIPPING_UNUSABLE, TOO_MANY_IMAGES, COD_NOT_SUPPORTED,
})
NO_BRAND = "No Brand"


def catalog_details(
    listing: Listing, attributes: Mapping[str, str], store: StoreConfig, rules: StoreRules | None
) -> CatalogDetails | None:
    """The listing's details from the mapping (None when the store maps nothing)."""
    mapping = store.mapping
    if mapping.is_empty:
        return None
    category = rules.category(listing.category_id) if rules else None
    defaults = mapping.categories.get(str(listing.category_id)) or CategoryDefaults()
    # A category's own cod is the owner's explicit wish (checked against the rules); the store-wide one
    # offers cash on delivery only where the rules read say the category supports it.
    cod = defaults.cod if defaults.cod is not None else mapping.cod and category is not None and category.cod_supported
    return CatalogDetails(
        attributes=_attributes(attributes, store, defaults, category),
        **_brand(attributes, store, defaults, category),
        size_chart_template=defaults.size_chart.template_id if defaults.size_chart else None,
        size_chart_image=defaults.size_chart.image if defaults.size_chart else None,
        certifications=tuple(Certification(c.id, c.images) for c in defaults.certifications),
        package=_package(listing, attributes, store, defaults),
        shipping=tuple(ShippingChoice(c.channel_id, c.size_id, c.shipping_fee) for c in mapping.shipping),
        cod=cod,
        variations=_variations(listing, store, category),
    )


def rule_violations(
    listing: Listing, rules: StoreRules, store_name: str, *, default_weight_kg: Decimal | None = None
) -> list[str]:
    """Every way ``listing`` fails its category's rules, as reasons naming the fix; ``default_weight_kg``
    is the weight the store's client sends when the catalog has none (``default_weight``)."""
    where = f"{store_name}, category {listing.category_id}"
    category = rules.category(listing.category_id)
    if category is None:
        return [f"{CATEGORY_NOT_IN_RULES}: {where} is not among the categories read from the store: "
                "map the Magento category to a leaf category of the store"]
    if not category.leaf or not category.usable:
        state = "not a leaf category" if not category.leaf else "not open to this shop"
        return [f"{CATEGORY_NOT_USABLE}: {where} is {state}: map the Magento category to another one"]
    details = listing.details or CatalogDetails()
    reasons = _attribute_violations(details, category, where)
    reasons += _brand_violations(details, category, where)
    if category.size_chart_required and not (details.size_chart_template or details.size_chart_image):
        reasons.append(f"{SIZE_CHART_REQUIRED}: {where} requires a size chart: set mapping.categories."
                       f"'{category.category_id}'.size_chart (template_id or image)")
    reasons += _certification_violations(details, category, where)
    if details.cod and not category.cod_supported:
        reasons.append(f"{COD_NOT_SUPPORTED}: {where} does not take cash on delivery (its rules: cod.is_supported "
                       f"false): set mapping.categories.'{category.category_id}'.cod to false or remove it")
    # The weight the client will send, decided by the same function the client uses.
    package = details.package
    if category.weight_required and package_weight(listing, default_weight_kg) is None:
        setting = platform_spec(rules.platform).default_weight_setting
        reasons.append(f"{PACKAGE_REQUIRED}: {where} requires a package weight: set the Magento weight"
                       + (f" or settings.{setting}" if setting else ""))
    elif category.dimensions_required and not (package and package.has_dimensions):
        reasons.append(f"{PACKAGE_REQUIRED}: {where} requires package dimensions: set mapping.package.dimensions "
                       "or the category's dimensions")
    reasons += _shipping_violations(details, rules, store_name)
    if category.image_limit is not None and len(listing.images) > category.image_limit:
        reasons.append(f"{TOO_MANY_IMAGES}: {where} takes at most {category.image_limit} images")
    return reasons


def apply_store_rules(
    listing: Listing, attributes: Mapping[str, str], store: StoreConfig, rules: StoreRules | None
) -> Listing:
    """The listing with its details; a valid listing that fails the rules becomes invalid with the reasons."""
    details = catalog_details(listing, attributes, store, rules)
    if details is not None:
        listing = replace(listing, details=details)
    if rules is None or not listing.valid or listing.action != "list":
        return listing
    reasons = rule_violations(listing, rules, store.name, default_weight_kg=default_weight(store))
    if not reasons:
        return listing
    return replace(listing, valid=False, reasons=tuple(dict.fromkeys((*listing.reasons, *reasons))))


def default_weight(store: StoreConfig) -> Decimal | None:
    """The weight (kg) the store's client sends for a product without one (None: it sends none)."""
    return platform_spec(store.platform).default_weight_kg(store)


# -- details ------------------------------------------------------------------------------------------


def _labels(raw: str | None) -> list[str]:
    # The catalog joins a multiselect's labels with ", " (magento/reader.py).
    return [part.strip() for part in (raw or "").split(", ") if part.strip()]


def _attributes(
    product: Mapping[str, str], store: StoreConfig, defaults: CategoryDefaults, category: CategoryRules | None
) -> tuple[ListingAttribute, ...]:
    names = list(dict.fromkeys([*store.mapping.attributes, *defaults.attributes]))
    result = []
    for name in names:
        source = store.mapping.attributes.get(name)
        raw = product.get(source.magento) if source and source.magento else None
        if raw and raw.strip() and source and source.free_text:
            labels = [raw.strip()]
        else:
            labels = _labels(raw or defaults.attributes.get(name) or (source.default if source else None))
        if not labels:
            continue
        rule = category.attribute(name) if category else None
        if category is not None and rule is None and name not in defaults.attributes:
            continue  # a store-wide mapping only feeds the categories that have the attribute
        values = tuple(
            AttributeValue(label, (source.values.get(label) if source else None)
                           or (rule.value_id(label) if rule else None))
            for label in labels
        )
        result.append(ListingAttribute(rule.name if rule else name, rule.attribute_id if rule else _id_or_none(name),
                                       values))
    return tuple(result)


def _id_or_none(name: str) -> str | None:
    return name if name.isdigit() else None


def _brand(
    product: Mapping[str, str], store: StoreConfig, defaults: CategoryDefaults, category: CategoryRules | None
) -> dict[str, Any]:
    source = store.mapping.brand
    label: str | None = None
    if source and source.magento:
        label = next(iter(_labels(product.get(source.magento))), None)
    label = label or defaults.brand or (source.default if source else None)
    if label is None:
        return {}
    if label.casefold() == NO_BRAND.casefold() or label == "0":
        return {"brand_id": "0", "brand_name": NO_BRAND}
    brand_id = (source.values.get(label) if source else None)
    if brand_id is None and category is not None:
        brand_id = _by_name(category.brands, label) or _by_name(category.refused_brands, label)
    if brand_id is None and label.isdigit():
        brand_id = label
    return {"brand_id": brand_id, "brand_name": label}


def _by_name(table: Mapping[str, str], name: str) -> str | None:
    return next((bid for bname, bid in table.items() if bname.casefold() == name.casefold()), None)


def _variations(listing: Listing, store: StoreConfig, category: CategoryRules | None) -> tuple[VariationChoice, ...]:
    """The variant axes the category has as standard variations (by the mapping's name for the axis,
    else its own, any case) whose values name options of one of its groups: sent with the standard
    ids; the other axes and values stay custom (id 0)."""
    if category is None or not category.variations:
        return ()
    choices = []
    for axis in listing.options:
        standard = category.variation(store.mapping.variations.get(axis, axis))
        values = tuple(dict.fromkeys(v.options[axis] for v in listing.variants if axis in v.options))
        found = standard.option_ids(values) if standard else None
        if standard is not None and found is not None:
            choices.append(VariationChoice(axis, standard.variation_id, standard.name, found[0], found[1]))
    return tuple(choices)


def _package(
    listing: Listing, product: Mapping[str, str], store: StoreConfig, defaults: CategoryDefaults
) -> Package:
    mapping = store.mapping.package
    dims: Dimensions | None = defaults.dimensions or mapping.dimensions
    from_catalog = {axis: _decimal(product.get(code)) for axis, code in mapping.magento_dimensions.items()}
    return Package(
        weight=_listing_weight(listing),
        weight_unit=mapping.weight_unit,
        length=from_catalog.get("length") or (dims.length if dims else None),
        width=from_catalog.get("width") or (dims.width if dims else None),
        height=from_catalog.get("height") or (dims.height if dims else None),
        dimension_unit=mapping.dimension_unit,
    )


def _listing_weight(listing: Listing) -> Decimal | None:
    return listing.weight_kg or next((v.weight_kg for v in listing.variants if v.weight_kg), None)


def _decimal(value: str | None) -> Decimal | None:
    try:
        number = to_decimal(value)
    except (InvalidOperation, TypeError):
        return None
    return number if number is not None and number > 0 else None


# -- violations ---------------------------------------------------------------------------------------


def _attribute_violations(details: CatalogDetails, category: CategoryRules, where: str) -> list[str]:
    reasons = []
    given = {a.attribute_id: a for a in details.attributes if a.attribute_id}
    for attribute in details.attributes:
        if attribute.attribute_id is None or category.attribute(attribute.attribute_id) is None:
            reasons.append(f"{UNKNOWN_ATTRIBUTE}: {where} has no attribute '{attribute.name}': "
                           "fix the attribute's name in mapping.attributes")
    for rule in category.attributes:
        chosen = given.get(rule.attribute_id)
        if chosen is None:
            if rule.required:
                reasons.append(f"{MISSING_ATTRIBUTE}: {where} requires '{rule.name}': map a Magento attribute "
                               "or set a default")
            elif (because := _condition_met(rule.required_when, given)) is not None:
                reasons.append(f"{MISSING_ATTRIBUTE}: {where} requires '{rule.name}' when {because}: map a "
                               "Magento attribute or set a default")
            continue
        reasons += _value_violations(chosen, rule, where)
    return reasons


def _certification_violations(details: CatalogDetails, category: CategoryRules, where: str) -> list[str]:
    given = {c.certification_id for c in details.certifications}
    chosen = {a.attribute_id: a for a in details.attributes if a.attribute_id}
    missing = [(cert_id, name, "") for cert_id, name in category.certifications if cert_id not in given]
    missing += [(rule.certification_id, rule.name, f" when {because}")
                for rule in category.conditional_certifications
                if rule.certification_id not in given
                and (because := _condition_met(rule.required_when, chosen)) is not None]
    return [f"{CERTIFICATION_REQUIRED}: {where} requires the certification '{name}' (id {cert_id}){when}: add it "
            f"to mapping.categories.'{category.category_id}'.certifications" for cert_id, name, when in missing]


def _condition_met(required_when: tuple[tuple[str, str], ...], given: Mapping[str, ListingAttribute]) -> str | None:
    """The first met requirement condition as "'Name' is 'value'", or None."""
    for attribute_id, value_id in required_when:
        chosen = given.get(attribute_id)
        if chosen is not None and any(v.value_id == value_id for v in chosen.values):
            value = next(v.name for v in chosen.values if v.value_id == value_id)
            return f"'{chosen.name}' is '{value}'"
    return None


def _value_violations(chosen: ListingAttribute, rule: AttributeRule, where: str) -> list[str]:
    reasons = []
    if len(chosen.values) > 1 and not rule.multiple:
        reasons.append(f"{ATTRIBUTE_VALUE_NOT_ALLOWED}: {where} takes one value for '{rule.name}', "
                       f"got {', '.join(v.name for v in chosen.values)}: map the values to one")
    for value in chosen.values:
        known = value.value_id is not None and value.value_id in rule.values.values()
        if not known and not rule.customizable:
            allowed = ", ".join(sorted(rule.values)[:8])
            reasons.append(f"{ATTRIBUTE_VALUE_NOT_ALLOWED}: {where} has no '{rule.name}' value '{value.name}': "
                           f"map it to one of {allowed} in mapping.attributes.'{rule.name}'.values")
    return reasons


def _brand_violations(details: CatalogDetails, category: CategoryRules, where: str) -> list[str]:
    if details.brand_id is None and details.brand_name is None:
        if category.brand_required:
            return [f"{BRAND_REQUIRED}: {where} requires a brand: set mapping.brand (a Magento attribute such as "
                    "manufacturer, or a default)"]
        return []
    if details.brand_id == "0":
        if category.brand_required and not category.no_brand_allowed:
            return [f"{BRAND_REQUIRED}: {where} requires a real brand, not '{NO_BRAND}': set mapping.brand"]
        return []
    if details.brand_id in category.refused_brands.values():
        return [f"{BRAND_NOT_ALLOWED}: {where} does not let this shop sell the brand '{details.brand_name}' "
                "(authorisation required): authorise it on the platform or map another brand"]
    if details.brand_id is None or details.brand_id not in category.brands.values():
        return [f"{BRAND_NOT_ALLOWED}: {where} has no brand '{details.brand_name}': add its id to "
                "mapping.brand.values or create the brand on the platform"]
    return []


def _shipping_violations(details: CatalogDetails, rules: StoreRules, store_name: str) -> list[str]:
    if not rules.channels:
        return []
    channels = {c.channel_id: c for c in rules.channels}
    reasons = []
    for choice in details.shipping:
        channel = channels.get(choice.channel_id)
        if channel is None or not channel.usable:
            state = "unknown" if channel is None else "disabled or masked"
            reasons.append(f"{SHIPPING_UNUSABLE}: {store_name}, logistics channel {choice.channel_id} is {state}: "
                           "pick an enabled channel with mask_channel_id 0 in mapping.shipping")
        elif channel.fee_type == "SIZE_SELECTION" and choice.size_id not in channel.size_ids:
            reasons.append(f"{SHIPPING_UNUSABLE}: {store_name}, logistics channel {choice.channel_id} needs a size_id "
                           f"(one of {', '.join(channel.size_ids)}) in mapping.shipping")
        elif channel.fee_type == "CUSTOM_PRICE" and choice.shipping_fee is None:
            reasons.append(f"{SHIPPING_UNUSABLE}: {store_name}, logistics channel {choice.channel_id} needs a "
                           "shipping_fee in mapping.shipping")
        elif channel.fee_type == "SIZE_INPUT" and not (details.package and details.package.has_dimensions):
            reasons.append(f"{SHIPPING_UNUSABLE}: {store_name}, logistics channel {choice.channel_id} needs package "
                           "dimensions: set mapping.package.dimensions")
    if details.shipping and not reasons:
        return []
    if not details.shipping and not any(c.usable and c.fee_type in ("", "FIXED_DEFAULT_PRICE") for c in rules.channels):
        reasons.append(f"{SHIPPING_UNUSABLE}: {store_name} has no channel usable without settings: "
                       "choose channels in mapping.shipping")
    return reasons
