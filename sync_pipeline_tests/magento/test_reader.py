"""The reader turns the EAV catalog into sellable products, on SQLite and on MariaDB alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.reader import MagentoCatalogReader

from .conftest import TODAY, Shop, found, full_pass, rejected

MEDIA = "http://magento.example.test/media/catalog/product"
LEAVES = {"Men/Tops", "Men/Bottoms", "Women/Tops", "Women/Bottoms", "Gear/Bags", "Gear/Fitness Equipment",
          "Gear/Watches"}


def _one(shop: Shop, feature: str, **reader_args: Any) -> Any:
    source_id = shop.catalog.feature(feature)
    chunk = shop.reader(**reader_args).read_products([source_id])
    assert [p.source_id for p in chunk.products] == [source_id]
    return chunk.products[0]


def _attribute_id(conn: sa.Connection, code: str) -> int:
    return int(conn.execute(sa.select(m.eav_attribute.c.attribute_id).where(
        m.eav_attribute.c.attribute_code == code, m.eav_attribute.c.entity_type_id == 4)).scalar_one())


# --- the import rule and paging -----------------------------------------------------------------


def test_empty_catalog(engine: sa.Engine) -> None:
    generate_catalog(engine, products=0, seed=1, today=TODAY)
    reader = MagentoCatalogReader(engine, today=TODAY)
    assert reader.max_source_id() == 0
    assert full_pass(reader) == []
    assert reader.changed_since(datetime(2000, 1, 1), up_to_id=10) == []
    assert reader.stock_and_status([]) == {}
    missing = reader.read_products([5])
    assert missing.products == [] and [r.source_id for r in missing.rejected] == [5]


def test_a_full_pass_returns_exactly_the_sellable_products(shop: Shop) -> None:
    reader = shop.reader()
    chunks = full_pass(reader, chunk_size=500)
    products, rejects = found(chunks), rejected(chunks)
    assert set(products) | set(rejects) == shop.catalog.sellable_ids
    assert set(rejects) == set(shop.catalog.expected_rejections)
    assert all(p.is_sellable for p in products.values())
    assert sum(c.examined for c in chunks) == len(shop.catalog.candidate_ids)
    assert chunks[-1].last_source_id == reader.max_source_id() == max(shop.catalog.candidate_ids)


def test_children_never_come_back_as_products(shop: Shop) -> None:
    chunks = full_pass(shop.reader(), chunk_size=500)
    assert not set(found(chunks)) & shop.catalog.child_ids
    assert shop.reader().max_source_id() not in shop.catalog.child_ids


def test_paging_by_cursor_and_limit_covers_every_candidate_once(shop: Shop) -> None:
    reader = shop.reader()
    whole = found(full_pass(reader))
    seen: dict[int, Any] = {}
    examined: list[int] = []
    cursor = 0
    while True:
        page = full_pass(reader, after_id=cursor, limit=13, chunk_size=4)
        if not page:
            break
        assert all(chunk.examined <= 4 for chunk in page)
        assert sum(chunk.examined for chunk in page) <= 13
        for chunk in page:
            assert all(cursor < p.source_id <= chunk.last_source_id for p in chunk.products)
            seen.update({p.source_id: p for p in chunk.products})
            examined.append(chunk.examined)
        cursor = page[-1].last_source_id
    assert seen == whole
    assert sum(examined) == len(shop.catalog.candidate_ids)


def test_limit_counts_candidates_not_products(shop: Shop) -> None:
    chunks = full_pass(shop.reader(), limit=5, chunk_size=2)
    assert [c.examined for c in chunks] == [2, 2, 1]
    assert chunks[-1].last_source_id == shop.catalog.candidate_ids[4]
    assert full_pass(shop.reader(), limit=0) == []


def test_queries_per_chunk_do_not_grow_with_the_chunk(shop: Shop) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    most_per_chunk = {}
    reader = shop.reader()
    sa.event.listen(shop.engine, "before_cursor_execute", count)
    try:
        for size in (3, 60):
            per_chunk = []
            for chunk in reader.iter_products(after_id=0, limit=None, chunk_size=size):
                if chunk.products:
                    per_chunk.append(len(statements))
                statements.clear()
            most_per_chunk[size] = max(per_chunk)
    finally:
        sa.event.remove(shop.engine, "before_cursor_execute", count)
    # A fixed set of queries a chunk (one per value table, ...), never one per product: twenty times
    # the candidates cost no more queries.
    assert most_per_chunk[60] <= 19 and most_per_chunk[3] <= 19


# --- values, store views and options ------------------------------------------------------------


def test_store_view_values_override_store_zero(shop: Shop) -> None:
    assert _one(shop, "name_override").title == "Juno Tank - Web Edition"
    assert _one(shop, "name_override", store_code="fr").title == "Débardeur Juno"
    assert _one(shop, "null_store_name").title == "Atlas Backpack"  # a NULL store-view row hides nothing
    assert _one(shop, "price_override").price == Decimal("72.50")
    assert _one(shop, "price_override", store_code="fr").price == Decimal("80.00")


def test_store_view_status_decides_sellability(shop: Shop) -> None:
    default_found = found(full_pass(shop.reader()))
    fr_found = found(full_pass(shop.reader(store_code="fr")))
    disabled_here = shop.catalog.feature("store_disabled")
    enabled_here = shop.catalog.feature("store_enabled")
    assert disabled_here not in default_found and disabled_here in fr_found
    assert enabled_here in default_found and enabled_here not in fr_found
    assert _one(shop, "store_disabled").is_enabled is False
    assert shop.catalog.feature("disabled") not in default_found


def test_unknown_store_code_is_a_clear_error(shop: Shop) -> None:
    with pytest.raises(ValueError, match="no store view with code 'nl'.*default"):
        shop.reader(store_code="nl")


def test_select_and_multiselect_labels_with_store_fallback(shop: Shop) -> None:
    product = _one(shop, "multiselect")
    assert product.attributes["material"] == "Organic Cotton, Cocona&reg; performance fabric"
    assert product.attributes["activity"] == "Trail & Hiking, Yoga"  # multiselect kept in _varchar
    french = _one(shop, "multiselect", store_code="fr")
    assert french.attributes["material"] == "Coton, Cocona&reg; performance fabric"
    assert french.attributes["activity"] == "Hiking, Yoga"
    odd = _one(shop, "unknown_option_id")  # "12,987654,,15": deleted ids and empty pieces ignored
    assert odd.attributes["material"] == "Organic Cotton, Wool"
    assert "status" not in product.attributes and "visibility" not in product.attributes


def test_user_defined_text_attribute_with_store_fallback(shop: Shop) -> None:
    """A typed-in attribute (no options) is extracted too, so a store mapping can name it."""
    tank = _one(shop, "free_text_attribute")
    assert tank.attributes == {"fabric_composition": "95% organic cotton, 5% elastane"}  # store view value;
    # no meta_title nor url_key: core text attributes, not user-defined
    assert _one(shop, "free_text_attribute", store_code="fr").attributes == {"fabric_composition": "Cotton blend"}


def test_user_defined_attributes_of_every_typed_in_kind(engine: sa.Engine) -> None:
    """Text, number, price and yes/no attributes an owner added: their values as the storefront shows
    them (store view over store 0); dates and core attributes stay out."""
    catalog = generate_catalog(engine, products=30, seed=11, today=TODAY)
    source_id = catalog.feature("multiselect")
    added = [("care", "text", "textarea"), ("strap_length", "decimal", "weight"), ("pieces", "int", "text"),
             ("list_price", "decimal", "price"), ("launched_on", "datetime", "date")]
    with engine.begin() as conn:
        conn.execute(sa.insert(m.eav_attribute), [
            {"entity_type_id": 4, "attribute_code": code, "backend_type": backend, "frontend_input": kind,
             "is_user_defined": 1, "frontend_label": code} for code, backend, kind in added])
        values = [("care", "text", 0, "Hand wash only"), ("strap_length", "decimal", 0, Decimal("12.5")),
                  ("pieces", "int", 0, 3), ("list_price", "decimal", 0, Decimal("100")),
                  ("launched_on", "datetime", 0, datetime(2025, 1, 1)),
                  ("eco_collection", "int", 0, 1), ("eco_collection", "int", 1, 0)]
        for code, backend, store_id, value in values:
            conn.execute(sa.insert(m.PRODUCT_VALUE_TABLES[backend]).values(
                entity_id=source_id, attribute_id=_attribute_id(conn, code), store_id=store_id, value=value))
    attributes = MagentoCatalogReader(engine, today=TODAY).read_products([source_id]).products[0].attributes
    typed_in = {k: v for k, v in attributes.items() if k not in ("material", "activity", "manufacturer")}
    assert typed_in == {"care": "Hand wash only", "strap_length": "12.5", "pieces": "3", "list_price": "100",
                        "eco_collection": "No"}  # no launched_on (a date), no meta_title (core)
    fr = MagentoCatalogReader(engine, store_code="fr", today=TODAY).read_products([source_id]).products[0]
    assert fr.attributes["eco_collection"] == "Yes"


def test_configurable_with_variants_and_options(shop: Shop) -> None:
    parent = found(full_pass(shop.reader()))[shop.catalog.feature("configurable")]
    options = {v.sku.rsplit("-", 2)[-2] + "-" + v.sku.rsplit("-", 1)[-1]: v.options for v in parent.variants}
    assert options == {
        "S-Blue": {"size": "S", "color": "Blue"}, "M-Blue": {"size": "M", "color": "Blue"},
        "L-Blue": {"size": "L", "color": "Blue"}, "S-Gray": {"size": "S", "color": "Grey"},
        "M-Gray": {"size": "M", "color": "Grey"},
    }
    assert parent.price == Decimal("35")  # lowest *sellable* child: 29 is out of stock, 30 disabled
    assert parent.stock_qty == 5 + 7 + 3
    assert [v.is_sellable for v in parent.variants] == [True, True, False, False, True]
    assert parent.categories == ("Men/Tops",)
    assert all(v.source_id in shop.catalog.child_ids for v in parent.variants)
    french = _one(shop, "configurable", store_code="fr")
    assert {v.options["color"] for v in french.variants} == {"Bleu", "Gris"}


def test_configurables_without_a_sellable_child_are_left_out(shop: Shop) -> None:
    products = found(full_pass(shop.reader()))
    assert shop.catalog.feature("configurable_no_sellable_child") not in products
    assert shop.catalog.feature("configurable_children_disabled") not in products
    flags = _one(shop, "configurable_children_disabled")
    assert flags.is_enabled and not flags.is_in_stock and flags.stock_qty == 0


# --- stock --------------------------------------------------------------------------------------


def test_stock_rules(shop: Shop) -> None:
    products = found(full_pass(shop.reader()))
    unmanaged = products[shop.catalog.feature("manage_stock_off")]
    assert unmanaged.type_id == "simple" and unmanaged.stock_qty == 0 and not unmanaged.manages_stock
    for feature in ("out_of_stock", "in_stock_flag_zero_qty", "negative_qty"):
        assert shop.catalog.feature(feature) not in products, feature
    assert _one(shop, "negative_qty").stock_qty == -3


def test_magentos_backorders_flag_keeps_a_sold_out_product_sellable(shop: Shop) -> None:
    """Backorders (1 or 2) with Magento's in-stock flag on: sellable at 0, as Magento sells it; the
    config default applies under use_config_backorders, and an item's own setting overrides it."""
    sold_out = shop.catalog.feature("in_stock_flag_zero_qty")  # is_in_stock 1, qty 0
    assert sold_out not in found(full_pass(shop.reader()))
    with shop.engine.begin() as conn:
        conn.execute(sa.insert(m.core_config_data).values(
            scope="default", scope_id=0, path="cataloginventory/item_options/backorders", value="1"))
    products = found(full_pass(shop.reader()))
    record = products[sold_out]
    assert (record.backorders, record.stock_qty, record.is_sellable) == (True, 0, True)
    assert shop.catalog.feature("out_of_stock") not in products  # Magento's flag says out of stock
    assert shop.reader().stock_and_status([sold_out])[sold_out].is_sellable
    si = m.cataloginventory_stock_item
    with shop.engine.begin() as conn:  # the item's own "No Backorders" wins over the config
        conn.execute(si.update().where(si.c.product_id == sold_out).values(backorders=0, use_config_backorders=0))
    assert sold_out not in found(full_pass(shop.reader()))
    with shop.engine.begin() as conn:  # 2: allow and notify the customer
        conn.execute(si.update().where(si.c.product_id == sold_out).values(backorders=2))
    assert found(full_pass(shop.reader()))[sold_out].backorders


