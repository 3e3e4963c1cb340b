"""The dirty showcase (``dirty=True``): the bad rows real shops have, which the reader must survive."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sync_pipeline.magento.generator.design import STATUS_DISABLED
from sync_pipeline.magento.generator.plans import Child, Plan, simple


def _dirty(tag: str, reject: bool = False, **overrides: Any) -> Callable[[random.Random, int], list[Plan]]:
    def build(rng: random.Random, n: int) -> list[Plan]:
        plan = simple(n, **{"sku": f"DIRTY-{n:03d}", "name": f"Dirty Product {n}", **overrides})
        plan.dirty_tags = (tag,)
        plan.dirty_kind = tag if reject else None
        return [plan]

    return build


def _duplicate_sku(rng: random.Random, n: int) -> list[Plan]:
    first = simple(n, sku="MG-DUP-001", name="Duplicate Sku Original", dirty_tags=("duplicate_sku_original",))
    second = simple(n + 50, sku="mg-dup-001 ", name="Duplicate Sku Copy", dirty_tags=("duplicate_sku",),
                     dirty_kind="duplicate_sku")
    return [first, second]


def _duplicate_url_key(rng: random.Random, n: int) -> list[Plan]:
    return [simple(n + k, sku=f"DIRTY-URL-{k}", url_key="duplicated-url-key", dirty_tags=("duplicate_url_key",))
            for k in range(2)]



def _shared_child(rng: random.Random, n: int) -> list[Plan]:
    """Two configurables sharing one simple child, which Magento allows."""
    first = simple(n, "Men/Tops", kind="configurable", sku=f"SHARE-{n}-A", name="Men's Shared Tee A", price=None,
                    qty=0, children=[Child("M", "White", True, 8, Decimal("22")), Child("L", "White", True, 2,
                                                                                        Decimal("22"))],
                    dirty_tags=("shared_child",))
    second = simple(n + 60, "Men/Tops", kind="configurable", sku=f"SHARE-{n}-B", name="Men's Shared Tee B",
                     price=None, qty=0, children=[Child("S", "White", True, 3, Decimal("22"))],
                     shares_first_child_of=first.sku, dirty_tags=("shared_child",))
    return [first, second]


def _unsynced_types(rng: random.Random, n: int) -> list[Plan]:
    return [simple(n + k, None, kind=kind, sku=f"UNSYNCED-{k}-{kind.upper()}", name=f"A {kind} product",
                    dirty_tags=(f"unsynced_{kind}",))
            # Four plans, as before virtual joined them: the random products after them stay the same.
            for k, kind in enumerate(("bundle", "grouped", "virtual", "downloadable"))]


_LONG_NAME = ("Ultra Long Descriptive Product Title " * 7)[: 255 - 1] + "🎒"

DIRTY_SHOWCASE: tuple[Callable[[random.Random, int], list[Plan]], ...] = (
    _dirty("null_price", reject=True, price=None),
    _dirty("zero_price", reject=True, price=Decimal("0")),
    _dirty("empty_name", reject=True, name="   "),
    _dirty("negative_qty", qty=-3, in_stock_flag=True),
    _dirty("empty_url_key", url_key=""),
    _duplicate_url_key,
    _dirty("html_entity_name", name="Cocona&trade; Running Tee &amp; More"),
    _dirty("emoji_name", name="Summer Tote 🌞👜"),
    _dirty("long_name", name=_LONG_NAME, meta_keyword="keyword " * 125),
    _dirty("no_image", images=0),
    _dirty("store_view_disabled", store_status=STATUS_DISABLED),
    _dirty("configurable_children_disabled", kind="configurable", price=None, qty=0,
           children=[Child("S", "Black", False, 10, Decimal("25")), Child("M", "Black", False, 10, Decimal("25"))]),
    _dirty("unknown_option_id", raw_material_value="{cotton},987654,,{wool}"),
    _duplicate_sku,
    _dirty("configurable_bad_children", kind="configurable", price=None, qty=0, children=[
        Child("S", "Green", True, 6, Decimal("31")),  # the one good child
        Child("M", "Green", True, 4, None),  # enabled and in stock, but no price
        Child("L", "Green", True, 5, Decimal("31"), stock_row=False),
        Child("XL", "Green", False, 5, Decimal("31"))]),
    _shared_child,
    _unsynced_types,
)

