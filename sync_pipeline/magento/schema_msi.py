"""Magento's Multi-Source Inventory tables (Magento_Inventory*, repository magento/inventory).

They live on their own ``msi_metadata``: a shop may run without MSI, and the reader detects which
it has. ``schema.py`` re-exports them.
"""

from __future__ import annotations

import sqlalchemy as sa

from sync_pipeline.magento.schema_columns import innodb, uint, usmallint, zero

# --- MSI: sources, stocks, source items, reservations (Inventory/etc/db_schema.xml,
# InventoryReservations/etc/db_schema.xml, InventorySales: inventory_stock_sales_channel) --------

msi_metadata = sa.MetaData()

inventory_source = sa.Table(
    "inventory_source", msi_metadata,
    sa.Column("source_code", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("enabled", usmallint(), nullable=False, server_default=sa.text("1")),
    sa.Column("description", sa.Text),
    sa.Column("country_id", sa.String(2), nullable=False, server_default=sa.text("'US'")),
    sa.Column("postcode", sa.String(255), nullable=False, server_default=sa.text("''")),
    sa.Column("use_default_carrier_config", usmallint(), nullable=False, server_default=sa.text("1")),
)

inventory_stock = sa.Table(
    "inventory_stock", msi_metadata,
    sa.Column("stock_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
)

inventory_source_stock_link = sa.Table(
    "inventory_source_stock_link", msi_metadata,
    sa.Column("link_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("stock_id", uint(), sa.ForeignKey("inventory_stock.stock_id", ondelete="CASCADE"), nullable=False),
    sa.Column("source_code", sa.String(255), sa.ForeignKey("inventory_source.source_code", ondelete="CASCADE"),
              nullable=False),
    sa.Column("priority", usmallint(), nullable=False),
    sa.UniqueConstraint("stock_id", "source_code", name="INVENTORY_SOURCE_STOCK_LINK_STOCK_ID_SOURCE_CODE"),
)

inventory_stock_sales_channel = sa.Table(
    "inventory_stock_sales_channel", msi_metadata,
    sa.Column("type", sa.String(64), primary_key=True),  # "website"
    sa.Column("code", sa.String(64), primary_key=True),  # store_website.code
    sa.Column("stock_id", uint(), sa.ForeignKey("inventory_stock.stock_id", ondelete="CASCADE"), nullable=False),
)

inventory_source_item = sa.Table(
    "inventory_source_item", msi_metadata,
    sa.Column("source_item_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("source_code", sa.String(255), sa.ForeignKey("inventory_source.source_code", ondelete="CASCADE"),
              nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),  # keyed by SKU, not entity_id
    sa.Column("quantity", sa.Numeric(12, 4), nullable=False, server_default=zero()),
    sa.Column("status", usmallint(), nullable=False, server_default=zero()),  # 1 in stock
    sa.UniqueConstraint("source_code", "sku", name="INVENTORY_SOURCE_ITEM_SOURCE_CODE_SKU"),
    sa.Index("INVENTORY_SOURCE_ITEM_SKU_SOURCE_CODE_QUANTITY", "sku", "source_code", "quantity"),
)

inventory_reservation = sa.Table(
    "inventory_reservation", msi_metadata,
    sa.Column("reservation_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("stock_id", uint(), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Numeric(10, 4), nullable=False, server_default=zero()),  # negative: ordered
    sa.Column("metadata", sa.String(255)),  # JSON: event type (order_placed, shipment_created...), object id
    sa.Index("INVENTORY_RESERVATION_STOCK_ID_SKU_QUANTITY", "stock_id", "sku", "quantity"),
)

MSI_TABLES = tuple(msi_metadata.tables)
innodb(msi_metadata.tables.values())
