"""Whole imports from a generated Magento catalog: MariaDB → PostgreSQL and SQLite → SQLite.

The Magento side is written by the project's generator and read by the real reader; the app DB
is a real database. Changes in Magento are made the way the shop makes them: value rows and
``updated_at`` for edits, stock rows alone (no timestamp) for stock moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.catalog import jobs
from sync_pipeline.catalog.imports import run_import, start_import
from sync_pipeline.catalog.load import load_staged
from sync_pipeline.catalog.progress import Progress
from sync_pipeline.catalog.request import ImportRequest
from sync_pipeline.catalog.tables import catalog_products, catalog_variants, magento_product_staging
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.listings.rules import AttributeRule, CategoryRules, StoreRules
from sync_pipeline.listings.store import materialize_store_listings
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator import GeneratedCatalog, generate_catalog
from sync_pipeline.magento.reader import MagentoCatalogReader
from sync_pipeline.stores import StoreConfig

TODAY = date(2026, 6, 1)
EVERYTHING = ImportRequest.everything_due()


class Shop:
    """A generated Magento catalog, its reader and the app DB, wired together for one test."""

    def __init__(self, magento: sa.Engine, app: sa.Engine) -> None:
        self.magento = magento
        self.app = app
        self.catalog: GeneratedCatalog | None = None

    def generate(self, products: int, dirty: bool = False, msi: bool = False) -> GeneratedCatalog:
        self.catalog = generate_catalog(self.magento, products=products, seed=7, dirty=dirty, today=TODAY, msi=msi)
        return self.catalog

    def reader(self) -> MagentoCatalogReader:
        return MagentoCatalogReader(self.magento, store_code="default", today=TODAY)

    def products(self) -> dict[str, dict[str, Any]]:
        with self.app.connect() as conn:
            return {r["sku"]: dict(r) for r in conn.execute(sa.select(catalog_products)).mappings()}

    def by_source(self, source_id: int) -> dict[str, Any]:
        with self.app.connect() as conn:
            return dict(conn.execute(sa.select(catalog_products).where(
                catalog_products.c.source_id == source_id)).mappings().one())

    def variants_of(self, sku: str) -> list[dict[str, Any]]:
        with self.app.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(catalog_variants).where(
                catalog_variants.c.parent_sku == sku).order_by(catalog_variants.c.position)).mappings()]

    def cursor(self) -> int:
        with self.app.connect() as conn:
            return jobs.read_cursor(conn)

    def edit(self, entity_id: int, backend: str, code: str, value: Any, store_id: int = 0) -> None:
        """An admin edit: the value row changes and the entity's updated_at moves."""
        table = m.PRODUCT_VALUE_TABLES[backend]
        with self.magento.begin() as conn:
            attribute_id = conn.execute(sa.select(m.eav_attribute.c.attribute_id).where(
                m.eav_attribute.c.attribute_code == code, m.eav_attribute.c.entity_type_id == 4)).scalar_one()
            done = conn.execute(sa.update(table).where(
                table.c.entity_id == entity_id, table.c.attribute_id == attribute_id, table.c.store_id == store_id
            ).values(value=value)).rowcount
            if not done:
                conn.execute(sa.insert(table).values(entity_id=entity_id, attribute_id=attribute_id,
                                                     store_id=store_id, value=value))
            conn.execute(sa.update(m.catalog_product_entity).where(
                m.catalog_product_entity.c.entity_id == entity_id).values(updated_at=datetime.utcnow()))

    def set_stock(self, entity_id: int, qty: int, in_stock: bool) -> None:
        """A stock move as an order or a stock sync makes it: updated_at does not move."""
        with self.magento.begin() as conn:
            conn.execute(sa.update(m.cataloginventory_stock_item).where(
                m.cataloginventory_stock_item.c.product_id == entity_id).values(qty=qty, is_in_stock=int(in_stock)))


