"""A demo/test Magento 2.4 catalog, written into the real EAV tables the way a real install has it.

What a real shop has and this generator reproduces:

* stores: admin (0), ``default`` (1) and a second store view ``fr`` (2) on website ``base``;
  entity types 3 (category) and 4 (product); attribute sets; attributes inserted like setup code
  does (ids come from the database and are looked up by code, never assumed);
* simple products (one whose stock is not managed), configurable parents whose simple children
  carry ``size`` and ``color`` options and are not visible individually; with ``dirty=True`` also
  virtual, bundle, grouped and downloadable products, which the pipeline counts but does not sync;
* ``material`` (multiselect, option ids in ``_text``) and ``activity`` (an older multiselect still
  kept in ``_varchar``, as installs upgraded from before 2.4.4 have);
* store-view overrides of name, price and status; store-view option and category labels;
* stock items with qty / is_in_stock / manage_stock flags; a category tree under
  "Default Category"; a media gallery with positions, hidden images and the base ``image`` role;
  special prices with active, expired and future windows; ``web/unsecure/base_url``.

About 10% of the top-level products are sellable (enabled and in stock), like a shop that keeps
old products disabled. The first products of every catalog are a fixed *showcase*: each shows one
feature (``GeneratedCatalog.features`` names them) so tests can find them at any size. With
``dirty=True`` a second showcase of bad rows follows (``GeneratedCatalog.dirty``).

Over-long names: ``name`` is varchar(255) and MariaDB in strict mode refuses longer values, as
Magento's own validation does; so the "long name" dirty row has a name of exactly 255 characters
(ending in an emoji, i.e. 4-byte UTF-8) and a 1,000-character ``meta_keyword`` (a text attribute).

Everything is deterministic for a given ``seed`` and ``today``. ``commerce=True`` writes the same
catalog in Adobe Commerce's staging shape (``generator_commerce.py``): same current values, plus
past and scheduled versions of some products.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import edition
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator_commerce import CommerceRows, category_rows, install_staging

PRODUCT_TYPE_ID = 4
CATEGORY_TYPE_ID = 3
ADMIN_STORE, DEFAULT_STORE, FR_STORE = 0, 1, 2
BASE_URL = "http://magento.example.test/"
MEDIA_BASE_URL = BASE_URL + "media/catalog/product"
SELLABLE_SHARE = 0.10
BATCH_ROWS = 10_000

STATUS_ENABLED, STATUS_DISABLED = 1, 2
UNSYNCED_KINDS = ("virtual", "bundle", "grouped", "downloadable")  # written so imports count what they leave out
NOT_VISIBLE, VISIBLE_BOTH = 1, 4

_TABLE_SOURCE = "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table"
_ARRAY_BACKEND = "Magento\\Eav\\Model\\Entity\\Attribute\\Backend\\ArrayBackend"

# code, backend_type, frontend_input, source_model, is_global, is_user_defined, label
_PRODUCT_ATTRIBUTES: tuple[tuple[str, str, str, str | None, int, int, str], ...] = (
    ("name", "varchar", "text", None, 0, 0, "Product Name"),
    ("sku", "static", "text", None, 1, 0, "SKU"),
    ("description", "text", "textarea", None, 0, 0, "Description"),
    ("short_description", "text", "textarea", None, 0, 0, "Short Description"),
    ("price", "decimal", "price", None, 1, 0, "Price"),
    ("special_price", "decimal", "price", None, 1, 0, "Special Price"),
    ("special_from_date", "datetime", "date", None, 2, 0, "Special Price From Date"),
    ("special_to_date", "datetime", "date", None, 2, 0, "Special Price To Date"),
    ("cost", "decimal", "price", None, 1, 0, "Cost"),
    ("weight", "decimal", "weight", None, 1, 0, "Weight"),
    ("manufacturer", "int", "select", _TABLE_SOURCE, 1, 0, "Manufacturer"),
    ("meta_title", "varchar", "text", None, 0, 0, "Meta Title"),
    ("meta_keyword", "text", "textarea", None, 0, 0, "Meta Keywords"),
    ("meta_description", "varchar", "textarea", None, 0, 0, "Meta Description"),
    ("image", "varchar", "media_image", None, 0, 0, "Base"),
    ("small_image", "varchar", "media_image", None, 0, 0, "Small"),
    ("thumbnail", "varchar", "media_image", None, 0, 0, "Thumbnail"),
    ("media_gallery", "static", "gallery", None, 0, 0, "Media Gallery"),
    ("color", "int", "select", _TABLE_SOURCE, 1, 0, "Color"),
    ("status", "int", "select", "Magento\\Catalog\\Model\\Product\\Attribute\\Source\\Status", 2, 0,
     "Enable Product"),
    ("tax_class_id", "int", "select", "Magento\\Tax\\Model\\TaxClass\\Source\\Product", 2, 0, "Tax Class"),
    ("url_key", "varchar", "text", None, 0, 0, "URL Key"),
    ("visibility", "int", "select", "Magento\\Catalog\\Model\\Product\\Visibility", 0, 0, "Visibility"),
    ("quantity_and_stock_status", "int", "select", "Magento\\CatalogInventory\\Model\\Source\\Stock", 1, 0,
     "Quantity"),
    ("eco_collection", "int", "boolean", "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Boolean", 1, 1,
     "Eco Collection"),
    ("size", "int", "select", _TABLE_SOURCE, 1, 1, "Size"),
    ("material", "text", "multiselect", _TABLE_SOURCE, 1, 1, "Material"),
    ("activity", "varchar", "multiselect", _TABLE_SOURCE, 1, 1, "Activity"),
)

_CATEGORY_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("name", "varchar", "text"),
    ("is_active", "int", "select"),
    ("url_key", "varchar", "text"),
    ("include_in_menu", "int", "select"),
)

# admin label -> {store_id: store-view label}
_OPTIONS: dict[str, dict[str, dict[int, str]]] = {
    "color": {
        "Black": {FR_STORE: "Noir"}, "Blue": {FR_STORE: "Bleu"}, "Gray": {DEFAULT_STORE: "Grey", FR_STORE: "Gris"},
        "Green": {FR_STORE: "Vert"}, "Red": {FR_STORE: "Rouge"}, "White": {FR_STORE: "Blanc"},
    },
    "size": {"XS": {}, "S": {}, "M": {}, "L": {}, "XL": {}},
    "material": {
        "Cotton": {DEFAULT_STORE: "Organic Cotton", FR_STORE: "Coton"}, "Polyester": {}, "Nylon": {},
        "Leather": {FR_STORE: "Cuir"}, "Wool": {}, "Cocona&reg; performance fabric": {},
    },
    "activity": {"Running": {}, "Yoga": {}, "Hiking": {DEFAULT_STORE: "Trail & Hiking"}, "Gym": {}},
    "manufacturer": {"Luma": {}, "Atlas Outfitters": {}, "Nimbus Co.": {}},
}

# (name at store 0, French name, children); the paths other code maps: keep them exactly.
CATEGORY_TREE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Men", "Hommes", (("Tops", "Hauts"), ("Bottoms", "Bas"))),
    ("Women", "Femmes", (("Tops", "Hauts"), ("Bottoms", "Bas"))),
    ("Gear", "Équipement", (("Bags", "Sacs"), ("Fitness Equipment", "Fitness"), ("Watches", "Montres"))),
)
APPAREL_LEAVES = ("Men/Tops", "Men/Bottoms", "Women/Tops", "Women/Bottoms")
GEAR_LEAVES = ("Gear/Bags", "Gear/Fitness Equipment", "Gear/Watches")

_ADJECTIVES = ("Endurance", "Summit", "Voyage", "Atlas", "Nimbus", "Harmony", "Pursuit", "Crown", "Zing",
               "Aero", "Orion", "Breathe-Easy", "Cobalt", "Juno", "Stellar")
_NOUNS = {
    "Tops": ("Tee", "Hoodie", "Tank", "Jacket", "Pullover"),
    "Bottoms": ("Short", "Pant", "Legging", "Jogger"),
    "Bags": ("Duffle", "Backpack", "Tote", "Messenger Bag"),
    "Fitness Equipment": ("Yoga Mat", "Kettlebell", "Foam Roller", "Resistance Band", "Water Bottle"),
    "Watches": ("Chronograph", "Smartwatch", "Sport Watch"),
}

# Insert order that satisfies the foreign keys.
_WRITE_ORDER = (
    m.catalog_product_entity, m.catalog_product_entity_varchar, m.catalog_product_entity_int,
    m.catalog_product_entity_decimal, m.catalog_product_entity_text, m.catalog_product_entity_datetime,
    m.catalog_product_website, m.catalog_product_super_attribute, m.catalog_product_super_link,
    m.catalog_product_relation, m.catalog_category_product, m.catalog_product_entity_media_gallery,
    m.catalog_product_entity_media_gallery_value, m.catalog_product_entity_media_gallery_value_to_entity,
    m.cataloginventory_stock_item,
)


@dataclass(frozen=True)
class GeneratedCatalog:
    """What was generated, with the facts tests need to check a reader against.

    ``sellable_ids``: top-level products the import rule accepts in store view ``default``
    (enabled there, on the website, in stock; a configurable with a sellable child), including
    the dirty ones the reader must turn into rejections (``expected_rejections``: id -> dirty kind).
    ``features``/``dirty``: showcase name -> the top-level source ids showing it.
    """

    products: int
    children: int
    entities: int
    seed: int
    today: date
    candidate_ids: tuple[int, ...]
    child_ids: frozenset[int]
    sellable_ids: frozenset[int]
    features: dict[str, tuple[int, ...]]
    dirty: dict[str, tuple[int, ...]]
    expected_rejections: dict[int, str]
    unsynced_types: dict[str, int] = field(default_factory=dict)  # bundle/grouped/... written, by type
    commerce: bool = False  # written in Adobe Commerce's staging shape
    staged_ids: tuple[int, ...] = ()  # Commerce: entities with a past and a scheduled version too
    base_url: str = BASE_URL
    media_base_url: str = MEDIA_BASE_URL

    def feature(self, name: str) -> int:
        """The first product that shows a showcase feature (clean or dirty)."""
        ids = self.features.get(name) or self.dirty.get(name)
        if not ids:
            raise KeyError(f"no product shows {name!r}; the catalog may be too small for the showcase")
        return ids[0]


@dataclass
class _Child:
    size: str
    color: str
    enabled: bool
    qty: int
    price: Decimal | None
    has_image: bool = False
    stock_row: bool = True  # False: no cataloginventory_stock_item row (a bad child)

    def is_sellable(self) -> bool:
        return self.enabled and self.qty > 0 and self.price is not None and self.stock_row


@dataclass
class _Plan:
    """One top-level product to write, before ids are known."""

    kind: str  # simple | configurable | one of UNSYNCED_KINDS
    leaf: str | None  # category path, e.g. "Gear/Bags"
    name: str
    sku: str
    price: Decimal | None
    enabled: bool = True
    store_status: int | None = None  # store-view status row for store `default`
    qty: int = 0
    in_stock_flag: bool = False
    manage_stock: bool = True
    children: list[_Child] = field(default_factory=list)
    images: int = 2
    hidden_image: bool = False
    base_image_position: int = 0  # which gallery entry carries the base `image` role
    image_role: str | None = None  # overrides the role value, e.g. "no_selection"
    gallery_store_positions: bool = False
    special: str | None = None  # active | expired | future | open
    name_override: str | None = None
    null_store_name: bool = False
    fr_name: str | None = None
    price_override: Decimal | None = None
    materials: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    raw_material_value: str | None = None
    url_key: str | None = None
    on_website: bool = True
    meta_keyword: str | None = None
    tags: tuple[str, ...] = ()  # showcase names this product shows
    dirty_kind: str | None = None  # set when the reader must reject it
    dirty_tags: tuple[str, ...] = ()
    shares_first_child_of: str | None = None  # SKU of an earlier configurable whose first child is also ours
    # MSI (msi=True only): source code -> (quantity, status) beyond the default source, which holds
    # ``qty``; reservations as (stock id, quantity, event); a per-product out-of-stock threshold.
    sources: dict[str, tuple[int, int]] = field(default_factory=dict)
    reservations: tuple[tuple[int, Decimal, str], ...] = ()
    min_qty: int | None = None

    def is_sellable(self, msi: bool = False) -> bool:
        enabled = self.store_status == STATUS_ENABLED if self.store_status is not None else self.enabled
        if not (enabled and self.on_website) or self.kind in UNSYNCED_KINDS:
            return False
        if self.kind == "configurable":
            return any(c.is_sellable() for c in self.children)
        if not self.manage_stock:
            return True
        if msi:
            flag, salable = self.salable_on_default_stock()
            return flag and salable > 0
        return self.in_stock_flag and self.qty > 0

    def salable_on_default_stock(self) -> tuple[bool, Decimal]:
        """MSI's verdict for stock 1: (a linked enabled source has it in stock, salable quantity)."""
        linked = {code for code in MSI_STOCKS[0][2] if dict((c, e) for c, _n, e in MSI_SOURCES)[code]}
        items = [("default", self.qty, int(self.in_stock_flag)), *((c, q, st) for c, (q, st) in self.sources.items())]
        in_stock = [q for code, q, status in items if code in linked and status == 1]
        reserved = sum((q for stock_id, q, _e in self.reservations if stock_id == 1), Decimal(0))
        return bool(in_stock), Decimal(sum(in_stock)) + reserved - (self.min_qty or 0)


