"""The names of the Dagster assets and jobs, defined once: the definitions in ``defs/`` are made
with them, and the CLI, the remote client and the demo refer to them (without importing Dagster).

Asset names are a contract (ARCHITECTURE.md): the partition key of the per-store assets is the
store's key.
"""

from __future__ import annotations

# assets
MAGENTO_PRODUCTS = "magento_products"
CATALOG_PRODUCTS = "catalog_products"
CATALOG_CHANGES_PUSHED = "catalog_changes_pushed"
STORE_CATALOG_RULES = "store_catalog_rules"
PLATFORM_LISTINGS = "platform_listings"
STORE_PUSH = "store_push"

# jobs
CATALOG_SYNC_JOB = "catalog_sync"
STORE_SYNC_JOB = "store_sync"
MANUAL_IMPORT_JOB = "magento_import"
STORE_RULES_REFRESH_JOB = "store_rules_refresh"

# the run queue lets one run with this tag at a time (dagster.yaml tag_concurrency_limits)
IMPORT_ROLE_TAG = {"sync_pipeline/role": "import"}
