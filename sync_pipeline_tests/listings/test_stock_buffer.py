"""Stock buffers per store: the arithmetic (property-based) and the listing it shapes."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sync_pipeline.listings.shapes import build_listing
from sync_pipeline.listings.stock import listed_stock
from sync_pipeline.stores import StockBuffer, load_stores
from sync_pipeline_tests.listings.catalog_rows import configurable, product_row, typed

STORES = {s.key: s for s in load_stores().stores}

buffers = st.builds(
    StockBuffer,
    keep_units=st.integers(0, 50),
    keep_share=st.decimals(Decimal("0"), Decimal("0.99"), places=2),
    cap=st.none() | st.integers(0, 500),
    floor=st.integers(0, 20),
)
salable = st.integers(-50, 100_000)


@given(salable)
def test_without_a_buffer_the_store_shows_the_salable_quantity(qty: int) -> None:
    assert listed_stock(qty) == max(qty, 0)


@given(salable, buffers)
def test_never_negative_never_above_salable_nor_cap(qty: int, buffer: StockBuffer) -> None:
    shown = listed_stock(qty, buffer)
    assert 0 <= shown <= max(qty, 0)
    if buffer.cap is not None:
        assert shown <= buffer.cap


@given(salable, buffers)
def test_below_the_floor_the_store_shows_zero(qty: int, buffer: StockBuffer) -> None:
    if qty < buffer.floor:
        assert listed_stock(qty, buffer) == 0


@given(st.integers(0, 100_000), buffers)
def test_the_kept_units_and_share_are_held_back_exactly(qty: int, buffer: StockBuffer) -> None:
    shown = listed_stock(qty, buffer)
    if qty >= buffer.floor:
        expected = max(0, qty - buffer.keep_units - math.ceil(qty * buffer.keep_share))
        assert shown == (expected if buffer.cap is None else min(expected, buffer.cap))


@given(st.integers(0, 100_000), st.integers(0, 100), buffers)
def test_more_salable_never_shows_less(qty: int, more: int, buffer: StockBuffer) -> None:
    assert listed_stock(qty + more, buffer) >= listed_stock(qty, buffer)


def test_examples() -> None:
    buffer = StockBuffer(keep_units=2, keep_share=Decimal("0.10"), cap=50, floor=3)
    # 3: 3 - 2 - ceil(0.3) = 0; 10: 10 - 2 - 1 = 7; 100: 100 - 2 - 10 = 88, capped at 50
    assert [listed_stock(q, buffer) for q in (0, 2, 3, 10, 100, 1000)] == [0, 0, 0, 7, 50, 50]


@pytest.mark.parametrize("bad", [{"keep_units": -1}, {"keep_share": "1"}, {"keep_share": "-0.1"}, {"cap": -2},
                                 {"floor": -1}, {"keep": 3}])
def test_a_bad_buffer_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        StockBuffer(**bad)  # type: ignore[arg-type]


def test_the_listing_carries_the_buffered_stock_per_variant() -> None:
    store = STORES["shopify-us"].model_copy(update={"stock_buffer": StockBuffer(keep_units=1, floor=3, cap=10)})
    product, variants = configurable("CFG1", 1)
    stocks = [2, 3, 7, 40]
    variants = [dict(v, stock_qty=q, price=Decimal("20")) for v, q in zip(variants, stocks, strict=True)]
    listing = build_listing(typed(product, variants), store)
    assert {v.sku: v.stock_qty for v in listing.variants} == {
        v["sku"]: shown for v, shown in zip(variants, [0, 2, 6, 10], strict=True)}
    assert listing.stock_qty == 18
    unbuffered = build_listing(typed(product, variants), STORES["shopify-us"])
    assert [v.stock_qty for v in unbuffered.variants] == stocks
    simple = build_listing(typed(product_row("SIM1", 2, stock_qty=5, price=Decimal("9")), []), store)
    assert simple.stock_qty == 4


# --- backorders -----------------------------------------------------------------------------------


def test_backorders_are_not_listed_by_default() -> None:
    from sync_pipeline.stores import Backorders

    assert STORES["shopify-us"].backorders == Backorders(list=False, quantity=0)
    product, variants = configurable("CFG2", 3)
    variants = [dict(v, price=Decimal("20")) for v in variants]
    variants[0].update(stock_qty=0, backorders=True)  # Magento sells it on backorder only
    variants[1].update(stock_qty=4, backorders=True)  # backorders on, but units left: sold as stock
    listing = build_listing(typed(product, variants), STORES["shopify-us"])
    assert listing.action == "list" and variants[0]["sku"] not in {v.sku for v in listing.variants}
    assert {v.sku: v.stock_qty for v in listing.variants}[variants[1]["sku"]] == 4
    only_backorder = build_listing(typed(product_row("SIM2", 4, stock_qty=0, backorders=True, price=Decimal("9")), []), STORES["shopify-us"])
    assert only_backorder.action == "delist"
    every_variant = build_listing(typed(product, [dict(v, stock_qty=0, backorders=True) for v in variants]), STORES["shopify-us"])
    assert every_variant.action == "delist"


def test_a_store_that_lists_backorders_shows_its_quantity() -> None:
    from sync_pipeline.stores import Backorders

    store = STORES["shopify-us"].model_copy(update={
        "backorders": Backorders(list=True, quantity=5), "stock_buffer": StockBuffer(keep_units=1)})
    product, variants = configurable("CFG3", 5)
    variants = [dict(v, price=Decimal("20")) for v in variants]
    variants[0].update(stock_qty=0, backorders=True)
    variants[1].update(stock_qty=-2, backorders=True)  # orders beyond the stock: still the set quantity
    listing = build_listing(typed(product, variants), store)
    stocks = {v.sku: v.stock_qty for v in listing.variants}
    assert stocks[variants[0]["sku"]] == stocks[variants[1]["sku"]] == 5
    assert stocks[variants[2]["sku"]] == variants[2]["stock_qty"] - 1  # the buffer applies to real stock
    simple = build_listing(typed(product_row("SIM3", 6, stock_qty=0, backorders=True, price=Decimal("9")), []), store)
    assert (simple.action, simple.stock_qty) == ("list", 5)


@pytest.mark.parametrize("bad", [{"list": True}, {"list": True, "quantity": 0}, {"quantity": -1},
                                 {"list": False, "qty": 2}])
def test_a_bad_backorders_setting_is_refused(bad: dict[str, object]) -> None:
    from sync_pipeline.stores import Backorders

    with pytest.raises(ValidationError):
        Backorders(**bad)  # type: ignore[arg-type]
