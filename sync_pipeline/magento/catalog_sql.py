"""What every part of the reader shares: the store view, the attributes, and the SQL that says
"this product's current row", "its effective value" and "in stock" in either Magento edition.

``CatalogSql.entity()`` is the product table as the reader sees it: in Magento Open Source the
table itself; in Adobe Commerce only the rows whose staging version covers the version in force
(``created_in <= version < updated_in``, see ``edition.py``), so one row per product, with both its
``entity_id`` (what the rest of the pipeline calls the product's source id) and its ``row_id``
(what its values hang on: ``link``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.edition import Layout
from sync_pipeline.magento.inventory import StockColumns

PRODUCT_TYPE_ID = 4
CATEGORY_TYPE_ID = 3
ADMIN_STORE = 0
DEFAULT_STOCK_ID = 1
STATUS_ENABLED = 1
NOT_VISIBLE_INDIVIDUALLY = 1
DEFAULT_VISIBILITY = 4  # what Magento writes when nothing was chosen
STANDALONE_TYPES = ("simple",)
CONFIGURABLE = "configurable"
IN_LIST_MAX = 500  # ids per IN (...) list, well under every driver's parameter limit
_TABLE_SOURCE_SUFFIX = "Attribute\\Source\\Table"
# A user-defined attribute a shop owner types a value into (not picks from options): what a store
# mapping may send as free text. Datetime, media and static attributes are left out.
FREE_TEXT_BACKENDS = ("varchar", "text", "int", "decimal")
FREE_TEXT_INPUTS = ("text", "textarea", "price", "weight", "boolean")


@dataclass(frozen=True)
class Attribute:
    attribute_id: int
    code: str
    backend_type: str
    frontend_input: str | None
    source_model: str | None
    is_user_defined: bool = False

    @property
    def has_option_labels(self) -> bool:
        """Select/multiselect whose labels live in eav_attribute_option_value (Table source or none)."""
        return self.frontend_input in ("select", "multiselect") and (
            self.source_model is None or self.source_model.endswith(_TABLE_SOURCE_SUFFIX)
        )

    @property
    def is_free_text(self) -> bool:
        """A user-defined attribute whose value is typed in (text, textarea, price, weight, yes/no)."""
        return (self.is_user_defined and self.backend_type in FREE_TEXT_BACKENDS
                and self.frontend_input in FREE_TEXT_INPUTS)


@dataclass(frozen=True)
class Store:
    store_id: int
    website_id: int
    root_category_id: int
    website_code: str | None = None


@dataclass
class Stock:
    qty: int
    flag: bool
    manages: bool
    backorders: bool = False

    @property
    def in_stock(self) -> bool:
        """Magento's rule: unmanaged, or in stock by its flag with a quantity left or backorders taken."""
        return not self.manages or (self.flag and (self.qty > 0 or self.backorders))


class CatalogSql:
    """SQL fragments for one store view of one Magento DB, in its edition's layout."""

    def __init__(self, layout: Layout, version: int, store: Store, attributes: dict[str, Attribute],
                 stock: StockColumns, manage_stock_default: bool, backorders_default: bool = False) -> None:
        self.layout = layout
        self.version = version  # Commerce: the staging version in force when the reader was made
        self.store = store
        self.attributes = attributes
        self.stock = stock
        self.manage_stock_default = manage_stock_default
        self.backorders_default = backorders_default

    def table(self, name: str) -> sa.Table:
        return self.layout.table(name)

    def entity(self, name: str) -> sa.FromClause:
        """The product rows in force: the table (Open Source), or its current versions (Commerce)."""
        table = self.table("catalog_product_entity")
        if not self.layout.commerce:
            return table.alias(name)
        return (sa.select(table).where(table.c.created_in <= self.version, table.c.updated_in > self.version)
                .subquery(name))

    def link(self, entity: sa.FromClause) -> sa.ColumnElement[Any]:
        """The column the product's values, gallery and composite links hang on."""
        return entity.c[self.layout.link]

    def value_table(self, code: str) -> tuple[sa.Table, int]:
        attribute = self.attributes[code]
        return self.layout.product_values[attribute.backend_type], attribute.attribute_id

    def effective(self, code: str, entity: sa.FromClause) -> sa.ColumnElement[Any]:
        """The store-view value if not NULL, else the store-0 value, as a correlated expression."""
        table, attribute_id = self.value_table(code)
        key = self.link(entity)

        def at(store_id: int) -> sa.ScalarSelect[Any]:
            v = table.alias()
            return (sa.select(v.c.value).where(v.c[self.layout.link] == key, v.c.attribute_id == attribute_id,
                                               v.c.store_id == store_id).scalar_subquery())

        return sa.func.coalesce(at(self.store.store_id), at(ADMIN_STORE))

    def manages_stock(self, si: sa.FromClause) -> sa.ColumnElement[Any]:
        return sa.case((si.c.use_config_manage_stock == 1, int(self.manage_stock_default)), else_=si.c.manage_stock)

    def backorders(self, si: sa.FromClause) -> sa.ColumnElement[Any]:
        """1 when Magento takes backorders for the item (``backorders`` 1 or 2, or the config's), else 0."""
        return sa.case((si.c.use_config_backorders == 1, int(self.backorders_default)),
                       (si.c.backorders > 0, 1), else_=0)

    def children_query(self) -> sa.Select[tuple[Any, ...]]:
        """(parent entity id, child entity id) for an expanding ``parents`` of parent entity ids."""
        link = self.table("catalog_product_super_link")
        if not self.layout.commerce:
            return sa.select(link.c.parent_id, link.c.product_id).where(
                link.c.parent_id.in_(sa.bindparam("parents", expanding=True)))
        parent = self.entity("parent")
        return (sa.select(parent.c.entity_id, link.c.product_id)
                .join(link, link.c.parent_id == self.link(parent))
                .where(parent.c.entity_id.in_(sa.bindparam("parents", expanding=True))))


