"""The catalog's Dagster layer: assets ``magento_products`` and ``catalog_products``, their checks,
and the manual import job ``magento_import``.

The work is split at a staging table in the app DB (see ``sync_pipeline.catalog``):
``magento_products`` records an import job, takes the one-import guard and stages everything that
is due (new products after the cursor, products changed in Magento, products whose stock or status
drifted); ``catalog_products`` upserts the staged products into the catalog, completes the job and
moves the cursor. Both stream in chunks. The assets only translate settings and report figures.
"""


from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetObservation,
    Config,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)
from pydantic import Field

from sync_pipeline import markdown
from sync_pipeline.catalog import quality
from sync_pipeline.catalog.imports import start_import
from sync_pipeline.catalog.jobs import ImportAlreadyRunning
from sync_pipeline.catalog.load import load_staged
from sync_pipeline.catalog.progress import ImportMetrics, Progress
from sync_pipeline.catalog.request import MANUAL_MAX_LIMIT, ImportRequest, InvalidImportRequest
from sync_pipeline.defs.checks import CATALOG_RULE, check_result
from sync_pipeline.defs.launch import Rule, refused_at_launch
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase
from sync_pipeline.magento.reader import MagentoCatalogReader
from sync_pipeline.names import IMPORT_ROLE_TAG, MAGENTO_PRODUCTS, MANUAL_IMPORT_JOB

CATALOG_GROUP = "catalog"


class MagentoImportConfig(Config):
    """How much to import. Left empty, the manual job reads 100 new products after the cursor and
    a materialization from the asset graph reads everything that is due."""

    limit: int | None = Field(
        default=None,
        description=f"At most this many new products (1..{MANUAL_MAX_LIMIT}); "
        f"unset: 100 in the {MANUAL_IMPORT_JOB} job, everything due elsewhere.",
    )
    resume_from_last: bool = Field(
        default=True, description="Start after the saved cursor (last_successful_source_id)."
    )
    start_after_id: int | None = Field(
        default=None, description="Start after this Magento entity id; required when resume_from_last is false."
    )


@asset(group_name=CATALOG_GROUP, compute_kind="sql")
def magento_products(
    context: AssetExecutionContext,
    config: MagentoImportConfig,
    magento_db: MagentoDatabase,
    app_db: AppDatabase,
) -> MaterializeResult:
    """The Magento products due for the catalog: new sellable products after the cursor, products
    changed since the last import, and products whose stock or status drifted, staged in the app DB
    for ``catalog_products``. Each materialization is one row in ``product_import_jobs``."""
    try:
        request = ImportRequest.from_settings(
            config.limit, config.resume_from_last, config.start_after_id,
            manual=context.job_name == MANUAL_IMPORT_JOB,
        )
    except InvalidImportRequest as exc:
        raise Failure(description=str(exc)) from None
    reader = MagentoCatalogReader(
        magento_db.engine, store_code=magento_db.store_code, media_base_url=magento_db.media_base_url
    )
    context.log.info(f"import settings: {request.as_params()}")
    try:
        extract = start_import(app_db.engine, reader, request, run_id=context.run_id,
                               on_progress=_log_progress(context))
    except ImportAlreadyRunning as exc:
        raise Failure(description=str(exc)) from None
    metadata: dict[str, Any] = {
        "import_job_id": MetadataValue.int(extract.job_id),
        "total_found": MetadataValue.int(extract.metrics.total_found),
        "new": MetadataValue.int(extract.new),
        "changed": MetadataValue.int(extract.changed),
        "reconciled": MetadataValue.int(extract.reconciled),
        "gone": MetadataValue.int(extract.gone),
        "last_processed_source_id": MetadataValue.int(extract.metrics.last_processed_source_id),
        "elapsed_ms": MetadataValue.int(extract.metrics.elapsed_ms),
        "preview": MetadataValue.md(markdown.records(
            [{"source_id": p.source_id, "sku": p.sku, "type": p.type_id, "title": p.title,
              "price": p.price, "stock_qty": p.stock_qty, "variants": len(p.variants),
              "images": len(p.images)} for p in extract.preview],
            empty="nothing due", width=80)),
    }
    return MaterializeResult(metadata=metadata)


