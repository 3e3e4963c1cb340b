"""Dagster layer of the push: asset ``store_push``, its checks, and the jobs ``manual_sync``,
``push_dry_run``, ``retry_dead_letters`` and ``rollback_push``.

The asset is partitioned by store: one run per store, so stores push in parallel and the run
queue (``dagster/partition`` limit in dagster.yaml) plus the app-DB guard keep one push per store.
The manual jobs target a *set* of stores chosen at launch (by key or platform) and a few SKUs; a
partitioned asset job can only take one partition per run, so they are op jobs that push the chosen
stores side by side in threads, each through the same engine, with the same progress lines and
observations on ``store_push[store]``. They do not materialize ``store_push``: a push of a few SKUs
does not bring the whole partition in step.
"""


import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    Config,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    asset,
    asset_check,
    job,
    op,
)
from pydantic import Field

from sync_pipeline import markdown, names
from sync_pipeline.defs.checks import PUSH_CHECK, check_result
from sync_pipeline.defs.launch import Rule, refused_at_launch
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.names import PLATFORM_LISTINGS
from sync_pipeline.platforms.base import CallObserver, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore, TokenKeyError, unencrypted_tokens_warning
from sync_pipeline.push import ledger, requests, rollout, verify
from sync_pipeline.push.changes import listings_high_water, record_full_push
from sync_pipeline.push.engine import (
    DEFAULT_ERROR_THRESHOLD,
    PushOptions,
    PushProgress,
    PushReport,
    push_store,
    repush_dead_letters,
)
from sync_pipeline.push.guard import StorePushLocked
from sync_pipeline.push.plan import UnknownOwnedFieldError, check_owned_fields
from sync_pipeline.push.rollback import NothingToRollBack
from sync_pipeline.push.rollback import rollback_push as rollback_store_push
from sync_pipeline.stores import (
    MissingCredentialError,
    StoreConfig,
    StoresFile,
    load_stores,
    stores_file_path,
)

PUSH_GROUP = "push"
STORE_PUSH = AssetKey(names.STORE_PUSH)
LISTINGS = AssetKey(PLATFORM_LISTINGS)


class StorePushConfig(Config):
    """Staged rollout and dry run of a store's push."""

    max_products: int | None = Field(default=None, description="At most this many creates/updates/delists "
                                     "(staged rollout: 2, then 10, then 50, then unset for everything).")
    skus: list[str] | None = Field(default=None, description="Push only these parent SKUs.")
    dry_run: bool = Field(default=False, description="Compute and report the plan; call no store.")
    error_threshold: float = Field(default=DEFAULT_ERROR_THRESHOLD, ge=0, le=1,
                                   description="Share of failed writes above which the run fails.")


def warn_if_tokens_unencrypted(context: AssetExecutionContext | OpExecutionContext,
                               stores_config: StoresConfig) -> None:
    """Once per run that may refresh tokens: say so when they would be stored in clear."""
    warning = unencrypted_tokens_warning(stores_config.path)
    if warning:
        context.log.warning(warning)


def client_factory(app_db: AppDatabase, store: StoreConfig) -> Callable[[CallObserver], StoreClient]:
    def build(observer: CallObserver) -> StoreClient:
        return build_client(store, DbTokenStore(app_db.engine), observer=observer)
    return build


@asset(
    name=names.STORE_PUSH,
    partitions_def=store_partitions,
    deps=[LISTINGS],
    group_name=PUSH_GROUP,
    kinds={"python", "sql"},
)
def store_push(context: AssetExecutionContext, config: StorePushConfig, app_db: AppDatabase,
               stores_config: StoresConfig) -> MaterializeResult:  # type: ignore[type-arg]
    """The store in step with its listings: new products created, changed ones updated (price and
    stock through the platform's cheap calls), delisted ones delisted, nothing else touched. Progress
    per store (created, updated, delisted, unchanged, errors) streams while it runs."""
    with refused_as_failure():
        _store_push_settings(config)
    store = _store(stores_config, context.partition_key)
    warn_if_tokens_unencrypted(context, stores_config)
    options = PushOptions(max_products=config.max_products, skus=tuple(config.skus) if config.skus else None,
                          dry_run=config.dry_run, error_threshold=config.error_threshold)
    pushed_up_to = listings_high_water(app_db.engine, store.key)
    step = None
    if store.rollout and config.max_products is None and not config.skus and not config.dry_run:
        step = rollout.next_step(app_db.engine, store.key, store.rollout)
        options = dataclasses.replace(options, max_products=step.max_products, rollout_step=step.index)
        context.log.info(f"{store.key}: rollout {step.describe()}")
    report = _push(context, app_db, store, options)
    metadata = report_metadata(report)
    if step is not None:
        metadata["rollout_step"] = MetadataValue.text(step.describe())
    if report.failed:
        raise Failure(description=report.failure_message(), metadata=metadata)
    if options.skus is None and options.max_products is None and not options.dry_run:
        record_full_push(app_db.engine, store.key, pushed_up_to)  # the fast path starts from here
    return MaterializeResult(metadata=metadata)


