"""Upsert one chunk of catalog entries by SKU, set-based, inside the caller's transaction.

Per chunk: one SELECT of the stored content hashes, one multi-row INSERT … ON CONFLICT (ON DUPLICATE KEY on MySQL) for the new and
changed products, one DELETE and one multi-row INSERT of their variants. Products whose hash is
unchanged are not touched at all. A variant is keyed by (parent SKU, SKU): Magento lets one simple
child belong to several configurables, and it is a variant of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from sync_pipeline.catalog.normalize import CatalogEntry
from sync_pipeline.catalog.tables import catalog_products as products
from sync_pipeline.catalog.tables import catalog_variants as variants
from sync_pipeline.magento.records import RejectedRow

IN_LIST_MAX = 900  # well under SQLite's bound-parameter limit, and kind to every planner

T = TypeVar("T")


@dataclass
class ChunkOutcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    written: list[CatalogEntry] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # SKUs whose catalog rows are current after the chunk


def upsert_chunk(conn: Connection, entries: Sequence[CatalogEntry], now: datetime) -> ChunkOutcome:
    """Write the chunk's new and changed products and their variants; report what happened."""
    outcome = ChunkOutcome()
    entries = _last_per_sku(entries, outcome)
    stored = _stored_hashes(conn, [e.sku for e in entries])
    due = []
    for entry in entries:
        if stored.get(entry.sku) == entry.content_hash:
            outcome.unchanged += 1
            outcome.kept.add(entry.sku)
        else:
            due.append(entry)
    if not due:
        return outcome
    _write_products(conn, due, now)
    _replace_variants(conn, due)
    outcome.written = due
    outcome.kept.update(e.sku for e in due)
    for entry in due:
        if entry.sku in stored:
            outcome.updated += 1
        else:
            outcome.inserted += 1
    return outcome


def deactivate(conn: Connection, skus: Iterable[str], now: datetime) -> int:
    """Mark products (and their variants) inactive; they stay in the catalog so stores delist them."""
    changed = 0
    for batch in _batches(sorted(set(skus))):
        changed += conn.execute(
            update(products).where(products.c.sku.in_(batch), products.c.is_active.is_(True))
            .values(is_active=False, content_hash="", updated_at=now)
        ).rowcount
        conn.execute(update(variants).where(variants.c.parent_sku.in_(batch)).values(is_active=False))
    return changed


def _last_per_sku(entries: Sequence[CatalogEntry], outcome: ChunkOutcome) -> list[CatalogEntry]:
    latest: dict[str, CatalogEntry] = {}
    for entry in entries:
        earlier = latest.pop(entry.sku, None)
        if earlier is not None:
            outcome.rejected.append(RejectedRow(earlier.source_id, earlier.sku,
                                                f"SKU also used by source product {entry.source_id}"))
        latest[entry.sku] = entry
    return list(latest.values())


def _stored_hashes(conn: Connection, skus: list[str]) -> dict[str, str]:
    stored: dict[str, str] = {}
    for batch in _batches(skus):
        rows = conn.execute(select(products.c.sku, products.c.content_hash).where(products.c.sku.in_(batch)))
        stored.update({row.sku: row.content_hash for row in rows})
    return stored


def _write_products(conn: Connection, due: list[CatalogEntry], now: datetime) -> None:
    rows = [{**e.product.row(), "content_hash": e.content_hash, "created_at": now, "updated_at": now} for e in due]
    statement = _insert_or_update(conn, products, key="sku",
                                  keep=("id", "sku", "created_at"))
    conn.execute(statement, rows)


def _replace_variants(conn: Connection, due: list[CatalogEntry]) -> None:
    parents = [e.sku for e in due]
    for batch in _batches(parents):
        conn.execute(delete(variants).where(variants.c.parent_sku.in_(batch)))
    rows = [variant.row() for e in due for variant in e.product.variants]
    if rows:
        conn.execute(insert(variants), rows)


def _insert_or_update(conn: Connection, table: Table, key: str, keep: tuple[str, ...]) -> Any:
    """A multi-row upsert in the connection's own dialect (the three spell it differently)."""
    columns = [c.name for c in table.columns if c.name not in keep]
    dialect = conn.dialect.name
    if dialect == "mysql":
        mysql_insert = mysql.insert(table)
        return mysql_insert.on_duplicate_key_update({c: mysql_insert.inserted[c] for c in columns})
    if dialect == "postgresql":
        pg_insert = postgresql.insert(table)
        return pg_insert.on_conflict_do_update(index_elements=[key],
                                               set_={c: pg_insert.excluded[c] for c in columns})
    if dialect == "sqlite":
        lite_insert = sqlite.insert(table)
        return lite_insert.on_conflict_do_update(index_elements=[key],
                                                 set_={c: lite_insert.excluded[c] for c in columns})
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


def _batches(values: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), IN_LIST_MAX):
        yield list(values[start:start + IN_LIST_MAX])