# --- loading metadata ---------------------------------------------------------------------------


def load_store(conn: sa.Connection, store_code: str) -> Store:
    s, g, w = m.store, m.store_group, m.store_website
    row = conn.execute(
        sa.select(s.c.store_id, s.c.website_id, g.c.root_category_id, w.c.code)
        .join(g, g.c.group_id == s.c.group_id).outerjoin(w, w.c.website_id == s.c.website_id)
        .where(s.c.code == store_code)
    ).first()
    if row is None:
        known = sorted(c for c in conn.execute(sa.select(s.c.code)).scalars() if c)
        raise ValueError(f"Magento has no store view with code {store_code!r} (known: {', '.join(known) or 'none'})")
    return Store(store_id=int(row[0]), website_id=int(row[1]), root_category_id=int(row[2]), website_code=row[3])


def load_attributes(conn: sa.Connection, entity_type_id: int) -> dict[str, Attribute]:
    a = m.eav_attribute
    query = sa.select(a.c.attribute_id, a.c.attribute_code, a.c.backend_type, a.c.frontend_input,
                      a.c.source_model, a.c.is_user_defined).where(a.c.entity_type_id == entity_type_id)
    return {code: Attribute(int(aid), code, backend, frontend, source, bool(user_defined))
            for aid, code, backend, frontend, source, user_defined in conn.execute(query).tuples()}


def config_value(conn: sa.Connection, store: Store, path: str) -> str | None:
    """A core_config_data value, store-view scope over website scope over default scope."""
    c = m.core_config_data
    rows = conn.execute(sa.select(c.c.scope, c.c.scope_id, c.c.value).where(c.c.path == path)).tuples().all()
    for scope, scope_id in (("stores", store.store_id), ("websites", store.website_id), ("default", 0)):
        for row_scope, row_scope_id, value in rows:
            if row_scope == scope and int(row_scope_id) == scope_id:
                return str(value) if value is not None else None
    return None


def media_base_from_config(conn: sa.Connection, store: Store) -> str:
    base_url = config_value(conn, store, "web/unsecure/base_url")
    media_url = config_value(conn, store, "web/unsecure/base_media_url")
    if media_url:
        media_url = media_url.replace("{{unsecure_base_url}}", base_url or "")
    elif base_url:
        media_url = base_url.rstrip("/") + "/media/"
    if not media_url or "{{" in media_url:
        raise ValueError("cannot build image URLs: pass media_base_url (MAGENTO_MEDIA_BASE_URL) or set "
                         "web/unsecure/base_url in core_config_data")
    return media_url.rstrip("/") + "/catalog/product"


def load_category_paths(conn: sa.Connection, store: Store, layout: Layout, version: int) -> dict[int, str]:
    """category id -> "Men/Tops" for every category below the store's root category."""
    ce = layout.table("catalog_category_entity")
    attributes = load_attributes(conn, CATEGORY_TYPE_ID)
    name = attributes.get("name")
    if name is None or name.backend_type not in layout.category_values:
        return {}
    v = layout.category_values[name.backend_type]
    current = [ce.c.created_in <= version, ce.c.updated_in > version] if layout.commerce else []
    names: dict[int, str] = {}
    store_names: dict[int, str] = {}
    query = (sa.select(ce.c.entity_id, v.c.store_id, v.c.value)
             .join(ce, ce.c[layout.link] == v.c[layout.link])
             .where(v.c.attribute_id == name.attribute_id, v.c.store_id.in_(sorted({ADMIN_STORE, store.store_id})),
                    *current))
    for entity_id, store_id, value in conn.execute(query).tuples():
        if value is not None:
            (store_names if store_id == store.store_id and store_id != ADMIN_STORE else names)[int(entity_id)] = value
    names.update(store_names)
    root = str(store.root_category_id)
    paths = {}
    for entity_id, path in conn.execute(sa.select(ce.c.entity_id, ce.c.path).where(*current)).tuples():
        parts = path.split("/")
        if root not in parts[:-1]:
            continue
        below_root = parts[parts.index(root) + 1:]
        if all(int(p) in names for p in below_root):
            paths[int(entity_id)] = "/".join(names[int(p)] for p in below_root)
    return paths


def batches(ids: Sequence[int], size: int = IN_LIST_MAX) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def by_link(rows: dict[int, dict[str, Any]]) -> dict[int, int]:
    """link id (row_id or entity_id) -> entity_id, from ``entities()`` rows."""
    return {int(row["link"]): entity_id for entity_id, row in rows.items()}


def group_pairs(pairs: Any) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for key, value in pairs:
        grouped[int(key)].append(int(value))
    return grouped
