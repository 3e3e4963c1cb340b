"""A store's own catalog rules, as data: what a listing needs per category to be accepted.

Each platform client reads them from the store's look-up APIs (``StoreClient.read_catalog_rules``)
into these platform-neutral records; the ``store_catalog_rules`` asset keeps the last good read in
the app DB, and the listings check every valid listing against them before anything is pushed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AttributeRule:
    """One product attribute of a category (TikTok PRODUCT_PROPERTY, Shopee attribute_tree entry)."""

    attribute_id: str
    name: str
    required: bool = False
    values: dict[str, str] = field(default_factory=dict)  # value name -> value id
    customizable: bool = True  # free text (or a custom value) is accepted
    multiple: bool = False  # more than one value is accepted
    # TikTok requirement_conditions: required as well when another attribute has one of these values,
    # as (attribute id, value id) pairs.
    required_when: tuple[tuple[str, str], ...] = ()

    def value_id(self, name: str) -> str | None:
        wanted = name.strip().casefold()
        return next((vid for vname, vid in self.values.items() if vname.casefold() == wanted), None)


@dataclass(frozen=True)
class CertificationRule:
    """A certification the category asks for only when the listing's attributes meet one of its
    conditions (TikTok product_certifications with ``is_required`` false and requirement_conditions)."""

    certification_id: str
    name: str
    required_when: tuple[tuple[str, str], ...]  # (attribute id, value id): any one chosen makes it required


@dataclass(frozen=True)
class VariationGroup:
    group_id: str
    options: dict[str, str] = field(default_factory=dict)  # option name -> option id


@dataclass(frozen=True)
class StandardVariation:
    """A variation the platform defines for a category (Shopee get_variation_tree), e.g. Colour."""

    variation_id: str
    name: str
    groups: tuple[VariationGroup, ...] = ()

    def option_ids(self, values: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
        """(group id, value -> option id) of the group naming most of ``values`` (exact names, any
        case), or None when no group names any; the values it does not name stay custom."""
        best: tuple[str, dict[str, str]] | None = None
        for group in self.groups:
            by_name = {name.casefold(): oid for name, oid in group.options.items()}
            found = {v: by_name[v.strip().casefold()] for v in values if v.strip().casefold() in by_name}
            if found and (best is None or len(found) > len(best[1])):
                best = (group.group_id, found)
        return best


@dataclass(frozen=True)
class CategoryRules:
    category_id: str
    name: str = ""
    leaf: bool = True
    usable: bool = True  # the shop may list in it (TikTok permission AVAILABLE)
    attributes: tuple[AttributeRule, ...] = ()
    brand_required: bool = False
    brands: dict[str, str] = field(default_factory=dict)  # brand name -> id, the ones this shop may use
    refused_brands: dict[str, str] = field(default_factory=dict)  # name -> id: known but not allowed here
    no_brand_allowed: bool = True  # "No Brand" / brand id 0
    size_chart_required: bool = False
    certifications: tuple[tuple[str, str], ...] = ()  # required (id, name)
    conditional_certifications: tuple[CertificationRule, ...] = ()  # required when a condition is met
    dimensions_required: bool = False
    weight_required: bool = True  # Shopee get_item_limit weight_limit.weight_mandatory; TikTok always
    image_limit: int | None = None
    cod_supported: bool = False  # TikTok rules cod.is_supported: is_cod_allowed may be sent
    variations: tuple[StandardVariation, ...] = ()  # standard variations (Shopee get_variation_tree)

    def attribute(self, name_or_id: str) -> AttributeRule | None:
        wanted = name_or_id.strip().casefold()
        return next((a for a in self.attributes if wanted in (a.attribute_id, a.name.casefold())), None)

    def variation(self, name: str) -> StandardVariation | None:
        wanted = name.strip().casefold()
        return next((v for v in self.variations if v.name.casefold() == wanted), None)

    def condition_text(self, required_when: tuple[tuple[str, str], ...]) -> str:
        """Requirement conditions by the names the rules give them ("'Power Source' is 'Electric'")."""
        parts = []
        for attribute_id, value_id in required_when:
            rule = self.attribute(attribute_id)
            value = next((n for n, vid in rule.values.items() if vid == value_id), value_id) if rule else value_id
            parts.append(f"'{rule.name if rule else attribute_id}' is '{value}'")
        return " or ".join(parts)


@dataclass(frozen=True)
class ShippingChannel:
    channel_id: str
    name: str
    usable: bool  # enabled and not masked (Shopee: enabled and mask_channel_id == 0)
    fee_type: str = ""  # Shopee: SIZE_SELECTION, CUSTOM_PRICE, SIZE_INPUT, FIXED_DEFAULT_PRICE
    size_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreRules:
    store_key: str
    platform: str
    read_at: datetime
    categories: dict[str, CategoryRules] = field(default_factory=dict)
    channels: tuple[ShippingChannel, ...] = ()
    warehouses: tuple[str, ...] = ()  # usable sales warehouses
    region: str = ""

    def category(self, category_id: str | None) -> CategoryRules | None:
        return self.categories.get(str(category_id)) if category_id is not None else None

    # -- storage ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "store_key": self.store_key,
            "platform": self.platform,
            "read_at": self.read_at.isoformat(),
            "region": self.region,
            "categories": {
                cid: {**{k: v for k, v in c.__dict__.items()
                         if k not in ("attributes", "certifications", "conditional_certifications", "variations")},
                      "variations": [{"variation_id": v.variation_id, "name": v.name,
                                      "groups": [g.__dict__ for g in v.groups]} for v in c.variations],
                      "attributes": [{**a.__dict__, "required_when": [list(p) for p in a.required_when]}
                                     for a in c.attributes],
                      "certifications": [list(pair) for pair in c.certifications],
                      "conditional_certifications": [
                          {**r.__dict__, "required_when": [list(p) for p in r.required_when]}
                          for r in c.conditional_certifications]}
                for cid, c in self.categories.items()
            },
            "channels": [{**c.__dict__, "size_ids": list(c.size_ids)} for c in self.channels],
            "warehouses": list(self.warehouses),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoreRules:
        categories = {}
        for cid, raw in (data.get("categories") or {}).items():
            raw = dict(raw)
            raw["attributes"] = tuple(
                AttributeRule(**{**a, "required_when": _pairs(a.get("required_when"))})
                for a in raw.get("attributes") or [])
            raw["certifications"] = tuple((str(i), str(n)) for i, n in raw.get("certifications") or [])
            raw["conditional_certifications"] = tuple(  # absent from rules stored before they were read
                CertificationRule(str(r["certification_id"]), str(r["name"]), _pairs(r.get("required_when")))
                for r in raw.get("conditional_certifications") or [])
            raw["variations"] = tuple(
                StandardVariation(str(v["variation_id"]), str(v["name"]),
                                  tuple(VariationGroup(str(g["group_id"]), dict(g.get("options") or {}))
                                        for g in v.get("groups") or ()))
                for v in raw.get("variations") or ())
            categories[cid] = CategoryRules(**raw)
        return cls(
            store_key=data["store_key"],
            platform=data["platform"],
            read_at=datetime.fromisoformat(data["read_at"]),
            region=data.get("region", ""),
            categories=categories,
            channels=tuple(ShippingChannel(**{**c, "size_ids": tuple(c.get("size_ids") or ())})
                           for c in data.get("channels") or []),
            warehouses=tuple(data.get("warehouses") or ()),
        )


def _pairs(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(i), str(v)) for i, v in raw or ())
