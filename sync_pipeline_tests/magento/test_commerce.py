"""Adobe Commerce's staging layout: values keyed by row_id, one row per version, the version in
force read; on SQLite and on MariaDB (the other reader tests run on this layout too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from sync_pipeline.magento.edition import COMMERCE, MAX_VERSION, detect_layout
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.generator.commerce import NEXT_UPDATE_START, PAST_DAYS

from .conftest import SMALL, TODAY, Shop, found, full_pass


@pytest.fixture
def edition() -> str:
    return "commerce"


def _staged_candidates(shop: Shop) -> list[int]:
    staged = set(shop.catalog.staged_ids) & set(shop.catalog.candidate_ids)
    assert staged, "the showcase stages some top-level products"
    return sorted(staged)


def test_the_layout_is_commerce_and_row_ids_are_not_entity_ids(shop: Shop) -> None:
    entity = COMMERCE.table("catalog_product_entity")
    with shop.engine.connect() as conn:
        assert detect_layout(conn).commerce
        rows = conn.execute(sa.select(entity.c.row_id, entity.c.entity_id, entity.c.created_in,
                                      entity.c.updated_in)).tuples().all()
    assert len(rows) == shop.catalog.entities + 2 * len(shop.catalog.staged_ids)
    current = [r for r in rows if r[3] == MAX_VERSION and r[2] == 1 or r[2] > 1 and r[3] < MAX_VERSION]
    assert {r[1] for r in current} == set(range(1, shop.catalog.entities + 1))
    assert sum(1 for row_id, entity_id, _c, _u in rows if row_id != entity_id) > len(rows) // 2


def test_the_version_in_force_is_read_not_the_past_or_the_scheduled_one(shop: Shop) -> None:
    staged = _staged_candidates(shop)
    now = shop.reader().read_products(staged).products
    assert not any("version)" in p.title for p in now)
    sellable_now = {p.source_id for p in now if p.is_sellable}
    assert sellable_now == set(staged) & shop.catalog.sellable_ids

    before = datetime.combine(TODAY, datetime.min.time(), UTC) - timedelta(days=PAST_DAYS + 5)
    past = {p.source_id: p for p in shop.reader(now=before).read_products(staged).products}
    assert all(p.title.endswith("(past version)") for p in past.values())
    simple = next(p for p in now if p.type_id == "simple" and p.price is not None)
    assert past[simple.source_id].price == simple.price + 100

    later = NEXT_UPDATE_START + timedelta(days=1)
    scheduled = shop.reader(now=later).read_products(staged).products
    assert all(p.title.endswith("(scheduled version)") and not p.is_enabled for p in scheduled)
    assert not set(found(full_pass(shop.reader(now=later)))) & set(staged)


def test_a_scheduled_update_going_live_counts_as_a_change(shop: Shop) -> None:
    staged = _staged_candidates(shop)
    live = shop.reader(now=NEXT_UPDATE_START + timedelta(hours=1))
    up_to = max(shop.catalog.candidate_ids)
    changed = live.changed_since(NEXT_UPDATE_START - timedelta(hours=1), up_to_id=up_to)
    assert set(staged) <= set(changed)
    assert shop.reader().changed_since(datetime(2036, 1, 1), up_to_id=up_to) == []


def test_same_seed_gives_the_same_commerce_catalog(engine: sa.Engine) -> None:
    first = generate_catalog(engine, products=SMALL, seed=4, dirty=True, today=TODAY, commerce=True)
    with engine.connect() as conn:
        entity = COMMERCE.table("catalog_product_entity")
        before = conn.execute(sa.select(entity).order_by(entity.c.row_id)).tuples().all()
    again = generate_catalog(engine, products=SMALL, seed=4, dirty=True, today=TODAY, commerce=True, replace=True)
    with engine.connect() as conn:
        after = conn.execute(sa.select(entity).order_by(entity.c.row_id)).tuples().all()
    assert again == first and after == before
    # replace=True also turns a Commerce database back into an Open Source one.
    generate_catalog(engine, products=5, seed=4, today=TODAY, replace=True)
    with engine.connect() as conn:
        assert not detect_layout(conn).commerce


def test_the_watermark_moves_when_an_update_goes_live(shop: Shop) -> None:
    from sync_pipeline.magento.edition import staging_update
    from sync_pipeline.magento.watermark import read_watermark

    before = read_watermark(shop.engine)
    assert before.staging_version > 1
    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
    with shop.engine.begin() as conn:  # an update scheduled earlier whose start has just passed
        conn.execute(sa.insert(staging_update).values(id=int(started.replace(tzinfo=UTC).timestamp()),
                                                      start_time=started, name="Flash sale"))
    after = read_watermark(shop.engine)
    assert after.changes_since(before) == [f"a scheduled update went live (version {after.staging_version})"]
