"""Read sellable products out of a Magento 2 catalog (EAV), chunk by chunk.

API (what ``sync_pipeline/catalog`` builds on)::

    reader = MagentoCatalogReader(engine, store_code="default", media_base_url=None, today=None, now=None)
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
* Editions: Magento Open Source and Adobe Commerce alike (``edition.py``: detected by ``row_id`` in
  ``catalog_product_entity``). On Commerce the product rows read are those whose staging version
  covers the version in force at ``now`` (when the reader was made, by default); a product's
  source id is its ``entity_id`` in both editions; ``changed_since`` also reports products whose
  current version started after ``since`` (a scheduled update that went live).

Layout of the code: ``catalog_sql.py`` (store, attributes, the SQL shared by all parts),
``assembly.py`` (full records per chunk), ``live_state.py`` (``stock_and_status``), ``inventory.py``
(salable quantity) and this module (the public API and the import rule).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento.assembly import RecordAssembler
from sync_pipeline.magento.catalog_sql import (
    CONFIGURABLE,
    DEFAULT_STOCK_ID,
    DEFAULT_VISIBILITY,
    NOT_VISIBLE_INDIVIDUALLY,
    PRODUCT_TYPE_ID,
    STANDALONE_TYPES,
    STATUS_ENABLED,
    CatalogSql,
    batches,
    config_value,
    load_attributes,
    load_category_paths,
    load_store,
    media_base_from_config,
)
from sync_pipeline.magento.edition import detect_layout, version_at
from sync_pipeline.magento.inventory import BACKORDERS_PATH, MIN_QTY_PATH, StockColumns, detect_inventory
from sync_pipeline.magento.live_state import LiveStates
from sync_pipeline.magento.records import (
    SYNCED_TYPES,
    ProductChunk,
    RejectedRow,
    SourceProduct,
    StockStatus,
)


class MagentoCatalogReader:
    """Reads one store view of a Magento 2 catalog; safe to reuse across chunks and runs."""

    def __init__(self, engine: sa.Engine, store_code: str = "default", media_base_url: str | None = None,
                 today: date | None = None, now: datetime | None = None) -> None:
        self.engine = engine
        self.store_code = store_code
        self.today = today or date.today()
        self.now = now or datetime.now(UTC)
        with engine.connect() as conn:
            store = load_store(conn, store_code)
            attributes = load_attributes(conn, PRODUCT_TYPE_ID)
            missing = [code for code in ("name", "price", "status", "visibility") if code not in attributes]
            if missing:
                raise ValueError(f"the Magento database has no product attribute(s) {missing}: not a Magento catalog?")
            self.layout = detect_layout(conn)
            self.version = version_at(conn, self.now) if self.layout.commerce else 0
            manage_stock_default = config_value(conn, store, "cataloginventory/item_options/manage_stock") != "0"
            backorders_default = (config_value(conn, store, BACKORDERS_PATH) or "0") not in ("", "0")
            self.inventory = detect_inventory(conn, store.website_code, config_value(conn, store, MIN_QTY_PATH))
            self.media_base_url = (media_base_url or media_base_from_config(conn, store)).rstrip("/")
            category_paths = load_category_paths(conn, store, self.layout, self.version)
        self._sql = CatalogSql(self.layout, self.version, store, attributes, StockColumns(self.inventory),
                               manage_stock_default, backorders_default)
        self._records = RecordAssembler(self._sql, self.today, self.media_base_url, category_paths)
        # Built once: the reconciliation runs them for every catalog product on every run.
        self._live = LiveStates(self._sql, engine.dialect.name)
        # The import rule's statements are built once too: building the MSI subqueries for every
        # chunk cost as much Python time as the server spent running them (benchmarks/RESULTS.md).
        self._page_query, self._verdict_query = self._build_rule_queries()

    # --- public API ------------------------------------------------------------------------------

    def max_source_id(self) -> int:
        """The highest top-level candidate id, 0 for an empty catalog."""
        e = self._sql.entity("e")
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
                unsynced = self._unsynced_types(conn, cursor, candidates[-1][0] if more else None)
                if not candidates:
                    if unsynced:  # no candidate left, but products of other types were never counted
                        yield ProductChunk(products=[], rejected=[], last_source_id=cursor, examined=0,
                                           unsynced_types=unsynced)
                    return
                sellable = [entity_id for entity_id, ok in candidates if ok]
                products = self._records.assemble(conn, sellable)
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
            for ids in batches(wanted):
                products.extend(self._records.assemble(conn, ids))
        found = {p.source_id for p in products}
        missing = [RejectedRow(source_id=i, sku="", reason="not in the Magento catalog") for i in wanted
                   if i not in found]
        return ProductChunk(products=products, rejected=missing, last_source_id=wanted[-1] if wanted else 0,
                            examined=len(wanted))

    def changed_since(self, since: datetime, up_to_id: int) -> list[int]:
        """Top-level candidate ids <= ``up_to_id`` whose row, or one of whose children, changed after ``since``.

        On Commerce a row also counts as changed when its version started after ``since``: a
        scheduled update that went live touches no ``updated_at``.
        """
        since = _naive_utc(since)
        e, parent, c = self._sql.entity("e"), self._sql.entity("p"), self._sql.entity("c")
        link = self._sql.table("catalog_product_super_link")
        own = sa.select(e.c.entity_id).where(self._changed(e, since), e.c.entity_id <= up_to_id,
                                             self._is_candidate(e))
        via_child = (sa.select(parent.c.entity_id)
                     .join(link, link.c.parent_id == self._sql.link(parent))
                     .join(c, c.c.entity_id == link.c.product_id)
                     .where(self._changed(c, since), parent.c.entity_id <= up_to_id))
        with self.engine.connect() as conn:
            ids = {int(i) for i in conn.execute(own).scalars()}
            ids |= {int(i) for i in conn.execute(via_child).scalars()}
        return sorted(ids)

    def stock_and_status(self, source_ids: Iterable[int]) -> dict[int, StockStatus]:
        """Enabled / in stock / qty for each id found; configurables derived from their children."""
        wanted = sorted(set(source_ids))
        with self.engine.connect() as conn:
            return self._live.stock_and_status(conn, wanted)

    # --- the import rule as SQL ------------------------------------------------------------------

    def _changed(self, e: sa.FromClause, since: datetime) -> sa.ColumnElement[bool]:
        if not self.layout.commerce:
            return e.c.updated_at > since
        with self.engine.connect() as conn:
            since_version = version_at(conn, since)
        return sa.or_(e.c.updated_at > since, e.c.created_in > since_version)

    def _is_candidate(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        visibility = sa.func.coalesce(self._sql.effective("visibility", e), DEFAULT_VISIBILITY)
        return sa.or_(e.c.type_id == CONFIGURABLE,
                      sa.and_(e.c.type_id.in_(STANDALONE_TYPES), visibility != NOT_VISIBLE_INDIVIDUALLY))

    def _enabled_on_website(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        w = self._sql.table("catalog_product_website").alias()
        on_website = sa.exists().where(w.c.product_id == e.c.entity_id, w.c.website_id == self._sql.store.website_id)
        return sa.and_(self._sql.effective("status", e) == STATUS_ENABLED, on_website)

    def _in_stock(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        si = self._sql.table("cataloginventory_stock_item").alias()
        flag, qty = self._sql.stock.flag(si, e.c.sku), self._sql.stock.qty(si, e.c.sku)
        return sa.exists().where(
            si.c.product_id == e.c.entity_id, si.c.stock_id == DEFAULT_STOCK_ID,
            sa.or_(self._sql.manages_stock(si) == 0,
                   sa.and_(flag == 1, sa.or_(qty > 0, self._sql.backorders(si) == 1))),
        )

    def _sellable(self, e: sa.FromClause) -> sa.ColumnElement[bool]:
        link = self._sql.table("catalog_product_super_link").alias()
        child = self._sql.entity("child")
        sellable_child = sa.exists(
            sa.select(child.c.entity_id).join(link, link.c.product_id == child.c.entity_id)
            .where(link.c.parent_id == self._sql.link(e), self._enabled_on_website(child), self._in_stock(child))
        )
        return sa.and_(
            self._enabled_on_website(e),
            sa.or_(sa.and_(e.c.type_id == CONFIGURABLE, sellable_child),
                   sa.and_(e.c.type_id != CONFIGURABLE, self._in_stock(e))),
        )

    def _build_rule_queries(self) -> tuple[sa.Select[tuple[Any, ...]], sa.Select[tuple[Any, ...]]]:
        """The candidates page (``after``; the limit is set per call) and the verdict (``ids``)."""
        e = self._sql.entity("e")
        page = (sa.select(e.c.entity_id).where(e.c.entity_id > sa.bindparam("after"), self._is_candidate(e))
                .order_by(e.c.entity_id))
        verdict = (sa.select(e.c.entity_id, sa.case((self._sellable(e), 1), else_=0))
                   .where(e.c.entity_id.in_(sa.bindparam("ids", expanding=True))))
        return page, verdict

    def _candidates_with_verdict(self, conn: sa.Connection, *, after_id: int,
                                 size: int) -> tuple[list[tuple[int, bool]], bool]:
        """The next ``size`` candidates with their import-rule verdict, and whether more follow."""
        page = self._page_query.limit(size + 1)
        ids = [int(i) for i in conn.execute(page, {"after": after_id}).scalars()]
        more = len(ids) > size
        ids = ids[:size]
        if not ids:
            return [], False
        sellable = {int(i) for i, ok in conn.execute(self._verdict_query, {"ids": ids}).tuples() if ok}
        return [(i, i in sellable) for i in ids], more

    def _unsynced_types(self, conn: sa.Connection, after_id: int, up_to_id: int | None) -> dict[str, int]:
        """Products of the types the pipeline leaves out, by type, with ids in (after_id, up_to_id]."""
        e = self._sql.entity("e")
        query = (sa.select(e.c.type_id, sa.func.count()).where(e.c.entity_id > after_id,
                                                                 e.c.type_id.not_in(SYNCED_TYPES))
                 .group_by(e.c.type_id))
        if up_to_id is not None:
            query = query.where(e.c.entity_id <= up_to_id)
        return {str(type_id): int(count) for type_id, count in conn.execute(query).tuples()}

    def _duplicate_skus(self, conn: sa.Connection, products: Sequence[SourceProduct]) -> dict[int, str]:
        """source_id -> reason, for products whose SKU an older product already holds."""
        if not products:
            return {}
        keys = {_sku_key(p.sku) for p in products}
        e = self._sql.entity("e")  # Commerce: the rows in force only, not a product's other versions
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


def _sku_key(sku: str) -> str:
    return sku.rstrip(" ").lower()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