def generate_catalog(
    engine: sa.Engine,
    *,
    products: int,
    seed: int,
    dirty: bool = False,
    today: date | None = None,
    replace: bool = False,
    msi: bool = False,
    commerce: bool = False,
) -> GeneratedCatalog:
    """Create the Magento tables and fill them with ``products`` top-level products.

    ``msi=True`` also writes Multi-Source Inventory: sources (one disabled), a second stock for a
    second website ``eu`` (store view ``eu``), a source item per stocked product in the default
    source (mirroring the legacy table, as Magento does) and the ``_MSI_SHOWCASE`` products with
    several sources and reservations of placed, shipped and cancelled orders. ``commerce=True``
    writes Adobe Commerce's staging tables (``row_id``, versions) instead of Open Source's.
    """
    if products < 0:
        raise ValueError(f"products must be >= 0, got {products}")
    today = today or date.today()
    if replace:
        m.drop_magento_schema(engine)
    if commerce:
        edition.create_commerce_schema(engine, msi=msi)
    else:
        m.create_magento_schema(engine, msi=msi)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(m.store)).scalar_one():
            raise ValueError("the Magento database already holds a catalog; use an empty one (or replace=True)")
        install = _install_base(conn, today, commerce=commerce)
        if msi:
            _install_msi(conn)
        rng = random.Random(seed)
        plans = _plan_catalog(rng, products, dirty)
        if msi:
            plans += [plan for n, factory in enumerate(_MSI_SHOWCASE) for plan in factory(rng, 950 + n)]
        staged = CommerceRows(install.attr, install_staging(conn, today)) if commerce else None
        writer = _CatalogWriter(conn, install, rng, today, msi=msi, commerce=staged)
        with _bulk_load(conn):
            for plan in plans:
                writer.write(plan)
            writer.flush_all()
    return writer.summary(products=len(plans), seed=seed)


