"""The load half of an import (asset ``catalog_products``): staged products into the catalog.

It claims the staged job, upserts the staged rows chunk by chunk (one transaction each, so a
failure never leaves a half-written chunk), deactivates products that vanished from Magento or
can no longer be stored, and then, in one last transaction, moves the cursor and the change
watermark, marks the job completed and empties the staging. Any failure marks the job failed
with its message and leaves the cursor where it was; the chunks already written are correct
catalog rows and are simply found unchanged next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from sync_pipeline.catalog.extract import CHUNK_SIZE, WATERMARK_KEY
from sync_pipeline.catalog.jobs import (
    claim_staged,
    complete_job,
    fail_job,
    heartbeat,
    read_cursor,
)
from sync_pipeline.catalog.normalize import CatalogEntry, normalize_product
from sync_pipeline.catalog.progress import (
    PROGRESS_EVERY_PRODUCTS,
    ImportMetrics,
    ProgressCallback,
    ProgressReporter,
)
from sync_pipeline.catalog.staging import KIND_GONE, KIND_PRODUCT, StagedRow, iter_staged
from sync_pipeline.catalog.upsert import deactivate, upsert_chunk
from sync_pipeline.db import utcnow
from sync_pipeline.magento.records import RejectedRow

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class LoadResult:
    job_id: int
    metrics: ImportMetrics
    cursor: int
    preview: list[dict[str, Any]]  # the first rows written, for the run's metadata


def load_staged(
    app_engine: Engine,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    now: datetime | None = None,
    progress_every: int = PROGRESS_EVERY_PRODUCTS,
) -> LoadResult | None:
    """Load the waiting extract into the catalog; None when no extract is waiting."""
    claimed = claim_staged(app_engine, now)
    if claimed is None:
        return None
    metrics = ImportMetrics.from_json(claimed.metrics)
    extract_ms = metrics.elapsed_ms
    reporter = ProgressReporter("load", on_progress, every_products=progress_every)
    preview: list[dict[str, Any]] = []
    try:
        for chunk in iter_staged(app_engine, claimed.job_id, chunk_size):
            _load_chunk(app_engine, chunk, metrics, preview, now or utcnow())
            heartbeat(app_engine, claimed.job_id)
            metrics.elapsed_ms = extract_ms + reporter.elapsed_ms()
            reporter.advance(len(chunk), metrics)
        metrics.elapsed_ms = extract_ms + reporter.elapsed_ms()
        watermark = claimed.metrics.get(WATERMARK_KEY)
        with app_engine.begin() as conn:
            cursor = next_cursor(read_cursor(conn), claimed.params, metrics.last_processed_source_id)
            complete_job(conn, claimed.job_id, metrics.as_json(), cursor,
                         datetime.fromisoformat(watermark) if watermark else None)
    except BaseException as exc:
        fail_job(app_engine, claimed.job_id, f"{type(exc).__name__}: {exc}", metrics.as_json())
        raise
    reporter.finish(metrics)
    return LoadResult(claimed.job_id, metrics, cursor, preview)


def next_cursor(current: int, params: dict[str, Any], last_processed: int) -> int:
    """Where the cursor goes after a successful import; never past data nobody read.

    An import that started after an explicit ``start_after_id`` beyond the cursor left a gap
    unread, so the cursor stays put; otherwise it moves to the furthest id read, never back.
    """
    if not params.get("resume_from_last", True):
        start_after = int(params.get("start_after_id") or 0)
        if start_after > current:
            return current
    return max(current, last_processed)


def _load_chunk(engine: Engine, chunk: list[StagedRow], metrics: ImportMetrics,
                preview: list[dict[str, Any]], now: datetime) -> None:
    entries: list[CatalogEntry] = []
    rejected: list[RejectedRow] = []
    gone: list[str] = []
    for row in chunk:
        if row.kind == KIND_PRODUCT and row.product is not None:
            for sku, reason in row.product.variant_problems:
                metrics.skip_variant(row.product.sku, sku, reason)
            normalized = normalize_product(row.product)
            if isinstance(normalized, CatalogEntry):
                entries.append(normalized)
            else:
                rejected.append(normalized)
        elif row.kind == KIND_GONE:
            gone.append(row.sku)
        else:
            rejected.append(RejectedRow(row.source_id, row.sku, row.reason or "rejected by the extract"))
    with engine.begin() as conn:
        outcome = upsert_chunk(conn, entries, now)
        rejected += outcome.rejected
        # A product that can no longer be stored or sold stays in the catalog, inactive.
        deactivate(conn, {r.sku for r in rejected} - outcome.kept, now)
        vanished = deactivate(conn, gone, now)
    metrics.processed += len(chunk)
    metrics.inserted += outcome.inserted
    metrics.updated += outcome.updated + vanished
    metrics.unchanged += outcome.unchanged
    metrics.skipped += len(gone) - vanished  # no longer sellable and not active here: nothing to do
    for bad in rejected:
        metrics.reject(bad)
    for entry in outcome.written[: max(0, PREVIEW_ROWS - len(preview))]:
        preview.append(_preview_row(entry))


def _preview_row(entry: CatalogEntry) -> dict[str, Any]:
    product = entry.product
    return {
        "sku": entry.sku,
        "title": product.title,
        "price": product.price,
        "special_price": product.special_price,
        "stock_qty": product.stock_qty,
        "is_active": product.is_active,
        "variants": len(product.variants),
        "images": len(product.images),
    }
