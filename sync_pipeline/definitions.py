"""The code location: a table of contents of the project's Dagster definitions.

Each domain's Dagster module under ``defs/`` declares its own assets, checks, jobs, schedules and
sensors; this module only merges them with the shared resources.
"""

from __future__ import annotations

from dagster import Definitions

from sync_pipeline.defs import adopt, automation, catalog, changes, jobs, listings, push, rules, status
from sync_pipeline.defs.executors import executor_from_env
from sync_pipeline.defs.resources import default_resources

defs = Definitions.merge(
    Definitions(resources=default_resources(), executor=executor_from_env()),
    catalog.defs,
    rules.defs,
    listings.defs,
    push.defs,
    adopt.defs,
    changes.defs,
    Definitions(jobs=[jobs.catalog_sync, jobs.store_sync]),
    status.defs,
    automation.defs,
)
