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

Where Magento's indexers run "Update by Schedule" (``magento/mview.py``), Magento's own changelogs
say the same far more cheaply: the newest ``version_id`` of the price view's changelog moves with
every product save, price or status write, the stock view's with every stock item written, and
both are primary-key reads. The watermark is then one statement of primary-key maxima (products'
``entity_id``, the two changelogs, MSI's ``reservation_id``) and the two views' modes from
``mview_state``, whatever the size of the catalog. MSI's source items have no changelog the
pipeline relies on: with MSI on, their fingerprint is still a read of the whole table.

Without the changelogs ("Update on Save"), the watermark is the scan above: one statement of seven
aggregates that reads both tables whole (Magento ships no index on ``updated_at`` and none that
covers the stock columns), plus one for MSI's tables when present. A view switched back to "Update
on Save" changes the watermark's mode, so the sensor asks for one import and scans from then on.

Which of Magento's tables exist is looked up once per database and kept for a few minutes, so a
sensor tick costs one statement.

On Adobe Commerce a scheduled update goes live without touching a row: the staging version in
force (``edition.version_at``) is part of the watermark too.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.magento import mview
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.edition import detect_layout, version_at

LAYOUT_TTL_S = 300.0  # how long the list of Magento's tables is trusted (a table removed sooner fails the read)


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
    # Read from Magento's changelogs (Update by Schedule): their newest version ids; 0 when scanned.
    price_changelog_version: int = 0
    stock_changelog_version: int = 0
    source: str = "scan"  # "changelog" or "scan": how the watermark was read

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
        if self.source != previous.source:
            changes.append(f"read from Magento's {'changelogs' if self.source == 'changelog' else 'tables'} now")
        if self.price_changelog_version != previous.price_changelog_version:
            changes.append(f"products updated (changelog {self.price_changelog_version})")
        if self.stock_changelog_version != previous.stock_changelog_version:
            changes.append("stock changed")
        if self.max_updated_at != previous.max_updated_at:
            changes.append(f"products updated (latest {self.max_updated_at})")
        if self.max_entity_id != previous.max_entity_id or self.products != previous.products:
            changes.append(f"products added or removed ({previous.products} -> {self.products})")
        if self._stock() != previous._stock() and "stock changed" not in changes:
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
    layout = _layout(engine)
    if layout.changelogs:
        try:
            watermark = _from_changelogs(engine, layout)
        except sa.exc.DBAPIError:  # a changelog or state table gone since the layout was read
            forget_layout(engine)
            layout = _layout(engine)
        else:
            if watermark is not None:
                return watermark
    return _scanned(engine, layout)


@dataclass(frozen=True)
class _Layout:
    changelogs: bool  # mview_state and both watched views' changelog tables exist
    msi: bool  # inventory_reservation and inventory_source_item exist


# Per engine: the sensor keeps one engine per Magento DB across ticks (``watermark_engine``).
_layouts: weakref.WeakKeyDictionary[Engine, tuple[float, _Layout]] = weakref.WeakKeyDictionary()
_layouts_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def watermark_engine(url: str) -> Engine:
    """One engine per Magento DB for the sensor's ticks: its connection, the dialect's first-connect
    queries and the table layout are not redone every few seconds."""
    from sync_pipeline.db import make_engine

    with _layouts_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
    return engine


def _layout(engine: Engine) -> _Layout:
    with _layouts_lock:
        cached = _layouts.get(engine)
    if cached is not None and time.monotonic() - cached[0] < LAYOUT_TTL_S:
        return cached[1]
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    changelogs = {mview.STATE_TABLE, *(mview.changelog_table(v) for v in mview.WATCHED_VIEWS)}
    layout = _Layout(changelogs=changelogs <= tables,
                     msi={"inventory_reservation", "inventory_source_item"} <= tables)
    with _layouts_lock:
        _layouts[engine] = (time.monotonic(), layout)
    return layout


def forget_layout(engine: Engine) -> None:
    """Read which of Magento's tables exist again on the next read (after a mode switch)."""
    url = engine.url
    with _layouts_lock:
        for known in [e for e in _layouts if e.url == url]:
            _layouts.pop(known, None)


def changelog_statement(msi: bool) -> sa.Select[Any]:
    """One statement of primary-key maxima and the watched views' modes (see the module doc)."""
    product = m.catalog_product_entity
    state = sa.table(mview.STATE_TABLE, sa.column("view_id"), sa.column("mode"))

    def newest(table: str, column: str) -> sa.ScalarSelect[Any]:
        t = sa.table(table, sa.column(column))
        return sa.select(sa.func.max(t.c[column])).scalar_subquery()

    columns = [
        sa.select(sa.func.max(product.c.entity_id)).scalar_subquery(),
        newest(mview.changelog_table(mview.PRICE_VIEW), "version_id"),
        newest(mview.changelog_table(mview.STOCK_VIEW), "version_id"),
        sa.select(sa.func.count()).select_from(state)
        .where(state.c.view_id.in_(mview.WATCHED_VIEWS), state.c.mode == mview.ENABLED).scalar_subquery(),
    ]
    if msi:
        columns.append(newest("inventory_reservation", "reservation_id"))
    return sa.select(*columns)


def _from_changelogs(engine: Engine, layout: _Layout) -> SourceWatermark | None:
    """The watermark from Magento's changelogs; None when a watched view is not on schedule (its
    triggers are gone, so its changelog no longer moves)."""
    with engine.connect() as conn:
        row = conn.execute(changelog_statement(layout.msi)).one()
        if int(row[3] or 0) != len(mview.WATCHED_VIEWS):
            return None
        msi = _source_items(conn) if layout.msi else {}
        staging = version_at(conn, datetime.now(UTC)) if detect_layout(conn).commerce else 0
    return SourceWatermark(
        **msi, staging_version=staging,
        max_updated_at=None, max_entity_id=int(row[0] or 0), products=0, stock_rows=0,
        stock_qty_total=_quantity(0), stock_in_stock_rows=0, stock_qty_weighted=_quantity(0),
        price_changelog_version=int(row[1] or 0), stock_changelog_version=int(row[2] or 0),
        reservation_max_id=int(row[4] or 0) if layout.msi else 0, source="changelog",
    )


def scan_statement() -> sa.Select[Any]:
    """The products' and stock items' aggregates, each table read once (no index serves them)."""
    product = m.catalog_product_entity
    stock = m.cataloginventory_stock_item
    qty = sa.func.coalesce(stock.c.qty, 0)
    products = sa.select(sa.func.max(product.c.updated_at), sa.func.max(product.c.entity_id), sa.func.count())
    stock_sums = sa.select(
        sa.func.count(), sa.func.sum(qty), sa.func.sum(stock.c.is_in_stock), sa.func.sum(qty * stock.c.product_id)
    )
    # One statement, one round trip per sensor tick: each table scanned once, in a derived table.
    product_sums, stock_totals = products.subquery("products"), stock_sums.subquery("stock")
    return sa.select(product_sums, stock_totals).select_from(product_sums.join(stock_totals, sa.true()))


def _scanned(engine: Engine, layout: _Layout) -> SourceWatermark:
    with engine.connect() as conn:
        row = conn.execute(scan_statement()).one()
        msi = _msi_fingerprint(conn) if layout.msi else {}
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
    """Reservations and source items (MSI's tables; the caller knows they exist)."""
    r = m.inventory_reservation
    reservations = conn.execute(sa.select(sa.func.max(r.c.reservation_id), sa.func.count())).one()
    return {"reservation_max_id": int(reservations[0] or 0), "reservations": int(reservations[1] or 0),
            **_source_items(conn)}


def _source_items(conn: sa.Connection) -> dict[str, Any]:
    item = m.inventory_source_item
    items = conn.execute(sa.select(
        sa.func.count(), sa.func.sum(item.c.quantity), sa.func.sum(item.c.status),
        sa.func.sum(item.c.quantity * item.c.source_item_id))).one()
    return {
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
