"""What each top-level product is, before any id is known: the plans and the random catalog.

The random products follow the fixed showcases (``showcase.py``, ``dirty.py``); every draw from
``rng`` happens in a fixed order, so a seed always plans the same catalog.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sync_pipeline.magento.generator.design import (
    ADJECTIVES,
    APPAREL_LEAVES,
    FABRICS,
    GEAR_LEAVES,
    MSI_SOURCES,
    MSI_STOCKS,
    NOUNS,
    OPTIONS,
    SELLABLE_SHARE,
    STATUS_DISABLED,
    STATUS_ENABLED,
    UNSYNCED_KINDS,
)


@dataclass
class Child:
    size: str
    color: str
    enabled: bool
    qty: int
    price: Decimal | None
    has_image: bool = False
    stock_row: bool = True  # False: no cataloginventory_stock_item row (a bad child)

    def is_sellable(self) -> bool:
        return self.enabled and self.qty > 0 and self.price is not None and self.stock_row


@dataclass
class Plan:
    """One top-level product to write, before ids are known."""

    kind: str  # simple | configurable | one of UNSYNCED_KINDS
    leaf: str | None  # category path, e.g. "Gear/Bags"
    name: str
    sku: str
    price: Decimal | None
    enabled: bool = True
    store_status: int | None = None  # store-view status row for store `default`
    qty: int = 0
    in_stock_flag: bool = False
    manage_stock: bool = True
    children: list[Child] = field(default_factory=list)
    images: int = 2
    hidden_image: bool = False
    base_image_position: int = 0  # which gallery entry carries the base `image` role
    image_role: str | None = None  # overrides the role value, e.g. "no_selection"
    gallery_store_positions: bool = False
    special: str | None = None  # active | expired | future | open
    name_override: str | None = None
    null_store_name: bool = False
    fr_name: str | None = None
    price_override: Decimal | None = None
    materials: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    raw_material_value: str | None = None
    fabric: str | None = None  # fabric_composition at store 0
    store_fabric: str | None = None  # its store-view value in store view ``default``
    url_key: str | None = None
    on_website: bool = True
    meta_keyword: str | None = None
    tags: tuple[str, ...] = ()  # showcase names this product shows
    dirty_kind: str | None = None  # set when the reader must reject it
    dirty_tags: tuple[str, ...] = ()
    shares_first_child_of: str | None = None  # SKU of an earlier configurable whose first child is also ours
    # MSI (msi=True only): source code -> (quantity, status) beyond the default source, which holds
    # ``qty``; reservations as (stock id, quantity, event); a per-product out-of-stock threshold.
    sources: dict[str, tuple[int, int]] = field(default_factory=dict)
    reservations: tuple[tuple[int, Decimal, str], ...] = ()
    min_qty: int | None = None

    def is_sellable(self, msi: bool = False) -> bool:
        enabled = self.store_status == STATUS_ENABLED if self.store_status is not None else self.enabled
        if not (enabled and self.on_website) or self.kind in UNSYNCED_KINDS:
            return False
        if self.kind == "configurable":
            return any(c.is_sellable() for c in self.children)
        if not self.manage_stock:
            return True
        if msi:
            flag, salable = self.salable_on_default_stock()
            return flag and salable > 0
        return self.in_stock_flag and self.qty > 0

    def salable_on_default_stock(self) -> tuple[bool, Decimal]:
        """MSI's verdict for stock 1: (a linked enabled source has it in stock, salable quantity)."""
        linked = {code for code in MSI_STOCKS[0][2] if dict((c, e) for c, _n, e in MSI_SOURCES)[code]}
        items = [("default", self.qty, int(self.in_stock_flag)), *((c, q, st) for c, (q, st) in self.sources.items())]
        in_stock = [q for code, q, status in items if code in linked and status == 1]
        reserved = sum((q for stock_id, q, _e in self.reservations if stock_id == 1), Decimal(0))
        return bool(in_stock), Decimal(sum(in_stock)) + reserved - (self.min_qty or 0)



def _price(rng: random.Random, low: int = 9, high: int = 180) -> Decimal:
    return Decimal(rng.randint(low, high)) + Decimal("0.99") if rng.random() < 0.7 else Decimal(rng.randint(low, high))


