"""The Celery app a worker runs: ``celery -A sync_pipeline.defs.celery_worker worker``.

It is ``dagster_celery.app`` built from this project's broker, backend and settings
(``executors.celery_settings``), so a worker and the runs that send it steps agree on them without
a config file. The worker needs the environment of the code location (the stores file, the
databases, the credentials) and of the Dagster instance (``DAGSTER_HOME`` and what its
``dagster.yaml`` reads), as the daemon has.
"""

from __future__ import annotations

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from sync_pipeline.defs.executors import celery_app_args

app = make_app(celery_app_args())  # type: ignore[no-untyped-call]
execute_plan = create_task(app)  # type: ignore[no-untyped-call]
