"""Read sellable products out of a Magento 2 catalog (EAV), chunk by chunk.

API (what ``sync_pipeline/catalog`` builds on)::

    reader = MagentoCatalogReader(engine, store_code="default", media_base_url=None, today=None)
    reader.max_source_id() -> int                      # highest top-level candidate id (0 if none)
    reader.iter_products(after_id=0, limit=None, chunk_size=500) -> Iterator[ProductChunk]
    reader.read_products(source_ids) -> ProductChunk   # re-read, whatever the import rule says
    reader.changed_since(since, up_to_id) -> list[int] # top-level ids changed after ``since``
    reader.stock_and_status(source_ids) -> dict[int, StockStatus]

``ProductChunk`` and ``StockStatus`` live in ``records.py``. ``ProductChunk.products`` holds the
products that pass the import rule and are usable; ``.rejected`` the ones that pass it but are
broken (no price, empty name, duplicated SKU...), each with a reason; ``.last_source_id`` and
``.examined`` describe the candidates looked at, sellable or not, so a cursor can move past them.

Terms:

* *candidate*: a top-level product, i.e. a configurable parent, or a simple product that is
  visible individually (visibility != 1). Children that are not visible individually are only
  ever variants.
* *import rule* (store view S): status is 1 at S (store-view row over the store-0 row), the
  product belongs to S's website, and it is in stock: stock not managed (``manage_stock``, or the
  config default when ``use_config_manage_stock``), or ``is_in_stock = 1`` and ``qty > 0`` where,
  on a shop using MSI, the flag and the quantity are the salable ones of the website's stock
  (sources plus reservations less the threshold, ``inventory.py``); ``stock_qty`` is that quantity. A
  configurable needs at least one child that passes the rule itself. The rule runs as one SQL
  query per chunk. ``is_enabled`` on a record means status 1 *and* on the website;
  ``is_in_stock`` means in stock by this rule.
* Values: attribute ids and value tables come from ``eav_attribute`` (entity type 4, by
  ``backend_type``); each value is the store-view row if it is not NULL, else the store-0 row.
  Per chunk, each value table is read once for all ids of the chunk (no query per product).
* Duplicated SKUs: Magento compares SKUs ignoring case and trailing spaces; of two such products
  the one with the lower entity_id keeps the SKU and the other is rejected.
* Configurables: price is the lowest price among sellable children, special price the lowest
  active one among them, stock the sum over sellable children. Decisions are per variant: a child
  that is disabled, has no stock row or no usable price carries that ``problem`` and is not sold,
  while its parent keeps the other variants; a parent is rejected only when no child is left
  to sell (the reason names each bad child).
* A simple child may belong to several configurables (Magento allows it): it is a variant of each.
* Types not synced (virtual, bundle, grouped, downloadable: anything but simple and configurable)
  are counted per type in each chunk's ``unsynced_types``, the products after the last candidate
  included. Virtual products have no weight and nothing to ship, while every store here lists
  physical goods (Shopee and TikTok Shop require a package weight and a logistics channel; the
  Shopify listing is created as a shipped product): they are counted, not listed.
* ``read_products`` returns every id it finds as a product (with its flags, no validation), and
  ids it cannot find as ``RejectedRow(reason="not in the Magento catalog")``.
* Text is returned exactly as stored (HTML entities, emoji, trailing spaces included).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.inventory import MIN_QTY_PATH, StockColumns, detect_inventory
from sync_pipeline.magento.records import (
    SYNCED_TYPES,
    VARIANT_DISABLED,
    VARIANT_NO_PRICE,
    VARIANT_NO_STOCK_ROW,
    ProductChunk,
    RejectedRow,
    SourceProduct,
    SourceVariant,
    StockStatus,
)

PRODUCT_TYPE_ID = 4
CATEGORY_TYPE_ID = 3
ADMIN_STORE = 0
DEFAULT_STOCK_ID = 1
STATUS_ENABLED = 1
NOT_VISIBLE_INDIVIDUALLY = 1
DEFAULT_VISIBILITY = 4  # what Magento writes when nothing was chosen
STANDALONE_TYPES = ("simple",)
CONFIGURABLE = "configurable"
NO_SELECTION = "no_selection"
_TABLE_SOURCE_SUFFIX = "Attribute\\Source\\Table"
_IN_LIST_MAX = 500  # ids per IN (...) list, well under every driver's parameter limit
# The stock-and-status state rows are small (six columns), so they are read in longer IN lists
# where the driver allows it; SQLite builds older than 3.32 stop at 999 parameters.
_STATE_BATCH = 4000

# Attributes the records are built from (others with option labels go to ``attributes``).
_CORE_CODES = ("name", "description", "url_key", "image", "price", "special_price", "special_from_date",
               "special_to_date", "weight", "status", "visibility")


@dataclass(frozen=True)
class _Attribute:
    attribute_id: int
    code: str
    backend_type: str
    frontend_input: str | None
    source_model: str | None

    @property
    def has_option_labels(self) -> bool:
        """Select/multiselect whose labels live in eav_attribute_option_value (Table source or none)."""
        return self.frontend_input in ("select", "multiselect") and (
            self.source_model is None or self.source_model.endswith(_TABLE_SOURCE_SUFFIX)
        )


@dataclass(frozen=True)
class _Store:
    store_id: int
    website_id: int
    root_category_id: int
    website_code: str | None = None


@dataclass
class _Stock:
    qty: int
    flag: bool
    manages: bool

    @property
    def in_stock(self) -> bool:
        return not self.manages or (self.flag and self.qty > 0)


class MagentoCatalogReader:
    """Reads one store view of a Magento 2 catalog; safe to reuse across chunks and runs."""

    def __init__(self, engine: sa.Engine, store_code: str = "default", media_base_url: str | None = None,
                 today: date | None = None) -> None:
        self.engine = engine
        self.store_code = store_code
        self.today = today or date.today()
        with engine.connect() as conn:
            self._store = _load_store(conn, store_code)
            self._attributes = _load_attributes(conn, PRODUCT_TYPE_ID)
            self._manage_stock_default = _config_value(conn, self._store,
                                                       "cataloginventory/item_options/manage_stock") != "0"
            self.inventory = detect_inventory(conn, self._store.website_code,
                                              _config_value(conn, self._store, MIN_QTY_PATH))
            self.media_base_url = (media_base_url or _media_base_from_config(conn, self._store)).rstrip("/")
            self._category_paths = _load_category_paths(conn, self._store)
        missing = [code for code in ("name", "price", "status", "visibility") if code not in self._attributes]
        if missing:
            raise ValueError(f"the Magento database has no product attribute(s) {missing}: not a Magento catalog?")
        self._stock_sql = StockColumns(self.inventory)
        # Built once: the reconciliation runs them for every catalog product on every run.
        self._state_query = self._build_state_query()
        self._children_query = _build_children_query()
        self._state_batch = _IN_LIST_MAX if engine.dialect.name == "sqlite" else _STATE_BATCH

    # --- public API ------------------------------------------------------------------------------

    def max_source_id(self) -> int:
        """The highest top-level candidate id, 0 for an empty catalog."""
        e = m.catalog_product_entity.alias("e")
        query = (sa.select(e.c.entity_id).where(self._is_candidate(e))
                 .order_by(e.c.entity_id.desc()).limit(1))
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return int(found or 0)

    def iter_products(self, *, after_id: int = 0, limit: int | None = None,
                      chunk_size: int = 500) -> Iterator[ProductChunk]:
        """Sellable top-level products with id > ``after_id``, ascending, ``chunk_size`` candidates a chunk.

        At most ``limit`` candidates are examined in all. Memory stays flat: one chunk at a time,
        on a connection that is closed before the chunk is handed over.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 or None, got {limit}")
        remaining = limit
        cursor = after_id
        while remaining is None or remaining > 0:
            size = chunk_size if remaining is None else min(chunk_size, remaining)
            with self.engine.connect() as conn:
                # One candidate more than the chunk holds says whether another chunk follows, so the
                # last chunk also counts the unsynced products after the last candidate.
                candidates, more = self._candidates_with_verdict(conn, after_id=cursor, size=size)
                unsynced = _unsynced_types(conn, cursor, candidates[-1][0] if more else None)
                if not candidates:
                    if unsynced:  # no candidate left, but products of other types were never counted
                        yield ProductChunk(products=[], rejected=[], last_source_id=cursor, examined=0,
                                           unsynced_types=unsynced)
                    return
                sellable = [entity_id for entity_id, ok in candidates if ok]
                products = self._assemble(conn, sellable)
                rejected_dupes = self._duplicate_skus(conn, products)
            usable, rejected = _split_broken(products, rejected_dupes)
            cursor = candidates[-1][0]
            if remaining is not None:
                remaining -= len(candidates)
            yield ProductChunk(products=usable, rejected=rejected, last_source_id=cursor,
                               examined=len(candidates), unsynced_types=unsynced)
            if not more:
                return

    def read_products(self, source_ids: Iterable[int]) -> ProductChunk:
        """These products as they are now, sellable or not; ids not found come back as rejected."""
        wanted = sorted(set(source_ids))
        products: list[SourceProduct] = []
        with self.engine.connect() as conn:
            for ids in _batches(wanted):
                products.extend(self._assemble(conn, ids))
        found = {p.source_id for p in products}
        missing = [RejectedRow(source_id=i, sku="", reason="not in the Magento catalog") for i in wanted
                   if i not in found]
        return ProductChunk(products=products, rejected=missing, last_source_id=wanted[-1] if wanted else 0,
                            examined=len(wanted))

    def changed_since(self, since: datetime, up_to_id: int) -> list[int]:
        """Top-level candidate ids <= ``up_to_id`` whose row, or one of whose children, changed after ``since``."""
        since = _naive_utc(since)
        e = m.catalog_product_entity.alias("e")
        c = m.catalog_product_entity.alias("c")
        link = m.catalog_product_super_link
        own = sa.select(e.c.entity_id).where(e.c.updated_at > since, e.c.entity_id <= up_to_id,
                                             self._is_candidate(e))
        via_child = (sa.select(link.c.parent_id).join(c, c.c.entity_id == link.c.product_id)
                     .where(c.c.updated_at > since, link.c.parent_id <= up_to_id))
        with self.engine.connect() as conn:
            ids = {int(i) for i in conn.execute(own).scalars()}
            ids |= {int(i) for i in conn.execute(via_child).scalars()}
        return sorted(ids)

    def stock_and_status(self, source_ids: Iterable[int]) -> dict[int, StockStatus]:
        """Enabled / in stock / qty for each id found; configurables derived from their children.

        Each entity is read once, a configurable's children included, even when they were asked
        for too: one state query per batch of ids, one link query for the configurables, one
        state query for children not read yet.
        """
        wanted = sorted(set(source_ids))
        with self.engine.connect() as conn:
            states = self._live_states(conn, wanted)
            parents = [i for i, state in states.items() if state.type_id == CONFIGURABLE]
            children_of = self._children(conn, parents)
            unread = sorted({c for kids in children_of.values() for c in kids} - states.keys())
            states.update(self._live_states(conn, unread))
        return {entity_id: _status_of(states[entity_id], children_of.get(entity_id, ()), states)
                for entity_id in wanted if entity_id in states}

    # --- the import rule as SQL ------------------------------------------------------------------

    def _value_table(self, code: str) -> tuple[sa.Table, int]:
        attribute = self._attributes[code]
        return m.PRODUCT_VALUE_TABLES[attribute.backend_type], attribute.attribute_id

    def _effective(self, code: str, entity_id: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """The store-view value if not NULL, else the store-0 value, as a correlated expression."""
        table, attribute_id = self._value_table(code)

        def at(store_id: int) -> sa.ScalarSelect[Any]:
            v = table.alias()
            return (sa.select(v.c.value).where(v.c.entity_id == entity_id, v.c.attribute_id == attribute_id,
                                               v.c.store_id == store_id).scalar_subquery())

        return sa.func.coalesce(at(self._store.store_id), at(ADMIN_STORE))

    def _is_candidate(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        visibility = sa.func.coalesce(self._effective("visibility", e.c.entity_id), DEFAULT_VISIBILITY)
        return sa.or_(e.c.type_id == CONFIGURABLE,
                      sa.and_(e.c.type_id.in_(STANDALONE_TYPES), visibility != NOT_VISIBLE_INDIVIDUALLY))

    def _enabled_on_website(self, entity_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        w = m.catalog_product_website.alias()
        on_website = sa.exists().where(w.c.product_id == entity_id, w.c.website_id == self._store.website_id)
        return sa.and_(self._effective("status", entity_id) == STATUS_ENABLED, on_website)

    def _manages_stock(self, si: sa.FromClause) -> sa.ColumnElement[Any]:
        return sa.case((si.c.use_config_manage_stock == 1, int(self._manage_stock_default)),
                       else_=si.c.manage_stock)

    def _in_stock(self, entity: sa.FromClause) -> sa.ColumnElement[bool]:
        si = m.cataloginventory_stock_item.alias()
        flag, qty = self._stock_sql.flag(si, entity.c.sku), self._stock_sql.qty(si, entity.c.sku)
        return sa.exists().where(
            si.c.product_id == entity.c.entity_id, si.c.stock_id == DEFAULT_STOCK_ID,
            sa.or_(self._manages_stock(si) == 0, sa.and_(flag == 1, qty > 0)),
        )

    def _sellable(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        link = m.catalog_product_super_link.alias()
        child = m.catalog_product_entity.alias()
        sellable_child = sa.exists(
            sa.select(child.c.entity_id).join(link, link.c.product_id == child.c.entity_id)
            .where(link.c.parent_id == e.c.entity_id, self._enabled_on_website(child.c.entity_id),
                   self._in_stock(child))
        )
        return sa.and_(
            self._enabled_on_website(e.c.entity_id),
            sa.or_(sa.and_(e.c.type_id == CONFIGURABLE, sellable_child),
                   sa.and_(e.c.type_id != CONFIGURABLE, self._in_stock(e))),
        )

    def _candidates_with_verdict(self, conn: sa.Connection, *, after_id: int,
                                 size: int) -> tuple[list[tuple[int, bool]], bool]:
        """The next ``size`` candidates with their import-rule verdict, and whether more follow."""
        e = m.catalog_product_entity.alias("e")
        page = (sa.select(e.c.entity_id).where(e.c.entity_id > after_id, self._is_candidate(e))
                .order_by(e.c.entity_id).limit(size + 1))
        ids = [int(i) for i in conn.execute(page).scalars()]
        more = len(ids) > size
        ids = ids[:size]
        if not ids:
            return [], False
        verdict = sa.select(e.c.entity_id, sa.case((self._sellable(e), 1), else_=0)).where(e.c.entity_id.in_(ids))
        sellable = {int(i) for i, ok in conn.execute(verdict).tuples() if ok}
        return [(i, i in sellable) for i in ids], more

    # --- assembling records ----------------------------------------------------------------------

    def _assemble(self, conn: sa.Connection, ids: Sequence[int]) -> list[SourceProduct]:
        """Full records for these top-level ids: a fixed number of queries whatever len(ids) is."""
        if not ids:
            return []
        entities = _entities(conn, ids)
        children_of = _children_of(conn, [i for i, row in entities.items() if row["type_id"] == CONFIGURABLE])
        child_ids = sorted({c for kids in children_of.values() for c in kids})
        child_entities = _entities(conn, child_ids) if child_ids else {}
        all_ids = sorted(set(entities) | set(child_entities))
        values = self._values(conn, all_ids)
        labels = self._option_labels(conn, values)
        stock = self._stock(conn, all_ids)
        websites = self._on_website(conn, all_ids)
        images = self._images(conn, all_ids, values)
        categories = self._categories(conn, list(entities))
        axes = self._axes(conn, list(children_of))
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

    def _product(self, row: dict[str, Any], values: dict[str, Any], labels: dict[int, str], stock: _Stock | None,
                 on_website: bool, images: tuple[str, ...], categories: tuple[str, ...],
                 variants: tuple[SourceVariant, ...]) -> SourceProduct:
        enabled = values.get("status") == STATUS_ENABLED and on_website
        if row["type_id"] == CONFIGURABLE:
            sellable = [v for v in variants if v.is_sellable]
            priced = [v.price for v in sellable if v.price is not None and v.price > 0]
            specials = [v.special_price for v in sellable if v.special_price is not None]
            price = min(priced) if priced else None
            special = min(specials) if specials else None
            qty, in_stock, manages = sum(v.stock_qty for v in sellable), bool(sellable), True
        else:
            price, special = values.get("price"), self._active_special(values)
            qty = stock.qty if stock else 0
            in_stock = stock.in_stock if stock else False
            manages = stock.manages if stock else True
        return SourceProduct(
            source_id=int(row["entity_id"]), sku=row["sku"], type_id=row["type_id"],
            title=values.get("name") or "", description=values.get("description") or "",
            url_key=values.get("url_key") or None, price=price, special_price=special, stock_qty=qty,
            is_enabled=enabled, is_in_stock=in_stock, weight=values.get("weight"), categories=categories,
            images=images, attributes=self._labelled_attributes(values, labels), variants=variants,
            updated_at=row["updated_at"], manages_stock=manages,
        )

    def _variant(self, row: dict[str, Any], values: dict[str, Any], labels: dict[int, str], stock: _Stock | None,
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

    def _labelled_attributes(self, values: dict[str, Any], labels: dict[int, str]) -> dict[str, str]:
        result = {}
        for code, raw in values.items():
            attribute = self._attributes[code]
            if not attribute.has_option_labels or raw is None:
                continue
            names = [labels[i] for i in _option_ids(raw) if i in labels]
            if names:
                result[code] = ", ".join(names)
        return result

    # --- per-chunk set reads (one query each) ----------------------------------------------------

    def _values(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """entity_id -> attribute code -> effective value, one query per value table."""
        wanted = [a for a in self._attributes.values()
                  if a.backend_type in m.PRODUCT_VALUE_TABLES and (a.code in _CORE_CODES or a.has_option_labels)]
        by_backend: dict[str, dict[int, str]] = defaultdict(dict)
        for attribute in wanted:
            by_backend[attribute.backend_type][attribute.attribute_id] = attribute.code
        store_id = self._store.store_id
        picked: dict[tuple[int, int], tuple[int, Any]] = {}
        for backend, codes_by_id in by_backend.items():
            table = m.PRODUCT_VALUE_TABLES[backend]
            query = sa.select(table.c.entity_id, table.c.attribute_id, table.c.store_id, table.c.value).where(
                table.c.entity_id.in_(ids), table.c.attribute_id.in_(list(codes_by_id)),
                table.c.store_id.in_(sorted({ADMIN_STORE, store_id})),
            )
            for entity_id, attribute_id, row_store, value in conn.execute(query).tuples():
                if value is None:  # a NULL row never hides the store-0 value
                    continue
                key = (int(entity_id), int(attribute_id))
                if key not in picked or row_store == store_id:
                    picked[key] = (row_store, value)
        code_of = {a.attribute_id: a.code for a in wanted}
        result: dict[int, dict[str, Any]] = defaultdict(dict)
        for (entity_id, attribute_id), (_store, value) in picked.items():
            result[entity_id][code_of[attribute_id]] = value
        return result

    def _option_labels(self, conn: sa.Connection, values: dict[int, dict[str, Any]]) -> dict[int, str]:
        option_ids: set[int] = set()
        for entity_values in values.values():
            for code, raw in entity_values.items():
                if self._attributes[code].has_option_labels:
                    option_ids.update(_option_ids(raw))
        labels: dict[int, str] = {}
        store_labels: dict[int, str] = {}
        ov = m.eav_attribute_option_value
        for batch in _batches(sorted(option_ids)):
            query = sa.select(ov.c.option_id, ov.c.store_id, ov.c.value).where(
                ov.c.option_id.in_(batch), ov.c.store_id.in_(sorted({ADMIN_STORE, self._store.store_id})))
            for option_id, store_id, value in conn.execute(query).tuples():
                if value is None:
                    continue
                target = store_labels if store_id == self._store.store_id and store_id != ADMIN_STORE else labels
                target[int(option_id)] = value
        labels.update(store_labels)
        return labels

    def _stock(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, _Stock]:
        si = m.cataloginventory_stock_item
        e = m.catalog_product_entity
        query = (sa.select(si.c.product_id, self._stock_sql.qty(si, e.c.sku), self._stock_sql.flag(si, e.c.sku),
                           self._manages_stock(si))
                 .join(e, e.c.entity_id == si.c.product_id)
                 .where(si.c.product_id.in_(ids), si.c.stock_id == DEFAULT_STOCK_ID))
        return {int(pid): _Stock(qty=int(qty or 0), flag=bool(flag), manages=bool(manages))
                for pid, qty, flag, manages in conn.execute(query).tuples()}

    def _on_website(self, conn: sa.Connection, ids: Sequence[int]) -> set[int]:
        w = m.catalog_product_website
        query = sa.select(w.c.product_id).where(w.c.product_id.in_(ids), w.c.website_id == self._store.website_id)
        return {int(i) for i in conn.execute(query).scalars()}

    def _images(self, conn: sa.Connection, ids: Sequence[int],
                values: dict[int, dict[str, Any]]) -> dict[int, tuple[str, ...]]:
        """Base image first, then the gallery by position (store view over store 0), hidden ones left out."""
        g, gv, link = (m.catalog_product_entity_media_gallery, m.catalog_product_entity_media_gallery_value,
                       m.catalog_product_entity_media_gallery_value_to_entity)
        query = (
            sa.select(link.c.entity_id, g.c.value_id, g.c.value, g.c.disabled, gv.c.store_id, gv.c.position,
                      gv.c.disabled)
            .join(g, g.c.value_id == link.c.value_id)
            .outerjoin(gv, sa.and_(gv.c.value_id == g.c.value_id, gv.c.entity_id == link.c.entity_id,
                                   gv.c.store_id.in_(sorted({ADMIN_STORE, self._store.store_id}))))
            .where(link.c.entity_id.in_(ids), g.c.media_type == "image")
        )
        entries: dict[int, dict[int, tuple[str, bool, int | None, bool]]] = defaultdict(dict)
        for entity_id, value_id, file, file_disabled, store_id, position, hidden in conn.execute(query).tuples():
            per_store = store_id == self._store.store_id and store_id != ADMIN_STORE
            current = entries[int(entity_id)].get(int(value_id))
            if current is None or per_store:
                entries[int(entity_id)][int(value_id)] = (file, bool(file_disabled) or bool(hidden), position, per_store)
        result = {}
        for entity_id in ids:
            base = values.get(entity_id, {}).get("image")
            files: list[str] = [base] if base and base != NO_SELECTION else []
            gallery = sorted(
                ((pos if pos is not None else 1 << 30, value_id, file)
                 for value_id, (file, disabled, pos, _s) in entries.get(entity_id, {}).items() if not disabled and file),
            )
            files += [file for _p, _v, file in gallery if file not in files]
            result[entity_id] = tuple(self._media_url(f) for f in files)
        return result

    def _media_url(self, file: str) -> str:
        return f"{self.media_base_url}/{file.lstrip('/')}"

    def _categories(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        cp = m.catalog_category_product
        query = sa.select(cp.c.product_id, cp.c.category_id).where(cp.c.product_id.in_(ids))
        paths: dict[int, set[str]] = defaultdict(set)
        for product_id, category_id in conn.execute(query).tuples():
            path = self._category_paths.get(int(category_id))
            if path:
                paths[int(product_id)].add(path)
        return {pid: tuple(sorted(p)) for pid, p in paths.items()}

    def _axes(self, conn: sa.Connection, parent_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        if not parent_ids:
            return {}
        sa_ = m.catalog_product_super_attribute
        query = (sa.select(sa_.c.product_id, sa_.c.attribute_id).where(sa_.c.product_id.in_(parent_ids))
                 .order_by(sa_.c.product_id, sa_.c.position, sa_.c.attribute_id))
        code_of = {a.attribute_id: a.code for a in self._attributes.values()}
        axes: dict[int, list[str]] = defaultdict(list)
        for product_id, attribute_id in conn.execute(query).tuples():
            if int(attribute_id) in code_of:
                axes[int(product_id)].append(code_of[int(attribute_id)])
        return {pid: tuple(codes) for pid, codes in axes.items()}

    def _build_state_query(self) -> sa.Select[tuple[Any, ...]]:
        """Per entity: type, enabled on the website (0/1) and its stock item, for an expanding ``ids``.

        The status comes from two outer joins on its value table (store view and store 0) rather
        than correlated subqueries, so the server reads each row once by its unique key.
        """
        e = m.catalog_product_entity.alias("e")
        si = m.cataloginventory_stock_item.alias("si")
        w = m.catalog_product_website.alias("w")
        table, status_id = self._value_table("status")
        at_admin, at_view = table.alias("status_admin"), table.alias("status_view")
        price_table, price_id = self._value_table("price")
        price_admin, price_view = price_table.alias("price_admin"), price_table.alias("price_view")

        def value_row(v: sa.FromClause, attribute_id: int, store_id: int) -> sa.ColumnElement[bool]:
            return sa.and_(v.c.entity_id == e.c.entity_id, v.c.attribute_id == attribute_id, v.c.store_id == store_id)

        status = sa.func.coalesce(at_view.c.value, at_admin.c.value)
        enabled = sa.case((sa.and_(status == STATUS_ENABLED, w.c.product_id.is_not(None)), 1), else_=0)
        # A variant without a usable price is not sold (records' ``problem``): the state must agree.
        priced = sa.case((sa.func.coalesce(price_view.c.value, price_admin.c.value) > 0, 1), else_=0)
        return (
            sa.select(e.c.entity_id, e.c.type_id, enabled, self._stock_sql.qty(si, e.c.sku),
                      self._stock_sql.flag(si, e.c.sku), self._manages_stock(si), si.c.item_id, priced)
            .select_from(e)
            .outerjoin(at_admin, value_row(at_admin, status_id, ADMIN_STORE))
            .outerjoin(at_view, value_row(at_view, status_id, self._store.store_id))
            .outerjoin(price_admin, value_row(price_admin, price_id, ADMIN_STORE))
            .outerjoin(price_view, value_row(price_view, price_id, self._store.store_id))
            .outerjoin(w, sa.and_(w.c.product_id == e.c.entity_id, w.c.website_id == self._store.website_id))
            .outerjoin(si, sa.and_(si.c.product_id == e.c.entity_id, si.c.stock_id == DEFAULT_STOCK_ID))
            .where(e.c.entity_id.in_(sa.bindparam("ids", expanding=True)))
        )

    def _live_states(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, _LiveState]:
        states: dict[int, _LiveState] = {}
        for batch in _batches(ids, self._state_batch):
            for entity_id, type_id, enabled, qty, flag, manages, item_id, priced in conn.execute(
                    self._state_query, {"ids": batch}).tuples():
                stock = (_Stock(qty=int(qty or 0), flag=bool(flag), manages=bool(manages)) if item_id is not None
                         else _Stock(qty=0, flag=False, manages=True))  # no stock item: never in stock
                states[int(entity_id)] = _LiveState(type_id=type_id, enabled=bool(enabled), stock=stock,
                                                    priced=bool(priced))
        return states

    def _children(self, conn: sa.Connection, parent_ids: Sequence[int]) -> dict[int, list[int]]:
        children: dict[int, list[int]] = defaultdict(list)
        for batch in _batches(parent_ids, self._state_batch):
            for parent_id, child_id in conn.execute(self._children_query, {"parents": batch}).tuples():
                children[int(parent_id)].append(int(child_id))
        return children

    def _duplicate_skus(self, conn: sa.Connection, products: Sequence[SourceProduct]) -> dict[int, str]:
        """source_id -> reason, for products whose SKU an older product already holds."""
        if not products:
            return {}
        keys = {_sku_key(p.sku) for p in products}
        e = m.catalog_product_entity
        if conn.dialect.name in ("mysql", "mariadb"):
            # The column's collation already ignores case and trailing spaces, and can use the index.
            match = e.c.sku.in_(sorted(keys))
        else:
            match = sa.func.lower(sa.func.rtrim(e.c.sku)).in_(sorted(keys))
        holders: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for entity_id, sku in conn.execute(sa.select(e.c.entity_id, e.c.sku).where(match)).tuples():
            holders[_sku_key(sku)].append((int(entity_id), sku))
        reasons = {}
        for product in products:
            first_id, first_sku = min(holders.get(_sku_key(product.sku), [(product.source_id, product.sku)]))
            if first_id < product.source_id:
                reasons[product.source_id] = (
                    f"SKU {product.sku!r} duplicates SKU {first_sku!r} of product {first_id} "
                    "(Magento compares SKUs ignoring case and trailing spaces)")
        return reasons


@dataclass(frozen=True)
class _LiveState:
    """What the reconciliation needs of one entity, before configurables are derived."""

    type_id: str
    enabled: bool  # status 1 at the store view and on its website
    stock: _Stock
    priced: bool = True  # a price above 0 (store view over store 0)


def _status_of(state: _LiveState, children: Iterable[int], states: dict[int, _LiveState]) -> StockStatus:
    if state.type_id != CONFIGURABLE:
        return StockStatus(enabled=state.enabled, in_stock=state.stock.in_stock, qty=state.stock.qty,
                           priced=state.priced)
    sellable = [child.stock for child in (states.get(c) for c in children)
                if child is not None and child.enabled and child.stock.in_stock and child.priced]
    return StockStatus(enabled=state.enabled, in_stock=bool(sellable), qty=sum(s.qty for s in sellable))


def _build_children_query() -> sa.Select[tuple[Any, ...]]:
    link = m.catalog_product_super_link
    return (sa.select(link.c.parent_id, link.c.product_id)
            .where(link.c.parent_id.in_(sa.bindparam("parents", expanding=True))))


# --- loading metadata ---------------------------------------------------------------------------


def _load_store(conn: sa.Connection, store_code: str) -> _Store:
    s, g, w = m.store, m.store_group, m.store_website
    row = conn.execute(
        sa.select(s.c.store_id, s.c.website_id, g.c.root_category_id, w.c.code)
        .join(g, g.c.group_id == s.c.group_id).outerjoin(w, w.c.website_id == s.c.website_id)
        .where(s.c.code == store_code)
    ).first()
    if row is None:
        known = sorted(c for c in conn.execute(sa.select(s.c.code)).scalars() if c)
        raise ValueError(f"Magento has no store view with code {store_code!r} (known: {', '.join(known) or 'none'})")
    return _Store(store_id=int(row[0]), website_id=int(row[1]), root_category_id=int(row[2]), website_code=row[3])


def _load_attributes(conn: sa.Connection, entity_type_id: int) -> dict[str, _Attribute]:
    a = m.eav_attribute
    query = sa.select(a.c.attribute_id, a.c.attribute_code, a.c.backend_type, a.c.frontend_input,
                      a.c.source_model).where(a.c.entity_type_id == entity_type_id)
    return {code: _Attribute(int(aid), code, backend, frontend, source)
            for aid, code, backend, frontend, source in conn.execute(query).tuples()}


def _config_value(conn: sa.Connection, store: _Store, path: str) -> str | None:
    """A core_config_data value, store-view scope over website scope over default scope."""
    c = m.core_config_data
    rows = conn.execute(sa.select(c.c.scope, c.c.scope_id, c.c.value).where(c.c.path == path)).tuples().all()
    for scope, scope_id in (("stores", store.store_id), ("websites", store.website_id), ("default", 0)):
        for row_scope, row_scope_id, value in rows:
            if row_scope == scope and int(row_scope_id) == scope_id:
                return str(value) if value is not None else None
    return None


def _media_base_from_config(conn: sa.Connection, store: _Store) -> str:
    base_url = _config_value(conn, store, "web/unsecure/base_url")
    media_url = _config_value(conn, store, "web/unsecure/base_media_url")
    if media_url:
        media_url = media_url.replace("{{unsecure_base_url}}", base_url or "")
    elif base_url:
        media_url = base_url.rstrip("/") + "/media/"
    if not media_url or "{{" in media_url:
        raise ValueError("cannot build image URLs: pass media_base_url (MAGENTO_MEDIA_BASE_URL) or set "
                         "web/unsecure/base_url in core_config_data")
    return media_url.rstrip("/") + "/catalog/product"


def _load_category_paths(conn: sa.Connection, store: _Store) -> dict[int, str]:
    """category id -> "Men/Tops" for every category below the store's root category."""
    ce = m.catalog_category_entity
    attributes = _load_attributes(conn, CATEGORY_TYPE_ID)
    name = attributes.get("name")
    if name is None or name.backend_type not in m.CATEGORY_VALUE_TABLES:
        return {}
    v = m.CATEGORY_VALUE_TABLES[name.backend_type]
    names: dict[int, str] = {}
    store_names: dict[int, str] = {}
    query = sa.select(v.c.entity_id, v.c.store_id, v.c.value).where(
        v.c.attribute_id == name.attribute_id, v.c.store_id.in_(sorted({ADMIN_STORE, store.store_id})))
    for entity_id, store_id, value in conn.execute(query).tuples():
        if value is not None:
            (store_names if store_id == store.store_id and store_id != ADMIN_STORE else names)[int(entity_id)] = value
    names.update(store_names)
    root = str(store.root_category_id)
    paths = {}
    for entity_id, path in conn.execute(sa.select(ce.c.entity_id, ce.c.path)).tuples():
        parts = path.split("/")
        if root not in parts[:-1]:
            continue
        below_root = parts[parts.index(root) + 1:]
        if all(int(p) in names for p in below_root):
            paths[int(entity_id)] = "/".join(names[int(p)] for p in below_root)
    return paths


def _entities(conn: sa.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    e = m.catalog_product_entity
    result: dict[int, dict[str, Any]] = {}
    for batch in _batches(list(ids)):
        query = sa.select(e.c.entity_id, e.c.sku, e.c.type_id, e.c.updated_at).where(e.c.entity_id.in_(batch))
        result.update({int(row.entity_id): dict(row._mapping) for row in conn.execute(query)})
    return result


def _unsynced_types(conn: sa.Connection, after_id: int, up_to_id: int | None) -> dict[str, int]:
    """Products of the types the pipeline leaves out, by type, with ids in (after_id, up_to_id]."""
    e = m.catalog_product_entity
    query = (sa.select(e.c.type_id, sa.func.count()).where(e.c.entity_id > after_id,
                                                             e.c.type_id.not_in(SYNCED_TYPES))
             .group_by(e.c.type_id))
    if up_to_id is not None:
        query = query.where(e.c.entity_id <= up_to_id)
    return {str(type_id): int(count) for type_id, count in conn.execute(query).tuples()}


def _children_of(conn: sa.Connection, parent_ids: Sequence[int]) -> dict[int, list[int]]:
    if not parent_ids:
        return {}
    link = m.catalog_product_super_link
    query = (sa.select(link.c.parent_id, link.c.product_id).where(link.c.parent_id.in_(parent_ids))
             .order_by(link.c.parent_id, link.c.product_id))
    children: dict[int, list[int]] = defaultdict(list)
    for parent_id, child_id in conn.execute(query).tuples():
        children[int(parent_id)].append(int(child_id))
    return children


# --- small helpers ------------------------------------------------------------------------------


def _split_broken(products: list[SourceProduct],
                  duplicates: dict[int, str]) -> tuple[list[SourceProduct], list[RejectedRow]]:
    usable, rejected = [], []
    for product in products:
        reasons = _problems(product)
        if product.source_id in duplicates:
            reasons.append(duplicates[product.source_id])
        if reasons:
            rejected.append(RejectedRow(source_id=product.source_id, sku=product.sku, reason="; ".join(reasons)))
        else:
            usable.append(product)
    return usable, rejected


def _problems(product: SourceProduct) -> list[str]:
    problems = []
    if not product.sku.strip():
        problems.append("SKU is empty")
    if not product.title.strip():
        problems.append("name is empty")
    if product.type_id == CONFIGURABLE:
        # Bad children are left out one by one; only a parent with nothing left to sell is refused.
        if product.is_enabled and not any(v.is_sellable for v in product.variants):
            bad = ", ".join(f"{sku} ({why})" for sku, why in product.variant_problems)
            problems.append(f"no variant can be sold: {bad}" if bad else "no variant can be sold")
    elif product.price is None:
        problems.append("price is missing")
    elif product.price <= 0:
        problems.append(f"price {product.price.normalize()} is not positive")
    return problems


def _option_ids(raw: Any) -> list[int]:
    """Option ids of a select (int) or multiselect ("5,7,12") value; junk pieces are ignored."""
    if isinstance(raw, int):
        return [raw]
    return [int(piece) for piece in str(raw).split(",") if piece.strip().isdigit()]


def _sku_key(sku: str) -> str:
    return sku.rstrip(" ").lower()


def _as_date(value: datetime | date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _batches(ids: Sequence[int], size: int = _IN_LIST_MAX) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])
