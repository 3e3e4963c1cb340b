"""Dagster layer of the listings: the ``platform_listings`` asset and the checks that gate the push.

Thin on purpose: the rules live in ``sync_pipeline.listings``; this module picks the store of
the partition, calls them, and reports what happened.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    Config,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from sqlalchemy import Engine

from sync_pipeline import markdown
from sync_pipeline.checks import CheckOutcome
from sync_pipeline.defs.checks import check_result
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.listings.audit import (
    audit_categories,
    audit_identity,
    audit_images,
    audit_limits,
    audit_prices,
    audit_store_rules,
    audit_titles,
    invalid_by_store_rules,
)
from sync_pipeline.listings.images import DEFAULT_FRESH_FOR, DEFAULT_WORKERS, check_images
from sync_pipeline.listings.rules_db import load_rules, rules_for_listings
from sync_pipeline.listings.store import StoreListingsSummary
from sync_pipeline.names import CATALOG_PRODUCTS, PLATFORM_LISTINGS, STORE_CATALOG_RULES
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.changes import rebuild_store_listings
from sync_pipeline.stores import StoreConfig

CATALOG = AssetKey(CATALOG_PRODUCTS)
RULES = AssetKey(STORE_CATALOG_RULES)


@asset(
    name=PLATFORM_LISTINGS,
    partitions_def=store_partitions,
    deps=[CATALOG, RULES],
    group_name="listings",
    kinds={"python", "sql"},
)
def platform_listings(
    context: AssetExecutionContext, app_db: AppDatabase, stores_config: StoresConfig
) -> MaterializeResult:  # type: ignore[type-arg]
    """Every catalog product as this store will sell it: priced by the store's rule, titled for its
    platform, shaped to its limits. Invalid listings are kept with their reasons and never pushed;
    products inactive in the catalog become delists. The push diffs these rows by hash."""
    store = _store(stores_config, context.partition_key)

    def report(summary: StoreListingsSummary) -> None:
        context.log.info(f"{store.key}: {summary.listings} listings so far ({summary.changed} changed)")

    first_read = rules_for_listings(app_db.engine, store, lambda: build_client(store, DbTokenStore(app_db.engine)))
    if first_read is not None:
        context.log.info(f"{store.key}: the store's catalog rules had never been read: "
                         + ("read now" if first_read.rules else f"not readable ({first_read.error})"))
    summary = rebuild_store_listings(app_db.engine, store, progress=report)  # and the fast path's mark
    return MaterializeResult(metadata=summary_metadata(summary))


def summary_metadata(summary: StoreListingsSummary) -> dict[str, MetadataValue]:  # type: ignore[type-arg]
    return {
        "listings": MetadataValue.int(summary.listings),
        "valid": MetadataValue.int(summary.valid),
        "invalid": MetadataValue.int(summary.invalid),
        "delists": MetadataValue.int(summary.delists),
        "changed": MetadataValue.int(summary.changed),
        "inserted": MetadataValue.int(summary.inserted),
        "updated": MetadataValue.int(summary.updated),
        "orphaned": MetadataValue.int(summary.orphaned),
        "invalid_by_reason": MetadataValue.md(_counts_table(summary.invalid_by_reason, "reason")),
        "titles_out_of_band": MetadataValue.int(sum(summary.notes_by_reason.values())),
        "preview": MetadataValue.md(_preview_table(summary)),
    }


def _counts_table(counts: Mapping[str, int], label: str) -> str:
    if not counts:
        return "none"
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return markdown.table([label, "listings:"], rows)


def _preview_table(summary: StoreListingsSummary) -> str:
    return markdown.table(
        ["SKU", "master price:", "store price:", "title", "valid"],
        ([row.sku, row.master_price if row.master_price is not None else "-", f"{row.store_price} {row.currency}",
          row.title, "yes" if row.valid else "no"] for row in summary.preview))


def _store(stores_config: StoresConfig, key: str) -> StoreConfig:
    try:
        return stores_config.stores.by_key(key)
    except KeyError as exc:
        raise Failure(
            description=f"store '{key}' is not in {stores_config.path}: reload the code location after editing it",
        ) from exc


def _audit_check(name: str, audit: Callable[[Engine, StoreConfig], CheckOutcome], description: str, *,
                 blocking: bool = True, severity: AssetCheckSeverity = AssetCheckSeverity.ERROR) -> AssetChecksDefinition:
    """A check that runs one audit of ``listings/audit.py`` on the partition's store."""

    @asset_check(asset=PLATFORM_LISTINGS, partitions_def=store_partitions, blocking=blocking, name=name,
                 description=description)
    def check(context: AssetCheckExecutionContext, app_db: AppDatabase, stores_config: StoresConfig) -> AssetCheckResult:
        return check_result(audit(app_db.engine, _store(stores_config, context.partition_key)), severity)

    return check


