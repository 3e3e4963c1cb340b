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
  extra). Broker and result backend come from ``SYNC_CELERY_BROKER_URL`` / ``SYNC_CELERY_BACKEND_URL``
  on every process (webserver, daemon, the runs it launches, the workers), so a run started by a
  sensor or a schedule needs no run config; the workers run ``celery -A
  sync_pipeline.defs.celery_worker worker`` with the same settings (``celery_settings``). See
  deploy/README.md for when a deployment needs it.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import ExecutorDefinition, Field, multi_or_in_process_executor

EXECUTOR_ENV = "SYNC_EXECUTOR"
CHOICES = ("in_process", "multiprocess", "celery")
BROKER_ENV = "SYNC_CELERY_BROKER_URL"
BACKEND_ENV = "SYNC_CELERY_BACKEND_URL"
# A message not acknowledged within this long goes back to the queue (Redis broker). It must exceed
# the longest step: a full first push of the 48,000-product catalog at Shopify's 5.9 products/s
# (benchmarks/RESULTS.md) is about 2.3 h, and a step still running when it expires would be started
# a second time on another worker.
VISIBILITY_TIMEOUT_S = 12 * 3600
# How often a step whose process died (SIGKILL, out of memory) is sent again before its run fails.
RETRIES_ON_LOST_WORKER = 2

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
        return celery_from_env()
    raise ValueError(f"{EXECUTOR_ENV}={choice!r}: choose one of {', '.join(CHOICES)}")


def _dagster_celery() -> Any:
    try:
        import dagster_celery
    except ImportError as exc:
        raise RuntimeError(f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install -e '.[celery]'") from exc
    return dagster_celery


def celery_settings() -> dict[str, Any]:
    """Celery settings of both sides: the runs that send steps and the workers that run them."""
    defaults = _dagster_celery().defaults
    return {
        # A step's message is acknowledged when the step has ended, not when it starts: a worker
        # busy with a step takes no other (prefetch 1, so an idle worker gets it), and a step whose
        # process died is sent again instead of vanishing with it.
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        "task_retry_on_worker_lost": True,
        "task_reject_on_worker_lost": True,  # requeued if sending the retry itself failed
        "task_annotations": {"execute_plan": {"max_retries": RETRIES_ON_LOST_WORKER, "default_retry_delay": 1}},
        "broker_transport_options": {**defaults.broker_transport_options,
                                     "visibility_timeout": VISIBILITY_TIMEOUT_S},
    }


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{EXECUTOR_ENV}=celery needs {name} (e.g. redis://127.0.0.1:6379/0)")
    return value


def celery_from_env() -> ExecutorDefinition:
    """``dagster_celery``'s executor, configured from the environment (see the module's docstring)."""
    executor = _dagster_celery().celery_executor
    for name in (BROKER_ENV, BACKEND_ENV):  # refused at load, not when a run is already queued
        _required(name)
    return executor.configured(  # type: ignore[no-any-return]
        {"broker": {"env": BROKER_ENV}, "backend": {"env": BACKEND_ENV}, "config_source": celery_settings()},
        name="celery_from_env",
    )


def celery_app_args() -> dict[str, Any]:
    """What the workers' Celery app is built from: the same broker, backend and settings as the runs."""
    from dagster_celery.executor import CeleryExecutor

    return CeleryExecutor.for_cli(  # type: ignore[no-untyped-call,no-any-return]
        broker=_required(BROKER_ENV), backend=_required(BACKEND_ENV), config_source=celery_settings(),
    ).app_args()
