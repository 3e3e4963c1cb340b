"""The code location the production tests serve: the project's definitions, plus the jobs and the
automation that ``definitions.py`` does not list yet (each added only when missing, so this module
stays correct once it does)."""

from __future__ import annotations

from dagster import Definitions

from sync_pipeline import definitions
from sync_pipeline.defs import automation, jobs, status


def _missing(defs: Definitions) -> Definitions:
    project = definitions.defs
    job_names = {job.name for job in project.jobs or []}
    project_keys = {key for a in project.assets or [] for key in a.keys}  # type: ignore[union-attr]
    sensor_names = {sensor.name for sensor in project.sensors or []}
    return Definitions(
        assets=[a for a in defs.assets or [] if not any(k in project_keys for k in a.keys)],  # type: ignore[union-attr]
        jobs=[job for job in defs.jobs or [] if job.name not in job_names],
        schedules=[s for s in defs.schedules or [] if s.name not in {x.name for x in project.schedules or []}],
        sensors=[s for s in defs.sensors or [] if s.name not in sensor_names],
    )


defs = Definitions.merge(
    definitions.defs,
    _missing(Definitions(jobs=[jobs.catalog_sync, jobs.store_sync])),
    _missing(automation.defs),
    _missing(status.defs),
)