@pytest.fixture(params=["sqlite+sqlite", pytest.param("mariadb+postgres", marks=[pytest.mark.mariadb,
                                                                                 pytest.mark.postgres])])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Shop]:
    if request.param == "sqlite+sqlite":
        magento_url, app_url = f"sqlite:///{tmp_path / 'magento.db'}", f"sqlite:///{tmp_path / 'sync.db'}"
    else:
        magento_url, app_url = request.getfixturevalue("mariadb_url"), request.getfixturevalue("postgres_url")
    magento, app = make_engine(magento_url), make_engine(app_url)
    create_all(app)
    yield Shop(magento, app)
    magento.dispose()
    app.dispose()


def _figures(result: Any) -> tuple[int, ...]:
    m_ = result.metrics
    return (m_.total_found, m_.processed, m_.inserted, m_.updated, m_.skipped, m_.errors_count)


def test_empty_source_completes_with_zero(shop: Shop) -> None:
    shop.generate(0)
    result = run_import(shop.app, shop.reader(), EVERYTHING)
    assert _figures(result) == (0, 0, 0, 0, 0, 0)
    assert shop.cursor() == 0
    with shop.app.connect() as conn:
        assert jobs.job_row(conn, result.job_id)["status"] == "completed"


def test_full_import_then_nothing_changes(shop: Shop) -> None:
    catalog = shop.generate(80)
    first = run_import(shop.app, shop.reader(), EVERYTHING, chunk_size=7)
    sellable = len(catalog.sellable_ids)
    assert first.metrics.total_found == sellable
    assert first.metrics.inserted == sellable and first.metrics.updated == 0
    assert first.metrics.errors_count == 0
    assert first.cursor == max(catalog.candidate_ids)
    assert {p["source_id"] for p in shop.products().values()} == set(catalog.sellable_ids)
    assert all(p["is_active"] for p in shop.products().values())

    again = run_import(shop.app, shop.reader(), EVERYTHING, chunk_size=7)
    assert (again.metrics.inserted, again.metrics.updated, again.metrics.errors_count) == (0, 0, 0)
    assert again.cursor == first.cursor

    # Reading the same products again from the start: they are reported unchanged, not skipped.
    reread = run_import(shop.app, shop.reader(), ImportRequest.from_settings(
        limit=1000, resume_from_last=False, start_after_id=0, manual=True), chunk_size=7)
    m_ = reread.metrics
    assert (m_.inserted, m_.updated, m_.skipped, m_.errors_count) == (0, 0, 0, 0)
    assert m_.unchanged == m_.processed == sellable


def test_manual_pages_resume_after_the_cursor(shop: Shop) -> None:
    catalog = shop.generate(80)
    ordered = sorted(catalog.sellable_ids)
    first = run_import(shop.app, shop.reader(), ImportRequest.from_settings(limit=5, manual=True))
    assert first.metrics.inserted == 5
    assert {p["source_id"] for p in shop.products().values()} == set(ordered[:5])
    assert shop.cursor() == first.metrics.last_processed_source_id >= ordered[4]
    assert shop.cursor() < ordered[5]
    second = run_import(shop.app, shop.reader(), ImportRequest.from_settings(limit=5, manual=True))
    assert second.metrics.inserted == 5
    assert {p["source_id"] for p in shop.products().values()} == set(ordered[:10])


def test_explicit_start_after_id_beyond_the_cursor_leaves_the_cursor(shop: Shop) -> None:
    catalog = shop.generate(80)
    ordered = sorted(catalog.sellable_ids)
    request = ImportRequest.from_settings(limit=3, resume_from_last=False, start_after_id=ordered[9], manual=True)
    result = run_import(shop.app, shop.reader(), request)
    assert {p["source_id"] for p in shop.products().values()} == set(ordered[10:13])
    assert result.cursor == 0  # ids up to ordered[9] were never read


