"""The stock a store shows: Magento's salable quantity less the store's buffer.

Several stores sell the same units, and an order on one reaches the others only after the next
import: a buffer keeps some units back on a store so a sale elsewhere cannot oversell it. The
arithmetic (``StockBuffer`` in the stores file):

* below ``floor`` salable units the store shows 0 ("show 0 when fewer than 3 remain");
* otherwise ``keep_units`` plus ``keep_share`` of the salable quantity (rounded up: a share never
  rounds down to nothing) are kept back;
* ``cap`` bounds what is left; the result is never negative and never above the salable quantity.

Backorders (``Backorders`` in the stores file): a product or variant Magento sells on backorder
with nothing salable left is not listed on a store by default, or listed with the store's set
``quantity`` when the store says ``list: true``.
"""

from __future__ import annotations

import math
from typing import Protocol

from sync_pipeline.stores import StockBuffer, StoreConfig

NO_BUFFER = StockBuffer()


class Stocked(Protocol):
    """A catalog product or variant (``catalog/product.py``), as far as stock goes."""

    @property
    def stock_qty(self) -> int: ...
    @property
    def backorders(self) -> bool | None: ...


def on_backorder_only(item: Stocked) -> bool:
    """A catalog product or variant Magento sells only on backorder: nothing salable left."""
    return bool(item.backorders) and item.stock_qty <= 0


def store_stock(item: Stocked, store: StoreConfig) -> int:
    """What ``store`` lists of a catalog row: the buffered salable quantity, or on backorder the
    store's ``backorders.quantity`` when it lists backorders (0 otherwise: build_listing leaves
    such rows out of the listing)."""
    if on_backorder_only(item):
        return store.backorders.quantity if store.backorders.list else 0
    return listed_stock(item.stock_qty, store.stock_buffer)


def listed_stock(salable: int, buffer: StockBuffer = NO_BUFFER) -> int:
    """What a store with ``buffer`` lists when Magento can sell ``salable`` units."""
    if salable <= 0 or salable < buffer.floor:
        return 0
    kept = buffer.keep_units + math.ceil(salable * buffer.keep_share)
    shown = max(0, salable - kept)
    return shown if buffer.cap is None else min(shown, buffer.cap)
