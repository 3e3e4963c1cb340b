"""Which executor runs the steps of every job: chosen by ``SYNC_EXECUTOR`` when the code location loads.

* ``in_process`` (default): all steps of a run in the run's own process. A ``store_sync`` run has
  eleven steps (listings, five listing checks, push, four push checks); one process per step spent
  about 93% of a run's wall time starting Python and loading the code location, for about 10 s of
  work. Steps still run in order and blocking checks still stop the push. It is Dagster's
  ``multi_or_in_process_executor`` with ``in_process`` as the default choice, so a launchpad or
  ``sync-pipeline --in-process`` config (``execution: config: in_process``) stays valid and
  ``execution: config: multiprocess`` asks for a process per step for one run.
* ``multiprocess``: Dagster's default (one process per step unless the run config says
  ``in_process``); worth it only when independent steps are heavy enough to use several cores.
* ``celery``: steps sent to Celery workers through a broker (``dagster-celery``, the ``celery``
  extra); see deploy/README.md for when a deployment needs it.
"""

from __future__ import annotations

import os

from dagster import ExecutorDefinition, Field, multi_or_in_process_executor

EXECUTOR_ENV = "SYNC_EXECUTOR"
CHOICES = ("in_process", "multiprocess", "celery")

in_process_by_default = ExecutorDefinition(
    name="in_process_by_default",
    config_schema=Field(
        multi_or_in_process_executor.config_field.config_type,  # type: ignore[union-attr]
        default_value={"in_process": {}},
    ),
    requirements=multi_or_in_process_executor.get_requirements,
    executor_creation_fn=multi_or_in_process_executor.executor_creation_fn,
    description="Every step in the run's process unless the run config asks for multiprocess.",
)


def executor_from_env() -> ExecutorDefinition:
    choice = (os.environ.get(EXECUTOR_ENV) or "in_process").strip().lower()
    if choice == "in_process":
        return in_process_by_default
    if choice == "multiprocess":
        return multi_or_in_process_executor
    if choice == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:
            raise RuntimeError(f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install -e '.[celery]'") from exc
        return celery_executor  # type: ignore[no-any-return]
    raise ValueError(f"{EXECUTOR_ENV}={choice!r}: choose one of {', '.join(CHOICES)}")