@contextmanager
def _bulk_load(conn: sa.Connection) -> Iterator[None]:
    """On MySQL/MariaDB, skip per-row key checks while loading (as mysqldump files do): the
    generator's rows are consistent by construction, and the checks triple the server time."""
    on_mysql = conn.dialect.name in ("mysql", "mariadb")
    if on_mysql:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    try:
        yield
    finally:
        if on_mysql:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1, unique_checks = 1")


# --- installation: stores, EAV metadata, options, categories -----------------------------------


@dataclass
class _Install:
    attr: dict[str, int]  # product attribute code -> id (looked up, not assumed)
    category_attr: dict[str, int]
    options: dict[str, dict[str, int]]  # attribute code -> admin label -> option_id
    category_ids: dict[str, int]  # "Men/Tops" -> entity_id
    gallery_attr: int
    attribute_sets: dict[str, int]


def _install_base(conn: sa.Connection, today: date, commerce: bool = False) -> _Install:
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
    return _Install(attr, category_attr, options, category_ids, attr["media_gallery"], attribute_sets)


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


def _install_msi(conn: sa.Connection) -> None:
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
        for code, backend, input_type in _CATEGORY_ATTRIBUTES
    ])
    conn.execute(m.eav_attribute.insert(), [
        {"entity_type_id": PRODUCT_TYPE_ID, "attribute_code": code, "backend_type": backend,
         "frontend_input": input_type, "source_model": source, "is_user_defined": user_defined,
         "frontend_label": label, "backend_model": _ARRAY_BACKEND if input_type == "multiselect" else None}
        for code, backend, input_type, source, _scope, user_defined, label in _PRODUCT_ATTRIBUTES
    ])
    ids = _attribute_ids(conn, PRODUCT_TYPE_ID)
    scopes = {code: scope for code, _b, _i, _s, scope, _u, _l in _PRODUCT_ATTRIBUTES}
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
    for code, labels in _OPTIONS.items():
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


# --- planning: what each top-level product is ---------------------------------------------------


