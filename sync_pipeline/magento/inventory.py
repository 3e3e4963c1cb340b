"""Salable quantity as Magento computes it, with or without MSI (Multi-Source Inventory).

Without MSI (its tables absent, or no source item at all) the legacy ``cataloginventory_stock_item``
is the stock: ``qty`` and ``is_in_stock``. With MSI, for the stock assigned to the store's website
(``inventory_stock_sales_channel``, type ``website``; the default stock 1 when none is):

    salable qty = sum of inventory_source_item.quantity   (status 1, source enabled, source linked
                                                            to the stock in inventory_source_stock_link)
                + sum of inventory_reservation.quantity    (the stock's reservations for the SKU:
                                                            negative for placed orders, compensated
                                                            by positive ones when shipped or cancelled)
                - out-of-stock threshold                   (min_qty, or the config value
                                                            cataloginventory/item_options/min_qty
                                                            when use_config_min_qty)

and the SKU is salable when its stock is not managed, or when one linked source holds it in stock
(status 1) and the salable quantity is above 0. Source items and reservations are keyed by SKU.

Backorders: where Magento takes backorders for an item (``backorders`` 1 or 2 in its stock item,
or ``cataloginventory/item_options/backorders`` when ``use_config_backorders``), it stays sellable
at a salable quantity of 0 or less, as Magento sells it; each store then decides (``backorders``
in the stores file, ``listings/stock.py``): not listed by default, or listed with a set quantity.

The reader builds its stock columns from ``StockColumns``, so both the per-chunk record queries and
the import rule's SQL use one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m

DEFAULT_STOCK_ID = 1
MIN_QTY_PATH = "cataloginventory/item_options/min_qty"
BACKORDERS_PATH = "cataloginventory/item_options/backorders"  # 0 no, 1 allow, 2 allow and notify


@dataclass(frozen=True)
class Inventory:
    """Which stock model a Magento DB uses, and for MSI which stock the store view's website sells."""

    msi: bool
    stock_id: int = DEFAULT_STOCK_ID
    config_min_qty: float = 0.0

    def describe(self) -> str:
        return f"MSI, stock {self.stock_id}" if self.msi else "legacy stock (no MSI source items)"


def detect_inventory(conn: sa.Connection, website_code: str | None, config_min_qty: str | None) -> Inventory:
    """MSI when its tables are present and sources are in use (at least one source item)."""
    inspector = sa.inspect(conn)
    if not all(inspector.has_table(name) for name in m.MSI_TABLES):
        return Inventory(msi=False)
    if conn.execute(sa.select(m.inventory_source_item.c.source_item_id).limit(1)).first() is None:
        return Inventory(msi=False)
    channel = m.inventory_stock_sales_channel
    stock_id = conn.execute(sa.select(channel.c.stock_id).where(
        channel.c.type == "website", channel.c.code == website_code)).scalar()
    try:
        threshold = float(config_min_qty) if config_min_qty not in (None, "") else 0.0
    except ValueError:
        threshold = 0.0
    return Inventory(msi=True, stock_id=int(stock_id) if stock_id is not None else DEFAULT_STOCK_ID,
                     config_min_qty=threshold)


class StockColumns:
    """SQL for one product's stock, correlated on its stock item row and its SKU."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def qty(self, si: sa.FromClause, sku: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """The quantity the import rule compares with 0: legacy ``qty``, or MSI's salable quantity."""
        if not self.inventory.msi:
            return si.c.qty
        return self._sources_qty(sku) + self._reservations(sku) - self._threshold(si)

    def flag(self, si: sa.FromClause, sku: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """In stock by its own flag: legacy ``is_in_stock``, or one linked source holding it in stock."""
        if not self.inventory.msi:
            return si.c.is_in_stock
        return sa.case((self._linked_items(sku, lambda isi: isi.c.source_item_id).exists(), 1), else_=0)

    def _linked_items(self, sku: sa.ColumnElement[Any], column: Any) -> sa.Select[tuple[Any, ...]]:
        isi = m.inventory_source_item.alias()
        link = m.inventory_source_stock_link.alias()
        source = m.inventory_source.alias()
        return (sa.select(column(isi))
                .select_from(isi)
                .join(link, sa.and_(link.c.source_code == isi.c.source_code,
                                    link.c.stock_id == self.inventory.stock_id))
                .join(source, source.c.source_code == isi.c.source_code)
                .where(isi.c.sku == sku, isi.c.status == 1, source.c.enabled == 1)
                # The SKU may come from a query two levels up (the import rule's EXISTS): never join it in.
                .correlate_except(isi, link, source))

    def _sources_qty(self, sku: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        total = self._linked_items(sku, lambda isi: sa.func.coalesce(sa.func.sum(isi.c.quantity), 0))
        return total.scalar_subquery()

    def _reservations(self, sku: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        r = m.inventory_reservation.alias()
        return (sa.select(sa.func.coalesce(sa.func.sum(r.c.quantity), 0))
                .where(r.c.stock_id == self.inventory.stock_id, r.c.sku == sku)
                .correlate_except(r).scalar_subquery())

    def _threshold(self, si: sa.FromClause) -> sa.ColumnElement[Any]:
        return sa.case((si.c.use_config_min_qty == 1, self.inventory.config_min_qty), else_=si.c.min_qty)
