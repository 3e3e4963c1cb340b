"""Dagster layer of the product state report: the ``product_status`` asset and its job.

The rules live in ``sync_pipeline.status``; this module writes the CSV export and shows the first
rows and the counts per state in the UI.
"""

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Config,
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

from sync_pipeline.db import DEFAULT_DATA_DIR
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.plan import check_owned_fields
from sync_pipeline.status.drift import DriftReport, read_back_drift
from sync_pipeline.status.report import ProductState, SyncState, iter_product_states, state_counts, write_csv
from sync_pipeline.stores import MissingCredentialError

PREVIEW_ROWS = 20


def status_csv_path() -> Path:
    return Path(os.environ.get("SYNC_STATUS_CSV") or DEFAULT_DATA_DIR / "product_status.csv").resolve()


@asset(group_name="status", deps=[AssetKey("store_push")], kinds={"python", "csv"})
def product_status(context: AssetExecutionContext, app_db: AppDatabase, stores_config: StoresConfig) -> MaterializeResult:
    """Every product's state on every store at a glance: master price, each store's price, title,
    external id, sync state (not synced, synced, error, delisted, invalid with its reason) and last
    push. The full report is exported as CSV; the UI shows the first rows and the counts."""
    stores = stores_config.stores.stores
    keys = [store.key for store in stores]
    path = status_csv_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    preview: list[ProductState] = []
    seen: list[ProductState] = []
    with partial.open("w", newline="", encoding="utf-8") as out:
        written = write_csv(_remember(iter_product_states(app_db.engine, stores), preview, seen), keys, out)
    os.replace(partial, path)  # readers never see a half-written report
    counts = state_counts(seen)
    context.log.info(f"{written} products on {len(keys)} stores; report at {path}")
    totals = {state.value: sum(c[state.value] for c in counts.values()) for state in SyncState}
    # Products and product-by-store pairs are different units: a product on 4 stores is one
    # product and 4 listings, so the per-state figures are named as listings, never as products.
    return MaterializeResult(metadata={
        "products": MetadataValue.int(written),
        "stores": MetadataValue.int(len(keys)),
        "listings": MetadataValue.int(sum(totals.values())),
        **{f"listings_{state.replace(' ', '_')}": MetadataValue.int(n) for state, n in totals.items()},
        "counts_per_store": MetadataValue.md(_counts_markdown(counts)),
        "first_rows": MetadataValue.table(_records(preview, keys), schema=_schema(keys)),
        "csv": MetadataValue.path(str(path)),
    })


def _remember(states: Iterator[ProductState], preview: list[ProductState],
              seen: list[ProductState]) -> Iterable[ProductState]:
    for state in states:
        if len(preview) < PREVIEW_ROWS:
            preview.append(state)
        seen.append(_slim(state))
        yield state


def _slim(state: ProductState) -> ProductState:
    """Only what the counts need, so a large catalog's report does not hold every title in memory."""
    return ProductState(sku=state.sku, title="", master_price=None, is_active=state.is_active, stores=state.stores)


def _counts_markdown(counts: dict[str, dict[str, int]]) -> str:
    states = [state.value for state in SyncState]
    lines = ["| store | " + " | ".join(states) + " |", "| --- |" + " ---: |" * len(states)]
    lines += [f"| {key} | " + " | ".join(str(c[s]) for s in states) + " |" for key, c in counts.items()]
    return "\n".join(lines)


def _schema(keys: list[str]) -> TableSchema:
    columns = [TableColumn("sku", "string"), TableColumn("master_price", "string")]
    for key in keys:
        columns += [TableColumn(f"{key} state", "string"), TableColumn(f"{key} price", "string")]
    return TableSchema(columns=columns)


def _records(states: list[ProductState], keys: list[str]) -> list[TableRecord]:
    records = []
    for product in islice(states, PREVIEW_ROWS):
        data: dict[str, Any] = {"sku": product.sku, "master_price": str(product.master_price or "")}
        for store in product.stores:
            label = store.state.value + (f": {store.reason[:60]}" if store.reason else "")
            data[f"{store.store_key} state"] = label
            data[f"{store.store_key} price"] = f"{store.price} {store.currency}" if store.price is not None else ""
        records.append(TableRecord(data))
    return records


# --- nightly reconciliation ----------------------------------------------------------------------


class ReconcileConfig(Config):
    limit: int | None = Field(default=None, description="Read back at most this many products (by SKU); all if unset.")


@asset(
    group_name="status",
    partitions_def=store_partitions,
    deps=[AssetKey("store_push")],
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
    return MaterializeResult(metadata=drift_metadata(report), check_results=[AssetCheckResult(
        check_name="store_in_step", passed=report.in_step, severity=AssetCheckSeverity.WARN,
        metadata={"drifted": MetadataValue.int(report.drifted), "unreadable": MetadataValue.int(len(report.unreadable))},
    )])


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

defs = Definitions(assets=[product_status, store_drift], jobs=[product_status_report, reconcile_stores])
