"""Salable quantity as Magento computes it with MSI, on SQLite and on MariaDB.

The generator writes several sources (one disabled, one holding the item out of stock), a second
stock for a second website, and reservations of placed, shipped and cancelled orders; the figures
below are worked out by hand from Magento's rule (sources of the website's stock + reservations -
out-of-stock threshold).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.watermark import read_watermark

from .conftest import TODAY, Shop, found, full_pass


@pytest.fixture
def msi_shop(engine: sa.Engine, edition: str) -> Shop:
    return Shop(engine, generate_catalog(engine, products=24, seed=11, today=TODAY, msi=True,
                                         commerce=edition == "commerce"))


def _record(shop: Shop, feature: str, store_code: str = "default") -> object:
    return shop.reader(store_code=store_code).read_products([shop.catalog.feature(feature)]).products[0]


def test_msi_is_detected_per_database(msi_shop: Shop, engine: sa.Engine) -> None:
    reader = msi_shop.reader()
    assert reader.inventory.msi and reader.inventory.stock_id == 1
    assert msi_shop.reader(store_code="eu").inventory.stock_id == 2
    with engine.begin() as conn:  # tables present but no source in use: the legacy table rules
        conn.execute(sa.delete(m.inventory_source_item))
    assert not msi_shop.reader().inventory.msi


def test_salable_quantity_follows_sources_reservations_and_threshold(msi_shop: Shop) -> None:
    multi = _record(msi_shop, "msi_multi_source")
    # default 10 + east 7 (retired is disabled, west holds it out of stock) - 3 placed, shipped and
    # cancelled orders compensated: 14
    assert (multi.stock_qty, multi.is_in_stock) == (14, True)  # type: ignore[attr-defined]
    assert _record(msi_shop, "msi_multi_source", "eu").stock_qty == 4  # type: ignore[attr-defined]
    reserved = _record(msi_shop, "msi_reserved_out")
    assert (reserved.stock_qty, reserved.is_in_stock) == (0, False)  # type: ignore[attr-defined]
    assert _record(msi_shop, "msi_threshold").stock_qty == 4  # type: ignore[attr-defined]
    other = _record(msi_shop, "msi_other_source_only")
    assert (other.stock_qty, other.is_in_stock) == (9, True)  # type: ignore[attr-defined]


def test_the_import_rule_uses_the_salable_quantity(msi_shop: Shop) -> None:
    products = found(full_pass(msi_shop.reader()))
    assert set(products) == msi_shop.catalog.sellable_ids
    assert msi_shop.catalog.feature("msi_reserved_out") not in products  # the legacy table says 2 in stock
    assert msi_shop.catalog.feature("msi_other_source_only") in products  # the legacy table says 0
    live = msi_shop.reader().stock_and_status(list(products))
    assert {i: s.qty for i, s in live.items()} == {i: p.stock_qty for i, p in products.items()}


def test_a_new_order_moves_the_salable_quantity_and_the_watermark(msi_shop: Shop, engine: sa.Engine) -> None:
    source_id = msi_shop.catalog.feature("msi_multi_source")
    sku = _record(msi_shop, "msi_multi_source").sku  # type: ignore[attr-defined]
    before = read_watermark(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(m.inventory_reservation).values(
            stock_id=1, sku=sku, quantity=Decimal("-5"), metadata='{"event_type":"order_placed"}'))
    after = read_watermark(engine)
    assert "stock changed" in after.changes_since(before)
    assert after.reservation_max_id > before.reservation_max_id
    assert msi_shop.reader().stock_and_status([source_id])[source_id].qty == 9
    with engine.begin() as conn:  # a warehouse count in another source moves it too
        conn.execute(sa.update(m.inventory_source_item).where(
            m.inventory_source_item.c.sku == sku, m.inventory_source_item.c.source_code == "east").values(quantity=1))
    assert "stock changed" in read_watermark(engine).changes_since(after)
    assert msi_shop.reader().stock_and_status([source_id])[source_id].qty == 3