def _plan_catalog(rng: random.Random, products: int, dirty: bool) -> list[_Plan]:
    showcase = [factory(rng, n) for n, factory in enumerate(_SHOWCASE)]
    if dirty:
        showcase += [plan for n, factory in enumerate(_DIRTY_SHOWCASE) for plan in factory(rng, 900 + n)]
    plans = showcase[:products]
    plans += [_random_plan(rng, n) for n in range(len(plans), products)]
    return plans


def _price(rng: random.Random, low: int = 9, high: int = 180) -> Decimal:
    return Decimal(rng.randint(low, high)) + Decimal("0.99") if rng.random() < 0.7 else Decimal(rng.randint(low, high))


def _name(rng: random.Random, leaf: str) -> str:
    top, _, kind = leaf.partition("/")
    noun = rng.choice(_NOUNS[kind])
    prefix = {"Men": "Men's ", "Women": "Women's "}.get(top, "")
    return f"{prefix}{rng.choice(_ADJECTIVES)} {noun}"


def _children(rng: random.Random, base_price: Decimal, sellable: bool) -> list[_Child]:
    sizes = rng.sample(list(_OPTIONS["size"]), rng.randint(2, 3))
    colors = rng.sample(list(_OPTIONS["color"]), rng.randint(1, 2))
    children = []
    for size in sizes:
        for color in colors:
            stocked = sellable and rng.random() < 0.6
            children.append(_Child(size=size, color=color, enabled=rng.random() < 0.9,
                                   qty=rng.randint(1, 80) if stocked else 0,
                                   price=base_price + Decimal(rng.choice((0, 0, 2, 5)))))
    if sellable and not any(c.enabled and c.qty > 0 for c in children):
        children[0].enabled, children[0].qty = True, rng.randint(1, 40)
    return children


def _random_plan(rng: random.Random, n: int) -> _Plan:
    sellable = rng.random() < SELLABLE_SHARE
    if rng.random() < 0.2:
        leaf = rng.choice(APPAREL_LEAVES)
        price = _price(rng, 19, 120)
        plan = _Plan(kind="configurable", leaf=leaf, name=_name(rng, leaf), sku=f"MC{n:06d}", price=None,
                     children=_children(rng, price, sellable), qty=0, in_stock_flag=True)
        if rng.random() < 0.3:
            plan.price = price  # parents may carry a price row of their own; offers use the children's
    else:
        leaf = rng.choice(GEAR_LEAVES + APPAREL_LEAVES)
        plan = _Plan(kind="simple", leaf=leaf, name=_name(rng, leaf), sku=f"MS{n:06d}", price=_price(rng),
                     qty=rng.randint(1, 200), in_stock_flag=True)
    plan.images = rng.choice((0, 1, 1, 2, 2, 3, 4))
    plan.hidden_image = plan.images > 1 and rng.random() < 0.2
    plan.base_image_position = 1 if plan.images > 1 and rng.random() < 0.2 else 0
    if rng.random() < 0.12:
        plan.special = rng.choice(("active", "expired", "future", "open"))
    if rng.random() < 0.05:
        plan.name_override = f"{plan.name} - Online Exclusive"
    if rng.random() < 0.1:
        plan.fr_name = f"{plan.name} (FR)"
    if rng.random() < 0.03 and plan.price is not None:
        plan.price_override = plan.price - Decimal(1)
    if rng.random() < 0.3:
        plan.materials = tuple(rng.sample(list(_OPTIONS["material"]), rng.randint(1, 2)))
    if rng.random() < 0.15:
        plan.activities = tuple(rng.sample(list(_OPTIONS["activity"]), rng.randint(1, 2)))
    if not sellable:
        _make_unsellable(rng, plan)
    return plan


def _make_unsellable(rng: random.Random, plan: _Plan) -> None:
    roll = rng.random()
    if roll < 0.75:
        plan.enabled = False
    elif roll < 0.85:
        plan.store_status = STATUS_DISABLED
    elif plan.kind == "configurable":
        for child in plan.children:
            child.qty = 0
    else:
        plan.in_stock_flag, plan.qty = False, 0


def _simple(n: int, leaf: str | None = "Gear/Bags", **overrides: Any) -> _Plan:
    defaults: dict[str, Any] = {"kind": "simple", "leaf": leaf, "name": f"Showcase Product {n}",
                                "sku": f"SHOW-{n:03d}", "price": Decimal("49.99"), "qty": 25,
                                "in_stock_flag": True}
    defaults.update(overrides)
    return _Plan(**defaults)


def _showcase_configurable(rng: random.Random, n: int) -> _Plan:
    children = [
        _Child("S", "Blue", enabled=True, qty=5, price=Decimal("39.00"), has_image=True),
        _Child("M", "Blue", enabled=True, qty=7, price=Decimal("35.00")),
        _Child("L", "Blue", enabled=True, qty=0, price=Decimal("29.00")),  # cheapest, but out of stock
        _Child("S", "Gray", enabled=False, qty=9, price=Decimal("30.00")),  # cheaper, but disabled
        _Child("M", "Gray", enabled=True, qty=3, price=Decimal("36.00")),
    ]
    return _simple(n, "Men/Tops", kind="configurable", name="Men's Orion Hoodie", price=None, qty=0,
                   children=children, materials=("Cotton", "Polyester"), images=2, tags=("configurable",))


