"""The staging table between the two assets: products due in an import job, as JSON records.

``magento_products`` appends to it chunk by chunk; ``catalog_products`` reads it back in the same
order with keyset pagination, so neither side ever holds the whole extract in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    return {
        "source_id": product.source_id,
        "sku": product.sku,
        "type_id": product.type_id,
        "title": product.title,
        "description": product.description,
        "url_key": product.url_key,
        "price": _dec_out(product.price),
        "special_price": _dec_out(product.special_price),
        "stock_qty": product.stock_qty,
        "is_enabled": product.is_enabled,
        "is_in_stock": product.is_in_stock,
        "weight": _dec_out(product.weight),
        "categories": list(product.categories),
        "images": list(product.images),
        "attributes": dict(product.attributes),
        "variants": [_variant_to_json(v) for v in product.variants],
        "updated_at": product.updated_at.isoformat() if product.updated_at else None,
        "manages_stock": product.manages_stock,
        "backorders": product.backorders,
    }


def product_from_json(data: dict[str, Any]) -> SourceProduct:
    return SourceProduct(
        source_id=int(data["source_id"]),
        sku=data["sku"],
        type_id=data["type_id"],
        title=data["title"],
        description=data["description"],
        url_key=data["url_key"],
        price=to_decimal(data["price"]),
        special_price=to_decimal(data["special_price"]),
        stock_qty=int(data["stock_qty"]),
        is_enabled=bool(data["is_enabled"]),
        is_in_stock=bool(data["is_in_stock"]),
        weight=to_decimal(data["weight"]),
        categories=tuple(data["categories"]),
        images=tuple(data["images"]),
        attributes=dict(data["attributes"]),
        variants=tuple(_variant_from_json(v) for v in data["variants"]),
        updated_at=datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None,
        manages_stock=bool(data.get("manages_stock", True)),
        backorders=bool(data.get("backorders", False)),
    )


def _variant_to_json(variant: SourceVariant) -> dict[str, Any]:
    return {
        "source_id": variant.source_id,
        "sku": variant.sku,
        "price": _dec_out(variant.price),
        "special_price": _dec_out(variant.special_price),
        "stock_qty": variant.stock_qty,
        "is_enabled": variant.is_enabled,
        "is_in_stock": variant.is_in_stock,
        "options": dict(variant.options),
        "weight": _dec_out(variant.weight),
        "image": variant.image,
        "manages_stock": variant.manages_stock,
        "problem": variant.problem,
        "backorders": variant.backorders,
    }


def _variant_from_json(data: dict[str, Any]) -> SourceVariant:
    return SourceVariant(
        source_id=int(data["source_id"]),
        sku=data["sku"],
        price=to_decimal(data["price"]),
        special_price=to_decimal(data["special_price"]),
        stock_qty=int(data["stock_qty"]),
        is_enabled=bool(data["is_enabled"]),
        is_in_stock=bool(data["is_in_stock"]),
        options=dict(data["options"]),
        weight=to_decimal(data["weight"]),
        image=data["image"],
        manages_stock=bool(data.get("manages_stock", True)),
        problem=data.get("problem"),
        backorders=bool(data.get("backorders", False)),
    )


def _dec_out(value: Decimal | None) -> str | None:
    return None if value is None else str(value)

