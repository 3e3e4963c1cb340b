"""Jobs over the asset graph that schedules, sensors, the demo and remote callers launch.

``catalog_sync`` reads everything due from Magento into the catalog and takes what changed to
every store in the same run (``catalog_changes_pushed``); ``store_sync`` builds all of one
store's listings and pushes them (partitioned by store). The manual import job with its
``limit`` config lives beside its assets in ``catalog.py``.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from sync_pipeline.defs.catalog import import_settings_rule
from sync_pipeline.defs.launch import refused_at_launch
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.names import (
    CATALOG_CHANGES_PUSHED,
    CATALOG_PRODUCTS,
    CATALOG_SYNC_JOB,
    IMPORT_ROLE_TAG,
    MAGENTO_PRODUCTS,
    PLATFORM_LISTINGS,
    STORE_PUSH,
    STORE_SYNC_JOB,
)

catalog_sync = define_asset_job(
    CATALOG_SYNC_JOB,
    selection=AssetSelection.assets(MAGENTO_PRODUCTS, CATALOG_PRODUCTS, CATALOG_CHANGES_PUSHED),
    description="Import everything due from Magento (new, changed, stock and status drift) into the catalog, "
                "then rebuild, audit and push what changed to every store.",
    # An import limit or start point the step would refuse is refused at launch (defs/launch.py).
    config=refused_at_launch(CATALOG_SYNC_JOB, {MAGENTO_PRODUCTS: import_settings_rule(manual=False)}),
    tags=IMPORT_ROLE_TAG,
)

store_sync = define_asset_job(
    STORE_SYNC_JOB,
    selection=AssetSelection.assets(PLATFORM_LISTINGS, STORE_PUSH),
    partitions_def=store_partitions,
    description="Price and title one store's listings, then push what changed to the store.",
)