def test_configurable_variants_options_overrides_and_special_prices(shop: Shop) -> None:
    catalog = shop.generate(40)
    run_import(shop.app, shop.reader(), EVERYTHING)
    shirt = shop.by_source(catalog.feature("configurable"))
    assert shirt["type_id"] == "configurable"
    variants = shop.variants_of(shirt["sku"])
    assert len(variants) >= 2
    assert all(set(v["options"]) == {"color", "size"} and all(v["options"].values()) for v in variants)
    assert all(not isinstance(v, int) for v in variants[0]["options"].values())
    assert any(v["is_active"] for v in variants)
    child_ids = {v["source_id"] for v in variants}
    assert not child_ids & {p["source_id"] for p in shop.products().values()}  # children are not products

    assert shop.by_source(catalog.feature("special_active"))["special_price"] is not None
    assert shop.by_source(catalog.feature("special_expired"))["special_price"] is None
    assert shop.by_source(catalog.feature("special_future"))["special_price"] is None
    in_catalog = {p["source_id"] for p in shop.products().values()}
    assert catalog.feature("store_disabled") not in in_catalog
    assert catalog.feature("store_enabled") in in_catalog
    assert catalog.feature("price_override") in in_catalog


def test_a_typed_in_attribute_reaches_the_catalog_and_a_listing_mapping_it_as_free_text(shop: Shop) -> None:
    """A user-defined text attribute (no options) is in the catalog product's attributes; a TikTok store
    mapping it onto a customizable attribute lists the whole text as one custom value."""
    catalog = shop.generate(40)
    run_import(shop.app, shop.reader(), EVERYTHING)
    tank = shop.by_source(catalog.feature("free_text_attribute"))
    assert tank["attributes"] == {"fabric_composition": "95% organic cotton, 5% elastane"}  # store view value

    store = StoreConfig.model_validate({
        "key": "tiktok-us", "platform": "tiktok", "name": "TikTok Shop US", "endpoint": "http://127.0.0.1:1/tiktok",
        "credentials": {"app_key": "TT_APP_KEY", "app_secret": "TT_APP_SECRET", "access_token": "TT_ACCESS",
                        "refresh_token": "TT_REFRESH"},
        "settings": {"shop_cipher": "cipher", "warehouse_id": "7000001", "region": "US"},
        "category_map": {"Women/Tops": "601226"},
        "mapping": {"attributes": {"Material": {"magento": "fabric_composition", "free_text": True}},
                    "package": {"dimensions": {"length": 30, "width": 20, "height": 5}}},
    })
    rules = StoreRules(store_key="tiktok-us", platform="tiktok", read_at=datetime(2026, 6, 1), region="US",
                       warehouses=("7000001",), categories={"601226": CategoryRules(
                           category_id="601226", name="Women's Tops", attributes=(AttributeRule(
                               "100157", "Material", customizable=True, values={"Cotton": "1000059"}),))})
    materialize_store_listings(shop.app, store, rules=rules)
    with shop.app.connect() as conn:
        listing = conn.execute(sa.select(platform_listings.c.valid, platform_listings.c.payload).where(
            platform_listings.c.sku == tank["sku"])).one()
    assert listing.payload["details"]["attributes"] == [{"name": "Material", "attribute_id": "100157", "values": [
        {"name": "95% organic cotton, 5% elastane", "value_id": None}]}]
    assert listing.valid, listing.payload.get("reasons")


def test_dirty_rows_are_skipped_with_reasons(shop: Shop) -> None:
    catalog = shop.generate(60, dirty=True)
    result = run_import(shop.app, shop.reader(), EVERYTHING)
    rejected = {r.source_id: r.reason for r in result.metrics.skipped_rows}
    assert set(catalog.expected_rejections) <= set(rejected)
    assert all(reason for reason in rejected.values())
    assert result.metrics.errors_count == len(rejected) >= len(catalog.expected_rejections)
    in_catalog = {p["source_id"] for p in shop.products().values()}
    assert not in_catalog & set(rejected)
    assert result.metrics.inserted == len(catalog.sellable_ids) - len(rejected)