listing_prices_match_rule = _audit_check(
    "listing_prices_match_rule", audit_prices,
    "Every stored price equals the store's rule applied to the catalog price (zero mismatches). "
    "Blocking: a wrong price is never pushed.")
listing_titles_in_band_and_distinct = _audit_check(
    "listing_titles_in_band_and_distinct", audit_titles,
    "Titles are 70-80 % similar to the master (or say why not) and never equal another platform's.")
listing_within_platform_limits = _audit_check(
    "listing_within_platform_limits", audit_limits,
    "Title, description, image, variant and option limits, and characters the platform rejects.")
listing_has_three_images = _audit_check(
    "listing_has_three_images", audit_images,
    "Listings with fewer than three images (a warning: they sell, but worse).",
    blocking=False, severity=AssetCheckSeverity.WARN)
listing_category_mapped = _audit_check(
    "listing_category_mapped", audit_categories,
    "Every valid listing carries a category from the store's map (or its default).")
listing_identity_unique = _audit_check(
    "listing_identity_unique", audit_identity,
    "No two listings of the store share a handle or a seller SKU: two catalog products must never become "
    "one store product. Blocking.")


class ImageCheckConfig(Config):
    workers: int = DEFAULT_WORKERS  # requests open at once against the image hosts
    fresh_minutes: int = int(DEFAULT_FRESH_FOR.total_seconds() // 60)  # a good answer this recent is not asked again


@asset_check(asset=PLATFORM_LISTINGS, partitions_def=store_partitions)
def listing_images_reachable(
    context: AssetCheckExecutionContext, config: ImageCheckConfig, app_db: AppDatabase
) -> AssetCheckResult:
    """Every image URL of the store's listings answers over HTTP (HEAD, a few at a time, cached by
    URL with its ETag / Last-Modified, so an unchanged catalog costs no transfer). A missing image
    names SKU and URL. A warning, not a blocker: an image host's bad minute must not hold back
    price and stock updates, and a platform that must fetch the image refuses that product alone."""
    outcome = check_images(app_db.engine, context.partition_key, workers=config.workers,
                           fresh_for=timedelta(minutes=config.fresh_minutes))
    return AssetCheckResult(
        passed=outcome.passed,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "urls": MetadataValue.int(outcome.urls),
            "failures": MetadataValue.int(len(outcome.failures)),
            "cache_hits": MetadataValue.int(outcome.cache_hits),
            "requests": MetadataValue.int(outcome.requests),
            "not_modified": MetadataValue.int(outcome.not_modified),
            "transferred": MetadataValue.int(outcome.transferred),
            "examples": MetadataValue.md(markdown.bullets(outcome.examples())),
        },
    )


@asset_check(asset=PLATFORM_LISTINGS, partitions_def=store_partitions, blocking=True)
def listing_meets_store_rules(
    context: AssetCheckExecutionContext, app_db: AppDatabase, stores_config: StoresConfig
) -> AssetCheckResult:
    """Every valid listing meets its category's rules as read from the store (``store_catalog_rules``):
    required attributes with allowed values, brand, size chart, certifications, package and shipping
    data. Listings that fail them are kept invalid with a reason naming the fix, never pushed."""
    store = _store(stores_config, context.partition_key)
    rules = load_rules(app_db.engine, store.key)
    result = audit_store_rules(app_db.engine, store)
    held_back = invalid_by_store_rules(app_db.engine, store.key)
    check = check_result(result)
    return AssetCheckResult(
        passed=check.passed,
        severity=check.severity,
        metadata={
            **check.metadata,
            "rules_read_at": MetadataValue.text(f"{rules.read_at:%Y-%m-%d %H:%M} UTC" if rules else "never read"),
            "invalid_by_store_rules": MetadataValue.int(len({sku for sku, _ in held_back})),
            "invalid_examples": MetadataValue.md(markdown.bullets(f"{sku}: {reason}" for sku, reason in held_back[:10])),
        },
    )


LISTING_CHECKS = [
    listing_prices_match_rule,
    listing_titles_in_band_and_distinct,
    listing_within_platform_limits,
    listing_has_three_images,
    listing_images_reachable,
    listing_category_mapped,
    listing_identity_unique,
    listing_meets_store_rules,
]

defs = Definitions(assets=[platform_listings], asset_checks=LISTING_CHECKS)