_SHOWCASE: tuple[Callable[[random.Random, int], _Plan], ...] = (
    lambda rng, n: _simple(n, images=3, hidden_image=True, special="active",
                           tags=("special_active", "hidden_image")),
    lambda rng, n: _simple(n, special="expired", tags=("special_expired",)),
    lambda rng, n: _simple(n, special="future", tags=("special_future",)),
    lambda rng, n: _simple(n, "Women/Tops", name="Women's Juno Tank", name_override="Juno Tank - Web Edition",
                           fr_name="Débardeur Juno", tags=("name_override",)),
    lambda rng, n: _simple(n, name="Atlas Backpack", null_store_name=True, tags=("null_store_name",)),
    lambda rng, n: _simple(n, price=Decimal("80.00"), price_override=Decimal("72.50"), tags=("price_override",)),
    lambda rng, n: _simple(n, store_status=STATUS_DISABLED, tags=("store_disabled",)),
    lambda rng, n: _simple(n, enabled=False, store_status=STATUS_ENABLED, tags=("store_enabled",)),
    # Made to order: Magento does not count its stock (qty 0, flag off), so it is always in stock.
    lambda rng, n: _simple(n, None, name="Made-to-Order Yoga Mat", manage_stock=False, qty=0,
                           in_stock_flag=False, images=1, tags=("manage_stock_off",)),
    lambda rng, n: _simple(n, in_stock_flag=False, qty=0, tags=("out_of_stock",)),
    lambda rng, n: _simple(n, in_stock_flag=True, qty=0, tags=("in_stock_flag_zero_qty",)),
    _showcase_configurable,
    lambda rng, n: _simple(n, "Women/Bottoms", kind="configurable", price=None, qty=0,
                           children=[_Child("S", "Red", True, 0, Decimal("20")), _Child("M", "Red", True, 0,
                                                                                         Decimal("20"))],
                           tags=("configurable_no_sellable_child",)),
    lambda rng, n: _simple(n, materials=("Cotton", "Cocona&reg; performance fabric"),
                           activities=("Hiking", "Yoga"), tags=("multiselect",)),
    lambda rng, n: _simple(n, images=2, image_role="no_selection", tags=("no_selection",)),
    lambda rng, n: _simple(n, enabled=False, tags=("disabled",)),
    lambda rng, n: _simple(n, images=3, gallery_store_positions=True, base_image_position=2,
                           tags=("gallery_store_positions",)),
    lambda rng, n: _simple(n, on_website=False, tags=("not_on_website",)),
)


def _dirty(tag: str, reject: bool = False, **overrides: Any) -> Callable[[random.Random, int], list[_Plan]]:
    def build(rng: random.Random, n: int) -> list[_Plan]:
        plan = _simple(n, **{"sku": f"DIRTY-{n:03d}", "name": f"Dirty Product {n}", **overrides})
        plan.dirty_tags = (tag,)
        plan.dirty_kind = tag if reject else None
        return [plan]

    return build


def _duplicate_sku(rng: random.Random, n: int) -> list[_Plan]:
    first = _simple(n, sku="MG-DUP-001", name="Duplicate Sku Original", dirty_tags=("duplicate_sku_original",))
    second = _simple(n + 50, sku="mg-dup-001 ", name="Duplicate Sku Copy", dirty_tags=("duplicate_sku",),
                     dirty_kind="duplicate_sku")
    return [first, second]


def _duplicate_url_key(rng: random.Random, n: int) -> list[_Plan]:
    return [_simple(n + k, sku=f"DIRTY-URL-{k}", url_key="duplicated-url-key", dirty_tags=("duplicate_url_key",))
            for k in range(2)]


# Reservations as Magento writes them: an order places a negative one; shipping it adds the
# compensating positive one (and deducts the source), and so does cancelling it.
_PLACED = ((1, Decimal("-3"), "order_placed"),)
_SHIPPED = ((1, Decimal("-2"), "order_placed"), (1, Decimal("2"), "shipment_created"))
_CANCELLED = ((1, Decimal("-1"), "order_placed"), (1, Decimal("1"), "order_canceled"))

# Only with msi=True, after every other showcase: a shop whose stock lives in several sources.
_MSI_SHOWCASE: tuple[Callable[[random.Random, int], list[_Plan]], ...] = (
    # default 10 + east 7 (retired's 50 is in a disabled source, west's 5 is out of stock),
    # reservations -3 placed, -2 +2 shipped, -1 +1 cancelled: salable 14 on the base website;
    # the EU stock (eu-warehouse only) has 4.
    lambda rng, n: [_simple(n, sku=f"MSI-{n:03d}", name="Multi Source Duffle", qty=10,
                            sources={"east": (7, 1), "retired": (50, 1), "west": (5, 0), "eu-warehouse": (4, 1)},
                            reservations=_PLACED + _SHIPPED + _CANCELLED, tags=("msi_multi_source",))],
    # The legacy table says 2 in stock, but an unshipped order reserved both: salable 0.
    lambda rng, n: [_simple(n, sku=f"MSI-{n:03d}", name="Reserved Out Tote", qty=2,
                            reservations=((1, Decimal("-2"), "order_placed"),), tags=("msi_reserved_out",))],
    # A per-product out-of-stock threshold of 2: 6 in the source, 4 salable.
    lambda rng, n: [_simple(n, sku=f"MSI-{n:03d}", name="Threshold Kettlebell", qty=6, min_qty=2,
                            tags=("msi_threshold",))],
    # Only in the east source: the legacy table (default source) has 0, MSI sells 9.
    lambda rng, n: [_simple(n, sku=f"MSI-{n:03d}", name="East Only Backpack", qty=0, in_stock_flag=False,
                            sources={"east": (9, 1)}, tags=("msi_other_source_only",))],
)
MSI_SOURCES = (("default", "Default Source", 1), ("east", "East Warehouse", 1), ("west", "West Warehouse", 1),
               ("retired", "Retired Warehouse", 0), ("eu-warehouse", "EU Warehouse", 1))
# stock id, name, linked sources, website code
MSI_STOCKS = ((1, "Default Stock", ("default", "east", "west", "retired"), "base"),
              (2, "EU Stock", ("eu-warehouse",), "eu"))
EU_STORE = 3


def _shared_child(rng: random.Random, n: int) -> list[_Plan]:
    """Two configurables sharing one simple child, which Magento allows."""
    first = _simple(n, "Men/Tops", kind="configurable", sku=f"SHARE-{n}-A", name="Men's Shared Tee A", price=None,
                    qty=0, children=[_Child("M", "White", True, 8, Decimal("22")), _Child("L", "White", True, 2,
                                                                                        Decimal("22"))],
                    dirty_tags=("shared_child",))
    second = _simple(n + 60, "Men/Tops", kind="configurable", sku=f"SHARE-{n}-B", name="Men's Shared Tee B",
                     price=None, qty=0, children=[_Child("S", "White", True, 3, Decimal("22"))],
                     shares_first_child_of=first.sku, dirty_tags=("shared_child",))
    return [first, second]