def test_price_stock_and_status_changes_flow_on_the_next_run(shop: Shop) -> None:
    catalog = shop.generate(80)
    run_import(shop.app, shop.reader(), EVERYTHING)
    simples = sorted(i for i in catalog.sellable_ids
                     if shop.by_source(i)["type_id"] == "simple" and i not in catalog.features.get("special_active", ()))
    repriced, sold_out, disabled = simples[0], simples[1], simples[2]
    shop.edit(repriced, "decimal", "price", Decimal("77.70"))
    shop.set_stock(sold_out, 0, False)
    shop.edit(disabled, "int", "status", 2)
    shop.edit(disabled, "int", "status", 2, store_id=1)

    result = run_import(shop.app, shop.reader(), EVERYTHING)
    assert result.metrics.updated == 3 and result.metrics.inserted == 0
    assert shop.by_source(repriced)["price"] == Decimal("77.70")
    gone = shop.by_source(sold_out)
    assert (gone["is_active"], gone["stock_qty"]) == (False, 0)
    assert shop.by_source(disabled)["is_active"] is False
    assert all(not v["is_active"] for v in shop.variants_of(gone["sku"]))

    shop.set_stock(sold_out, 4, True)  # back in stock: active again
    back = run_import(shop.app, shop.reader(), EVERYTHING)
    assert back.metrics.updated == 1
    assert (shop.by_source(sold_out)["is_active"], shop.by_source(sold_out)["stock_qty"]) == (True, 4)


def test_source_going_down_mid_run_fails_the_job_and_keeps_the_cursor(shop: Shop) -> None:
    shop.generate(80)
    first = run_import(shop.app, shop.reader(), ImportRequest.from_settings(limit=3, manual=True))
    before = shop.products()

    def pull_the_plug(_progress: Progress) -> None:
        _take_magento_down(shop.magento)

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises when its DB vanishes
        start_import(shop.app, shop.reader(), EVERYTHING, on_progress=pull_the_plug, chunk_size=2,
                     progress_every=1)
    with shop.app.connect() as conn:
        failed = conn.execute(sa.text("SELECT id, status, error_message FROM product_import_jobs "
                                      "ORDER BY id DESC")).first()
        assert failed is not None and failed.status == "failed" and failed.error_message
        assert jobs.running_job_id(conn) is None
        assert conn.execute(sa.select(sa.func.count()).select_from(magento_product_staging)).scalar_one() == 0
    assert shop.cursor() == first.cursor
    assert shop.products() == before
    assert load_staged(shop.app) is None


