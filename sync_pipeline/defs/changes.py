"""Dagster layer of the fast path (``sync_pipeline/push/changes.py``): asset ``catalog_changes_pushed``.

It runs in the ``catalog_sync`` job right after ``catalog_products``, so a Magento change reaches
the stores in the run that imported it: no second sensor hop, no run per store. Every store is
handled side by side in threads; each store's listings partition and push partition are recorded
as materialized (with the same metadata keys as ``store_sync``'s) when they were brought in step.
"""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from sync_pipeline import markdown
from sync_pipeline.checks import CheckOutcome
from sync_pipeline.defs.checks import CheckLabels, check_result
from sync_pipeline.defs.listings import summary_metadata
from sync_pipeline.defs.push import PUSH_GROUP, client_factory, report_metadata, warn_if_tokens_unencrypted
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.names import CATALOG_CHANGES_PUSHED, CATALOG_PRODUCTS, PLATFORM_LISTINGS, STORE_PUSH
from sync_pipeline.push.changes import BLOCKING_AUDITS, STORE_WIDE_AUDITS, StoreChanges, sync_changes
from sync_pipeline.push.engine import PushProgress

CHANGES_PUSHED = CATALOG_CHANGES_PUSHED
AUDITS_CHECK = "changed_listings_pass_blocking_audits"


@asset(
    name=CHANGES_PUSHED,
    deps=[AssetKey(CATALOG_PRODUCTS)],
    group_name=PUSH_GROUP,
    kinds={"python", "sql"},
    check_specs=[AssetCheckSpec(AUDITS_CHECK, asset=CHANGES_PUSHED,
                                description="The changed listings pass the blocking listing audits in every "
                                            "store (a store that fails one is not pushed).")],
)
def catalog_changes_pushed(context: AssetExecutionContext, app_db: AppDatabase,
                           stores_config: StoresConfig) -> Iterator[Any]:
    """The catalog's latest changes on every store: for each store, the listings of the products
    changed since its last run rebuilt (all of them when its rules changed), audited like the
    blocking checks of ``platform_listings``, and pushed through the store's usual push, all stores
    at once. Nothing changed: a few small queries per store and no call to any store."""
    stores = list(stores_config.stores.stores)
    warn_if_tokens_unencrypted(context, stores_config)  # once for the run, not once per store

    def progress(p: PushProgress) -> None:
        context.log.info(p.describe())

    outcomes = sync_changes(app_db.engine, stores, lambda store: client_factory(app_db, store),
                            run_id=context.run_id, on_progress=progress)
    for outcome in outcomes:
        context.log.info(outcome.describe())
        # Yielded, not logged: a step that fails below still records the stores that went through.
        yield from _partitions_in_step(outcome)
    failed = [o for o in outcomes if o.failed]
    metadata: dict[str, Any] = {
        "stores": MetadataValue.int(len(outcomes)),
        "full_rebuilds": MetadataValue.int(sum(o.full_rebuild for o in outcomes)),
        "listings_changed": MetadataValue.int(sum(o.listings.changed for o in outcomes if o.listings)),
        "skus_pushed": MetadataValue.int(sum(len(o.pushed_skus) for o in outcomes)),
        "calls": MetadataValue.int(sum(o.push.progress.calls for o in outcomes if o.push)),
        "failed_stores": MetadataValue.int(len(failed)),
        "summary": MetadataValue.md(summary_table(outcomes)),
    }
    if failed:
        # The stores that went through are recorded above; the run fails naming the others, and
        # their marks stay so the next import's run tries them again.
        raise Failure(description="; ".join(o.failure_message() for o in failed), metadata=metadata)
    yield MaterializeResult(metadata=metadata, check_results=[_audits_result(outcomes)])


def _partitions_in_step(outcome: StoreChanges) -> Iterator[AssetMaterialization]:
    if outcome.listings is not None and (outcome.full_rebuild or outcome.listings.changed):
        yield AssetMaterialization(
            asset_key=PLATFORM_LISTINGS, partition=outcome.store_key,
            metadata={**summary_metadata(outcome.listings), "fast_path": MetadataValue.bool(not outcome.full_rebuild)},
        )
    if outcome.push is not None and not outcome.push.failed:
        yield AssetMaterialization(
            asset_key=STORE_PUSH, partition=outcome.store_key,
            metadata={**report_metadata(outcome.push), "fast_path": MetadataValue.bool(True)},
        )


def _audits_result(outcomes: list[StoreChanges]) -> AssetCheckResult:
    failing = {o.store_key: [n for n in [*BLOCKING_AUDITS, *STORE_WIDE_AUDITS] if n in o.audits and not o.audits[n].passed]
               for o in outcomes}
    failing = {k: v for k, v in failing.items() if v}
    outcome = CheckOutcome(checked=sum(a.checked for o in outcomes for a in o.audits.values()), failures=len(failing),
                           examples=[f"{k}: {', '.join(v)}" for k, v in failing.items()])
    return check_result(outcome, labels=CheckLabels(failures=None, examples="failing"), check_name=AUDITS_CHECK)


def summary_table(outcomes: list[StoreChanges]) -> str:
    rows = []
    for o in outcomes:
        p = o.push.progress if o.push else None
        figures = [p.created, p.updated, p.delisted, p.unchanged, p.errors, p.calls] if p else [0] * 6
        rows.append([o.store_key, "full" if o.full_rebuild else "changed", o.listings.changed if o.listings else 0,
                     len(o.pushed_skus), *figures, o.refused or ""])
    return markdown.table(["store", "listings", "changed:", "to push:", "created:", "updated:", "delisted:",
                           "unchanged:", "errors:", "calls:", "refused"], rows)


defs = Definitions(assets=[catalog_changes_pushed])