def _unsynced_types(rng: random.Random, n: int) -> list[_Plan]:
    return [_simple(n + k, None, kind=kind, sku=f"UNSYNCED-{k}-{kind.upper()}", name=f"A {kind} product",
                    dirty_tags=(f"unsynced_{kind}",))
            # Four plans, as before virtual joined them: the random products after them stay the same.
            for k, kind in enumerate(("bundle", "grouped", "virtual", "downloadable"))]


_LONG_NAME = ("Ultra Long Descriptive Product Title " * 7)[: 255 - 1] + "🎒"

_DIRTY_SHOWCASE: tuple[Callable[[random.Random, int], list[_Plan]], ...] = (
    _dirty("null_price", reject=True, price=None),
    _dirty("zero_price", reject=True, price=Decimal("0")),
    _dirty("empty_name", reject=True, name="   "),
    _dirty("negative_qty", qty=-3, in_stock_flag=True),
    _dirty("empty_url_key", url_key=""),
    _duplicate_url_key,
    _dirty("html_entity_name", name="Cocona&trade; Running Tee &amp; More"),
    _dirty("emoji_name", name="Summer Tote 🌞👜"),
    _dirty("long_name", name=_LONG_NAME, meta_keyword="keyword " * 125),
    _dirty("no_image", images=0),
    _dirty("store_view_disabled", store_status=STATUS_DISABLED),
    _dirty("configurable_children_disabled", kind="configurable", price=None, qty=0,
           children=[_Child("S", "Black", False, 10, Decimal("25")), _Child("M", "Black", False, 10, Decimal("25"))]),
    _dirty("unknown_option_id", raw_material_value="{cotton},987654,,{wool}"),
    _duplicate_sku,
    _dirty("configurable_bad_children", kind="configurable", price=None, qty=0, children=[
        _Child("S", "Green", True, 6, Decimal("31")),  # the one good child
        _Child("M", "Green", True, 4, None),  # enabled and in stock, but no price
        _Child("L", "Green", True, 5, Decimal("31"), stock_row=False),
        _Child("XL", "Green", False, 5, Decimal("31"))]),
    _shared_child,
    _unsynced_types,
)


# --- writing ------------------------------------------------------------------------------------


