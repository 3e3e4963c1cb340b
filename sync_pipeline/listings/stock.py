"""The stock a store shows: Magento's salable quantity less the store's buffer.

Several stores sell the same units, and an order on one reaches the others only after the next
import: a buffer keeps some units back on a store so a sale elsewhere cannot oversell it. The
arithmetic (``StockBuffer`` in the stores file):

* below ``floor`` salable units the store shows 0 ("show 0 when fewer than 3 remain");
* otherwise ``keep_units`` plus ``keep_share`` of the salable quantity (rounded up: a share never
  rounds down to nothing) are kept back;
* ``cap`` bounds what is left; the result is never negative and never above the salable quantity.
"""

from __future__ import annotations

import math

from sync_pipeline.stores import StockBuffer

NO_BUFFER = StockBuffer()


def listed_stock(salable: int, buffer: StockBuffer = NO_BUFFER) -> int:
    """What a store with ``buffer`` lists when Magento can sell ``salable`` units."""
    if salable <= 0 or salable < buffer.floor:
        return 0
    kept = buffer.keep_units + math.ceil(salable * buffer.keep_share)
    shown = max(0, salable - kept)
    return shown if buffer.cap is None else min(shown, buffer.cap)
