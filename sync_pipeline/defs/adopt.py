"""Dagster layer of adopting a store's existing products: the ``adopt_store_listings`` job.

Thin on purpose: the matching lives in ``sync_pipeline.push.adopt``."""

from dagster import Config, Definitions, Failure, MetadataValue, OpExecutionContext, job, op
from pydantic import Field

from sync_pipeline import markdown
from sync_pipeline.defs.launch import Rule, refused_at_launch
from sync_pipeline.defs.push import client_factory, refused_as_failure
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.push.adopt import MAX_LISTED, adopt_store_listings
from sync_pipeline.push.guard import StorePushLocked
from sync_pipeline.push.requests import check_store
from sync_pipeline.stores import MissingCredentialError, load_stores, stores_file_path


class AdoptConfig(Config):
    store: str = Field(description="The store's key in the stores file.")


@op(name="adopt_store_listings_run")
def adopt_store_listings_run(context: OpExecutionContext, config: AdoptConfig, app_db: AppDatabase,
                             stores_config: StoresConfig) -> None:
    with refused_as_failure():
        store = check_store(stores_config.stores, stores_config.path, config.store)
    try:
        report = adopt_store_listings(app_db.engine, store, client_factory(app_db, store),
                                      run_id=f"adopt-{context.run_id}")
    except (MissingCredentialError, StorePushLocked, NotImplementedError) as exc:
        raise Failure(description=str(exc)) from None
    context.log.info(report.describe())

    def names(items: list[str]) -> MetadataValue:  # type: ignore[type-arg]
        more = [f"... and {len(items) - MAX_LISTED} more"] if len(items) > MAX_LISTED else []
        return MetadataValue.md(markdown.bullets([*items[:MAX_LISTED], *more]))

    context.add_output_metadata({
        "store_products": MetadataValue.int(report.store_products),
        "matched": MetadataValue.int(len(report.matched)),
        "already_mapped": MetadataValue.int(len(report.already_mapped)),
        "unmatched_on_store": names(report.unmatched_on_store),
        "unmatched_in_catalog": names(report.unmatched_in_catalog),
        "conflicts": names(report.conflicts),
    })


def _adopt_rule(config: AdoptConfig) -> None:
    path = stores_file_path()
    check_store(load_stores(path), str(path), config.store)  # at launch, against the code location's stores file


@job(name="adopt_store_listings", description="Owners who already sell on a store start here: read the store's products, match them to the "
                 "catalog by SKU and record them, so the next push updates them instead of creating duplicates. "
                 "Changes nothing on the store.",
     config=refused_at_launch("adopt_store_listings", {
         "adopt_store_listings_run": Rule(adopt_store_listings_run, AdoptConfig, _adopt_rule)}))
def adopt_store_listings_job() -> None:
    adopt_store_listings_run()


defs = Definitions(jobs=[adopt_store_listings_job])