def test_manage_stock_config_default_is_honoured(shop: Shop) -> None:
    with shop.engine.begin() as conn:
        conn.execute(m.core_config_data.update().where(
            m.core_config_data.c.path == "cataloginventory/item_options/manage_stock").values(value="0"))
    products = found(full_pass(shop.reader()))
    assert shop.catalog.feature("out_of_stock") in products  # uses the config: stock no longer managed


# --- categories, images, prices -----------------------------------------------------------------


def test_category_paths_below_the_store_root(shop: Shop) -> None:
    products = found(full_pass(shop.reader()))
    assert all(set(p.categories) <= LEAVES for p in products.values())
    assert products[shop.catalog.feature("name_override")].categories == ("Women/Tops",)
    assert _one(shop, "name_override", store_code="fr").categories == ("Femmes/Hauts",)
    assert products[shop.catalog.feature("manage_stock_off")].categories == ()


def test_images_base_first_then_position_hidden_left_out(shop: Shop) -> None:
    sku = "show-000"
    assert _one(shop, "hidden_image").images == (f"{MEDIA}/s/h/{sku}_1.jpg", f"{MEDIA}/s/h/{sku}_2.jpg")
    reordered = _one(shop, "gallery_store_positions")  # base role on file 3; store view reverses positions
    files = [url.rsplit("_", 1)[-1] for url in reordered.images]
    assert files == ["3.jpg", "2.jpg", "1.jpg"]
    assert [u.rsplit("_", 1)[-1] for u in _one(shop, "gallery_store_positions", store_code="fr").images] == [
        "3.jpg", "1.jpg", "2.jpg"]
    no_selection = _one(shop, "no_selection")
    assert [u.rsplit("_", 1)[-1] for u in no_selection.images] == ["1.jpg", "2.jpg"]
    assert _one(shop, "no_image").images == ()
    custom = _one(shop, "hidden_image", media_base_url="https://cdn.example.test/media/catalog/product/")
    assert custom.images[0] == f"https://cdn.example.test/media/catalog/product/s/h/{sku}_1.jpg"