class _CatalogWriter:
    """Turns plans into rows and inserts them in executemany batches, in foreign-key order."""

    def __init__(self, conn: sa.Connection, install: _Install, rng: random.Random, today: date,
                 msi: bool = False, commerce: CommerceRows | None = None) -> None:
        self.conn, self.install, self.rng, self.today, self.msi = conn, install, rng, today, msi
        self.commerce = commerce
        self.attr = install.attr
        self.write_order = _WRITE_ORDER + ((m.inventory_source_item, m.inventory_reservation) if msi else ())
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {table: [] for table in self.write_order}
        self.pending = 0
        self.next_entity_id = 1
        self.next_gallery_id = 1
        self.next_link_id = 1
        self.source_item_keys: set[tuple[str, str]] = set()
        self.candidate_ids: list[int] = []
        self.child_ids: set[int] = set()
        self.sellable: set[int] = set()
        self.features: dict[str, list[int]] = {}
        self.dirty: dict[str, list[int]] = {}
        self.rejections: dict[int, str] = {}
        self.children_of: dict[str, list[int]] = {}
        self.unsynced: dict[str, int] = {}

    # public

    def write(self, plan: _Plan) -> None:
        child_ids = [self._write_child(plan, child) for child in plan.children]
        self.children_of[plan.sku] = child_ids
        if plan.shares_first_child_of:
            child_ids = [*child_ids, self.children_of[plan.shares_first_child_of][0]]
        entity_id = self._write_top_level(plan, child_ids)
        if plan.kind in UNSYNCED_KINDS:
            self.unsynced[plan.kind] = self.unsynced.get(plan.kind, 0) + 1
        else:
            self.candidate_ids.append(entity_id)
        if plan.is_sellable(self.msi):
            self.sellable.add(entity_id)
            if plan.dirty_kind:
                self.rejections[entity_id] = plan.dirty_kind
        for tag in plan.tags:
            self.features.setdefault(tag, []).append(entity_id)
        for tag in plan.dirty_tags:
            self.dirty.setdefault(tag, []).append(entity_id)
        if self.pending >= BATCH_ROWS:
            self.flush_all()

    def flush_all(self) -> None:
        batches = [(table, self.buffers[table]) for table in self.write_order if self.buffers[table]]
        if self.commerce is not None:
            batches = self.commerce.translate(batches)
        for table, rows in batches:
            self.conn.execute(table.insert(), rows)
        self.buffers = {table: [] for table in self.write_order}
        self.pending = 0

    def summary(self, *, products: int, seed: int) -> GeneratedCatalog:
        return GeneratedCatalog(
            products=products, children=len(self.child_ids), entities=self.next_entity_id - 1, seed=seed,
            today=self.today, candidate_ids=tuple(self.candidate_ids), child_ids=frozenset(self.child_ids),
            sellable_ids=frozenset(self.sellable),
            features={k: tuple(v) for k, v in self.features.items()},
            dirty={k: tuple(v) for k, v in self.dirty.items()},
            expected_rejections=dict(self.rejections), unsynced_types=dict(self.unsynced),
            commerce=self.commerce is not None,
            staged_ids=tuple(self.commerce.staged_ids) if self.commerce is not None else (),
        )

    # rows

    def _add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.pending += 1

    def _value(self, backend: str, entity_id: int, code: str, value: Any, store_id: int = ADMIN_STORE) -> None:
        table = m.PRODUCT_VALUE_TABLES[backend]
        self._add(table, {"entity_id": entity_id, "attribute_id": self.attr[code], "store_id": store_id,
                          "value": value})

    def _new_entity(self, plan: _Plan, sku: str, type_id: str) -> int:
        entity_id = self.next_entity_id
        self.next_entity_id += 1
        created = datetime.combine(self.today, time(9)) - timedelta(days=self.rng.randint(30, 1500),
                                                                    minutes=self.rng.randint(0, 600))
        updated = created + timedelta(days=self.rng.randint(0, 29))
        sets = self.install.attribute_sets
        leaf_kind = plan.leaf.split("/")[-1] if plan.leaf else "Default"
        attribute_set = sets.get(leaf_kind, sets["Gear"])
        self._add(m.catalog_product_entity, {
            "entity_id": entity_id, "attribute_set_id": attribute_set, "type_id": type_id, "sku": sku,
            "has_options": int(type_id == "configurable"), "required_options": int(type_id == "configurable"),
            "created_at": created, "updated_at": updated,
        })
        if plan.on_website:
            self._add(m.catalog_product_website, {"product_id": entity_id, "website_id": 1})
        return entity_id

    def _write_child(self, plan: _Plan, child: _Child) -> int:
        sku = f"{plan.sku}-{child.size}-{child.color}"
        entity_id = self._new_entity(plan, sku, "simple")
        self.child_ids.add(entity_id)
        self._value("varchar", entity_id, "name", f"{plan.name}-{child.size}-{child.color}")
        self._value("varchar", entity_id, "url_key", _slug(f"{plan.name} {child.size} {child.color} {sku}"))
        self._value("int", entity_id, "status", STATUS_ENABLED if child.enabled else STATUS_DISABLED)
        self._value("int", entity_id, "visibility", NOT_VISIBLE)
        self._value("int", entity_id, "tax_class_id", 2)
        self._value("int", entity_id, "size", self.install.options["size"][child.size])
        self._value("int", entity_id, "color", self.install.options["color"][child.color])
        if child.price is not None:
            self._value("decimal", entity_id, "price", child.price)
        self._value("decimal", entity_id, "weight", Decimal("0.5"))
        if child.has_image:
            self._gallery(entity_id, sku, 1, plan=None)
        if child.stock_row:
            self._stock(entity_id, qty=child.qty, in_stock=child.qty > 0, manage=True, sku=sku)
        return entity_id

    def _write_top_level(self, plan: _Plan, child_ids: list[int]) -> int:
        entity_id = self._new_entity(plan, plan.sku, plan.kind)
        self._texts(entity_id, plan)
        self._status_and_visibility(entity_id, plan)
        self._prices(entity_id, plan)
        self._options(entity_id, plan)
        if plan.leaf:
            self._add(m.catalog_category_product, {"entity_id": self._link_id(),
                                                   "category_id": self.install.category_ids[plan.leaf],
                                                   "product_id": entity_id, "position": 0})
        self._gallery(entity_id, plan.sku, plan.images, plan=plan)
        if plan.kind == "configurable":
            self._configurable_links(entity_id, child_ids)
            self._stock(entity_id, qty=0, in_stock=True, manage=True, sku=None)
        else:
            self._stock(entity_id, qty=plan.qty, in_stock=plan.in_stock_flag, manage=plan.manage_stock,
                        sku=plan.sku, min_qty=plan.min_qty)
        if self.msi:
            if "eu-warehouse" in plan.sources:
                self._add(m.catalog_product_website, {"product_id": entity_id, "website_id": 2})
            for source_code, (qty, status) in plan.sources.items():
                self._source_item(source_code, plan.sku, Decimal(qty), status)
            for stock_id, reserved, event in plan.reservations:
                self._add(m.inventory_reservation, {
                    "stock_id": stock_id, "sku": plan.sku, "quantity": reserved,
                    "metadata": f'{{"event_type":"{event}","object_type":"order","object_id":"{entity_id}"}}'})
        return entity_id

    def _texts(self, entity_id: int, plan: _Plan) -> None:
        self._value("varchar", entity_id, "name", plan.name)
        if plan.name_override:
            self._value("varchar", entity_id, "name", plan.name_override, DEFAULT_STORE)
        if plan.null_store_name:
            self._value("varchar", entity_id, "name", None, DEFAULT_STORE)
        if plan.fr_name:
            self._value("varchar", entity_id, "name", plan.fr_name, FR_STORE)
        url_key = plan.url_key if plan.url_key is not None else _slug(f"{plan.name} {plan.sku}")
        self._value("varchar", entity_id, "url_key", url_key)
        self._value("varchar", entity_id, "meta_title", plan.name[:255])
        if plan.meta_keyword:
            self._value("text", entity_id, "meta_keyword", plan.meta_keyword)
        self._value("text", entity_id, "description",
                    f"<p>The {plan.name} is built for every day.</p><ul><li>Machine wash</li></ul>")

    def _status_and_visibility(self, entity_id: int, plan: _Plan) -> None:
        self._value("int", entity_id, "status", STATUS_ENABLED if plan.enabled else STATUS_DISABLED)
        if plan.store_status is not None:
            # Website-scoped values are written for every store view of the website.
            for store_id in (DEFAULT_STORE, FR_STORE):
                status = plan.store_status if store_id == DEFAULT_STORE else (
                    STATUS_ENABLED if plan.enabled else STATUS_DISABLED)
                self._value("int", entity_id, "status", status, store_id)
        self._value("int", entity_id, "visibility", VISIBLE_BOTH)
        self._value("int", entity_id, "tax_class_id", 0 if plan.kind == "virtual" else 2)
        self._value("int", entity_id, "quantity_and_stock_status", 1)

    def _prices(self, entity_id: int, plan: _Plan) -> None:
        if plan.price is not None or plan.dirty_kind == "null_price":
            self._value("decimal", entity_id, "price", plan.price)
        if plan.price_override is not None:
            self._value("decimal", entity_id, "price", plan.price_override, DEFAULT_STORE)
        if plan.kind != "configurable":
            self._value("decimal", entity_id, "weight", Decimal(self.rng.randint(1, 40)) / 10)
        if plan.special and plan.price:
            self._special_price(entity_id, plan.price, plan.special)

    def _special_price(self, entity_id: int, price: Decimal, window: str) -> None:
        midnight = datetime.combine(self.today, time())
        start, end = {
            "active": (midnight - timedelta(days=5), midnight + timedelta(days=5)),
            "expired": (midnight - timedelta(days=30), midnight - timedelta(days=1)),
            "future": (midnight + timedelta(days=3), midnight + timedelta(days=10)),
            "open": (midnight - timedelta(days=2), None),
        }[window]
        self._value("decimal", entity_id, "special_price", (price * Decimal("0.8")).quantize(Decimal("0.01")))
        for store_id in (DEFAULT_STORE, FR_STORE):
            self._value("datetime", entity_id, "special_from_date", start, store_id)
            if end is not None:
                self._value("datetime", entity_id, "special_to_date", end, store_id)

    def _options(self, entity_id: int, plan: _Plan) -> None:
        options = self.install.options
        if plan.raw_material_value is not None:
            value = plan.raw_material_value.format(cotton=options["material"]["Cotton"],
                                                   wool=options["material"]["Wool"])
            self._value("text", entity_id, "material", value)
        elif plan.materials:
            self._value("text", entity_id, "material", ",".join(str(options["material"][x]) for x in plan.materials))
        if plan.activities:
            self._value("varchar", entity_id, "activity",
                        ",".join(str(options["activity"][x]) for x in plan.activities))
        if plan.leaf and plan.leaf.startswith("Gear") and self.rng.random() < 0.5:
            self._value("int", entity_id, "manufacturer", self.rng.choice(list(options["manufacturer"].values())))

    def _gallery(self, entity_id: int, sku: str, count: int, plan: _Plan | None) -> None:
        files = [_media_path(sku, k) for k in range(count)]
        for position, file in enumerate(files, start=1):
            value_id = self.next_gallery_id
            self.next_gallery_id += 1
            hidden = plan is not None and plan.hidden_image and position == count
            self._add(m.catalog_product_entity_media_gallery, {
                "value_id": value_id, "attribute_id": self.install.gallery_attr, "value": file,
                "media_type": "image", "disabled": 0})
            self._add(m.catalog_product_entity_media_gallery_value, {
                "value_id": value_id, "store_id": ADMIN_STORE, "entity_id": entity_id, "label": None,
                "position": position, "disabled": int(hidden)})
            if plan is not None and plan.gallery_store_positions:
                # The store view shows the gallery in reverse order.
                self._add(m.catalog_product_entity_media_gallery_value, {
                    "value_id": value_id, "store_id": DEFAULT_STORE, "entity_id": entity_id, "label": None,
                    "position": count + 1 - position, "disabled": 0})
            self._add(m.catalog_product_entity_media_gallery_value_to_entity,
                      {"value_id": value_id, "entity_id": entity_id})
        if plan is not None and plan.image_role is not None:
            role: str | None = plan.image_role
        elif files:
            role = files[min(plan.base_image_position if plan else 0, len(files) - 1)]
        else:
            role = None
        if role is not None:
            for code in ("image", "small_image", "thumbnail"):
                self._value("varchar", entity_id, code, role)

    def _configurable_links(self, parent_id: int, child_ids: list[int]) -> None:
        for position, code in enumerate(("size", "color")):
            self._add(m.catalog_product_super_attribute, {"product_id": parent_id, "attribute_id": self.attr[code],
                                                          "position": position})
        for child_id in child_ids:
            self._add(m.catalog_product_super_link, {"product_id": child_id, "parent_id": parent_id})
            self._add(m.catalog_product_relation, {"parent_id": parent_id, "child_id": child_id})

    def _stock(self, entity_id: int, *, qty: int, in_stock: bool, manage: bool, sku: str | None,
               min_qty: int | None = None) -> None:
        self._add(m.cataloginventory_stock_item, {
            "product_id": entity_id, "stock_id": 1, "qty": Decimal(qty), "is_in_stock": int(in_stock),
            "manage_stock": int(manage), "use_config_manage_stock": int(manage), "website_id": 0,
            "min_qty": Decimal(min_qty or 0), "use_config_min_qty": int(min_qty is None)})
        if self.msi and sku is not None and manage:
            # Magento mirrors the default source into the legacy table (and back).
            self._source_item("default", sku, Decimal(qty), int(in_stock))

    def _source_item(self, source_code: str, sku: str, quantity: Decimal, status: int) -> None:
        # (source_code, sku) is unique in Magento, compared by the column's collation: MariaDB's
        # utf8mb4_general_ci ignores case and trailing spaces, so the dirty duplicate-SKU copy
        # ('mg-dup-001 ' beside 'MG-DUP-001') shares the original's source item, as in a real install.
        key = (source_code, sku.rstrip(" ").casefold())
        if key in self.source_item_keys:
            return
        self.source_item_keys.add(key)
        self._add(m.inventory_source_item, {"source_code": source_code, "sku": sku, "quantity": quantity,
                                            "status": status})

    def _link_id(self) -> int:
        link_id = self.next_link_id
        self.next_link_id += 1
        return link_id


def _slug(text: str) -> str:
    """A url_key as Magento makes one from a name; url_key is varchar(255) too."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())[:255]


def _media_path(sku: str, k: int) -> str:
    """Magento's dispersed media path: /<first char>/<second char>/<file>."""
    file = f"{_slug(sku) or 'x'}_{k + 1}.jpg"
    return f"/{file[0]}/{file[1] if len(file) > 1 else '_'}/{file}"

