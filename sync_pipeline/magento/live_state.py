"""The cheap per-run view of products: enabled, in stock, how many, for the reconciliation.

One state query per batch of ids (type, enabled on the website, stock item, priced), the status
and price read through outer joins on their value tables (store view and store 0) rather than
correlated subqueries, so the server reads each row once by its unique key; configurables are
derived from their children's states.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento.catalog_sql import (
    ADMIN_STORE,
    CONFIGURABLE,
    DEFAULT_STOCK_ID,
    IN_LIST_MAX,
    STATUS_ENABLED,
    CatalogSql,
    Stock,
    batches,
)
from sync_pipeline.magento.records import StockStatus

# The state rows are small, so they are read in longer IN lists where the driver allows it;
# SQLite builds older than 3.32 stop at 999 parameters.
_STATE_BATCH = 4000


@dataclass(frozen=True)
class LiveState:
    """What the reconciliation needs of one entity, before configurables are derived."""

    type_id: str
    enabled: bool  # status 1 at the store view and on its website
    stock: Stock
    priced: bool = True  # a price above 0 (store view over store 0)


class LiveStates:
    """``stock_and_status`` of the reader: built once, run for every catalog product on every run."""

    def __init__(self, sql: CatalogSql, dialect: str) -> None:
        self.sql = sql
        self.batch = IN_LIST_MAX if dialect == "sqlite" else _STATE_BATCH
        self.state_query = self._build_state_query()
        self.children_query = sql.children_query()

    def stock_and_status(self, conn: sa.Connection, wanted: Sequence[int]) -> dict[int, StockStatus]:
        """Each entity is read once, a configurable's children included, even when they were asked
        for too: one state query per batch, one link query for the configurables, one state query
        for children not read yet."""
        states = self._states(conn, wanted)
        parents = [i for i, state in states.items() if state.type_id == CONFIGURABLE]
        children_of = self._children(conn, parents)
        unread = sorted({c for kids in children_of.values() for c in kids} - states.keys())
        states.update(self._states(conn, unread))
        return {entity_id: status_of(states[entity_id], children_of.get(entity_id, ()), states)
                for entity_id in wanted if entity_id in states}

    def _build_state_query(self) -> sa.Select[tuple[Any, ...]]:
        """Per entity: type, enabled on the website (0/1), its stock item and priced, for an expanding ``ids``."""
        sql = self.sql
        e = sql.entity("e")
        si = sql.table("cataloginventory_stock_item").alias("si")
        w = sql.table("catalog_product_website").alias("w")
        table, status_id = sql.value_table("status")
        at_admin, at_view = table.alias("status_admin"), table.alias("status_view")
        price_table, price_id = sql.value_table("price")
        price_admin, price_view = price_table.alias("price_admin"), price_table.alias("price_view")
        key = sql.layout.link
        store_id = sql.store.store_id

        def value_row(v: sa.FromClause, attribute_id: int, at_store: int) -> sa.ColumnElement[bool]:
            return sa.and_(v.c[key] == e.c[key], v.c.attribute_id == attribute_id, v.c.store_id == at_store)

        status = sa.func.coalesce(at_view.c.value, at_admin.c.value)
        enabled = sa.case((sa.and_(status == STATUS_ENABLED, w.c.product_id.is_not(None)), 1), else_=0)
        # A variant without a usable price is not sold (records' ``problem``): the state must agree.
        priced = sa.case((sa.func.coalesce(price_view.c.value, price_admin.c.value) > 0, 1), else_=0)
        return (
            sa.select(e.c.entity_id, e.c.type_id, enabled, sql.stock.qty(si, e.c.sku),
                      sql.stock.flag(si, e.c.sku), sql.manages_stock(si), si.c.item_id, priced, sql.backorders(si))
            .select_from(e)
            .outerjoin(at_admin, value_row(at_admin, status_id, ADMIN_STORE))
            .outerjoin(at_view, value_row(at_view, status_id, store_id))
            .outerjoin(price_admin, value_row(price_admin, price_id, ADMIN_STORE))
            .outerjoin(price_view, value_row(price_view, price_id, store_id))
            .outerjoin(w, sa.and_(w.c.product_id == e.c.entity_id, w.c.website_id == sql.store.website_id))
            .outerjoin(si, sa.and_(si.c.product_id == e.c.entity_id, si.c.stock_id == DEFAULT_STOCK_ID))
            .where(e.c.entity_id.in_(sa.bindparam("ids", expanding=True)))
        )

    def _states(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, LiveState]:
        states: dict[int, LiveState] = {}
        for batch in batches(ids, self.batch):
            for entity_id, type_id, enabled, qty, flag, manages, item_id, priced, backorders in conn.execute(
                    self.state_query, {"ids": batch}).tuples():
                stock = (Stock(qty=int(qty or 0), flag=bool(flag), manages=bool(manages), backorders=bool(backorders))
                         if item_id is not None
                         else Stock(qty=0, flag=False, manages=True))  # no stock item: never in stock
                states[int(entity_id)] = LiveState(type_id=type_id, enabled=bool(enabled), stock=stock,
                                                   priced=bool(priced))
        return states

    def _children(self, conn: sa.Connection, parent_ids: Sequence[int]) -> dict[int, list[int]]:
        children: dict[int, list[int]] = defaultdict(list)
        for batch in batches(parent_ids, self.batch):
            for parent_id, child_id in conn.execute(self.children_query, {"parents": batch}).tuples():
                children[int(parent_id)].append(int(child_id))
        return children


def status_of(state: LiveState, children: Iterable[int], states: dict[int, LiveState]) -> StockStatus:
    if state.type_id != CONFIGURABLE:
        return StockStatus(enabled=state.enabled, in_stock=state.stock.in_stock, qty=state.stock.qty,
                           priced=state.priced)
    sellable = [child.stock for child in (states.get(c) for c in children)
                if child is not None and child.enabled and child.stock.in_stock and child.priced]
    return StockStatus(enabled=state.enabled, in_stock=bool(sellable), qty=sum(max(s.qty, 0) for s in sellable))