def test_variant_carries_its_own_image(shop: Shop) -> None:
    parent = _one(shop, "configurable")
    with_image = [v for v in parent.variants if v.image]
    assert len(with_image) == 1 and with_image[0].sku.endswith("-S-Blue")
    assert with_image[0].image.startswith(MEDIA + "/")  # type: ignore[union-attr]


def test_special_price_only_inside_its_window(shop: Shop) -> None:
    assert _one(shop, "special_active").special_price == Decimal("39.99")
    assert _one(shop, "special_expired").special_price is None
    assert _one(shop, "special_future").special_price is None
    later = TODAY + timedelta(days=5)
    assert _one(shop, "special_future", today=later).special_price == Decimal("39.99")
    assert _one(shop, "special_active", today=TODAY + timedelta(days=6)).special_price is None


# --- dirty rows ---------------------------------------------------------------------------------


def test_broken_but_sellable_products_are_rejected_with_a_reason(shop: Shop) -> None:
    rejects = rejected(full_pass(shop.reader()))
    reasons = {kind: rejects[shop.catalog.feature(kind)].reason for kind in
               ("null_price", "zero_price", "empty_name", "duplicate_sku")}
    assert reasons["null_price"] == "price is missing"
    assert reasons["zero_price"] == "price 0 is not positive"
    assert reasons["empty_name"] == "name is empty"
    original = shop.catalog.feature("duplicate_sku_original")
    assert f"duplicates SKU 'MG-DUP-001' of product {original}" in reasons["duplicate_sku"]
    assert original in found(full_pass(shop.reader()))


