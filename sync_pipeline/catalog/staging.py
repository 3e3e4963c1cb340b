"""The staging table between the two assets: products due in an import job, as JSON records.

``magento_products`` appends to it chunk by chunk; ``catalog_products`` reads it back in the same
order with keyset pagination, so neither side ever holds the whole extract in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from sync_pipeline.catalog.tables import magento_product_staging as staging
from sync_pipeline.magento.records import RejectedRow, SourceProduct, SourceVariant
from sync_pipeline.money import to_decimal

KIND_PRODUCT = "product"
KIND_REJECTED = "rejected"
KIND_GONE = "gone"  # in the catalog but no longer in Magento at all


@dataclass(frozen=True)
class StagedRow:
    """One staged entry: a product to upsert, a row the extractor rejected, or a vanished product."""

    source_id: int
    sku: str
    kind: str
    product: SourceProduct | None = None
    reason: str | None = None


def stage_chunk(
    conn: Connection,
    job_id: int,
    products: Sequence[SourceProduct],
    rejected: Sequence[RejectedRow] = (),
    gone: Sequence[tuple[int, str]] = (),
) -> None:
    """Append one chunk of the extract (the caller owns the transaction)."""
    rows: list[dict[str, Any]] = [
        {"import_job_id": job_id, "source_id": p.source_id, "sku": (p.sku or "")[:255],
         "kind": KIND_PRODUCT, "record": product_to_json(p), "reason": None}
        for p in products
    ]
    rows += [
        {"import_job_id": job_id, "source_id": r.source_id, "sku": (r.sku or "")[:255],
         "kind": KIND_REJECTED, "record": None, "reason": r.reason}
        for r in rejected
    ]
    rows += [
        {"import_job_id": job_id, "source_id": source_id, "sku": sku, "kind": KIND_GONE,
         "record": None, "reason": "no longer in Magento"}
        for source_id, sku in gone
    ]
    if rows:
        conn.execute(insert(staging), rows)


def iter_staged(engine: Engine, job_id: int, chunk_size: int) -> Iterator[list[StagedRow]]:
    """The job's staged rows in extract order, ``chunk_size`` at a time."""
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(staging.c.id, staging.c.source_id, staging.c.sku, staging.c.kind,
                       staging.c.record, staging.c.reason)
                .where(staging.c.import_job_id == job_id, staging.c.id > after)
                .order_by(staging.c.id)
                .limit(chunk_size)
            ).all()
        if not rows:
            return
        after = rows[-1].id
        yield [
            StagedRow(
                source_id=row.source_id,
                sku=row.sku,
                kind=row.kind,
                product=product_from_json(row.record) if row.record is not None else None,
                reason=row.reason,
            )
            for row in rows
        ]


def count_staged(conn: Connection, job_id: int) -> int:
    return int(conn.execute(
        select(func.count()).select_from(staging).where(staging.c.import_job_id == job_id)
    ).scalar_one())


def clear_staged(conn: Connection, job_id: int) -> None:
    conn.execute(delete(staging).where(staging.c.import_job_id == job_id))


# --- JSON codec: Decimal as text (exact), datetimes as ISO text, tuples as lists ---------------


def product_to_json(product: SourceProduct) -> dict[str, Any]:
    return _to_json(product)


def product_from_json(data: dict[str, Any]) -> SourceProduct:
    variants = tuple(SourceVariant(**_fields_from_json(SourceVariant, v)) for v in data["variants"])
    return SourceProduct(**_fields_from_json(SourceProduct, data), variants=variants)


_DECIMALS = frozenset({"price", "special_price", "weight"})


def _to_json(record: SourceProduct | SourceVariant) -> dict[str, Any]:
    """Every field of the record (its variants included), in JSON's types."""
    return {f.name: _json_value(getattr(record, f.name)) for f in fields(record)}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, SourceVariant):
        return _to_json(value)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value


def _fields_from_json(kind: type[SourceProduct] | type[SourceVariant], data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``kind`` staged in ``data`` (variants aside); one staged before a field existed
    leaves it out, so the record's default applies."""
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name == "variants" or f.name not in data:
            continue
        value = data[f.name]
        if f.name in _DECIMALS:
            value = to_decimal(value)
        elif f.name == "updated_at":
            value = datetime.fromisoformat(value) if value else None
        elif isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, dict):
            value = dict(value)
        values[f.name] = value
    return values
