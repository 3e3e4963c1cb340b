"""What a Magento installer writes before any product: stores, EAV metadata, options, categories, MSI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator.commerce import category_rows
from sync_pipeline.magento.generator.design import (
    ADMIN_STORE,
    ARRAY_BACKEND,
    BASE_URL,
    CATEGORY_ATTRIBUTES,
    CATEGORY_TREE,
    CATEGORY_TYPE_ID,
    DEFAULT_STORE,
    EU_STORE,
    FR_STORE,
    MSI_SOURCES,
    MSI_STOCKS,
    OPTIONS,
    PRODUCT_ATTRIBUTES,
    PRODUCT_TYPE_ID,
)

# --- installation: stores, EAV metadata, options, categories -----------------------------------


@dataclass
class Install:
    attr: dict[str, int]  # product attribute code -> id (looked up, not assumed)
    category_attr: dict[str, int]
    options: dict[str, dict[str, int]]  # attribute code -> admin label -> option_id
    category_ids: dict[str, int]  # "Men/Tops" -> entity_id
    gallery_attr: int
    attribute_sets: dict[str, int]


def install_base(conn: sa.Connection, today: date, commerce: bool = False) -> Install:
    _install_stores(conn)
    _install_entity_types(conn)
    attribute_sets = _install_attribute_sets(conn)
    _install_attributes(conn)
    attr = _attribute_ids(conn, PRODUCT_TYPE_ID)
    category_attr = _attribute_ids(conn, CATEGORY_TYPE_ID)
    options = _install_options(conn, attr)
    category_ids = _install_categories(conn, category_attr, attribute_sets["category"], today, commerce)
    conn.execute(m.cataloginventory_stock.insert(), [{"stock_id": 1, "website_id": 0, "stock_name": "Default"}])
    conn.execute(m.core_config_data.insert(), [
        {"scope": "default", "scope_id": 0, "path": "web/unsecure/base_url", "value": BASE_URL},
        {"scope": "default", "scope_id": 0, "path": "web/secure/base_url", "value": BASE_URL.replace("http:", "https:")},
        {"scope": "default", "scope_id": 0, "path": "cataloginventory/item_options/manage_stock", "value": "1"},
        {"scope": "default", "scope_id": 0, "path": "catalog/price/scope", "value": "1"},
    ])
    return Install(attr, category_attr, options, category_ids, attr["media_gallery"], attribute_sets)


def _install_stores(conn: sa.Connection) -> None:
    # Magento's installer inserts the admin rows with id 0 explicitly; MySQL needs this mode for it.
    on_mysql = conn.dialect.name in ("mysql", "mariadb")
    if on_mysql:
        conn.exec_driver_sql("SET @sync_saved_sql_mode = @@sql_mode")
        conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    conn.execute(m.store_website.insert(), [
        {"website_id": 0, "code": "admin", "name": "Admin", "sort_order": 0, "default_group_id": 0, "is_default": 0},
        {"website_id": 1, "code": "base", "name": "Main Website", "sort_order": 0, "default_group_id": 1,
         "is_default": 1},
    ])
    conn.execute(m.store_group.insert(), [
        {"group_id": 0, "website_id": 0, "name": "Default", "root_category_id": 0, "default_store_id": 0,
         "code": "default"},
        {"group_id": 1, "website_id": 1, "name": "Main Website Store", "root_category_id": 2,
         "default_store_id": 1, "code": "main_website_store"},
    ])
    conn.execute(m.store.insert(), [
        {"store_id": ADMIN_STORE, "code": "admin", "website_id": 0, "group_id": 0, "name": "Admin",
         "sort_order": 0, "is_active": 1},
        {"store_id": DEFAULT_STORE, "code": "default", "website_id": 1, "group_id": 1,
         "name": "Default Store View", "sort_order": 0, "is_active": 1},
        {"store_id": FR_STORE, "code": "fr", "website_id": 1, "group_id": 1, "name": "French Store View",
         "sort_order": 1, "is_active": 1},
    ])
    if on_mysql:
        conn.exec_driver_sql("SET SESSION sql_mode = @sync_saved_sql_mode")


def install_msi(conn: sa.Connection) -> None:
    """Sources, stocks, their links and sales channels, and the second website the EU stock sells on."""
    conn.execute(m.store_website.insert(), [{"website_id": 2, "code": "eu", "name": "EU Website", "sort_order": 1,
                                             "default_group_id": 2, "is_default": 0}])
    conn.execute(m.store_group.insert(), [{"group_id": 2, "website_id": 2, "name": "EU Store", "root_category_id": 2,
                                           "default_store_id": EU_STORE, "code": "eu_store"}])
    conn.execute(m.store.insert(), [{"store_id": EU_STORE, "code": "eu", "website_id": 2, "group_id": 2,
                                     "name": "EU Store View", "sort_order": 0, "is_active": 1}])
    conn.execute(m.inventory_source.insert(), [{"source_code": code, "name": name, "enabled": enabled}
                                               for code, name, enabled in MSI_SOURCES])
    conn.execute(m.inventory_stock.insert(), [{"stock_id": sid, "name": name} for sid, name, _s, _w in MSI_STOCKS])
    conn.execute(m.inventory_source_stock_link.insert(), [
        {"stock_id": sid, "source_code": code, "priority": priority}
        for sid, _n, sources, _w in MSI_STOCKS for priority, code in enumerate(sources, start=1)])
    conn.execute(m.inventory_stock_sales_channel.insert(), [
        {"type": "website", "code": website, "stock_id": sid} for sid, _n, _s, website in MSI_STOCKS])
    conn.execute(m.core_config_data.insert(), [
        {"scope": "default", "scope_id": 0, "path": "cataloginventory/item_options/min_qty", "value": "0"}])


def _install_entity_types(conn: sa.Connection) -> None:
    rows = [
        (1, "customer", "customer_entity", None),
        (2, "customer_address", "customer_address_entity", None),
        (CATEGORY_TYPE_ID, "catalog_category", "catalog_category_entity", "catalog_eav_attribute"),
        (PRODUCT_TYPE_ID, "catalog_product", "catalog_product_entity", "catalog_eav_attribute"),
    ]
    conn.execute(m.eav_entity_type.insert(), [
        {"entity_type_id": type_id, "entity_type_code": code, "entity_model": f"Magento\\{code}", "entity_table": table,
         "default_attribute_set_id": type_id, "additional_attribute_table": extra}
        for type_id, code, table, extra in rows
    ])


def _install_attribute_sets(conn: sa.Connection) -> dict[str, int]:
    conn.execute(m.eav_attribute_set.insert(), [
        {"attribute_set_id": type_id, "entity_type_id": type_id, "attribute_set_name": "Default", "sort_order": 1}
        for type_id in (1, 2, CATEGORY_TYPE_ID, PRODUCT_TYPE_ID)
    ])
    conn.execute(m.eav_attribute_set.insert(), [
        {"entity_type_id": PRODUCT_TYPE_ID, "attribute_set_name": name, "sort_order": 0}
        for name in ("Top", "Bottom", "Gear")
    ])
    product_sets = dict(conn.execute(
        sa.select(m.eav_attribute_set.c.attribute_set_name, m.eav_attribute_set.c.attribute_set_id)
        .where(m.eav_attribute_set.c.entity_type_id == PRODUCT_TYPE_ID)
    ).tuples().all())
    return {"category": CATEGORY_TYPE_ID, "Default": product_sets["Default"], "Tops": product_sets["Top"],
            "Bottoms": product_sets["Bottom"], "Gear": product_sets["Gear"]}


def _install_attributes(conn: sa.Connection) -> None:
    # Category attributes first, as Magento's CategorySetup does, so product ids are not small.
    conn.execute(m.eav_attribute.insert(), [
        {"entity_type_id": CATEGORY_TYPE_ID, "attribute_code": code, "backend_type": backend,
         "frontend_input": input_type, "frontend_label": code.replace("_", " ").title()}
        for code, backend, input_type in CATEGORY_ATTRIBUTES
    ])
    conn.execute(m.eav_attribute.insert(), [
        {"entity_type_id": PRODUCT_TYPE_ID, "attribute_code": code, "backend_type": backend,
         "frontend_input": input_type, "source_model": source, "is_user_defined": user_defined,
         "frontend_label": label, "backend_model": ARRAY_BACKEND if input_type == "multiselect" else None}
        for code, backend, input_type, source, _scope, user_defined, label in PRODUCT_ATTRIBUTES
    ])
    ids = _attribute_ids(conn, PRODUCT_TYPE_ID)
    scopes = {code: scope for code, _b, _i, _s, scope, _u, _l in PRODUCT_ATTRIBUTES}
    category_ids = _attribute_ids(conn, CATEGORY_TYPE_ID)
    conn.execute(m.catalog_eav_attribute.insert(), [
        {"attribute_id": attribute_id, "is_global": scopes[code], "is_visible": 1,
         "is_filterable": int(code in ("color", "size", "material", "activity")),
         "is_visible_on_front": int(code in ("material", "activity", "manufacturer")),
         "apply_to": "simple,virtual,configurable" if code == "price" else None}
        for code, attribute_id in ids.items()
    ] + [{"attribute_id": attribute_id, "is_global": 0, "is_visible": 1, "is_filterable": 0, "is_visible_on_front": 0,
          "apply_to": None} for attribute_id in category_ids.values()])


def _attribute_ids(conn: sa.Connection, entity_type_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(m.eav_attribute.c.attribute_code, m.eav_attribute.c.attribute_id)
        .where(m.eav_attribute.c.entity_type_id == entity_type_id)
        .order_by(m.eav_attribute.c.attribute_id)
    ).tuples()
    return {code: int(attribute_id) for code, attribute_id in rows}


def _install_options(conn: sa.Connection, attr: dict[str, int]) -> dict[str, dict[str, int]]:
    options: dict[str, dict[str, int]] = {}
    for code, labels in OPTIONS.items():
        options[code] = {}
        for sort_order, (label, store_labels) in enumerate(labels.items()):
            inserted = conn.execute(
                m.eav_attribute_option.insert().values(attribute_id=attr[code], sort_order=sort_order)
            ).inserted_primary_key
            assert inserted is not None
            option_id = inserted[0]
            conn.execute(m.eav_attribute_option_value.insert(), [
                {"option_id": option_id, "store_id": store_id, "value": value}
                for store_id, value in [(ADMIN_STORE, label), *store_labels.items()]
            ])
            options[code][label] = int(option_id)
    return options


def _install_categories(conn: sa.Connection, attr: dict[str, int], attribute_set_id: int,
                        today: date, commerce: bool = False) -> dict[str, int]:
    entities: list[dict[str, Any]] = [
        {"entity_id": 1, "parent_id": 0, "path": "1", "position": 0, "level": 0, "children_count": 0},
        {"entity_id": 2, "parent_id": 1, "path": "1/2", "position": 1, "level": 1, "children_count": 0},
    ]
    names: list[tuple[int, str, str | None]] = [(1, "Root Catalog", None), (2, "Default Category", None)]
    ids: dict[str, int] = {}
    next_id = 3
    for position, (top, top_fr, leaves) in enumerate(CATEGORY_TREE, start=1):
        top_id = next_id
        next_id += 1
        entities.append({"entity_id": top_id, "parent_id": 2, "path": f"1/2/{top_id}", "position": position,
                         "level": 2, "children_count": len(leaves)})
        names.append((top_id, top, top_fr))
        ids[top] = top_id
        for leaf_position, (leaf, leaf_fr) in enumerate(leaves, start=1):
            entities.append({"entity_id": next_id, "parent_id": top_id, "path": f"1/2/{top_id}/{next_id}",
                             "position": leaf_position, "level": 3, "children_count": 0})
            names.append((next_id, leaf, leaf_fr))
            ids[f"{top}/{leaf}"] = next_id
            next_id += 1
    set_up_on = datetime.combine(today, time(8)) - timedelta(days=2000)
    for row in entities:
        row.update(attribute_set_id=attribute_set_id, created_at=set_up_on, updated_at=set_up_on)
    varchar_rows = [{"entity_id": cid, "attribute_id": attr["name"], "store_id": ADMIN_STORE, "value": name}
                    for cid, name, _fr in names]
    varchar_rows += [{"entity_id": cid, "attribute_id": attr["name"], "store_id": FR_STORE, "value": fr}
                     for cid, _name, fr in names if fr]
    varchar_rows += [{"entity_id": cid, "attribute_id": attr["url_key"], "store_id": ADMIN_STORE,
                      "value": name.lower().replace(" ", "-")} for cid, name, _fr in names if cid > 2]
    int_rows = [{"entity_id": cid, "attribute_id": attr[code], "store_id": ADMIN_STORE, "value": 1}
                for cid, _name, _fr in names for code in ("is_active", "include_in_menu")]
    if commerce:
        for table, rows in category_rows(entities, varchar_rows, int_rows):
            conn.execute(table.insert(), rows)
        return ids
    conn.execute(m.catalog_category_entity.insert(), entities)
    conn.execute(m.catalog_category_entity_varchar.insert(), varchar_rows)
    conn.execute(m.catalog_category_entity_int.insert(), int_rows)
    return ids