def test_dirty_text_is_returned_exactly_as_stored(shop: Shop) -> None:
    products = found(full_pass(shop.reader()))

    def title(kind: str) -> str:
        return products[shop.catalog.feature(kind)].title

    assert title("html_entity_name") == "Cocona&trade; Running Tee &amp; More"
    assert title("emoji_name") == "Summer Tote 🌞👜"
    assert len(title("long_name")) == 255 and title("long_name").endswith("🎒")
    assert products[shop.catalog.feature("empty_url_key")].url_key is None
    twins = [products[i].url_key for i in shop.catalog.dirty["duplicate_url_key"]]
    assert twins == ["duplicated-url-key", "duplicated-url-key"]
    assert products[shop.catalog.feature("no_image")].images == ()
    assert products[shop.catalog.feature("unknown_option_id")].price is not None
    for kind in ("store_view_disabled", "configurable_children_disabled", "negative_qty"):
        assert shop.catalog.feature(kind) not in products, kind


# --- incremental helpers ------------------------------------------------------------------------


def test_changed_since_maps_children_to_parents(shop: Shop) -> None:
    reader = shop.reader()
    with shop.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(m.catalog_product_entity.c.updated_at))).scalar_one()
    since = newest + timedelta(seconds=1)
    assert reader.changed_since(since, up_to_id=10**9) == []
    parent = shop.catalog.feature("configurable")
    child = min(v.source_id for v in _one(shop, "configurable").variants)
    simple = shop.catalog.feature("special_active")
    last = max(shop.catalog.candidate_ids)
    touched = since + timedelta(hours=1)
    with shop.engine.begin() as conn:
        conn.execute(m.catalog_product_entity.update().where(
            m.catalog_product_entity.c.entity_id.in_([child, simple, last])).values(updated_at=touched))
    assert reader.changed_since(since, up_to_id=last - 1) == sorted([parent, simple])
    assert reader.changed_since(since.replace(tzinfo=UTC), up_to_id=last) == sorted([parent, simple, last])
    assert reader.changed_since(touched, up_to_id=last) == []


