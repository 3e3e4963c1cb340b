"""Dagster layer of the product state report: the ``product_status`` asset and its job.

The rules live in ``sync_pipeline.status``; this module writes the CSV export, shows the owner's
list and the counts in the UI, and keeps the report current after every import and push.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    Config,
    DefaultSensorStatus,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    define_asset_job,
)
from pydantic import Field

from sync_pipeline.checks import CheckOutcome
from sync_pipeline.db import DEFAULT_DATA_DIR
from sync_pipeline.defs.checks import FIGURES_ONLY, check_result
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.names import CATALOG_PRODUCTS, STORE_PUSH
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.plan import check_owned_fields
from sync_pipeline.status.drift import DriftReport, read_back_drift
from sync_pipeline.status.report import ProductState, iter_product_states, write_csv
from sync_pipeline.stores import MissingCredentialError

if TYPE_CHECKING:  # pandas costs a run process ~0.5 CPU-s to import: only this asset needs it
    import pandas as pd

PREVIEW_ROWS = 50

# After every import (catalog_products) and every store's push (store_push), once none of them is
# still running: the owner's list is never "never materialized" and never older than the last run.
# It calls no store, so it runs even where the pushing sensors start stopped.
AFTER_IMPORT_OR_PUSH = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after every import and store push")


def status_csv_path() -> Path:
    return Path(os.environ.get("SYNC_STATUS_CSV") or DEFAULT_DATA_DIR / "product_status.csv").resolve()


@asset(group_name="status", deps=[AssetKey(CATALOG_PRODUCTS), AssetKey(STORE_PUSH)], kinds={"python", "csv"},
       automation_condition=AFTER_IMPORT_OR_PUSH)
def product_status(context: AssetExecutionContext, app_db: AppDatabase, stores_config: StoresConfig) -> MaterializeResult:
    """The owner's product list: every SKU with its title, master price, each store's price and
    state (not synced, synced, error, delisted, invalid), problems first; the counts of products
    per state and of products per store and state, and how many configurables are sold without
    some of their children. Refreshed after every import and push; the full report (titles,
    external ids, reasons, last push, the children left out and why) is exported as CSV."""
    stores = stores_config.stores.stores
    keys = [store.key for store in stores]
    path = status_csv_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    states: list[ProductState] = []
    with partial.open("w", newline="", encoding="utf-8") as out:
        written = write_csv(_remember(iter_product_states(app_db.engine, stores), states), keys, out)
    os.replace(partial, path)  # readers never see a half-written report
    from sync_pipeline.status.owner_list import owner_frame, product_counts, store_counts

    frame = owner_frame(states, keys)
    per_product = product_counts(frame, keys)
    per_store = store_counts(frame, keys)
    context.log.info(f"{written} products on {len(keys)} stores; report at {path}")
    totals = {state: int(per_store[state].sum()) for state in per_store.columns}
    # Products and product-by-store pairs are different units: a product on 4 stores is one
    # product and 4 listings. Products per state count each product once, by its worst store;
    # the per-state listing figures count product-by-store pairs.
    return MaterializeResult(metadata={
        "products": MetadataValue.int(written),
        "stores": MetadataValue.int(len(keys)),
        "listings": MetadataValue.int(sum(totals.values())),
        # Configurables sold without some children (each named with its reason in the CSV's variants_left_out).
        "products_with_variants_left_out": MetadataValue.int(sum(1 for s in states if s.variants_left_out)),
        **{f"products_{state.replace(' ', '_')}": MetadataValue.int(n) for state, n in per_product.items()},
        **{f"listings_{state.replace(' ', '_')}": MetadataValue.int(n) for state, n in totals.items()},
        "product_list": MetadataValue.table(_records(frame.head(PREVIEW_ROWS)), schema=_schema(frame)),
        "products_per_store": MetadataValue.table(
            _records(per_store.reset_index()), schema=_schema(per_store.reset_index(), numeric=True)),
        "csv": MetadataValue.path(str(path)),
    })


def _remember(states: Iterator[ProductState], kept: list[ProductState]) -> Iterable[ProductState]:
    for state in states:
        kept.append(state)
        yield state


def _schema(frame: "pd.DataFrame", numeric: bool = False) -> TableSchema:
    return TableSchema(columns=[
        TableColumn(str(name), "int" if numeric and name != "store" else "string") for name in frame.columns])


def _records(frame: "pd.DataFrame") -> list[TableRecord]:
    return [TableRecord({str(k): (int(v) if hasattr(v, "item") else v) for k, v in row.items()})
            for row in frame.to_dict(orient="records")]


# --- nightly reconciliation ----------------------------------------------------------------------


class ReconcileConfig(Config):
    limit: int | None = Field(default=None, description="Read back at most this many products (by SKU); all if unset.")


@asset(
    group_name="status",
    partitions_def=store_partitions,
    deps=[AssetKey(STORE_PUSH)],
    kinds={"python"},
    check_specs=[AssetCheckSpec("store_in_step", asset="store_drift",
                                description="No product was changed or deleted on the store behind the pipeline's back.")],
)
def store_drift(context: AssetExecutionContext, config: ReconcileConfig, app_db: AppDatabase,
                stores_config: StoresConfig) -> MaterializeResult:
    """What the store holds compared with what was last pushed: every listed product read back;
    products deleted on the store, and products whose title, price, stock, images or status were
    changed there. The next push repairs changes; deleted products need a re-create (rollback or
    a manual sync)."""
    try:
        store = stores_config.stores.by_key(context.partition_key)
    except KeyError:
        raise Failure(description=f"store '{context.partition_key}' is not in {stores_config.path}") from None
    try:
        client = build_client(store, DbTokenStore(app_db.engine))
    except MissingCredentialError as exc:
        raise Failure(description=str(exc)) from None
    try:
        report = read_back_drift(app_db.engine, store.key, client, check_owned_fields(store.owned_fields),
                             limit=config.limit, on_progress=lambda n: context.log.info(f"{n} products read back"))
    finally:
        client.close()
    context.log.info(f"{store.key}: {report.checked} read back, {len(report.deleted)} deleted, "
                     f"{len(report.changed)} changed, {len(report.unreadable)} unreadable")
    return MaterializeResult(metadata=drift_metadata(report), check_results=[check_result(
        CheckOutcome(failures=report.drifted + len(report.unreadable),
                     figures={"drifted": report.drifted, "unreadable": len(report.unreadable)}),
        AssetCheckSeverity.WARN, FIGURES_ONLY, check_name="store_in_step")])


def drift_metadata(report: DriftReport) -> dict[str, MetadataValue]:  # type: ignore[type-arg]
    changed = [f"- `{sku}`: " + "; ".join(problems)[:300] for sku, problems in list(report.changed.items())[:50]]
    unreadable = [f"- `{sku}`: {why}" for sku, why in list(report.unreadable.items())[:20]]
    return {
        "checked": MetadataValue.int(report.checked),
        "drifted": MetadataValue.int(report.drifted),
        "deleted_on_store": MetadataValue.int(len(report.deleted)),
        "changed_on_store": MetadataValue.int(len(report.changed)),
        "unreadable": MetadataValue.int(len(report.unreadable)),
        "deleted_skus": MetadataValue.md(", ".join(f"`{s}`" for s in report.deleted[:100]) or "none"),
        "changes": MetadataValue.md("\n".join(changed) or "none"),
        "read_errors": MetadataValue.md("\n".join(unreadable) or "none"),
    }


reconcile_stores = define_asset_job(
    "reconcile_stores", selection=[store_drift], partitions_def=store_partitions,
    description="Read one store back and report drift (changed or deleted behind the pipeline's back).",
)

product_status_report = define_asset_job(
    "product_status_report", selection=[product_status],
    description="Refresh the product state report (UI table, counts per state, CSV export).",
)

# Its own automation sensor, running by default: it only reads the app DB and writes the CSV.
product_status_automation = AutomationConditionSensorDefinition(
    "product_status_automation", target=[product_status], default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30, description="Refreshes product_status after every import and store push.",
)

defs = Definitions(assets=[product_status, store_drift], jobs=[product_status_report, reconcile_stores],
                   sensors=[product_status_automation])
