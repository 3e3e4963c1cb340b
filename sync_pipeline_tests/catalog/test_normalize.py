"""From SourceProduct to catalog rows: variants, hashes and the reasons bad products are refused."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from sync_pipeline.catalog.normalize import CatalogEntry, normalize_product
from sync_pipeline.magento.records import RejectedRow
from sync_pipeline_tests.catalog.builders import child, configurable, simple


def _entry(product: object) -> CatalogEntry:
    assert isinstance(product, CatalogEntry), product
    return product


def test_simple_product_is_sold_through_one_variant_with_its_own_sku() -> None:
    entry = _entry(normalize_product(simple(7)))
    assert entry.product.sku == "SKU-7"
    assert entry.product.is_active is True
    assert entry.product.price == Decimal("19.9000")
    assert [v.sku for v in entry.product.variants] == ["SKU-7"]
    assert entry.product.variants[0].parent_sku == "SKU-7"
    assert entry.product.variants[0].options == {}
    assert entry.product.variants[0].image == "https://shop.test/media/7-0.jpg"


def test_configurable_children_become_variants_with_option_labels() -> None:
    product = configurable(10, (child(11, "Blue", "M"), child(12, "Red", "L", stock_qty=0, is_in_stock=False)))
    entry = _entry(normalize_product(product))
    assert [(v.sku, v.options, v.is_active) for v in entry.product.variants] == [
        ("SKU-11", {"color": "Blue", "size": "M"}, True),
        ("SKU-12", {"color": "Red", "size": "L"}, False),
    ]
    assert all(v.parent_sku == "SKU-10" for v in entry.product.variants)
    assert entry.product.stock_qty == 3


def test_disabled_parent_makes_every_variant_inactive() -> None:
    entry = _entry(normalize_product(configurable(10, (child(11, "Blue", "M"),), is_enabled=False)))
    assert entry.product.is_active is False
    assert entry.product.variants[0].is_active is False


def test_hash_ignores_source_timestamp_but_sees_price_and_stock() -> None:
    from datetime import datetime

    base = _entry(normalize_product(simple(1))).content_hash
    touched = _entry(normalize_product(simple(1, updated_at=datetime(2030, 1, 1)))).content_hash
    repriced = _entry(normalize_product(simple(1, price=Decimal("18")))).content_hash
    restocked = _entry(normalize_product(simple(1, stock_qty=9))).content_hash
    assert touched == base
    assert len({base, repriced, restocked}) == 3


def test_special_price_kept_only_when_it_undercuts_the_price() -> None:
    assert _entry(normalize_product(simple(1, special_price=Decimal("15")))).product.special_price == Decimal("15")
    assert _entry(normalize_product(simple(1, special_price=Decimal("25")))).product.special_price is None


def test_negative_stock_sells_nothing() -> None:
    entry = _entry(normalize_product(simple(1, stock_qty=-4, is_in_stock=False)))
    assert entry.product.stock_qty == 0
    assert entry.product.is_active is False


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sku": "  "}, "empty SKU"),
        ({"sku": "X" * 65}, "SKU longer than 64"),
        ({"title": " \n"}, "empty title"),
        ({"title": "T" * 513}, "title longer than 512"),
        ({"price": None}, "no price"),
        ({"price": Decimal("0")}, "price must be above 0"),
        ({"price": Decimal("1e17")}, "price out of range"),
        ({"stock_qty": 3_000_000_000}, "stock quantity out of range"),
        ({"url_key": "u" * 256}, "url_key longer than 255"),
        ({"title": "bad\x00name"}, "NUL character"),
    ],
)
def test_bad_products_are_rejected_with_a_reason(changes: dict[str, object], reason: str) -> None:
    rejected = normalize_product(simple(3, **changes))
    assert isinstance(rejected, RejectedRow)
    assert rejected.source_id == 3
    assert reason in rejected.reason


def test_unsellable_product_without_price_is_still_stored_inactive() -> None:
    entry = _entry(normalize_product(simple(3, price=None, is_enabled=False)))
    assert entry.product.is_active is False and entry.product.price is None


def test_variant_sku_repeated_inside_a_product_is_rejected() -> None:
    rejected = normalize_product(configurable(10, (child(11, "Blue", "M"), replace(child(12, "Red", "M"), sku="SKU-11"))))
    assert isinstance(rejected, RejectedRow)
    assert "appears twice" in rejected.reason


def test_emoji_and_entities_survive_untouched() -> None:
    entry = _entry(normalize_product(simple(1, title="Caf\u00e9 \U0001f600 &amp; co")))
    assert entry.product.title == "Caf\u00e9 \U0001f600 &amp; co"


def test_staging_codec_round_trips_every_field() -> None:
    from datetime import datetime

    from sync_pipeline.catalog.staging import product_from_json, product_to_json

    product = configurable(
        10,
        (child(11, "Blue", "M", weight=Decimal("0.5"), image="https://x/a.jpg", manages_stock=False),),
        special_price=Decimal("9.99"),
        updated_at=datetime(2026, 5, 1, 12, 30),
        manages_stock=False,
    )
    assert product_from_json(product_to_json(product)) == product