def test_stock_and_status_agrees_with_full_records(shop: Shop) -> None:
    reader = shop.reader()
    ids = list(shop.catalog.candidate_ids)
    statuses = reader.stock_and_status(ids)
    records = {p.source_id: p for p in reader.read_products(ids).products}
    assert set(statuses) == set(records) == set(ids)
    for source_id, status in statuses.items():
        product = records[source_id]
        assert (status.enabled, status.in_stock, status.qty) == (
            product.is_enabled, product.is_in_stock, product.stock_qty), source_id
    assert {i for i, s in statuses.items() if s.is_sellable} == shop.catalog.sellable_ids


def test_stock_and_status_is_the_same_whether_children_are_asked_for_or_not(shop: Shop) -> None:
    """Children asked for alongside their parents are read once and serve both answers."""
    reader = shop.reader()
    candidates = reader.read_products(shop.catalog.candidate_ids).products
    parents = sorted(p.source_id for p in candidates if p.type_id == "configurable")
    children = sorted(shop.catalog.child_ids)
    assert parents and children
    parents_alone = reader.stock_and_status(parents)
    children_alone = reader.stock_and_status(children)
    together = reader.stock_and_status(parents + children)
    assert together == parents_alone | children_alone
    variants = {v.source_id: v for p in reader.read_products(parents).products for v in p.variants}
    for child_id, status in children_alone.items():
        variant = variants[child_id]
        assert (status.enabled, status.in_stock, status.qty) == (
            variant.is_enabled, variant.is_in_stock, variant.stock_qty), child_id
    assert any(s.is_sellable for s in parents_alone.values())
    assert any(not s.is_sellable for s in children_alone.values())


def test_read_products_ignores_the_import_rule(shop: Shop) -> None:
    disabled = shop.catalog.feature("disabled")
    chunk = shop.reader().read_products([disabled, 10**8])
    assert [p.source_id for p in chunk.products] == [disabled]
    assert not chunk.products[0].is_enabled and not chunk.products[0].is_sellable
    assert [(r.source_id, r.reason) for r in chunk.rejected] == [(10**8, "not in the Magento catalog")]