def _push(context: AssetExecutionContext | OpExecutionContext, app_db: AppDatabase, store: StoreConfig,
          options: PushOptions, *, dead_letters: dict[str, Any] | None = None) -> PushReport:
    observe = _progress_reporter(context, store.key)
    try:
        if dead_letters is not None:
            return repush_dead_letters(app_db.engine, store, client_factory(app_db, store), options=options,
                                       run_id=context.run_id, on_progress=observe, **dead_letters)
        return push_store(app_db.engine, store, client_factory(app_db, store), options, run_id=context.run_id,
                          on_progress=observe)
    except (MissingCredentialError, StorePushLocked, UnknownOwnedFieldError, TokenKeyError) as exc:
        raise Failure(description=str(exc)) from None


def _progress_reporter(context: AssetExecutionContext | OpExecutionContext,
                       store_key: str) -> Callable[[PushProgress], None]:
    def report(progress: PushProgress) -> None:
        context.log.info(progress.describe())
        context.log_event(AssetObservation(asset_key=STORE_PUSH, partition=store_key,
                                           metadata=progress_metadata(progress)))
    return report


def progress_metadata(progress: PushProgress) -> dict[str, Any]:
    return {
        "total": MetadataValue.int(progress.total), "done": MetadataValue.int(progress.done),
        "created": MetadataValue.int(progress.created), "adopted": MetadataValue.int(progress.adopted),
        "updated": MetadataValue.int(progress.updated),
        "delisted": MetadataValue.int(progress.delisted), "unchanged": MetadataValue.int(progress.unchanged),
        "invalid": MetadataValue.int(progress.invalid), "errors": MetadataValue.int(progress.errors),
        "calls": MetadataValue.int(progress.calls),
        **({"bulk_lines": MetadataValue.text(f"{progress.bulk_done}/{progress.bulk_total}")}
           if progress.bulk_total else {}),
    }


def report_metadata(report: PushReport) -> dict[str, Any]:
    p = report.progress
    return {
        **progress_metadata(p),
        "dry_run": MetadataValue.bool(report.dry_run),
        "writes_planned": MetadataValue.int(report.writes_planned),
        "skipped_by_limit": MetadataValue.int(report.skipped_by_limit),
        "error_share": MetadataValue.float(round(report.error_share, 4)),
        "elapsed_s": MetadataValue.float(round(p.elapsed_s, 2)),
        "push_run_id": MetadataValue.text(report.run_id),
        "summary": MetadataValue.md(summary_markdown([report])),
        "first_errors": MetadataValue.md(markdown.bullets(p.first_errors)),
    }


def summary_markdown(reports: list[PushReport]) -> str:
    lines = [markdown.table(
        ["store", "plan", "created:", "updated:", "delisted:", "unchanged:", "invalid:", "errors:", "calls:"],
        ([f"{r.store_key}{' (dry run)' if r.dry_run else ''}",
          ", ".join(f"{k} {v}" for k, v in r.plan_counts.items() if v) or "nothing", r.progress.created,
          r.progress.updated, r.progress.delisted, r.progress.unchanged, r.progress.invalid, r.progress.errors,
          r.progress.calls] for r in reports))]
    changes = {k: v for r in reports for k, v in r.field_changes.items()}
    if any(r.dry_run for r in reports) and changes:
        lines += ["", "Fields that change: " + ", ".join(f"{k} ({v})" for k, v in sorted(changes.items()))]
    return "\n".join(lines)


# --- checks ---------------------------------------------------------------------------------------


