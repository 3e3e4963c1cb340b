"""The Magento catalog's change watermark: a few aggregates that move whenever the catalog does.

Magento bumps ``catalog_product_entity.updated_at`` when a product is saved and new products get a
higher ``entity_id``, but a stock change (an order, a warehouse sync) touches only
``cataloginventory_stock_item``. So the watermark adds a cheap fingerprint of the stock table:
row count, total quantity, in-stock rows, and a quantity sum weighted by product id, so that stock
moving from one product to another (total unchanged) still changes the fingerprint.

With MSI, an order places a reservation (``inventory_reservation``) and touches nothing else until
it ships, and warehouse counts land in ``inventory_source_item``: the newest reservation id, the
reservation count and the same fingerprint over the source items are part of the watermark, so
a placed order triggers the import as a stock edit does.

On Adobe Commerce a scheduled update goes live without touching a row: the staging version in
force (``edition.version_at``) is part of the watermark too.

Reading it costs one statement (seven aggregates over the two tables), plus two for MSI's tables
when present; sensors poll it every tick.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.edition import detect_layout, version_at


@dataclass(frozen=True)
class SourceWatermark:
    """What the Magento catalog looks like from far away; equal watermarks mean nothing changed."""

    max_updated_at: str | None
    max_entity_id: int
    products: int
    stock_rows: int
    stock_qty_total: str
    stock_in_stock_rows: int
    stock_qty_weighted: str
    reservation_max_id: int = 0
    reservations: int = 0
    source_items: int = 0
    source_qty_total: str = "0.0000"
    source_in_stock_rows: int = 0
    source_qty_weighted: str = "0.0000"
    staging_version: int = 0  # Adobe Commerce: the staging version in force; 0 on Open Source

    def to_cursor(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> SourceWatermark | None:
        """The watermark a sensor saved; ``None`` for no cursor or one from an older layout."""
        if not cursor:
            return None
        try:
            return cls(**json.loads(cursor))
        except (TypeError, ValueError):
            return None

    @property
    def digest(self) -> str:
        """A short stable id of this watermark (a run key: one import per distinct catalog state)."""
        return hashlib.sha256(self.to_cursor().encode()).hexdigest()[:16]

    def changes_since(self, previous: SourceWatermark | None) -> list[str]:
        """What moved since ``previous``, in words, for the sensor's log; empty when nothing did."""
        if previous is None:
            return ["no watermark recorded yet"]
        changes = []
        if self.max_updated_at != previous.max_updated_at:
            changes.append(f"products updated (latest {self.max_updated_at})")
        if self.max_entity_id != previous.max_entity_id or self.products != previous.products:
            changes.append(f"products added or removed ({previous.products} -> {self.products})")
        if self._stock() != previous._stock():
            changes.append("stock changed")
        if self.staging_version != previous.staging_version:
            changes.append(f"a scheduled update went live (version {self.staging_version})")
        return changes

    def _stock(self) -> tuple[Any, ...]:
        return (self.stock_rows, self.stock_qty_total, self.stock_in_stock_rows, self.stock_qty_weighted,
                self.reservation_max_id, self.reservations, self.source_items, self.source_qty_total,
                self.source_in_stock_rows, self.source_qty_weighted)


def read_watermark(engine: Engine) -> SourceWatermark:
    """The current watermark of the Magento catalog behind ``engine`` (read-only)."""
    product = m.catalog_product_entity
    stock = m.cataloginventory_stock_item
    qty = sa.func.coalesce(stock.c.qty, 0)
    products = sa.select(sa.func.max(product.c.updated_at), sa.func.max(product.c.entity_id), sa.func.count())
    stock_sums = sa.select(
        sa.func.count(), sa.func.sum(qty), sa.func.sum(stock.c.is_in_stock), sa.func.sum(qty * stock.c.product_id)
    )
    # One statement, one round trip per sensor tick: each table scanned once, in a derived table.
    product_sums, stock_totals = products.subquery("products"), stock_sums.subquery("stock")
    statement = sa.select(product_sums, stock_totals).select_from(product_sums.join(stock_totals, sa.true()))
    with engine.connect() as conn:
        row = conn.execute(statement).one()
        msi = _msi_fingerprint(conn)
        staging = version_at(conn, datetime.now(UTC)) if detect_layout(conn).commerce else 0
    products_row, stock_row = row[:3], row[3:]
    return SourceWatermark(
        **msi,
        staging_version=staging,
        max_updated_at=_timestamp(products_row[0]),
        max_entity_id=int(products_row[1] or 0),
        products=int(products_row[2] or 0),
        stock_rows=int(stock_row[0] or 0),
        stock_qty_total=_quantity(stock_row[1]),
        stock_in_stock_rows=int(stock_row[2] or 0),
        stock_qty_weighted=_quantity(stock_row[3]),
    )


def _msi_fingerprint(conn: sa.Connection) -> dict[str, Any]:
    """Reservations and source items, when the DB has MSI's tables (else nothing: the defaults)."""
    inspector = sa.inspect(conn)
    if not (inspector.has_table("inventory_reservation") and inspector.has_table("inventory_source_item")):
        return {}
    r, item = m.inventory_reservation, m.inventory_source_item
    reservations = conn.execute(sa.select(sa.func.max(r.c.reservation_id), sa.func.count())).one()
    items = conn.execute(sa.select(
        sa.func.count(), sa.func.sum(item.c.quantity), sa.func.sum(item.c.status),
        sa.func.sum(item.c.quantity * item.c.source_item_id))).one()
    return {
        "reservation_max_id": int(reservations[0] or 0), "reservations": int(reservations[1] or 0),
        "source_items": int(items[0] or 0), "source_qty_total": _quantity(items[1]),
        "source_in_stock_rows": int(items[2] or 0), "source_qty_weighted": _quantity(items[3]),
    }


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _quantity(value: Any) -> str:
    """Quantities as fixed 4-decimal text, so SQLite floats and MySQL decimals compare alike."""
    return f"{Decimal(str(value or 0)).quantize(Decimal('0.0001'))}"
