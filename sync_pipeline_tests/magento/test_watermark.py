"""The change watermark read from Magento's changelogs ("Update by Schedule"), on MariaDB.

Each kind of change the sensor must see moves it, nothing else does, the statement reads only
primary keys (MariaDB's own plan says so), and a view switched back to "Update on Save" sends the
watermark back to the table scan.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from sync_pipeline.magento import mview
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.watermark import changelog_statement, read_watermark

from .conftest import Shop

pytestmark = pytest.mark.mariadb


@pytest.fixture
def mariadb_shop(mariadb_url: str) -> Shop:
    from sync_pipeline.db import make_engine
    from sync_pipeline.magento.generator import generate_catalog

    from .conftest import TODAY

    engine = make_engine(mariadb_url)
    shop = Shop(engine, generate_catalog(engine, products=24, seed=11, today=TODAY))
    mview.enable_update_by_schedule(engine)
    return shop


def _first(conn: sa.Connection, table: sa.Table, column: str = "entity_id") -> int:
    return int(conn.execute(sa.select(sa.func.min(table.c[column]))).scalar_one())


def _attribute(conn: sa.Connection, code: str) -> int:
    return int(conn.execute(sa.text("SELECT attribute_id FROM eav_attribute WHERE entity_type_id = 4 "
                                    "AND attribute_code = :c"), {"c": code}).scalar_one())


def _price(conn: sa.Connection) -> None:  # a price written by SQL, updated_at untouched
    conn.execute(sa.text("UPDATE catalog_product_entity_decimal SET value = value + 1 "
                         "WHERE attribute_id = :a ORDER BY entity_id LIMIT 1"), {"a": _attribute(conn, "price")})


def _stock(conn: sa.Connection) -> None:  # an order: only the stock item
    stock = m.cataloginventory_stock_item
    conn.execute(sa.update(stock).where(stock.c.product_id == _first(conn, stock, "product_id"))
                 .values(qty=stock.c.qty + 1))


def _disable(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE catalog_product_entity_int SET value = 2 "
                         "WHERE attribute_id = :a ORDER BY entity_id LIMIT 1"), {"a": _attribute(conn, "status")})


def _save(conn: sa.Connection) -> None:  # a product saved in the admin: updated_at
    product = m.catalog_product_entity
    conn.execute(sa.update(product).where(product.c.entity_id == _first(conn, product))
                 .values(updated_at=sa.func.now()))


@pytest.mark.parametrize("change, words", [
    (_price, "products updated"), (_stock, "stock changed"), (_disable, "stock changed"), (_save, "products updated"),
])
def test_each_change_moves_the_changelog_watermark(mariadb_shop: Shop, change: Callable[[sa.Connection], None],
                                                   words: str) -> None:
    engine = mariadb_shop.engine
    before = read_watermark(engine)
    assert before.source == "changelog"
    assert read_watermark(engine) == before  # nothing changed: the same watermark
    with engine.begin() as conn:
        change(conn)
    after = read_watermark(engine)
    assert after != before and after.digest != before.digest
    assert any(words in c for c in after.changes_since(before)), after.changes_since(before)


def test_the_changelog_statement_reads_primary_keys_only(mariadb_shop: Shop) -> None:
    engine = mariadb_shop.engine
    sql = str(changelog_statement(msi=False).compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = conn.execute(sa.text("EXPLAIN " + sql)).mappings().all()
    # MariaDB answers a MAX over a primary key from the index alone ("optimized away"; "no matching
    # min/max row" for an empty changelog, looked up the same way); the small mview_state by its index.
    read_from_index = ("Select tables optimized away", "No matching min/max row")
    maxima = [row for row in plan if row["Extra"] in read_from_index]
    assert len(maxima) == 3, plan  # the products' entity_id and both changelogs' version_id
    assert [row["table"] for row in plan if row["table"] is not None] == [mview.STATE_TABLE], plan
    assert all(row["type"] != "ALL" for row in plan), plan


def test_a_view_back_on_save_sends_the_watermark_to_the_scan(mariadb_shop: Shop) -> None:
    engine = mariadb_shop.engine
    before = read_watermark(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE mview_state SET mode = 'disabled' WHERE view_id = :v"),
                     {"v": mview.STOCK_VIEW})
    after = read_watermark(engine)
    assert after.source == "scan" and after.products > 0 and after.stock_rows > 0
    assert "read from Magento's tables now" in after.changes_since(before)
    mview.disable_update_by_schedule(engine)
    with engine.begin() as conn:
        _stock(conn)
    assert "stock changed" in read_watermark(engine).changes_since(after)


def test_changelog_tables_dropped_fall_back_to_the_scan(mariadb_shop: Shop) -> None:
    engine = mariadb_shop.engine
    assert read_watermark(engine).source == "changelog"
    with engine.begin() as conn:  # the layout is cached: the failing read itself must notice
        conn.execute(sa.text(f"DROP TABLE {mview.changelog_table(mview.PRICE_VIEW)}"))
    assert read_watermark(engine).source == "scan"
