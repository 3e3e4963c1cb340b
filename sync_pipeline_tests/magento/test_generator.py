"""The generator writes a catalog laid out like a real Magento 2.4 install, deterministically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generate import main as generate_cli
from sync_pipeline.magento.generator import generate_catalog

from .conftest import TODAY, Shop


@pytest.fixture
def edition() -> str:
    """These tests read Open Source's tables by name (test_commerce.py covers Commerce's)."""
    return "open_source"


def _dump(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for table in m.metadata.sorted_tables
            if table.name != "core_config_data"  # its updated_at is the server clock
        }


def test_same_seed_and_day_give_the_same_catalog(engine: sa.Engine) -> None:
    first = generate_catalog(engine, products=80, seed=5, dirty=True, today=TODAY)
    first_rows = _dump(engine)
    again = generate_catalog(engine, products=80, seed=5, dirty=True, today=TODAY, replace=True)
    assert _dump(engine) == first_rows
    assert again == first
    other = generate_catalog(engine, products=80, seed=6, dirty=True, today=TODAY, replace=True)
    assert _dump(engine) != first_rows
    assert other.sellable_ids != first.sellable_ids or other.candidate_ids != first.candidate_ids


def test_refuses_to_write_over_an_existing_catalog(shop: Shop) -> None:
    with pytest.raises(ValueError, match="already holds a catalog"):
        generate_catalog(shop.engine, products=5, seed=1, today=TODAY)


def test_stores_entity_types_and_attributes_look_like_an_install(shop: Shop) -> None:
    with shop.engine.connect() as conn:
        stores = dict(conn.execute(sa.select(m.store.c.code, m.store.c.store_id)).tuples().all())
        types = dict(conn.execute(sa.select(m.eav_entity_type.c.entity_type_code,
                                            m.eav_entity_type.c.entity_type_id)).tuples().all())
        material = conn.execute(sa.select(m.eav_attribute.c.backend_type, m.eav_attribute.c.frontend_input).where(
            m.eav_attribute.c.attribute_code == "material", m.eav_attribute.c.entity_type_id == 4)).one()
        activity_type = conn.execute(sa.select(m.eav_attribute.c.backend_type).where(
            m.eav_attribute.c.attribute_code == "activity")).scalar_one()
        name_ids = conn.execute(sa.select(m.eav_attribute.c.attribute_id).where(
            m.eav_attribute.c.attribute_code == "name")).scalars().all()
        base_url = conn.execute(sa.select(m.core_config_data.c.value).where(
            m.core_config_data.c.path == "web/unsecure/base_url")).scalar_one()
    assert stores == {"admin": 0, "default": 1, "fr": 2}
    assert types["catalog_category"] == 3 and types["catalog_product"] == 4
    assert tuple(material) == ("text", "multiselect")
    assert activity_type == "varchar"  # an older multiselect kept in _varchar
    assert len(name_ids) == 2  # category name and product name are different attributes
    assert base_url == "http://magento.example.test/"


def test_category_tree_is_the_agreed_one(shop: Shop) -> None:
    with shop.engine.connect() as conn:
        rows = conn.execute(sa.select(m.catalog_category_entity.c.entity_id, m.catalog_category_entity.c.path,
                                      m.catalog_category_entity.c.level)).tuples().all()
    by_id = {entity_id: (path, level) for entity_id, path, level in rows}
    assert by_id[1] == ("1", 0) and by_id[2] == ("1/2", 1)
    reader = shop.reader()
    assert sorted(reader._records.category_paths.values()) == sorted([
        "Men", "Women", "Gear", "Men/Tops", "Men/Bottoms", "Women/Tops", "Women/Bottoms",
        "Gear/Bags", "Gear/Fitness Equipment", "Gear/Watches",
    ])


def test_children_are_not_visible_individually(shop: Shop) -> None:
    with shop.engine.connect() as conn:
        visibility_id = conn.execute(sa.select(m.eav_attribute.c.attribute_id).where(
            m.eav_attribute.c.attribute_code == "visibility", m.eav_attribute.c.entity_type_id == 4)).scalar_one()
        child_visibility = conn.execute(sa.select(m.catalog_product_entity_int.c.entity_id,
                                                  m.catalog_product_entity_int.c.value).where(
            m.catalog_product_entity_int.c.attribute_id == visibility_id,
            m.catalog_product_entity_int.c.entity_id.in_(sorted(shop.catalog.child_ids)))).tuples().all()
    assert shop.catalog.child_ids
    assert {entity_id for entity_id, _ in child_visibility} == set(shop.catalog.child_ids)
    assert {value for _, value in child_visibility} == {1}


def test_scaled_catalog_keeps_about_a_tenth_sellable(engine: sa.Engine) -> None:
    catalog = generate_catalog(engine, products=2000, seed=3, today=TODAY)
    assert catalog.products == len(catalog.candidate_ids) == 2000
    assert catalog.entities == 2000 + catalog.children
    assert 0.07 < len(catalog.sellable_ids) / catalog.products < 0.14


def test_cli_generates_and_refuses_a_second_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--url", url, "--products", "30", "--seed", "2", "--today", "2025-06-01"]
    assert generate_cli(args) == 0
    assert "30 products" in capsys.readouterr().out
    assert generate_cli(args) == 2
    assert "already holds a catalog" in capsys.readouterr().err
    assert generate_cli([*args, "--replace", "--dirty"]) == 0