def _take_magento_down(magento: sa.Engine) -> None:
    """Kill the reader's connections (MariaDB) and drop a value table, so the next chunk fails."""
    if magento.dialect.name == "mysql":
        admin = sa.create_engine(magento.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            mine = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
            for (pid,) in conn.execute(sa.text(
                    "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> :me"),
                    {"me": mine}):
                conn.execute(sa.text(f"KILL {int(pid)}"))
            conn.execute(sa.text("DROP TABLE catalog_product_entity_decimal"))
        admin.dispose()
    else:
        with magento.begin() as conn:
            conn.execute(sa.text("DROP TABLE catalog_product_entity_decimal"))


def test_stock_moves_are_found_on_every_page_of_the_reconciliation(shop: Shop) -> None:
    catalog = shop.generate(80)
    run_import(shop.app, shop.reader(), EVERYTHING, chunk_size=2)  # pages of 8 catalog products
    in_catalog = sorted(p["source_id"] for p in shop.products().values())
    assert len(in_catalog) > 16  # at least three reconcile pages
    simples = [i for i in in_catalog if shop.by_source(i)["type_id"] == "simple"]
    first_simple, last_simple = simples[0], simples[-1]
    shirt = shop.by_source(catalog.feature("configurable"))
    child = next(v for v in shop.variants_of(shirt["sku"]) if v["is_active"])
    shop.set_stock(first_simple, 41, True)
    shop.set_stock(last_simple, 0, False)
    shop.set_stock(child["source_id"], 23, True)

    result = run_import(shop.app, shop.reader(), EVERYTHING, chunk_size=2)
    assert (result.metrics.updated, result.metrics.inserted) == (3, 0)
    assert shop.by_source(first_simple)["stock_qty"] == 41
    assert shop.by_source(last_simple)["is_active"] is False
    assert {v["sku"]: v["stock_qty"] for v in shop.variants_of(shirt["sku"])}[child["sku"]] == 23


def test_a_new_orders_reservation_reaches_the_stores_stock(shop: Shop) -> None:
    """MSI: an order placed in Magento (a reservation, nothing else) lowers every store's stock."""
    from sync_pipeline.listings.model import Listing
    from sync_pipeline.listings.store import materialize_store_listings
    from sync_pipeline.magento.watermark import read_watermark
    from sync_pipeline.stores import StockBuffer, load_stores

    catalog = shop.generate(20, msi=True)
    stores = {s.key: s for s in load_stores().stores}
    buffered = stores["shopify-eu"].model_copy(update={"stock_buffer": StockBuffer(keep_units=2, floor=10)})
    run_import(shop.app, shop.reader(), EVERYTHING)
    source_id = catalog.feature("msi_multi_source")
    sku = shop.by_source(source_id)["sku"]

    def store_stock() -> tuple[int, int]:
        for store in (stores["shopify-us"], buffered):
            materialize_store_listings(shop.app, store)
        with shop.app.connect() as conn:
            from sync_pipeline.listings.tables import platform_listings as pl
            rows = dict(conn.execute(sa.select(pl.c.store_key, pl.c.payload).where(pl.c.sku == sku)).tuples().all())
        return (Listing.from_json(rows["shopify-us"]).stock_qty, Listing.from_json(rows["shopify-eu"]).stock_qty)

    assert shop.by_source(source_id)["stock_qty"] == 14
    assert store_stock() == (14, 12)
    before = read_watermark(shop.magento)
    with shop.magento.begin() as conn:
        conn.execute(sa.insert(m.inventory_reservation).values(stock_id=1, sku=sku, quantity=Decimal("-5"),
                                                               metadata='{"event_type":"order_placed"}'))
    assert read_watermark(shop.magento).changes_since(before) == ["stock changed"]
    result = run_import(shop.app, shop.reader(), EVERYTHING)
    assert result.metrics.updated == 1
    assert shop.by_source(source_id)["stock_qty"] == 9
    assert store_stock() == (9, 0)  # 9 salable is under the buffered store's floor of 10


def test_commerce_imports_the_same_catalog_as_open_source(shop: Shop) -> None:
    """The same seed written in Adobe Commerce's staging layout (row_id, past and scheduled versions
    of a third of the products) imports exactly what the Open Source layout imports."""
    from sync_pipeline.catalog import tables

    def imported(commerce: bool) -> tuple[Any, ...]:
        catalog = generate_catalog(shop.magento, products=80, seed=7, dirty=True, today=TODAY, msi=True,
                                   commerce=commerce, replace=True)
        assert catalog.commerce == commerce and (len(catalog.staged_ids) > 30) == commerce
        result = run_import(shop.app, shop.reader(), EVERYTHING, chunk_size=9)
        with shop.app.connect() as conn:
            products = {r["sku"]: {k: v for k, v in r.items() if k not in ("id", "created_at", "updated_at")}
                        for r in conn.execute(sa.select(catalog_products)).mappings()}
            variants = {(r["parent_sku"], r["sku"]): {k: v for k, v in r.items() if k != "id"}
                        for r in conn.execute(sa.select(catalog_variants)).mappings()}
        tables.metadata.drop_all(shop.app)  # the next import starts from an empty app DB
        create_all(shop.app)
        m_ = result.metrics
        figures = (m_.total_found, m_.inserted, m_.errors_count, m_.variants_skipped, m_.unsynced_types,
                   [(r.source_id, r.reason) for r in m_.skipped_rows], m_.skipped_variants, result.cursor)
        return products, variants, figures

    open_source, commerce = imported(commerce=False), imported(commerce=True)
    products, variants, figures = open_source
    assert len(products) > 10 and any(p["type_id"] == "configurable" for p in products.values())
    assert figures[4] and figures[3]  # unsynced types and children left out are part of what is compared
    assert commerce[0] == products
    assert commerce[1] == variants
    assert commerce[2] == figures
