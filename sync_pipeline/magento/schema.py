"""The Magento 2.4 catalog tables the extractor reads, as SQLAlchemy Core.

Table names, column names, types, unique keys and indexes follow Magento Open Source 2.4.7's
declarative schema (decimal(20,6) and mediumtext value columns, multiselect values in ``_text``),
so that the reader is tested against the layout a real shop has. Only the tables the extractor
needs are here; everything else a real install has (quotes, orders, indexer tables) is absent on
purpose. The MSI tables (Magento_Inventory*, repository magento/inventory) are in their own
``msi_metadata`` (``schema_msi.py``, re-exported here): a shop may run without them, and the
reader detects which it has. Column types: ``schema_columns.py``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento.schema_columns import (
    MYSQL,
    fk,
    flag,
    innodb,
    mediumtext,
    now,
    smallint,
    timestamp,
    uint,
    usmallint,
    zero,
)
from sync_pipeline.magento.schema_msi import (
    MSI_TABLES,
    inventory_reservation,
    inventory_source,
    inventory_source_item,
    inventory_source_stock_link,
    inventory_stock,
    inventory_stock_sales_channel,
    msi_metadata,
)

__all__ = [  # the MSI tables and column types are part of this module's surface (``m.inventory_*``)
    "MSI_TABLES", "inventory_reservation", "inventory_source", "inventory_source_item",
    "inventory_source_stock_link", "inventory_stock", "inventory_stock_sales_channel", "msi_metadata",
    "uint", "usmallint",
]

metadata = sa.MetaData()

# --- stores -------------------------------------------------------------------------------------

store_website = sa.Table(
    "store_website", metadata,
    sa.Column("website_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(32)),
    sa.Column("name", sa.String(64)),
    sa.Column("sort_order", usmallint(), nullable=False, server_default=zero()),
    sa.Column("default_group_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_default", usmallint(), server_default=zero()),
    sa.UniqueConstraint("code", name="STORE_WEBSITE_CODE"),
    sa.Index("STORE_WEBSITE_SORT_ORDER", "sort_order"),
    sa.Index("STORE_WEBSITE_DEFAULT_GROUP_ID", "default_group_id"),
)

store_group = sa.Table(
    "store_group", metadata,
    sa.Column("group_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("website_id", usmallint(), fk("store_website.website_id"), nullable=False,
              server_default=zero()),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("root_category_id", uint(), nullable=False, server_default=zero()),
    sa.Column("default_store_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("code", sa.String(32)),
    sa.UniqueConstraint("code", name="STORE_GROUP_CODE"),
    sa.Index("STORE_GROUP_WEBSITE_ID", "website_id"),
    sa.Index("STORE_GROUP_DEFAULT_STORE_ID", "default_store_id"),
)

store = sa.Table(
    "store", metadata,
    sa.Column("store_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(32)),
    sa.Column("website_id", usmallint(), fk("store_website.website_id"), nullable=False,
              server_default=zero()),
    sa.Column("group_id", usmallint(), fk("store_group.group_id"), nullable=False, server_default=zero()),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("sort_order", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_active", usmallint(), nullable=False, server_default=zero()),
    sa.UniqueConstraint("code", name="STORE_CODE"),
    sa.Index("STORE_WEBSITE_ID", "website_id"),
    sa.Index("STORE_IS_ACTIVE_SORT_ORDER", "is_active", "sort_order"),
    sa.Index("STORE_GROUP_ID", "group_id"),
)

core_config_data = sa.Table(
    "core_config_data", metadata,
    sa.Column("config_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(8), nullable=False, server_default="default"),
    sa.Column("scope_id", sa.Integer(), nullable=False, server_default=zero()),
    sa.Column("path", sa.String(255), nullable=False, server_default="general"),
    sa.Column("value", mediumtext()),
    sa.Column("updated_at", timestamp(), nullable=False, server_default=now()),
    sa.UniqueConstraint("scope", "scope_id", "path", name="CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH"),
)

# --- EAV metadata -------------------------------------------------------------------------------

eav_entity_type = sa.Table(
    "eav_entity_type", metadata,
    sa.Column("entity_type_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("entity_type_code", sa.String(50), nullable=False),
    sa.Column("entity_model", sa.String(255), nullable=False),
    sa.Column("attribute_model", sa.String(255)),
    sa.Column("entity_table", sa.String(255)),
    sa.Column("value_table_prefix", sa.String(255)),
    sa.Column("entity_id_field", sa.String(255)),
    sa.Column("is_data_sharing", usmallint(), nullable=False, server_default=sa.text("1")),
    sa.Column("data_sharing_key", sa.String(100), server_default="default"),
    sa.Column("default_attribute_set_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("increment_model", sa.String(255)),
    sa.Column("increment_per_store", usmallint(), nullable=False, server_default=zero()),
    sa.Column("increment_pad_length", usmallint(), nullable=False, server_default=sa.text("8")),
    sa.Column("increment_pad_char", sa.String(1), nullable=False, server_default="0"),
    sa.Column("additional_attribute_table", sa.String(255)),
    sa.Column("entity_attribute_collection", sa.String(255)),
    sa.Index("EAV_ENTITY_TYPE_ENTITY_TYPE_CODE", "entity_type_code"),
)

eav_attribute = sa.Table(
    "eav_attribute", metadata,
    sa.Column("attribute_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("entity_type_id", usmallint(), fk("eav_entity_type.entity_type_id"), nullable=False,
              server_default=zero()),
    sa.Column("attribute_code", sa.String(255), nullable=False),
    sa.Column("attribute_model", sa.String(255)),
    sa.Column("backend_model", sa.String(255)),
    sa.Column("backend_type", sa.String(8), nullable=False, server_default="static"),
    sa.Column("backend_table", sa.String(255)),
    sa.Column("frontend_model", sa.String(255)),
    sa.Column("frontend_input", sa.String(50)),
    sa.Column("frontend_label", sa.String(255)),
    sa.Column("frontend_class", sa.String(255)),
    sa.Column("source_model", sa.String(255)),
    sa.Column("is_required", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_user_defined", usmallint(), nullable=False, server_default=zero()),
    sa.Column("default_value", sa.Text()),
    sa.Column("is_unique", usmallint(), nullable=False, server_default=zero()),
    sa.Column("note", sa.String(255)),
    sa.UniqueConstraint("entity_type_id", "attribute_code", name="EAV_ATTRIBUTE_ENTITY_TYPE_ID_ATTRIBUTE_CODE"),
    sa.Index("EAV_ATTRIBUTE_FRONTEND_INPUT_ENTITY_TYPE_ID_IS_USER_DEFINED",
             "frontend_input", "entity_type_id", "is_user_defined"),
)

catalog_eav_attribute = sa.Table(
    "catalog_eav_attribute", metadata,
    sa.Column("attribute_id", usmallint(), fk("eav_attribute.attribute_id"), primary_key=True,
              autoincrement=False),
    sa.Column("frontend_input_renderer", sa.String(255)),
    sa.Column("is_global", usmallint(), nullable=False, server_default=sa.text("1")),
    *(
        sa.Column(flag, usmallint(), nullable=False, server_default=zero())
        for flag in (
            "is_visible", "is_searchable", "is_filterable", "is_comparable", "is_visible_on_front",
            "is_html_allowed_on_front", "is_used_for_price_rules", "is_filterable_in_search",
            "used_in_product_listing", "used_for_sort_by",
        )
    ),
    sa.Column("apply_to", sa.String(255)),
    sa.Column("is_visible_in_advanced_search", usmallint(), nullable=False, server_default=zero()),
    sa.Column("position", sa.Integer(), nullable=False, server_default=zero()),
    sa.Column("is_wysiwyg_enabled", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_used_for_promo_rules", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_required_in_admin_store", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_used_in_grid", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_visible_in_grid", usmallint(), nullable=False, server_default=zero()),
    sa.Column("is_filterable_in_grid", usmallint(), nullable=False, server_default=zero()),
    sa.Column("search_weight", sa.Float(), nullable=False, server_default=sa.text("1")),
    sa.Column("additional_data", sa.Text()),
    sa.Index("CATALOG_EAV_ATTRIBUTE_USED_FOR_SORT_BY", "used_for_sort_by"),
    sa.Index("CATALOG_EAV_ATTRIBUTE_USED_IN_PRODUCT_LISTING", "used_in_product_listing"),
)

eav_attribute_set = sa.Table(
    "eav_attribute_set", metadata,
    sa.Column("attribute_set_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("entity_type_id", usmallint(), fk("eav_entity_type.entity_type_id"), nullable=False,
              server_default=zero()),
    sa.Column("attribute_set_name", sa.String(255)),
    sa.Column("sort_order", smallint(), nullable=False, server_default=zero()),
    sa.UniqueConstraint("entity_type_id", "attribute_set_name",
                        name="EAV_ATTRIBUTE_SET_ENTITY_TYPE_ID_ATTRIBUTE_SET_NAME"),
    sa.Index("EAV_ATTRIBUTE_SET_ENTITY_TYPE_ID_SORT_ORDER", "entity_type_id", "sort_order"),
)

eav_attribute_option = sa.Table(
    "eav_attribute_option", metadata,
    sa.Column("option_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("attribute_id", usmallint(), fk("eav_attribute.attribute_id"), nullable=False,
              server_default=zero()),
    sa.Column("sort_order", usmallint(), nullable=False, server_default=zero()),
    sa.Index("EAV_ATTRIBUTE_OPTION_ATTRIBUTE_ID", "attribute_id"),
)

# No unique key: Magento allows repeated labels and extra store-view rows.
eav_attribute_option_value = sa.Table(
    "eav_attribute_option_value", metadata,
    sa.Column("value_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("option_id", uint(), fk("eav_attribute_option.option_id"), nullable=False,
              server_default=zero()),
    sa.Column("store_id", usmallint(), fk("store.store_id"), nullable=False, server_default=zero()),
    sa.Column("value", sa.String(255)),
    sa.Index("EAV_ATTRIBUTE_OPTION_VALUE_OPTION_ID", "option_id"),
    sa.Index("EAV_ATTRIBUTE_OPTION_VALUE_STORE_ID", "store_id"),
)

# --- products -----------------------------------------------------------------------------------

catalog_product_entity = sa.Table(
    "catalog_product_entity", metadata,
    sa.Column("entity_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("attribute_set_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("type_id", sa.String(32), nullable=False, server_default="simple"),
    sa.Column("sku", sa.String(64), nullable=False),  # not unique: Magento enforces that in code only
    sa.Column("has_options", smallint(), nullable=False, server_default=zero()),
    sa.Column("required_options", usmallint(), nullable=False, server_default=zero()),
    sa.Column("created_at", timestamp(), nullable=False, server_default=now()),
    sa.Column("updated_at", timestamp(), nullable=False, server_default=now()),
    sa.Index("CATALOG_PRODUCT_ENTITY_ATTRIBUTE_SET_ID", "attribute_set_id"),
    sa.Index("CATALOG_PRODUCT_ENTITY_SKU", "sku"),
)


def _value_table(entity: str, backend_type: str, value_type: sa.types.TypeEngine[Any],
                 indexes: tuple[tuple[str, ...], ...]) -> sa.Table:
    """An EAV value table of an entity (``catalog_product_entity_int``...), named and keyed as Magento's."""
    name = f"{entity}_{backend_type}"
    prefix = name.upper()
    return sa.Table(
        name, metadata,
        sa.Column("value_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("attribute_id", usmallint(), fk("eav_attribute.attribute_id"), nullable=False,
                  server_default=zero()),
        sa.Column("store_id", usmallint(), fk("store.store_id"), nullable=False, server_default=zero()),
        sa.Column("entity_id", uint(), fk(f"{entity}.entity_id"), nullable=False, server_default=zero()),
        sa.Column("value", value_type),
        sa.UniqueConstraint("entity_id", "attribute_id", "store_id", name=f"{prefix}_ENTITY_ID_ATTRIBUTE_ID_STORE_ID"),
        *(sa.Index(f"{prefix}_{'_'.join(columns).upper()}", *columns) for columns in indexes),
    )


