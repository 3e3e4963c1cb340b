"""Magento's own change log: the indexers' "Update by Schedule" mode (Mview).

When an indexer runs "Update by Schedule" (``bin/magento indexer:set-mode schedule``, what Adobe
recommends for production), Magento keeps a changelog table per view, ``<view_id>_cl`` with
``version_id`` (int unsigned, auto-increment, primary key) and ``entity_id``, and database triggers
on every table the view subscribes to insert the changed entity id there
(``Magento\\Framework\\Mview\\View\\Changelog``; the subscriptions are in each module's
``etc/mview.xml``). ``mview_state`` records each view's mode (``enabled`` while on schedule).

Two views cover what the pipeline watches:

* ``catalog_product_price`` subscribes to ``catalog_product_entity`` and its ``_datetime``,
  ``_decimal``, ``_int`` and ``_tier_price`` value tables: a product saved, added or removed, a
  price or status written;
* ``cataloginventory_stock`` subscribes to ``cataloginventory_stock_item`` (and, in 2.4,
  ``catalog_product_entity_int`` and ``catalog_product_link``): a stock change such as an order's.

So the newest ``version_id`` of those two changelogs moves with every change the sensor must see,
and reading it is a primary-key read (``magento/watermark.py``). Magento ships no index that
would let a plain query find the newest ``updated_at`` or a stock change without reading both
tables whole.

``enable_update_by_schedule`` puts a (generated or test) database in that mode as Magento does:
the changelog tables, the ``mview_state`` rows and the triggers. Only MySQL/MariaDB.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

PRICE_VIEW = "catalog_product_price"
STOCK_VIEW = "cataloginventory_stock"

# view -> {subscribed table: its entity column}, from Magento's etc/mview.xml (Catalog, CatalogInventory).
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    PRICE_VIEW: {
        "catalog_product_entity": "entity_id",
        "catalog_product_entity_datetime": "entity_id",
        "catalog_product_entity_decimal": "entity_id",
        "catalog_product_entity_int": "entity_id",
        "catalog_product_entity_tier_price": "entity_id",
    },
    STOCK_VIEW: {
        "cataloginventory_stock_item": "product_id",
        "catalog_product_entity_int": "entity_id",
        "catalog_product_link": "product_id",
    },
}
WATCHED_VIEWS = (PRICE_VIEW, STOCK_VIEW)
STATE_TABLE = "mview_state"
ENABLED = "enabled"


def changelog_table(view_id: str) -> str:
    return f"{view_id}_cl"


def enable_update_by_schedule(engine: Engine) -> None:
    """Changelogs, states and triggers for the watched views, as Magento's schedule mode has them."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        raise ValueError(f"Magento's changelog triggers are set up on MySQL/MariaDB only, not {engine.dialect.name}")
    with engine.begin() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        conn.execute(sa.text(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (state_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "view_id varchar(255), mode varchar(16) DEFAULT 'disabled', status varchar(16) DEFAULT 'idle', "
            "updated datetime, version_id int unsigned, UNIQUE KEY MVIEW_STATE_VIEW_ID (view_id), "
            "KEY MVIEW_STATE_MODE (mode))"))
        statements: dict[tuple[str, str], list[str]] = {}
        for view_id, tables in SUBSCRIPTIONS.items():
            changelog = changelog_table(view_id)
            conn.execute(sa.text(
                f"CREATE TABLE IF NOT EXISTS {changelog} (version_id int unsigned NOT NULL AUTO_INCREMENT "
                "PRIMARY KEY, entity_id int unsigned NOT NULL DEFAULT 0)"))
            conn.execute(sa.text(
                f"INSERT INTO {STATE_TABLE} (view_id, mode, status, version_id) VALUES (:v, :m, 'idle', 0) "
                "ON DUPLICATE KEY UPDATE mode = VALUES(mode)"), {"v": view_id, "m": ENABLED})
            for table, column in tables.items():
                if table not in existing:
                    continue
                for event, row in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
                    statements.setdefault((table, event), []).append(
                        f"INSERT IGNORE INTO {changelog} (entity_id) VALUES ({row}.{column});")
        for (table, event), inserts in statements.items():
            name = f"trg_{table}_after_{event}"
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} FOR EACH ROW "
                                 f"BEGIN {' '.join(inserts)} END"))
    _forget_layout(engine)


def disable_update_by_schedule(engine: Engine) -> None:
    """Back to "Update on Save": triggers removed, states disabled; the changelog tables stay (as in
    Magento), which is why the watermark reads the states and not only the changelogs."""
    with engine.begin() as conn:
        tables = {t for tables in SUBSCRIPTIONS.values() for t in tables}
        for table in tables:
            for event in ("insert", "update", "delete"):
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS trg_{table}_after_{event}"))
        conn.execute(sa.text(f"UPDATE {STATE_TABLE} SET mode = 'disabled'"))
    _forget_layout(engine)


def _forget_layout(engine: Engine) -> None:
    from sync_pipeline.magento.watermark import forget_layout  # the watermark reads this module's names

    forget_layout(engine)
