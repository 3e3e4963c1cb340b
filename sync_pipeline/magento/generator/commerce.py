"""The generated catalog in Adobe Commerce's staging shape (``generate_catalog(commerce=True)``).

The generator plans and buffers its rows the Open Source way (keyed by ``entity_id``); this module
turns each flush into Commerce's rows (``edition.py`` says which tables are keyed by ``row_id``):

* every product gets a ``sequence_product`` row and one ``catalog_product_entity`` row per
  version, each with its own ``row_id``; its values, gallery entries and (for a configurable) its
  super attributes and links are written once per version;
* one product in three (``entity_id % 3 == 1``, so the very first one and row ids part from
  entity ids at once) also has a *past* version (before ``past_version``, the update that started
  30 days before ``today``) and a *scheduled* one (from 2037-01-01): their names carry the
  version, their prices are 100 higher, and the scheduled one is disabled. A reader that ignores
  the version bounds, or joins values on ``entity_id``, reads other names, prices or statuses;
* categories get row ids 1000 above their entity ids, for the same reason.

The current versions hold exactly what the Open Source catalog of the same seed holds, so both
import the same catalog.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.edition import COMMERCE, MAX_VERSION, MIN_VERSION, staging_update

PAST_DAYS = 30
NEXT_UPDATE_START = datetime(2037, 1, 1)  # after any plausible run, before updated_in's 2147483647 (2038)
CATEGORY_ROW_OFFSET = 1000
PRICE_STEP = Decimal(100)
STATUS_DISABLED = 2
CURRENT, PAST, NEXT = "current", "past", "scheduled"

_VALUE_TABLES = {t.name for t in m.PRODUCT_VALUE_TABLES.values()}
_BY_ROW = {"catalog_product_entity_media_gallery_value", "catalog_product_entity_media_gallery_value_to_entity"}
_PARENT_BY_ROW = {"catalog_product_super_attribute": "product_id", "catalog_product_super_link": "parent_id",
                  "catalog_product_relation": "parent_id"}


def _unix(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def install_staging(conn: sa.Connection, today: date) -> tuple[int, int]:
    """The two staging updates (their ids are the versions): one live since 30 days, one scheduled."""
    past_start = datetime.combine(today, time(6)) - timedelta(days=PAST_DAYS)
    updates = [(past_start, "Spring prices"), (NEXT_UPDATE_START, "Scheduled relaunch")]
    conn.execute(staging_update.insert(), [
        {"id": _unix(start), "start_time": start, "name": name, "is_campaign": 0, "is_rollback": 0}
        for start, name in updates])
    return _unix(past_start), _unix(NEXT_UPDATE_START)


def category_rows(entities: list[dict[str, Any]], varchar_rows: list[dict[str, Any]],
                  int_rows: list[dict[str, Any]]) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    """The category tree's rows in Commerce's shape (one version each, row id = entity id + 1000)."""
    def by_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**{k: v for k, v in r.items() if k != "entity_id"}, "row_id": r["entity_id"] + CATEGORY_ROW_OFFSET}
                for r in rows]

    return [
        (COMMERCE.table("sequence_catalog_category"), [{"sequence_value": r["entity_id"]} for r in entities]),
        (COMMERCE.table("catalog_category_entity"),
         [{**r, "row_id": r["entity_id"] + CATEGORY_ROW_OFFSET, "created_in": MIN_VERSION, "updated_in": MAX_VERSION}
          for r in entities]),
        (COMMERCE.category_values["varchar"], by_row(varchar_rows)),
        (COMMERCE.category_values["int"], by_row(int_rows)),
    ]


class CommerceRows:
    """Turns the writer's buffered Open Source rows into Commerce rows, flush by flush."""

    def __init__(self, attr: dict[str, int], versions: tuple[int, int]) -> None:
        self.attr = attr
        self.past_version, self.next_version = versions
        self.next_row_id = 1
        self.rows_of: dict[int, dict[str, int]] = {}  # entity_id -> version -> row_id
        self.staged_ids: list[int] = []

    @staticmethod
    def staged(entity_id: int) -> bool:
        return entity_id % 3 == 1

    def translate(self, batches: list[tuple[sa.Table, list[dict[str, Any]]]]) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        order = ["sequence_product"]
        for table, rows in batches:
            order.append(table.name)
            for row in rows:
                out[table.name].extend(self._rows(table.name, row, out))
        return [(COMMERCE.table(name), out[name]) for name in order if out[name]]

    def _rows(self, name: str, row: dict[str, Any], out: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        if name == "catalog_product_entity":
            return self._entity_rows(row, out)
        if name in _VALUE_TABLES or name in _BY_ROW:
            rest = {k: v for k, v in row.items() if k != "entity_id"}
            return [self._changed(name, {**rest, "row_id": row_id}, version)
                    for version, row_id in self.rows_of[row["entity_id"]].items()]
        if name in _PARENT_BY_ROW:
            column = _PARENT_BY_ROW[name]
            return [{**row, column: row_id} for row_id in self.rows_of[row[column]].values()]
        return [row]

    def _entity_rows(self, row: dict[str, Any], out: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        entity_id = row["entity_id"]
        out["sequence_product"].append({"sequence_value": entity_id})
        if self.staged(entity_id):
            self.staged_ids.append(entity_id)
            bounds = [(PAST, MIN_VERSION, self.past_version), (CURRENT, self.past_version, self.next_version),
                      (NEXT, self.next_version, MAX_VERSION)]
        else:
            bounds = [(CURRENT, MIN_VERSION, MAX_VERSION)]
        rows = []
        self.rows_of[entity_id] = {}
        for version, created_in, updated_in in bounds:
            self.rows_of[entity_id][version] = self.next_row_id
            rows.append({**row, "row_id": self.next_row_id, "created_in": created_in, "updated_in": updated_in})
            self.next_row_id += 1
        return rows

    def _changed(self, name: str, row: dict[str, Any], version: str) -> dict[str, Any]:
        """A value row of a version other than the current one: another name, price or status."""
        if version == CURRENT or name not in _VALUE_TABLES or row.get("value") is None:
            return row
        attribute = row["attribute_id"]
        if attribute == self.attr["name"]:
            return {**row, "value": f"{row['value']} ({version} version)"}
        if attribute == self.attr["price"]:
            return {**row, "value": Decimal(row["value"]) + PRICE_STEP}
        if attribute == self.attr["status"] and version == NEXT:
            return {**row, "value": STATUS_DISABLED}
        return row