def _product_value_table(backend_type: str, value_type: sa.types.TypeEngine[Any]) -> sa.Table:
    indexes: tuple[tuple[str, ...], ...] = (("attribute_id",), ("store_id",))
    if backend_type == "int":
        indexes += (("attribute_id", "store_id", "value"),)
    return _value_table("catalog_product_entity", backend_type, value_type, indexes)


catalog_product_entity_varchar = _product_value_table("varchar", sa.String(255))
catalog_product_entity_int = _product_value_table("int", sa.Integer())
catalog_product_entity_decimal = _product_value_table("decimal", sa.Numeric(20, 6))
catalog_product_entity_text = _product_value_table("text", mediumtext())
catalog_product_entity_datetime = _product_value_table("datetime", sa.DateTime())

PRODUCT_VALUE_TABLES: dict[str, sa.Table] = {
    "varchar": catalog_product_entity_varchar,
    "int": catalog_product_entity_int,
    "decimal": catalog_product_entity_decimal,
    "text": catalog_product_entity_text,
    "datetime": catalog_product_entity_datetime,
}

catalog_product_website = sa.Table(
    "catalog_product_website", metadata,
    sa.Column("product_id", uint(), fk("catalog_product_entity.entity_id"), primary_key=True),
    sa.Column("website_id", usmallint(), fk("store_website.website_id"), primary_key=True),
    sa.Index("CATALOG_PRODUCT_WEBSITE_WEBSITE_ID", "website_id"),
)