@asset(group_name=CATALOG_GROUP, deps=[magento_products], compute_kind="sql")
def catalog_products(context: AssetExecutionContext, app_db: AppDatabase) -> MaterializeResult:
    """The normalized catalog the stores sell from: one row per product in ``catalog_products`` and
    its variants in ``catalog_variants``, upserted by SKU. Products that stopped being sellable stay,
    inactive, so the stores delist them. Completing this asset completes the import job and moves
    the cursor."""
    loaded = load_staged(app_db.engine, on_progress=_log_progress(context))
    if loaded is None:
        context.log.info("no staged extract is waiting; the catalog is unchanged")
        return MaterializeResult(metadata=_metrics_metadata(ImportMetrics()) | {
            "preview": MetadataValue.md("nothing was staged")})
    context.log.info(f"import job {loaded.job_id} completed; cursor at {loaded.cursor}")
    skipped = [{"source_id": r.source_id, "sku": r.sku, "reason": r.reason} for r in loaded.metrics.skipped_rows]
    return MaterializeResult(metadata=_metrics_metadata(loaded.metrics) | {
        "import_job_id": MetadataValue.int(loaded.job_id),
        "cursor": MetadataValue.int(loaded.cursor),
        "preview": MetadataValue.md(markdown.records(loaded.preview, empty="no product was written", width=80)),
        "skipped_rows": MetadataValue.md(markdown.records(skipped, empty="no bad rows", width=80)),
        "skipped_variants": MetadataValue.md(markdown.records(loaded.metrics.skipped_variants,
                                                       empty="every variant can be sold", width=80)),
        "unsynced_types": MetadataValue.md(markdown.records(
            [{"type": t, "products": n} for t, n in sorted(loaded.metrics.unsynced_types.items())],
            empty="every product is of a synced type", width=80)),
    })


# --- checks --------------------------------------------------------------------------------------


@asset_check(asset=catalog_products, description="Every product and variant SKU is unique, ignoring case and spaces.")
def catalog_skus_unique(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    with app_db.engine.connect() as conn:
        return check_result(quality.duplicate_skus(conn), AssetCheckSeverity.ERROR, CATALOG_RULE)


@asset_check(asset=catalog_products,
             description="Every active product has a price above 0, a title, stock >= 0 and a variant.")
def catalog_active_products_sellable(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    with app_db.engine.connect() as conn:
        return check_result(quality.active_products_incomplete(conn), AssetCheckSeverity.ERROR, CATALOG_RULE)


@asset_check(asset=catalog_products, description="Every active product has at least one image.")
def catalog_products_have_an_image(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    with app_db.engine.connect() as conn:
        rule = quality.active_products_with_images_below(conn, quality.MIN_IMAGES)
    return check_result(rule, AssetCheckSeverity.ERROR, CATALOG_RULE)


@asset_check(asset=catalog_products, description="Every active product has at least three images (the seed's rule).")
def catalog_products_have_three_images(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    with app_db.engine.connect() as conn:
        rule = quality.active_products_with_images_below(conn, quality.EXPECTED_IMAGES)
    return check_result(rule, AssetCheckSeverity.WARN, CATALOG_RULE)


def import_settings_rule(manual: bool) -> Rule:
    """The import's settings as ``ImportRequest`` judges them, for the launch check."""
    def check(config: MagentoImportConfig) -> None:
        ImportRequest.from_settings(config.limit, config.resume_from_last, config.start_after_id, manual=manual)
    return Rule(magento_products.op, MagentoImportConfig, check)


magento_import = define_asset_job(
    MANUAL_IMPORT_JOB,
    selection=[magento_products, catalog_products],
    description="Import the next page of Magento products into the catalog (limit 100 unless set, at most 1,000).",
    # Unset, the limit is 100 (ImportRequest); a limit or start point the step would refuse is
    # refused at launch.
    config=refused_at_launch(MANUAL_IMPORT_JOB, {MAGENTO_PRODUCTS: import_settings_rule(manual=True)}),
    tags=IMPORT_ROLE_TAG,  # the run queue lets one import run at a time
)

defs = Definitions(
    assets=[magento_products, catalog_products],
    asset_checks=[catalog_skus_unique, catalog_active_products_sellable, catalog_products_have_an_image,
                  catalog_products_have_three_images],
    jobs=[magento_import],
)


# --- helpers -------------------------------------------------------------------------------------


def _log_progress(context: AssetExecutionContext) -> Any:
    def log(progress: Progress) -> None:
        context.log.info(progress.describe())
        # What `sync-pipeline import --watch` and `status RUN_ID` read while the import runs.
        m = progress.metrics
        context.log_event(AssetObservation(asset_key=context.asset_key, metadata={
            "stage": MetadataValue.text(progress.stage), "done": MetadataValue.int(progress.done),
            "total": MetadataValue.int(max(m.total_found, progress.done)),
            "inserted": MetadataValue.int(m.inserted), "updated": MetadataValue.int(m.updated),
            "skipped": MetadataValue.int(m.skipped), "errors": MetadataValue.int(m.errors_count),
        }))

    return log


def _metrics_metadata(metrics: ImportMetrics) -> dict[str, Any]:
    return {
        "total_found": MetadataValue.int(metrics.total_found),
        "processed": MetadataValue.int(metrics.processed),
        "inserted": MetadataValue.int(metrics.inserted),
        "updated": MetadataValue.int(metrics.updated),
        "unchanged": MetadataValue.int(metrics.unchanged),
        "skipped": MetadataValue.int(metrics.skipped),
        "errors_count": MetadataValue.int(metrics.errors_count),
        "elapsed_ms": MetadataValue.int(metrics.elapsed_ms),
        "last_processed_source_id": MetadataValue.int(metrics.last_processed_source_id),
        "variants_skipped": MetadataValue.int(metrics.variants_skipped),
    }


__all__ = ["catalog_products", "defs", "magento_import", "magento_products"]
