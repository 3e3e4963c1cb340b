"""Listings in the app DB, on SQLite and PostgreSQL (``app_db_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from sync_pipeline.catalog.product import product_from_rows
from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import make_engine
from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.store import materialize_store_listings
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.stores import load_stores
from sync_pipeline_tests.listings.catalog_rows import configurable, insert_catalog, product_row, typed

STORES = {s.key: s for s in load_stores().stores}


@pytest.fixture
def engine(app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(app_db_url)
    yield engine
    engine.dispose()


def seed(engine: Engine, count: int = 10) -> None:
    products, variants = [], []
    for n in range(count):
        if n % 2:
            product, children = configurable(f"CFG{n}", n)
            products.append(product)
            variants += children
        else:
            products.append(product_row(f"SIM{n}", n, price=Decimal("10") + n))
    insert_catalog(engine, products, variants)


def stored(engine: Engine, store_key: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(platform_listings).where(platform_listings.c.store_key == store_key))
        return {row.sku: dict(row._mapping) for row in rows}


def test_listings_are_written_with_payload_and_hashes(engine: Engine) -> None:
    seed(engine)
    summary = materialize_store_listings(engine, STORES["shopify-us"], chunk_size=3)
    rows = stored(engine, "shopify-us")
    assert (summary.listings, summary.valid, summary.inserted, summary.changed) == (10, 10, 10, 10)
    assert len(rows) == 10
    listing = Listing.from_json(rows["CFG1"]["payload"])
    assert rows["CFG1"]["payload_hash"] == listing.payload_hash()
    assert rows["CFG1"]["price_hash"] == listing.price_hash()
    assert Decimal(str(rows["SIM2"]["price"])) == Decimal("12.00")  # 10 + 2, multiplier 1.00
    assert listing.price == Decimal("40.00") and len(listing.variants) == 4
    assert [row.sku for row in summary.preview][:3] == ["SIM0", "CFG1", "SIM2"]


def test_a_second_run_rewrites_only_what_changed(engine: Engine) -> None:
    seed(engine)
    store = STORES["tiktok-us"]
    materialize_store_listings(engine, store, chunk_size=4, now=datetime(2026, 1, 1))
    with engine.begin() as conn:
        conn.execute(update(catalog_products).where(catalog_products.c.sku == "SIM4").values(price=Decimal("99")))
    again = materialize_store_listings(engine, store, chunk_size=4, now=datetime(2026, 2, 1))
    assert (again.inserted, again.updated, again.unchanged, again.changed) == (0, 1, 9, 1)
    rows = stored(engine, store.key)
    assert rows["SIM4"]["updated_at"] == datetime(2026, 2, 1)
    assert rows["SIM2"]["updated_at"] == datetime(2026, 1, 1)
    assert Decimal(str(rows["SIM4"]["price"])) == Decimal("118.99")


def test_bad_catalog_rows_become_invalid_listings_and_the_partition_completes(engine: Engine) -> None:
    insert_catalog(engine, [
        product_row("GOOD", 1),
        product_row("NOIMG", 2, images=[]),
        product_row("NOCAT", 3, categories=["Kitchen"]),
        product_row("NOPRICE", 4, price=None),
        product_row("GONE", 5, is_active=False),
    ])
    summary = materialize_store_listings(engine, STORES["shopee-sg"])
    assert (summary.listings, summary.valid, summary.invalid, summary.delists) == (5, 2, 3, 1)
    assert dict(summary.invalid_by_reason) == {"no_image": 1, "no_category": 1, "price_missing": 1}
    rows = stored(engine, "shopee-sg")
    assert rows["GONE"]["action"] == "delist" and rows["GONE"]["stock_qty"] == 0 and rows["GONE"]["valid"]
    assert rows["NOIMG"]["reasons"] == ["no_image"]


def test_orphaned_listings_are_kept_and_counted(engine: Engine) -> None:
    seed(engine, 2)
    materialize_store_listings(engine, STORES["shopify-us"])
    with engine.begin() as conn:
        conn.execute(catalog_products.delete().where(catalog_products.c.sku == "SIM0"))
    summary = materialize_store_listings(engine, STORES["shopify-us"])
    assert summary.orphaned == 1 and "SIM0" in stored(engine, "shopify-us")


def test_stores_are_independent_partitions(engine: Engine) -> None:
    seed(engine, 4)
    for key in STORES:
        materialize_store_listings(engine, STORES[key])
    assert {key: len(stored(engine, key)) for key in STORES} == dict.fromkeys(STORES, 4)
    us, eu = stored(engine, "shopify-us"), stored(engine, "shopify-eu")
    assert us["SIM0"]["currency"] == "USD" and eu["SIM0"]["currency"] == "EUR"


def test_stored_payload_is_exactly_the_model_json() -> None:
    from sync_pipeline.listings.model import ListingVariant
    from sync_pipeline.listings.shapes import build_listing
    from sync_pipeline.listings.store import listing_or_reason
    from sync_pipeline_tests.listings.catalog_rows import configurable as make

    product, variants = make("PAY", 1, special_price=Decimal("30"))
    built = [
        build_listing(typed(row, rows), store)
        for store in STORES.values()
        for row, rows in (
            (product, variants),
            (product_row("SIMPLE", 2, weight=Decimal("1.25")), []),
            (product_row("GONE", 3, is_active=False), []),
        )
    ]
    unreadable = listing_or_reason(product_from_rows(product_row("ODD", 4, special_price=object()), []), STORES["tiktok-us"])
    by_hand = Listing(
        store_key="s", platform="shopify", sku="X", source_id=5, action="list", title="t", description="d",
        price=Decimal("9.90"), compare_at_price=Decimal("12.00"), currency="USD", stock_qty=3, images=("a", "b"),
        category_id=None, handle="x", options=("Size",), weight_kg=Decimal("0.5"), reasons=("note: one",),
        variants=(ListingVariant("X-S", Decimal("9.90"), None, 3, {"Size": "S"}, "img", Decimal("0.25")),),
    )
    for listing in [*built, unreadable, by_hand]:
        payload = stored_row_payload(listing)
        assert payload == _reference_json(listing)
        assert list(payload) == list(_reference_json(listing))  # same fields, same order
        assert Listing.from_json(payload) == listing


def stored_row_payload(listing: Listing) -> Any:
    from sync_pipeline.listings.store import listing_row

    return listing_row(listing, datetime(2026, 1, 1))["payload"]


def _reference_json(listing: Listing) -> Any:
    """The payload as ``dataclasses.asdict`` encodes it, Decimals as strings: the format stored rows have."""
    from dataclasses import asdict

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(asdict(listing))


def test_a_row_the_shaper_cannot_read_becomes_an_invalid_listing_naming_the_error() -> None:
    from sync_pipeline.listings.store import listing_or_reason

    listing = listing_or_reason(product_from_rows(product_row("ODD", 3, special_price=object()), []), STORES["shopify-us"])
    assert not listing.valid and listing.sku == "ODD"
    assert listing.reasons[0].startswith("bad_catalog_row: TypeError")


def test_a_child_of_two_configurables_where_the_platform_allows_it_and_where_not(engine: Engine) -> None:
    """Shopify takes one SKU in two products; Shopee and TikTok get it under its first parent only."""
    first, first_children = configurable("TEE-A", 5, colors=("Blue",))
    second, second_children = configurable("TEE-B", 9, colors=("Red",))
    shared = dict(first_children[0], parent_sku="TEE-B", position=9, options={"color": "Blue", "size": "S"})
    insert_catalog(engine, [first, second], first_children + second_children + [shared])
    shared_sku = first_children[0]["sku"]

    def variant_skus(store_key: str, sku: str) -> list[str]:
        return [v.sku for v in Listing.from_json(stored(engine, store_key)[sku]["payload"]).variants]

    for key in ("shopify-us", "shopee-sg", "tiktok-us"):
        materialize_store_listings(engine, STORES[key])
        assert shared_sku in variant_skus(key, "TEE-A")
    assert shared_sku in variant_skus("shopify-us", "TEE-B")
    for key in ("shopee-sg", "tiktok-us"):
        row = stored(engine, key)["TEE-B"]
        assert shared_sku not in variant_skus(key, "TEE-B") and len(variant_skus(key, "TEE-B")) == 2
        assert f"variant_sold_under_other_product: {shared_sku} is sold under TEE-A" in row["reasons"]
    assert not any("variant_sold_under" in r for r in stored(engine, "shopify-us")["TEE-B"]["reasons"])
