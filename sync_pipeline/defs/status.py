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
    AssetExecutionContext,
    AssetKey,
    Definitions,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    define_asset_job,
)

from sync_pipeline.db import DEFAULT_DATA_DIR
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.status.report import ProductState, SyncState, iter_product_states, state_counts, write_csv

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
    return MaterializeResult(metadata={
        "products": MetadataValue.int(written),
        **{state.replace(" ", "_"): MetadataValue.int(n) for state, n in totals.items()},
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


product_status_report = define_asset_job(
    "product_status_report", selection=[product_status],
    description="Refresh the product state report (UI table, counts per state, CSV export).",
)

defs = Definitions(assets=[product_status], jobs=[product_status_report])
