"""Magento Open Source or Adobe Commerce: which tables the reader reads, keyed by which column.

Adobe Commerce (content staging) keeps every scheduled version of a product as its own row of
``catalog_product_entity``: ``row_id`` is the primary key, ``entity_id`` the product's stable id
(from ``sequence_product``), and ``created_in`` / ``updated_in`` the staging versions the row is
valid for. What Commerce keys by ``row_id`` (Magento calls it the product metadata's *link field*)
and what it keeps by ``entity_id``, as this module lays it out:

* by ``row_id``: the five EAV value tables (their ``entity_id`` column is named ``row_id``), the
  media gallery's ``_value`` and ``_value_to_entity`` tables (``row_id`` too), and the parent side
  of the composite links: ``catalog_product_super_attribute.product_id``,
  ``catalog_product_super_link.parent_id`` and ``catalog_product_relation.parent_id`` hold the
  parent's ``row_id`` (each version of a configurable has its own links);
* by ``entity_id`` (the sequence value): the child side of those links, website membership, stock
  items, category assignments, URL rewrites; MSI is keyed by SKU in both editions.

Categories are staged alike (``catalog_category_entity`` with ``row_id``; the category value
tables by ``row_id``; ``path`` and ``parent_id`` hold entity ids).

*Assumptions* (the Commerce schema is not public; see contracts/magento-schema.md, section 11): the
column names above, the version bounds ``created_in`` (inclusive) and ``updated_in`` (exclusive),
``updated_in = 2147483647`` for "until further notice", and a staging version being the id of a
``staging_update`` row, which is the Unix time of its start. The version in force at a moment is
the highest ``staging_update.id`` whose ``start_time`` has passed (a rollback, i.e. the end of a
temporary update, is a ``staging_update`` row of its own), and 1 when none has: that is what
Magento's ``VersionManager`` resolves for the storefront. Without a ``staging_update`` table the
Unix time itself is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m

MIN_VERSION = 1
MAX_VERSION = 2147483647  # updated_in of a row that is current until further notice

commerce_metadata = sa.MetaData()

sequence_product = sa.Table(
    "sequence_product", commerce_metadata,
    sa.Column("sequence_value", m.uint(), primary_key=True, autoincrement=True),
)
sequence_catalog_category = sa.Table(
    "sequence_catalog_category", commerce_metadata,
    sa.Column("sequence_value", m.uint(), primary_key=True, autoincrement=True),
)
staging_update = sa.Table(
    "staging_update", commerce_metadata,
    sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),  # the version: start as Unix time
    sa.Column("start_time", sa.DateTime(), nullable=False),
    sa.Column("end_time", sa.DateTime()),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("rollback_id", sa.BigInteger()),
    sa.Column("is_campaign", m.usmallint()),
    sa.Column("is_rollback", m.usmallint()),
    sa.Column("moved_to", sa.BigInteger()),
    sa.Index("STAGING_UPDATE_IS_CAMPAIGN", "is_campaign"),
)

# Tables whose product (or category) key is the row: old column name -> the staged one.
_ROW_KEYED: dict[str, dict[str, str]] = {
    **{f"catalog_product_entity_{t}": {"entity_id": "row_id"} for t in m.PRODUCT_VALUE_TABLES},
    **{f"catalog_category_entity_{t}": {"entity_id": "row_id"} for t in m.CATEGORY_VALUE_TABLES},
    "catalog_product_entity_media_gallery_value": {"entity_id": "row_id"},
    "catalog_product_entity_media_gallery_value_to_entity": {"entity_id": "row_id"},
}
# Columns that keep their name but hold the parent's row_id.
_ROW_VALUED = {("catalog_product_super_attribute", "product_id"), ("catalog_product_super_link", "parent_id"),
               ("catalog_product_relation", "parent_id")}
_SEQUENCES = {"catalog_product_entity": "sequence_product", "catalog_category_entity": "sequence_catalog_category"}


def _staged_entity(name: str, source: sa.Table) -> sa.Table:
    """An entity table as Commerce has it: row_id first, entity_id from the sequence, the version bounds."""
    columns = [
        sa.Column("row_id", m.uint(), primary_key=True, autoincrement=True),
        sa.Column("entity_id", m.uint(), sa.ForeignKey(f"{_SEQUENCES[name]}.sequence_value", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_in", sa.BigInteger(), nullable=False, server_default=sa.text(str(MIN_VERSION))),
        sa.Column("updated_in", sa.BigInteger(), nullable=False, server_default=sa.text(str(MAX_VERSION))),
    ]
    columns += [_copy_column(c, c.name, []) for c in source.columns if c.name != "entity_id"]
    prefix = name.upper()
    return sa.Table(
        name, commerce_metadata, *columns,
        *[sa.Index(i.name, *[c.name for c in i.columns]) for i in source.indexes],
        sa.Index(f"{prefix}_ENTITY_ID_CREATED_IN_UPDATED_IN", "entity_id", "created_in", "updated_in"),
        sa.Index(f"{prefix}_CREATED_IN", "created_in"),
        sa.Index(f"{prefix}_UPDATED_IN", "updated_in"),
    )


def _copy_column(column: sa.Column[Any], name: str, foreign_keys: list[sa.ForeignKey]) -> sa.Column[Any]:
    default = column.server_default
    return sa.Column(name, column.type, *foreign_keys, primary_key=column.primary_key, nullable=column.nullable,
                     autoincrement=column.autoincrement,
                     server_default=sa.DefaultClause(default.arg) if isinstance(default, sa.DefaultClause) else None)


def _staged_copy(source: sa.Table) -> sa.Table:
    """Any other table, with its product/category keys pointed where Commerce points them."""
    renames = _ROW_KEYED.get(source.name, {})
    columns = []
    for column in source.columns:
        name = renames.get(column.name, column.name)
        keys = []
        for fk in column.foreign_keys:
            table, _, target = fk.target_fullname.partition(".")
            if table in _SEQUENCES and target == "entity_id":
                by_row = name == "row_id" or (source.name, column.name) in _ROW_VALUED
                target_name = f"{table}.row_id" if by_row else f"{_SEQUENCES[table]}.sequence_value"
                keys.append(sa.ForeignKey(target_name, ondelete=fk.ondelete))
            else:
                keys.append(sa.ForeignKey(fk.target_fullname, ondelete=fk.ondelete))
        columns.append(_copy_column(column, name, keys))

    def renamed(names: Any) -> list[str]:
        return [renames.get(c.name, c.name) for c in names]

    constraints: list[Any] = [
        sa.UniqueConstraint(*renamed(u.columns), name=str(u.name).replace("ENTITY_ID", "ROW_ID") if renames else u.name)
        for u in source.constraints if isinstance(u, sa.UniqueConstraint)
    ]
    constraints += [sa.Index(str(i.name).replace("ENTITY_ID", "ROW_ID") if renames else i.name, *renamed(i.columns))
                    for i in source.indexes]
    return sa.Table(source.name, commerce_metadata, *columns, *constraints)


for _table in m.metadata.sorted_tables:
    if _table.name in _SEQUENCES:
        _staged_entity(_table.name, _table)
    else:
        _staged_copy(_table)
for _table in commerce_metadata.tables.values():
    _table.dialect_kwargs.update(mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_general_ci")


@dataclass(frozen=True)
class Layout:
    """The tables of one edition and the column that ties a product's values to its row."""

    commerce: bool
    tables: dict[str, sa.Table]
    link: str  # "entity_id" (Open Source) or "row_id" (Commerce)

    def table(self, name: str) -> sa.Table:
        return self.tables[name]

    @property
    def product_values(self) -> dict[str, sa.Table]:
        return {t: self.tables[f"catalog_product_entity_{t}"] for t in m.PRODUCT_VALUE_TABLES}

    @property
    def category_values(self) -> dict[str, sa.Table]:
        return {t: self.tables[f"catalog_category_entity_{t}"] for t in m.CATEGORY_VALUE_TABLES}