@asset_check(asset=STORE_PUSH, partitions_def=store_partitions)
def store_push_has_external_ids(context: AssetCheckExecutionContext, app_db: AppDatabase,
                                stores_config: StoresConfig) -> AssetCheckResult:
    """Every valid listing the push confirmed has the store's product id in the mapping."""
    return check_result(verify.mappings_have_external_ids(app_db.engine, context.partition_key), labels=PUSH_CHECK)


class SpotCheckConfig(Config):
    sample: int = Field(default=5, ge=1, le=100, description="How many random pushed products to read back.")


@asset_check(asset=STORE_PUSH, partitions_def=store_partitions)
def store_push_spot_check(context: AssetCheckExecutionContext, config: SpotCheckConfig, app_db: AppDatabase,
                          stores_config: StoresConfig) -> AssetCheckResult:
    """Reads back random pushed products and compares title, prices, compare-at prices, stock,
    variants and image count with the listing as pushed; a mismatch names the SKU and field."""
    store = _store(stores_config, context.partition_key)
    try:
        client = client_factory(app_db, store)(lambda record: None)
    except MissingCredentialError as exc:
        raise Failure(description=str(exc)) from None
    try:
        outcome = verify.spot_check(app_db.engine, store.key, client, config.sample,
                                    owned_fields=check_owned_fields(store.owned_fields))
    finally:
        client.close()
    rollout.record_spot_check(app_db.engine, context.op_execution_context.run_id, store.key, outcome.passed)
    return check_result(outcome, labels=PUSH_CHECK)


