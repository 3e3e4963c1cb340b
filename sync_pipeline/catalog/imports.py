"""An import from Magento into the catalog, as the two assets run it.

``start_import`` (asset ``magento_products``) records the job, takes the one-import guard and
stages what is due; ``load_staged`` (asset ``catalog_products``, in ``catalog.load``) writes it
into the catalog and completes the job. ``run_import`` runs both, for scripts and tests.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from sync_pipeline.catalog.extract import CHUNK_SIZE, CatalogSource, ExtractResult, extract_due
from sync_pipeline.catalog.jobs import DEFAULT_STALE_AFTER, create_job, fail_job, start_job
from sync_pipeline.catalog.load import LoadResult, load_staged
from sync_pipeline.catalog.progress import PROGRESS_EVERY_PRODUCTS, ProgressCallback
from sync_pipeline.catalog.request import ImportRequest


def start_import(
    app_engine: Engine,
    source: CatalogSource,
    request: ImportRequest,
    run_id: str | None = None,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    progress_every: int = PROGRESS_EVERY_PRODUCTS,
) -> ExtractResult:
    """Record a job, take the guard (or raise ImportAlreadyRunning) and stage what is due."""
    job_id = create_job(app_engine, request.as_params(), run_id)
    start_job(app_engine, job_id, stale_after=stale_after)
    try:
        return extract_due(app_engine, source, request, job_id, on_progress, chunk_size,
                           progress_every=progress_every)
    except BaseException as exc:
        fail_job(app_engine, job_id, f"{type(exc).__name__}: {exc}")
        raise


def run_import(
    app_engine: Engine,
    source: CatalogSource,
    request: ImportRequest,
    run_id: str | None = None,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> LoadResult:
    """Extract and load in one go; the result of the load."""
    start_import(app_engine, source, request, run_id, on_progress, chunk_size)
    loaded = load_staged(app_engine, on_progress, chunk_size)
    if loaded is None:  # only if another process superseded our extract in between
        raise RuntimeError("the staged extract was taken over before it could be loaded")
    return loaded