# MSI's tables are keyed by SKU: the same in both editions.
OPEN_SOURCE = Layout(commerce=False, tables={**m.metadata.tables, **m.msi_metadata.tables}, link="entity_id")
COMMERCE = Layout(commerce=True, tables={**commerce_metadata.tables, **m.msi_metadata.tables}, link="row_id")


def detect_layout(conn: sa.Connection) -> Layout:
    """Commerce when ``catalog_product_entity`` has a ``row_id`` column (the contract's check (1))."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("catalog_product_entity")}
    return COMMERCE if "row_id" in columns else OPEN_SOURCE


def version_at(conn: sa.Connection, moment: datetime) -> int:
    """The staging version in force at ``moment`` (see the module's assumptions)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if not sa.inspect(conn).has_table("staging_update"):
        return int(naive.replace(tzinfo=UTC).timestamp())
    found = conn.execute(sa.select(sa.func.max(staging_update.c.id))
                         .where(staging_update.c.start_time <= naive)).scalar()
    return max(MIN_VERSION, int(found or MIN_VERSION))


def create_commerce_schema(engine: sa.Engine, *, msi: bool = False) -> None:
    """The Commerce shape of the catalog tables (and MSI's, which are the same in both editions)."""
    commerce_metadata.create_all(engine)
    if msi:
        m.msi_metadata.create_all(engine)
    m.category_links_auto_increment(engine)
