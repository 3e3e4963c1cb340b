"""Full product records for a chunk of top-level ids, in a fixed number of set-based queries.

Each value table, the stock items, the website links, the gallery, the category links and the
configurables' links and axes are read once per chunk for all its ids (no query per product).
Values, gallery entries and composite links are keyed by the edition's link column (``row_id``
in Adobe Commerce, ``entity_id`` in Open Source); the records carry entity ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento.catalog_sql import (
    ADMIN_STORE,
    CONFIGURABLE,
    DEFAULT_STOCK_ID,
    STATUS_ENABLED,
    Attribute,
    CatalogSql,
    Stock,
    batches,
    by_link,
)
from sync_pipeline.magento.records import (
    VARIANT_DISABLED,
    VARIANT_NO_PRICE,
    VARIANT_NO_STOCK_ROW,
    SourceProduct,
    SourceVariant,
)

NO_SELECTION = "no_selection"
# Attributes the records are built from; the others a mapping may name go to ``attributes``: those
# with option labels, and user-defined free-text ones (``Attribute.is_free_text``).
CORE_CODES = ("name", "description", "url_key", "image", "price", "special_price", "special_from_date",
              "special_to_date", "weight", "status", "visibility")


class RecordAssembler:
    """Builds ``SourceProduct`` records (with their variants) for one store view."""

    def __init__(self, sql: CatalogSql, today: date, media_base_url: str, category_paths: dict[int, str]) -> None:
        self.sql = sql
        self.today = today
        self.media_base_url = media_base_url
        self.category_paths = category_paths
        # Built once and run per chunk with its ids (the MSI stock columns are costly to build).
        self._stock_query = self._build_stock_query()

    def assemble(self, conn: sa.Connection, ids: Sequence[int]) -> list[SourceProduct]:
        """Full records for these top-level ids: a fixed number of queries whatever len(ids) is."""
        if not ids:
            return []
        entities = self.entities(conn, ids)
        children_of = self._children_of(conn, {row["link"]: i for i, row in entities.items()
                                               if row["type_id"] == CONFIGURABLE})
        child_ids = sorted({c for kids in children_of.values() for c in kids})
        child_entities = self.entities(conn, child_ids) if child_ids else {}
        every = {**entities, **child_entities}
        all_ids = sorted(every)
        values = self._values(conn, every)
        labels = self._option_labels(conn, values)
        stock = self._stock(conn, all_ids)
        websites = self._on_website(conn, all_ids)
        images = self._images(conn, every, values)
        categories = self._categories(conn, list(entities))
        axes = self._axes(conn, {row["link"]: i for i, row in entities.items() if i in children_of})
        products = []
        for entity_id in ids:
            row = entities.get(entity_id)
            if row is None:
                continue
            variants = tuple(
                self._variant(child_entities[c], values.get(c, {}), labels, stock.get(c), c in websites,
                              images.get(c, ()), axes.get(entity_id, ()))
                for c in children_of.get(entity_id, ()) if c in child_entities
            )
            products.append(self._product(row, values.get(entity_id, {}), labels, stock.get(entity_id),
                                          entity_id in websites, images.get(entity_id, ()),
                                          categories.get(entity_id, ()), variants))
        return products

    def entities(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """entity_id -> its row in force (sku, type_id, updated_at, and ``link``)."""
        e = self.sql.entity("e")
        result: dict[int, dict[str, Any]] = {}
        for batch in batches(list(ids)):
            query = sa.select(e.c.entity_id, e.c.sku, e.c.type_id, e.c.updated_at,
                              self.sql.link(e).label("link")).where(e.c.entity_id.in_(batch))
            result.update({int(row.entity_id): dict(row._mapping) for row in conn.execute(query)})
        return result

    # --- records ---------------------------------------------------------------------------------

    def _product(self, row: dict[str, Any], values: dict[str, Any], labels: dict[int, str], stock: Stock | None,
                 on_website: bool, images: tuple[str, ...], categories: tuple[str, ...],
                 variants: tuple[SourceVariant, ...]) -> SourceProduct:
        enabled = values.get("status") == STATUS_ENABLED and on_website
        if row["type_id"] == CONFIGURABLE:
            sellable = [v for v in variants if v.is_sellable]
            priced = [v.price for v in sellable if v.price is not None and v.price > 0]
            specials = [v.special_price for v in sellable if v.special_price is not None]
            price = min(priced) if priced else None
            special = min(specials) if specials else None
            # A child sold on backorder may be below 0: it adds nothing, and takes nothing from the others.
            qty, in_stock, manages = sum(max(v.stock_qty, 0) for v in sellable), bool(sellable), True
        else:
            price, special = values.get("price"), self._active_special(values)
            qty = stock.qty if stock else 0
            in_stock = stock.in_stock if stock else False
            manages = stock.manages if stock else True
        backorders = row["type_id"] != CONFIGURABLE and stock is not None and stock.manages and stock.backorders
        return SourceProduct(
            source_id=int(row["entity_id"]), sku=row["sku"], type_id=row["type_id"],
            title=values.get("name") or "", description=values.get("description") or "",
            url_key=values.get("url_key") or None, price=price, special_price=special, stock_qty=qty,
            is_enabled=enabled, is_in_stock=in_stock, weight=values.get("weight"), categories=categories,
            images=images, attributes=self._extra_attributes(values, labels), variants=variants,
            updated_at=row["updated_at"], manages_stock=manages, backorders=backorders,
        )

    def _variant(self, row: dict[str, Any], values: dict[str, Any], labels: dict[int, str], stock: Stock | None,
                 on_website: bool, images: tuple[str, ...], axes: tuple[str, ...]) -> SourceVariant:
        options = {}
        for code in axes:
            option_id = values.get(code)
            if option_id is not None and int(option_id) in labels:
                options[code] = labels[int(option_id)]
        enabled = values.get("status") == STATUS_ENABLED and on_website
        price: Decimal | None = values.get("price")
        problem = (VARIANT_DISABLED if not enabled else VARIANT_NO_STOCK_ROW if stock is None
                   else VARIANT_NO_PRICE if price is None or price <= 0 else None)
        return SourceVariant(
            source_id=int(row["entity_id"]), sku=row["sku"], price=price,
            special_price=self._active_special(values), stock_qty=stock.qty if stock else 0,
            is_enabled=enabled, is_in_stock=stock.in_stock if stock else False, options=options,
            weight=values.get("weight"), image=images[0] if images else None,
            manages_stock=stock.manages if stock else True, problem=problem,
            backorders=stock is not None and stock.manages and stock.backorders,
        )

    def _active_special(self, values: dict[str, Any]) -> Decimal | None:
        special: Decimal | None = values.get("special_price")
        if special is None:
            return None
        start, end = values.get("special_from_date"), values.get("special_to_date")
        if start is not None and _as_date(start) > self.today:
            return None
        if end is not None and _as_date(end) < self.today:
            return None
        return special

    def _extra_attributes(self, values: dict[str, Any], labels: dict[int, str]) -> dict[str, str]:
        """Option labels (a multiselect's joined by ", ") and free-text values, by attribute code."""
        result = {}
        for code, raw in values.items():
            attribute = self.sql.attributes[code]
            if raw is None:
                continue
            if attribute.has_option_labels:
                names = [labels[i] for i in option_ids(raw) if i in labels]
                if names:
                    result[code] = ", ".join(names)
            elif attribute.is_free_text and (text := free_text(attribute, raw)):
                result[code] = text
        return result

    # --- per-chunk set reads (one query each) ----------------------------------------------------

    def _children_of(self, conn: sa.Connection, parents: dict[int, int]) -> dict[int, list[int]]:
        """parent entity id -> child entity ids, from the parents' link ids (link id -> entity id)."""
        if not parents:
            return {}
        link = self.sql.table("catalog_product_super_link")
        query = (sa.select(link.c.parent_id, link.c.product_id).where(link.c.parent_id.in_(list(parents)))
                 .order_by(link.c.parent_id, link.c.product_id))
        children: dict[int, list[int]] = defaultdict(list)
        for parent_link, child_id in conn.execute(query).tuples():
            children[parents[int(parent_link)]].append(int(child_id))
        return children

    def _values(self, conn: sa.Connection, entities: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """entity_id -> attribute code -> effective value, one query per value table."""
        wanted = [a for a in self.sql.attributes.values()
                  if a.backend_type in self.sql.layout.product_values
                  and (a.code in CORE_CODES or a.has_option_labels or a.is_free_text)]
        by_backend: dict[str, dict[int, str]] = defaultdict(dict)
        for attribute in wanted:
            by_backend[attribute.backend_type][attribute.attribute_id] = attribute.code
        store_id = self.sql.store.store_id
        entity_of = by_link(entities)
        key = self.sql.layout.link
        picked: dict[tuple[int, int], tuple[int, Any]] = {}
        for backend, codes_by_id in by_backend.items():
            table = self.sql.layout.product_values[backend]
            query = sa.select(table.c[key], table.c.attribute_id, table.c.store_id, table.c.value).where(
                table.c[key].in_(list(entity_of)), table.c.attribute_id.in_(list(codes_by_id)),
                table.c.store_id.in_(sorted({ADMIN_STORE, store_id})),
            )
            for link_id, attribute_id, row_store, value in conn.execute(query).tuples():
                if value is None:  # a NULL row never hides the store-0 value
                    continue
                entry = (entity_of[int(link_id)], int(attribute_id))
                if entry not in picked or row_store == store_id:
                    picked[entry] = (row_store, value)
        code_of = {a.attribute_id: a.code for a in wanted}
        result: dict[int, dict[str, Any]] = defaultdict(dict)
        for (entity_id, attribute_id), (_store, value) in picked.items():
            result[entity_id][code_of[attribute_id]] = value
        return result

    def _option_labels(self, conn: sa.Connection, values: dict[int, dict[str, Any]]) -> dict[int, str]:
        wanted: set[int] = set()
        for entity_values in values.values():
            for code, raw in entity_values.items():
                if self.sql.attributes[code].has_option_labels:
                    wanted.update(option_ids(raw))
        labels: dict[int, str] = {}
        store_labels: dict[int, str] = {}
        ov = self.sql.table("eav_attribute_option_value")
        store_id = self.sql.store.store_id
        for batch in batches(sorted(wanted)):
            query = sa.select(ov.c.option_id, ov.c.store_id, ov.c.value).where(
                ov.c.option_id.in_(batch), ov.c.store_id.in_(sorted({ADMIN_STORE, store_id})))
            for option_id, row_store, value in conn.execute(query).tuples():
                if value is None:
                    continue
                target = store_labels if row_store == store_id and row_store != ADMIN_STORE else labels
                target[int(option_id)] = value
        labels.update(store_labels)
        return labels

    def _build_stock_query(self) -> sa.Select[tuple[Any, ...]]:
        si = self.sql.table("cataloginventory_stock_item")
        e = self.sql.entity("e")
        return (sa.select(si.c.product_id, self.sql.stock.qty(si, e.c.sku), self.sql.stock.flag(si, e.c.sku),
                          self.sql.manages_stock(si), self.sql.backorders(si))
                .join(e, e.c.entity_id == si.c.product_id)
                .where(si.c.product_id.in_(sa.bindparam("ids", expanding=True)), si.c.stock_id == DEFAULT_STOCK_ID))

    def _stock(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, Stock]:
        return {int(pid): Stock(qty=int(qty or 0), flag=bool(flag), manages=bool(manages), backorders=bool(back))
                for pid, qty, flag, manages, back in conn.execute(self._stock_query, {"ids": list(ids)}).tuples()}

    def _on_website(self, conn: sa.Connection, ids: Sequence[int]) -> set[int]:
        w = self.sql.table("catalog_product_website")
        query = sa.select(w.c.product_id).where(w.c.product_id.in_(ids), w.c.website_id == self.sql.store.website_id)
        return {int(i) for i in conn.execute(query).scalars()}

    def _images(self, conn: sa.Connection, entities: dict[int, dict[str, Any]],
                values: dict[int, dict[str, Any]]) -> dict[int, tuple[str, ...]]:
        """Base image first, then the gallery by position (store view over store 0), hidden ones left out."""
        g = self.sql.table("catalog_product_entity_media_gallery")
        gv = self.sql.table("catalog_product_entity_media_gallery_value")
        link = self.sql.table("catalog_product_entity_media_gallery_value_to_entity")
        key = self.sql.layout.link
        store_id = self.sql.store.store_id
        entity_of = by_link(entities)
        query = (
            sa.select(link.c[key], g.c.value_id, g.c.value, g.c.disabled, gv.c.store_id, gv.c.position, gv.c.disabled)
            .join(g, g.c.value_id == link.c.value_id)
            .outerjoin(gv, sa.and_(gv.c.value_id == g.c.value_id, gv.c[key] == link.c[key],
                                   gv.c.store_id.in_(sorted({ADMIN_STORE, store_id}))))
            .where(link.c[key].in_(list(entity_of)), g.c.media_type == "image")
        )
        entries: dict[int, dict[int, tuple[str, bool, int | None, bool]]] = defaultdict(dict)
        for link_id, value_id, file, file_disabled, row_store, position, hidden in conn.execute(query).tuples():
            entity_id = entity_of[int(link_id)]
            per_store = row_store == store_id and row_store != ADMIN_STORE
            current = entries[entity_id].get(int(value_id))
            if current is None or per_store:
                entries[entity_id][int(value_id)] = (file, bool(file_disabled) or bool(hidden), position, per_store)
        result = {}
        for entity_id in entities:
            base = values.get(entity_id, {}).get("image")
            files: list[str] = [base] if base and base != NO_SELECTION else []
            gallery = sorted(
                ((pos if pos is not None else 1 << 30, value_id, file)
                 for value_id, (file, disabled, pos, _s) in entries.get(entity_id, {}).items() if not disabled and file),
            )
            files += [file for _p, _v, file in gallery if file not in files]
            result[entity_id] = tuple(f"{self.media_base_url}/{f.lstrip('/')}" for f in files)
        return result

    def _categories(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        cp = self.sql.table("catalog_category_product")
        query = sa.select(cp.c.product_id, cp.c.category_id).where(cp.c.product_id.in_(ids))
        paths: dict[int, set[str]] = defaultdict(set)
        for product_id, category_id in conn.execute(query).tuples():
            path = self.category_paths.get(int(category_id))
            if path:
                paths[int(product_id)].add(path)
        return {pid: tuple(sorted(p)) for pid, p in paths.items()}

    def _axes(self, conn: sa.Connection, parents: dict[int, int]) -> dict[int, tuple[str, ...]]:
        """parent entity id -> its super attributes' codes, from the parents' link ids."""
        if not parents:
            return {}
        sa_ = self.sql.table("catalog_product_super_attribute")
        query = (sa.select(sa_.c.product_id, sa_.c.attribute_id).where(sa_.c.product_id.in_(list(parents)))
                 .order_by(sa_.c.product_id, sa_.c.position, sa_.c.attribute_id))
        code_of = {a.attribute_id: a.code for a in self.sql.attributes.values()}
        axes: dict[int, list[str]] = defaultdict(list)
        for parent_link, attribute_id in conn.execute(query).tuples():
            if int(attribute_id) in code_of:
                axes[parents[int(parent_link)]].append(code_of[int(attribute_id)])
        return {pid: tuple(codes) for pid, codes in axes.items()}


def option_ids(raw: Any) -> list[int]:
    """Option ids of a select (int) or multiselect ("5,7,12") value; junk pieces are ignored."""
    if isinstance(raw, int):
        return [raw]
    return [int(piece) for piece in str(raw).split(",") if piece.strip().isdigit()]


def free_text(attribute: Attribute, raw: Any) -> str | None:
    """A typed-in value as the storefront shows it: Yes/No for a yes/no attribute (Magento's Boolean
    source), a decimal without its trailing zeros ("12.500000" is 12.5), text as stored."""
    if isinstance(raw, Decimal):
        return format(raw.normalize(), "f")
    text = str(raw).strip()
    if attribute.frontend_input == "boolean" and text:
        return "No" if text == "0" else "Yes"
    return text or None


def _as_date(value: datetime | date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()