catalog_product_super_attribute = sa.Table(
    "catalog_product_super_attribute", metadata,
    sa.Column("product_super_attribute_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("product_id", uint(), fk("catalog_product_entity.entity_id"), nullable=False,
              server_default=zero()),
    sa.Column("attribute_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("position", usmallint(), nullable=False, server_default=zero()),
    sa.UniqueConstraint("product_id", "attribute_id", name="CATALOG_PRODUCT_SUPER_ATTRIBUTE_PRODUCT_ID_ATTRIBUTE_ID"),
)

catalog_product_super_link = sa.Table(
    "catalog_product_super_link", metadata,
    sa.Column("link_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("product_id", uint(), fk("catalog_product_entity.entity_id"), nullable=False,
              server_default=zero()),  # the child
    sa.Column("parent_id", uint(), fk("catalog_product_entity.entity_id"), nullable=False,
              server_default=zero()),
    sa.UniqueConstraint("product_id", "parent_id", name="CATALOG_PRODUCT_SUPER_LINK_PRODUCT_ID_PARENT_ID"),
    sa.Index("CATALOG_PRODUCT_SUPER_LINK_PARENT_ID", "parent_id"),
)

catalog_product_relation = sa.Table(
    "catalog_product_relation", metadata,
    sa.Column("parent_id", uint(), fk("catalog_product_entity.entity_id"), primary_key=True),
    sa.Column("child_id", uint(), fk("catalog_product_entity.entity_id"), primary_key=True),
    sa.Index("CATALOG_PRODUCT_RELATION_CHILD_ID", "child_id"),
)

# --- categories ---------------------------------------------------------------------------------

catalog_category_entity = sa.Table(
    "catalog_category_entity", metadata,
    sa.Column("entity_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("attribute_set_id", usmallint(), nullable=False, server_default=zero()),
    sa.Column("parent_id", uint(), nullable=False, server_default=zero()),
    sa.Column("created_at", timestamp(), nullable=False, server_default=now()),
    sa.Column("updated_at", timestamp(), nullable=False, server_default=now()),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False, server_default=zero()),
    sa.Column("children_count", sa.Integer(), nullable=False),
    sa.Index("CATALOG_CATEGORY_ENTITY_LEVEL", "level"),
    sa.Index("CATALOG_CATEGORY_ENTITY_PATH", "path"),
)


def _category_value_table(backend_type: str, value_type: sa.types.TypeEngine[Any]) -> sa.Table:
    return _value_table("catalog_category_entity", backend_type, value_type,
                        (("entity_id",), ("attribute_id",), ("store_id",)))


catalog_category_entity_varchar = _category_value_table("varchar", sa.String(255))
catalog_category_entity_int = _category_value_table("int", sa.Integer())

CATEGORY_VALUE_TABLES: dict[str, sa.Table] = {
    "varchar": catalog_category_entity_varchar,
    "int": catalog_category_entity_int,
}

catalog_category_product = sa.Table(
    "catalog_category_product", metadata,
    sa.Column("entity_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("category_id", uint(), fk("catalog_category_entity.entity_id"), primary_key=True,
              server_default=zero()),
    sa.Column("product_id", uint(), fk("catalog_product_entity.entity_id"), primary_key=True,
              server_default=zero()),
    sa.Column("position", sa.Integer(), nullable=False, server_default=zero()),
    sa.UniqueConstraint("category_id", "product_id", name="CATALOG_CATEGORY_PRODUCT_CATEGORY_ID_PRODUCT_ID"),
    sa.Index("CATALOG_CATEGORY_PRODUCT_PRODUCT_ID", "product_id"),
)
# --- media gallery ------------------------------------------------------------------------------

catalog_product_entity_media_gallery = sa.Table(
    "catalog_product_entity_media_gallery", metadata,
    sa.Column("value_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("attribute_id", usmallint(), fk("eav_attribute.attribute_id"), nullable=False,
              server_default=zero()),
    sa.Column("value", sa.String(255)),
    sa.Column("media_type", sa.String(32), nullable=False, server_default="image"),
    sa.Column("disabled", usmallint(), nullable=False, server_default=zero()),
    sa.Index("CATALOG_PRODUCT_ENTITY_MEDIA_GALLERY_ATTRIBUTE_ID", "attribute_id"),
)

catalog_product_entity_media_gallery_value = sa.Table(
    "catalog_product_entity_media_gallery_value", metadata,
    sa.Column("value_id", uint(), fk("catalog_product_entity_media_gallery.value_id"), nullable=False,
              server_default=zero()),
    sa.Column("store_id", usmallint(), fk("store.store_id"), nullable=False, server_default=zero()),
    sa.Column("entity_id", uint(), fk("catalog_product_entity.entity_id"), nullable=False,
              server_default=zero()),
    sa.Column("label", sa.String(255)),
    sa.Column("position", uint()),
    sa.Column("disabled", usmallint(), nullable=False, server_default=zero()),
    sa.Column("record_id", uint(), primary_key=True, autoincrement=True),
    sa.Index("CATALOG_PRODUCT_ENTITY_MEDIA_GALLERY_VALUE_STORE_ID", "store_id"),
    sa.Index("CATALOG_PRODUCT_ENTITY_MEDIA_GALLERY_VALUE_ENTITY_ID", "entity_id"),
    sa.Index("CATALOG_PRODUCT_ENTITY_MEDIA_GALLERY_VALUE_VALUE_ID", "value_id"),
    sa.Index("CAT_PRD_ENTT_MDA_GLR_VAL_ENTT_ID_VAL_ID_STORE_ID",  # Magento shortens names over 64 chars
             "entity_id", "value_id", "store_id"),
)

catalog_product_entity_media_gallery_value_to_entity = sa.Table(
    "catalog_product_entity_media_gallery_value_to_entity", metadata,
    sa.Column("value_id", uint(), fk("catalog_product_entity_media_gallery.value_id"), primary_key=True),
    sa.Column("entity_id", uint(), fk("catalog_product_entity.entity_id"), primary_key=True),
)

# --- stock --------------------------------------------------------------------------------------

cataloginventory_stock = sa.Table(
    "cataloginventory_stock", metadata,
    sa.Column("stock_id", usmallint(), primary_key=True, autoincrement=True),
    sa.Column("website_id", usmallint(), nullable=False),
    sa.Column("stock_name", sa.String(255)),
    sa.Index("CATALOGINVENTORY_STOCK_WEBSITE_ID", "website_id"),
)


cataloginventory_stock_item = sa.Table(
    "cataloginventory_stock_item", metadata,
    sa.Column("item_id", uint(), primary_key=True, autoincrement=True),
    sa.Column("product_id", uint(), fk("catalog_product_entity.entity_id"), nullable=False,
              server_default=zero()),
    sa.Column("stock_id", usmallint(), fk("cataloginventory_stock.stock_id"), nullable=False,
              server_default=zero()),
    sa.Column("qty", sa.Numeric(12, 4)),
    sa.Column("min_qty", sa.Numeric(12, 4), nullable=False, server_default=zero()),
    flag("use_config_min_qty", 1),
    flag("is_qty_decimal", 0),
    flag("backorders", 0),
    flag("use_config_backorders", 1),
    sa.Column("min_sale_qty", sa.Numeric(12, 4), nullable=False, server_default=sa.text("1")),
    flag("use_config_min_sale_qty", 1),
    sa.Column("max_sale_qty", sa.Numeric(12, 4), nullable=False, server_default=zero()),
    flag("use_config_max_sale_qty", 1),
    flag("is_in_stock", 0),
    sa.Column("low_stock_date", timestamp(), nullable=True),
    sa.Column("notify_stock_qty", sa.Numeric(12, 4)),
    flag("use_config_notify_stock_qty", 1),
    flag("manage_stock", 0),
    flag("use_config_manage_stock", 1),
    flag("stock_status_changed_auto", 0),
    flag("use_config_qty_increments", 1),
    sa.Column("qty_increments", sa.Numeric(12, 4), nullable=False, server_default=zero()),
    flag("use_config_enable_qty_inc", 1),
    flag("enable_qty_increments", 0),
    flag("is_decimal_divided", 0),
    sa.Column("website_id", usmallint(), nullable=False, server_default=zero()),
    sa.UniqueConstraint("product_id", "stock_id", name="CATALOGINVENTORY_STOCK_ITEM_PRODUCT_ID_STOCK_ID"),
    sa.Index("CATALOGINVENTORY_STOCK_ITEM_WEBSITE_ID", "website_id"),
    sa.Index("CATALOGINVENTORY_STOCK_ITEM_STOCK_ID", "stock_id"),
)




innodb(metadata.tables.values())


def create_magento_schema(engine: sa.Engine, *, msi: bool = False) -> None:
    """Create the catalog tables if they are missing (SQLite or MySQL/MariaDB), the MSI ones if asked.

    This is Magento Open Source's layout; ``edition.create_commerce_schema`` makes Adobe Commerce's.
    """
    metadata.create_all(engine)
    if msi:
        msi_metadata.create_all(engine)
    category_links_auto_increment(engine)


def category_links_auto_increment(engine: sa.Engine) -> None:
    if engine.dialect.name in MYSQL:
        # Magento numbers category links with AUTO_INCREMENT inside a composite key, which SQLite
        # cannot declare (there the writer supplies entity_id itself). MODIFY is idempotent.
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "ALTER TABLE catalog_category_product MODIFY entity_id INT NOT NULL AUTO_INCREMENT"
            )


def drop_magento_schema(engine: sa.Engine) -> None:
    """Drop the catalog tables of either edition (the Commerce ones are reflected: same names, other keys)."""
    msi_metadata.drop_all(engine)
    present = sa.MetaData()
    present.reflect(engine, only=lambda name, _meta: name in metadata.tables or name in _COMMERCE_ONLY)
    present.drop_all(engine)


_COMMERCE_ONLY = ("sequence_product", "sequence_catalog_category", "staging_update")