def test_scaled_catalog_reads_consistently(engine: sa.Engine) -> None:
    catalog = generate_catalog(engine, products=2000, seed=21, dirty=True, today=TODAY)
    reader = MagentoCatalogReader(engine, today=TODAY)
    chunks = full_pass(reader, chunk_size=250)
    assert set(found(chunks)) | set(rejected(chunks)) == catalog.sellable_ids
    assert max(c.examined for c in chunks) == 250
    statuses = reader.stock_and_status(catalog.candidate_ids)
    assert {i for i, s in statuses.items() if s.is_sellable} == catalog.sellable_ids
    assert reader.today == TODAY and isinstance(reader.today, date)


# --- decisions per variant ----------------------------------------------------------------------


def test_one_bad_child_leaves_the_product_with_its_good_variants(shop: Shop) -> None:
    source_id = shop.catalog.feature("configurable_bad_children")
    chunks = full_pass(shop.reader())
    assert source_id not in rejected(chunks)
    parent = found(chunks)[source_id]
    by_size = {v.options["size"]: v for v in parent.variants}
    assert {size: v.problem for size, v in by_size.items()} == {
        "S": None, "M": "no price", "L": "no stock row", "XL": "disabled"}
    assert [size for size, v in by_size.items() if v.is_sellable] == ["S"]
    assert (parent.price, parent.stock_qty, parent.is_sellable) == (Decimal("31"), 6, True)
    assert parent.variant_problems == [(by_size[s].sku, why) for s, why in
                                       (("M", "no price"), ("L", "no stock row"), ("XL", "disabled"))]


def test_a_child_of_two_configurables_is_a_variant_of_both(shop: Shop) -> None:
    first, second = shop.catalog.dirty["shared_child"]
    products = found(full_pass(shop.reader()))
    shared = products[first].variants[0]
    assert shared.sku in {v.sku for v in products[second].variants}
    assert len(products[second].variants) == 2 and all(v.is_sellable for v in products[second].variants)


def test_types_not_synced_are_counted_per_type(shop: Shop) -> None:
    chunks = full_pass(shop.reader(), chunk_size=7)
    counted: dict[str, int] = {}
    for chunk in chunks:
        for type_id, count in chunk.unsynced_types.items():
            counted[type_id] = counted.get(type_id, 0) + count
    assert counted == shop.catalog.unsynced_types == {"bundle": 1, "grouped": 1, "downloadable": 1, "virtual": 1}
    every = set(found(chunks)) | set(rejected(chunks))
    # The virtual one is enabled, on the website and in stock: left out for its type alone.
    unsynced = {i for tag in ("unsynced_bundle", "unsynced_grouped", "unsynced_virtual") for i in shop.catalog.dirty[tag]}
    assert not every & unsynced
    virtual = shop.reader().read_products(shop.catalog.dirty["unsynced_virtual"]).products[0]
    assert virtual.type_id == "virtual" and virtual.is_enabled and virtual.is_in_stock and not virtual.is_sellable


def test_unsynced_products_after_the_last_candidate_are_counted(shop: Shop) -> None:
    """The last chunk counts what follows the last candidate, even when it is full."""
    last = shop.reader().max_source_id()
    shop.add_entities([{"entity_id": last + 500 + k, "type_id": kind, "sku": f"LATE-{kind}", "attribute_set_id": 4}
                       for k, kind in enumerate(("bundle", "virtual", "grouped"))])
    expected = dict(shop.catalog.unsynced_types)
    for kind in ("bundle", "virtual", "grouped"):
        expected[kind] += 1
    candidates = len(shop.catalog.candidate_ids)
    for chunk_size in (candidates, 7, candidates + 5):  # the last chunk full, partial, the only one
        counted: dict[str, int] = {}
        for chunk in full_pass(shop.reader(), chunk_size=chunk_size):
            for type_id, count in chunk.unsynced_types.items():
                counted[type_id] = counted.get(type_id, 0) + count
        assert counted == expected, chunk_size


def test_a_catalog_of_unsynced_products_alone_is_counted(engine: sa.Engine) -> None:
    generate_catalog(engine, products=0, seed=1, today=TODAY)
    with engine.begin() as conn:
        conn.execute(sa.insert(m.catalog_product_entity), [{"entity_id": 7, "type_id": "bundle", "sku": "B"}])
    chunks = full_pass(MagentoCatalogReader(engine, today=TODAY))
    assert [(c.examined, c.products, c.unsynced_types) for c in chunks] == [(0, [], {"bundle": 1})]
