"""Dagster layer of the stores' own catalog rules: the ``store_catalog_rules`` asset, its freshness
check, an on-demand job and a daily schedule. The reading and keeping live in ``listings/rules_db.py``."""


import os
from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    DefaultScheduleStatus,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    asset,
    asset_check,
    define_asset_job,
    schedule,
)

from sync_pipeline import markdown
from sync_pipeline.checks import CheckOutcome
from sync_pipeline.defs.automation import automation_running
from sync_pipeline.defs.checks import FIGURES_ONLY, check_result
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.listings.rules import CategoryRules, StoreRules
from sync_pipeline.listings.rules_db import STALE_AFTER, mapped_categories, refresh_rules, rules_age
from sync_pipeline.names import STORE_CATALOG_RULES, STORE_RULES_REFRESH_JOB
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore

DEFAULT_RULES_CRON = "15 3 * * *"  # daily, before the working day and after the nightly reconciliation


@asset(
    name=STORE_CATALOG_RULES,
    partitions_def=store_partitions,
    group_name="listings",
    kinds={"python", "sql"},
)
def store_catalog_rules(
    context: AssetExecutionContext, app_db: AppDatabase, stores_config: StoresConfig
) -> MaterializeResult:  # type: ignore[type-arg]
    """What this store demands of a listing, read from its own look-up APIs: per mapped category the
    required attributes and their values, brands, size charts, certifications, package data; the
    logistics channels and warehouses. Kept with the time read; when the store cannot be reached the
    last good rules stay in use (and ``store_catalog_rules_fresh`` says how old they are)."""
    try:
        store = stores_config.stores.by_key(context.partition_key)
    except KeyError as exc:
        raise Failure(description=f"store '{context.partition_key}' is not in {stores_config.path}") from exc
    client = build_client(store, DbTokenStore(app_db.engine))
    try:
        outcome = refresh_rules(app_db.engine, store, client)
    finally:
        client.close()
    if outcome.error is not None:
        if outcome.rules is None:
            raise Failure(description=f"{store.key}: the store's rules cannot be read and none were read before: "
                          f"{outcome.error}")
        context.log.warning(f"{store.key}: rules not read ({outcome.error}); using those read at "
                            f"{outcome.rules.read_at:%Y-%m-%d %H:%M} UTC")
    return MaterializeResult(metadata=rules_metadata(outcome.rules, outcome.fresh, outcome.error,
                                                     len(mapped_categories(store))))


def rules_metadata(rules: StoreRules | None, fresh: bool, error: str | None,
                   mapped: int) -> dict[str, MetadataValue]:  # type: ignore[type-arg]
    if rules is None:
        return {"rules": MetadataValue.text("this platform publishes no catalog rules to read"),
                "categories_mapped": MetadataValue.int(mapped)}
    table = markdown.table(
        ["category", "name", "required attributes", "brand", "size chart", "certifications", "dimensions", "COD",
         "standard variations"],
        ([category.category_id, category.name, ", ".join(a.name for a in category.attributes if a.required) or "-",
          "required" if category.brand_required else "optional", "required" if category.size_chart_required else "-",
          _certifications(category), "required" if category.dimensions_required else "-",
          "supported" if category.cod_supported else "-",
          ", ".join(v.name for v in category.variations) or "-"] for category in rules.categories.values()))
    usable = [f"{c.channel_id} {c.name} ({c.fee_type})" for c in rules.channels if c.usable]
    return {
        "read_at": MetadataValue.timestamp(rules.read_at.timestamp()),
        "fresh": MetadataValue.bool(fresh),
        "read_error": MetadataValue.text(error or "none"),
        "categories_mapped": MetadataValue.int(mapped),
        "categories_read": MetadataValue.int(len(rules.categories)),
        "required_attributes_per_category": MetadataValue.md(table),
        "channels_usable": MetadataValue.md(markdown.bullets(usable, empty="none (or not a Shopee shop)")),
        "warehouses_usable": MetadataValue.int(len(rules.warehouses)),
    }


@asset_check(asset=STORE_CATALOG_RULES, partitions_def=store_partitions)
def store_catalog_rules_fresh(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    """The rules in use were read less than 7 days ago (a warning: listings are checked against old
    rules while the store cannot be reached)."""
    age, error = rules_age(app_db.engine, context.partition_key)
    passed = age is None and error is None or age is not None and age <= STALE_AFTER
    days = f"{age.total_seconds() / 86400:.1f}" if age is not None else "never read"
    outcome = CheckOutcome(failures=0 if passed else 1, figures={"age_days": days, "last_error": error or "none"})
    return check_result(outcome, AssetCheckSeverity.WARN, FIGURES_ONLY)


store_rules_refresh = define_asset_job(
    STORE_RULES_REFRESH_JOB,
    selection=[STORE_CATALOG_RULES],
    partitions_def=store_partitions,
    description="Read one store's catalog rules now (categories, attributes, brands, channels, warehouses).",
)


@schedule(
    job=store_rules_refresh,
    cron_schedule=os.environ.get("SYNC_RULES_CRON") or DEFAULT_RULES_CRON,
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING if automation_running() else DefaultScheduleStatus.STOPPED,
)
def store_rules_daily(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    """Every day (03:15 UTC; ``SYNC_RULES_CRON``) read each store's rules again."""
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for store_key in store_partitions.get_partition_keys():
        yield RunRequest(run_key=f"rules-{day}-{store_key}", partition_key=store_key)


defs = Definitions(assets=[store_catalog_rules], asset_checks=[store_catalog_rules_fresh],
                   jobs=[store_rules_refresh], schedules=[store_rules_daily])


def _certifications(category: CategoryRules) -> str:
    """Required certifications, the conditional ones with the condition that makes them required."""
    return ", ".join([name for _, name in category.certifications] + [
        f"{c.name} (when {category.condition_text(c.required_when)})" for c in category.conditional_certifications
    ]) or "-"
