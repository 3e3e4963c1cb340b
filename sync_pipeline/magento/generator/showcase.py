"""The clean showcase (the first products of every catalog, one feature each) and the MSI showcase."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from sync_pipeline.magento.generator.design import STATUS_DISABLED, STATUS_ENABLED
from sync_pipeline.magento.generator.plans import Child, Plan, simple


def _showcase_configurable(rng: random.Random, n: int) -> Plan:
    children = [
        Child("S", "Blue", enabled=True, qty=5, price=Decimal("39.00"), has_image=True),
        Child("M", "Blue", enabled=True, qty=7, price=Decimal("35.00")),
        Child("L", "Blue", enabled=True, qty=0, price=Decimal("29.00")),  # cheapest, but out of stock
        Child("S", "Gray", enabled=False, qty=9, price=Decimal("30.00")),  # cheaper, but disabled
        Child("M", "Gray", enabled=True, qty=3, price=Decimal("36.00")),
    ]
    return simple(n, "Men/Tops", kind="configurable", name="Men's Orion Hoodie", price=None, qty=0,
                   children=children, materials=("Cotton", "Polyester"), images=2, tags=("configurable",))


SHOWCASE: tuple[Callable[[random.Random, int], Plan], ...] = (
    lambda rng, n: simple(n, images=3, hidden_image=True, special="active",
                           tags=("special_active", "hidden_image")),
    lambda rng, n: simple(n, special="expired", tags=("special_expired",)),
    lambda rng, n: simple(n, special="future", tags=("special_future",)),
    lambda rng, n: simple(n, "Women/Tops", name="Women's Juno Tank", name_override="Juno Tank - Web Edition",
                           fr_name="Débardeur Juno", fabric="Cotton blend",
                           store_fabric="95% organic cotton, 5% elastane",
                           tags=("name_override", "free_text_attribute")),
    lambda rng, n: simple(n, name="Atlas Backpack", null_store_name=True, tags=("null_store_name",)),
    lambda rng, n: simple(n, price=Decimal("80.00"), price_override=Decimal("72.50"), tags=("price_override",)),
    lambda rng, n: simple(n, store_status=STATUS_DISABLED, tags=("store_disabled",)),
    lambda rng, n: simple(n, enabled=False, store_status=STATUS_ENABLED, tags=("store_enabled",)),
    # Made to order: Magento does not count its stock (qty 0, flag off), so it is always in stock.
    lambda rng, n: simple(n, None, name="Made-to-Order Yoga Mat", manage_stock=False, qty=0,
                           in_stock_flag=False, images=1, tags=("manage_stock_off",)),
    lambda rng, n: simple(n, in_stock_flag=False, qty=0, tags=("out_of_stock",)),
    lambda rng, n: simple(n, in_stock_flag=True, qty=0, tags=("in_stock_flag_zero_qty",)),
    _showcase_configurable,
    lambda rng, n: simple(n, "Women/Bottoms", kind="configurable", price=None, qty=0,
                           children=[Child("S", "Red", True, 0, Decimal("20")), Child("M", "Red", True, 0,
                                                                                         Decimal("20"))],
                           tags=("configurable_no_sellable_child",)),
    lambda rng, n: simple(n, materials=("Cotton", "Cocona&reg; performance fabric"),
                           activities=("Hiking", "Yoga"), tags=("multiselect",)),
    lambda rng, n: simple(n, images=2, image_role="no_selection", tags=("no_selection",)),
    lambda rng, n: simple(n, enabled=False, tags=("disabled",)),
    lambda rng, n: simple(n, images=3, gallery_store_positions=True, base_image_position=2,
                           tags=("gallery_store_positions",)),
    lambda rng, n: simple(n, on_website=False, tags=("not_on_website",)),
)



# Reservations as Magento writes them: an order places a negative one; shipping it adds the
# compensating positive one (and deducts the source), and so does cancelling it.
_PLACED = ((1, Decimal("-3"), "order_placed"),)
_SHIPPED = ((1, Decimal("-2"), "order_placed"), (1, Decimal("2"), "shipment_created"))
_CANCELLED = ((1, Decimal("-1"), "order_placed"), (1, Decimal("1"), "order_canceled"))

# Only with msi=True, after every other showcase: a shop whose stock lives in several sources.
MSI_SHOWCASE: tuple[Callable[[random.Random, int], list[Plan]], ...] = (
    # default 10 + east 7 (retired's 50 is in a disabled source, west's 5 is out of stock),
    # reservations -3 placed, -2 +2 shipped, -1 +1 cancelled: salable 14 on the base website;
    # the EU stock (eu-warehouse only) has 4.
    lambda rng, n: [simple(n, sku=f"MSI-{n:03d}", name="Multi Source Duffle", qty=10,
                            sources={"east": (7, 1), "retired": (50, 1), "west": (5, 0), "eu-warehouse": (4, 1)},
                            reservations=_PLACED + _SHIPPED + _CANCELLED, tags=("msi_multi_source",))],
    # The legacy table says 2 in stock, but an unshipped order reserved both: salable 0.
    lambda rng, n: [simple(n, sku=f"MSI-{n:03d}", name="Reserved Out Tote", qty=2,
                            reservations=((1, Decimal("-2"), "order_placed"),), tags=("msi_reserved_out",))],
    # A per-product out-of-stock threshold of 2: 6 in the source, 4 salable.
    lambda rng, n: [simple(n, sku=f"MSI-{n:03d}", name="Threshold Kettlebell", qty=6, min_qty=2,
                            tags=("msi_threshold",))],
    # Only in the east source: the legacy table (default source) has 0, MSI sells 9.
    lambda rng, n: [simple(n, sku=f"MSI-{n:03d}", name="East Only Backpack", qty=0, in_stock_flag=False,
                            sources={"east": (9, 1)}, tags=("msi_other_source_only",))],
)