def _name(rng: random.Random, leaf: str) -> str:
    top, _, kind = leaf.partition("/")
    noun = rng.choice(NOUNS[kind])
    prefix = {"Men": "Men's ", "Women": "Women's "}.get(top, "")
    return f"{prefix}{rng.choice(ADJECTIVES)} {noun}"


def _children(rng: random.Random, base_price: Decimal, sellable: bool) -> list[Child]:
    sizes = rng.sample(list(OPTIONS["size"]), rng.randint(2, 3))
    colors = rng.sample(list(OPTIONS["color"]), rng.randint(1, 2))
    children = []
    for size in sizes:
        for color in colors:
            stocked = sellable and rng.random() < 0.6
            children.append(Child(size=size, color=color, enabled=rng.random() < 0.9,
                                   qty=rng.randint(1, 80) if stocked else 0,
                                   price=base_price + Decimal(rng.choice((0, 0, 2, 5)))))
    if sellable and not any(c.enabled and c.qty > 0 for c in children):
        children[0].enabled, children[0].qty = True, rng.randint(1, 40)
    return children


def random_plan(rng: random.Random, n: int) -> Plan:
    sellable = rng.random() < SELLABLE_SHARE
    if rng.random() < 0.2:
        leaf = rng.choice(APPAREL_LEAVES)
        price = _price(rng, 19, 120)
        plan = Plan(kind="configurable", leaf=leaf, name=_name(rng, leaf), sku=f"MC{n:06d}", price=None,
                     children=_children(rng, price, sellable), qty=0, in_stock_flag=True)
        if rng.random() < 0.3:
            plan.price = price  # parents may carry a price row of their own; offers use the children's
    else:
        leaf = rng.choice(GEAR_LEAVES + APPAREL_LEAVES)
        plan = Plan(kind="simple", leaf=leaf, name=_name(rng, leaf), sku=f"MS{n:06d}", price=_price(rng),
                     qty=rng.randint(1, 200), in_stock_flag=True)
    plan.images = rng.choice((0, 1, 1, 2, 2, 3, 4))
    plan.hidden_image = plan.images > 1 and rng.random() < 0.2
    plan.base_image_position = 1 if plan.images > 1 and rng.random() < 0.2 else 0
    if rng.random() < 0.12:
        plan.special = rng.choice(("active", "expired", "future", "open"))
    if rng.random() < 0.05:
        plan.name_override = f"{plan.name} - Online Exclusive"
    if rng.random() < 0.1:
        plan.fr_name = f"{plan.name} (FR)"
    if rng.random() < 0.03 and plan.price is not None:
        plan.price_override = plan.price - Decimal(1)
    if rng.random() < 0.3:
        plan.materials = tuple(rng.sample(list(OPTIONS["material"]), rng.randint(1, 2)))
    if rng.random() < 0.15:
        plan.activities = tuple(rng.sample(list(OPTIONS["activity"]), rng.randint(1, 2)))
    if leaf in APPAREL_LEAVES:
        # Picked from the SKU, not drawn from rng: the products that follow stay what they were.
        plan.fabric = FABRICS[zlib.crc32(plan.sku.encode()) % len(FABRICS)]
    if not sellable:
        _make_unsellable(rng, plan)
    return plan


def _make_unsellable(rng: random.Random, plan: Plan) -> None:
    roll = rng.random()
    if roll < 0.75:
        plan.enabled = False
    elif roll < 0.85:
        plan.store_status = STATUS_DISABLED
    elif plan.kind == "configurable":
        for child in plan.children:
            child.qty = 0
    else:
        plan.in_stock_flag, plan.qty = False, 0


def simple(n: int, leaf: str | None = "Gear/Bags", **overrides: Any) -> Plan:
    defaults: dict[str, Any] = {"kind": "simple", "leaf": leaf, "name": f"Showcase Product {n}",
                                "sku": f"SHOW-{n:03d}", "price": Decimal("49.99"), "qty": 25,
                                "in_stock_flag": True}
    defaults.update(overrides)
    return Plan(**defaults)