@asset_check(asset=STORE_PUSH, partitions_def=store_partitions)
def store_push_error_share(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    """The latest push's failed writes stay under its error threshold."""
    return check_result(verify.last_push_error_share(app_db.engine, context.partition_key), labels=PUSH_CHECK)


class DeadLetterAgeConfig(Config):
    max_age_hours: float = Field(default=24.0, gt=0, description="Warn about dead letters older than this.")


@asset_check(asset=STORE_PUSH, partitions_def=store_partitions)
def store_push_no_old_dead_letters(context: AssetCheckExecutionContext, config: DeadLetterAgeConfig,
                                   app_db: AppDatabase) -> AssetCheckResult:
    """Products that keep failing are looked at: no dead letter older than the configured age."""
    outcome = verify.stale_dead_letters(app_db.engine, context.partition_key, timedelta(hours=config.max_age_hours))
    return check_result(outcome, AssetCheckSeverity.WARN, PUSH_CHECK)


# --- manual jobs ----------------------------------------------------------------------------------


class ManualSyncConfig(Config):
    """Push a few SKUs to chosen stores now."""

    skus: list[str] = Field(description="Parent SKUs to push (the listings must exist for each store).")
    stores: list[str] = Field(default_factory=list, description="Store keys from the stores file.")
    platforms: list[str] = Field(default_factory=list,
                                 description="shopify, shopee, tiktok or all: every store of those platforms.")
    dry_run: bool = Field(default=False, description="Report what would be sent; call no store.")
    force: bool = Field(default=False, description="Send the products in full even when nothing changed "
                                                   "(after an edit made on the store).")


class DryRunConfig(Config):
    """Report what a push would do, per store, without calling any store."""

    stores: list[str] = Field(default_factory=list, description="Store keys; empty with no platforms: all stores.")
    platforms: list[str] = Field(default_factory=list, description="shopify, shopee, tiktok or all.")
    skus: list[str] | None = Field(default=None, description="Only these SKUs (default: all).")
    max_products: int | None = Field(default=None)


class RetryDeadLettersConfig(Config):
    stores: list[str] = Field(default_factory=list, description="Store keys; empty with no platforms: all stores.")
    platforms: list[str] = Field(default_factory=list, description="shopify, shopee, tiktok or all.")
    skus: list[str] | None = Field(default=None, description="Only these SKUs.")
    error_classes: list[str] | None = Field(default=None, description="Only these error classes, e.g. NETWORK_ERROR.")


class RollbackConfig(Config):
    store: str = Field(description="Store key.")
    run_id: str = Field(description=f"The Dagster run id of the push to undo (see {names.STORE_PUSH} "
                                          "metadata push_run_id).")


def choose_stores(stores_config: StoresConfig, keys: list[str], platforms: list[str], *,
                  default_all: bool) -> list[StoreConfig]:
    """Stores named by key or by platform; a clear Failure for unknown names."""
    with refused_as_failure():
        return requests.choose_stores(stores_config.stores, stores_config.path, keys, platforms,
                                      default_all=default_all)


@contextmanager
def refused_as_failure() -> Iterator[None]:
    """A request the step refuses fails the run naming the setting (the launch refuses it first)."""
    try:
        yield
    except requests.RefusedRequest as exc:
        raise Failure(description=str(exc)) from None


def _push_stores(context: OpExecutionContext, app_db: AppDatabase, stores: list[StoreConfig],
                 options: PushOptions, dead_letters: dict[str, Any] | None = None) -> list[PushReport]:
    """Push several stores side by side (each paced by its own client); one store's failure does
    not stop the others, and the job fails at the end naming every failed store."""
    reports: list[PushReport] = []
    failures: list[str] = []

    def one(store: StoreConfig) -> PushReport | str:
        try:
            return _push(context, app_db, store, options, dead_letters=dead_letters)
        except Failure as exc:
            return exc.description or str(exc)

    with ThreadPoolExecutor(max_workers=max(1, len(stores))) as pool:
        for outcome in pool.map(one, stores):
            if isinstance(outcome, str):
                failures.append(outcome)
            else:
                reports.append(outcome)
                # Jobs made of ops materialize nothing: their figures per store are this observation.
                context.log_event(AssetObservation(asset_key=STORE_PUSH, partition=outcome.store_key,
                                                   metadata=report_metadata(outcome)))
                if outcome.failed:
                    failures.append(outcome.failure_message())
    context.log.info("summary across stores:\n" + summary_markdown(reports))
    if failures:
        raise Failure(description="; ".join(failures), metadata={"summary": MetadataValue.md(summary_markdown(reports))})
    return reports


@op(name="manual_sync_push")
def manual_sync_push(context: OpExecutionContext, config: ManualSyncConfig, app_db: AppDatabase,
                     stores_config: StoresConfig) -> None:
    with refused_as_failure():
        requests.check_skus(config.skus, required=True)
    stores = choose_stores(stores_config, config.stores, config.platforms, default_all=False)
    unknown = ledger.unknown_skus(app_db.engine, [store.key for store in stores], config.skus)
    if unknown:  # refused before any store is called: a typo must not look like a successful sync
        raise Failure(description=f"manual_sync: SKU(s) not in the catalog, nothing was sent: {', '.join(unknown)}")
    warn_if_tokens_unencrypted(context, stores_config)
    _push_stores(context, app_db, stores, PushOptions(skus=tuple(config.skus), dry_run=config.dry_run,
                                                      force=config.force))


@op(name="push_dry_run_plan")
def push_dry_run_plan(context: OpExecutionContext, config: DryRunConfig, app_db: AppDatabase,
                      stores_config: StoresConfig) -> None:
    with refused_as_failure():
        requests.check_skus(config.skus, required=False)
        requests.check_max_products(config.max_products)
    stores = choose_stores(stores_config, config.stores, config.platforms, default_all=True)
    _push_stores(context, app_db, stores, PushOptions(skus=tuple(config.skus) if config.skus else None,
                                                      max_products=config.max_products, dry_run=True))


@op(name="retry_dead_letters_push")
def retry_dead_letters_push(context: OpExecutionContext, config: RetryDeadLettersConfig, app_db: AppDatabase,
                            stores_config: StoresConfig) -> None:
    with refused_as_failure():
        requests.check_dead_letter_classes(config.error_classes)
        requests.check_skus(config.skus, required=False)
    stores = choose_stores(stores_config, config.stores, config.platforms, default_all=True)
    warn_if_tokens_unencrypted(context, stores_config)
    _push_stores(context, app_db, stores, PushOptions(), dead_letters={
        "skus": config.skus, "error_classes": config.error_classes})


@op(name="rollback_push_run")
def rollback_push_run(context: OpExecutionContext, config: RollbackConfig, app_db: AppDatabase,
                      stores_config: StoresConfig) -> None:
    with refused_as_failure():
        store = requests.check_store(stores_config.stores, stores_config.path, config.store)
        requests.check_run_id(config.run_id)
    warn_if_tokens_unencrypted(context, stores_config)
    try:
        report = rollback_store_push(app_db.engine, store, config.run_id, client_factory(app_db, store),
                                     rollback_run_id=context.run_id)
    except (MissingCredentialError, StorePushLocked, NothingToRollBack) as exc:
        raise Failure(description=str(exc)) from None
    context.log.info(report.describe())
    metadata = {"restored": MetadataValue.int(len(report.restored)), "deleted": MetadataValue.int(len(report.deleted)),
                "errors": MetadataValue.int(len(report.failed)),
                "failed": MetadataValue.md(markdown.bullets(f"{k}: {v}" for k, v in report.failed.items())),
                "rolled_back_run_id": MetadataValue.text(config.run_id)}
    context.log_event(AssetObservation(asset_key=STORE_PUSH, partition=store.key, metadata=metadata))
    if not report.ok:
        raise Failure(description=report.describe(), metadata=metadata)


# --- the same rules at launch (defs/launch.py), against the code location's stores file -----------


def _location_stores() -> tuple[StoresFile, str]:
    """The stores file the code location serves (its partitions come from it too)."""
    path = stores_file_path()
    return load_stores(path), str(path)


def _store_push_settings(config: StorePushConfig) -> None:
    """store_push's own first step (store_sync is partitioned, and Dagster takes no config mapping on
    a partitioned job, so these are not checked at launch)."""
    requests.check_max_products(config.max_products, least=0)
    requests.check_skus(config.skus, required=False)


def _manual_sync_rule(config: ManualSyncConfig) -> None:
    requests.check_skus(config.skus, required=True)
    requests.choose_stores(*_location_stores(), config.stores, config.platforms, default_all=False)


def _dry_run_rule(config: DryRunConfig) -> None:
    requests.check_skus(config.skus, required=False)
    requests.check_max_products(config.max_products)
    requests.choose_stores(*_location_stores(), config.stores, config.platforms, default_all=True)


def _retry_rule(config: RetryDeadLettersConfig) -> None:
    requests.check_dead_letter_classes(config.error_classes)
    requests.check_skus(config.skus, required=False)
    requests.choose_stores(*_location_stores(), config.stores, config.platforms, default_all=True)


def _rollback_rule(config: RollbackConfig) -> None:
    requests.check_store(*_location_stores(), config.store)
    requests.check_run_id(config.run_id)


@job(description="Push chosen SKUs to chosen stores (by key or platform) now, with the push's progress and logs.",
     config=refused_at_launch("manual_sync", {"manual_sync_push": Rule(manual_sync_push, ManualSyncConfig, _manual_sync_rule)}))
def manual_sync() -> None:
    manual_sync_push()


@job(description="Report, per chosen store, what a push would create, update and delist and which fields change; "
                 "calls no store.",
     config=refused_at_launch("push_dry_run", {"push_dry_run_plan": Rule(push_dry_run_plan, DryRunConfig, _dry_run_rule)}))
def push_dry_run() -> None:
    push_dry_run_plan()


@job(description="Push the dead letters again (all, or by store / platform / SKU / error class); clears those "
                 "that succeed.",
     config=refused_at_launch("retry_dead_letters", {
         "retry_dead_letters_push": Rule(retry_dead_letters_push, RetryDeadLettersConfig, _retry_rule)}))
def retry_dead_letters() -> None:
    retry_dead_letters_push()


@job(description="Undo one push run on one store: delete products it created, restore those it updated or delisted.",
     config=refused_at_launch("rollback_push", {"rollback_push_run": Rule(rollback_push_run, RollbackConfig, _rollback_rule)}))
def rollback_push() -> None:
    rollback_push_run()


def _store(stores_config: StoresConfig, key: str) -> StoreConfig:
    try:
        return stores_config.stores.by_key(key)
    except KeyError:
        raise Failure(description=f"store '{key}' is not in {stores_config.path} "
                      f"(known: {', '.join(stores_config.stores.keys())})") from None


PUSH_CHECKS = [store_push_has_external_ids, store_push_spot_check, store_push_error_share,
               store_push_no_old_dead_letters]

defs = Definitions(assets=[store_push], asset_checks=PUSH_CHECKS,
                   jobs=[manual_sync, push_dry_run, retry_dead_letters, rollback_push])
