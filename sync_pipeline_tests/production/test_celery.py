"""``SYNC_EXECUTOR=celery`` for real: a Redis broker, two Celery worker processes, and the webserver
and daemon on the Celery instance (``deploy/celery/dagster.yaml``: PostgreSQL storage, the queued
run coordinator).

Two stores' ``store_sync`` runs go through the queue; their steps are executed by the workers, one
store's entirely by the worker the other store's push does not hold. Then the process running the
held push is killed with SIGKILL: Celery sends the step again, and the store ends with each listing
once. Every ordering is made certain by holding the store's answers in the sandbox; waits are
bounded for liveness only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from sync_pipeline.defs.executors import BACKEND_ENV, BROKER_ENV, EXECUTOR_ENV
from sync_pipeline.platforms.shopify.product_input import SKU_TAG_PREFIX
from sync_pipeline.remote import RemotePipeline
from sync_pipeline_tests.conftest import _unavailable
from sync_pipeline_tests.production.harness import (
    BIN,
    LIVENESS_S,
    ROOT,
    Deployment,
    deployment,
    free_port,
    wait_until,
)
from sync_pipeline_tests.production.test_remote import throwaway_postgres  # noqa: F401 - fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("dagster_processes")]

SHOPIFY_US = ("shopify", "demo-us")  # the demo store's sandbox id
# Held answers are let go after this, so a broken test cannot hang for ever; above every wait the test
# makes while it holds (LIVENESS_S), so the hold never ends before the test has seen what it holds for.
HOLD_LIMIT_S = 2 * LIVENESS_S
WORKERS = ("w1", "w2")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own on a free loopback port (no other run shares its queue)."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(server, os.X_OK):
        _unavailable("redis-server", FileNotFoundError("not installed (apt-get install redis-server)"))
    port = free_port()
    with open(tmp_path / "redis.log", "wb") as log:
        process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", str(tmp_path)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = redis.Redis(host="127.0.0.1", port=port)

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited: {(tmp_path / 'redis.log').read_text()}")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, LIVENESS_S, "redis-server to answer")
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


class HeldAnswers:
    """Writes to one sandbox store after the first ``let_through`` are made by the store, then their
    answers wait until released: the push is certainly mid-push, with products the store created
    that the pushing process has not heard of (as when a process dies with calls in flight)."""

    def __init__(self, deploy: Deployment, store: tuple[str, str], let_through: int) -> None:
        self.writes = 0
        self.held = 0
        self.released = threading.Event()
        self._lock = threading.Lock()
        assert deploy.sandbox is not None
        emulator = deploy.sandbox.sandbox.emulator(store[0])
        handle = emulator.handle

        def gate(req: Any, routed: Any) -> Any:
            if routed.store != store[1] or not routed.is_write or self.released.is_set():
                return handle(req, routed)
            response = handle(req, routed)
            with self._lock:
                self.writes += 1
                hold = self.writes > let_through
                self.held += hold
            if hold:
                self.released.wait(HOLD_LIMIT_S)
            return response

        emulator.handle = gate  # type: ignore[method-assign]


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]

    def runs(self, pid: int) -> bool:
        """Whether ``pid`` is this worker's main process or one of its pool processes."""
        return pid == self.process.pid or _parent(pid) == self.process.pid


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def _start_workers(deploy: Deployment) -> dict[str, Worker]:
    """Two Celery workers, one pool process each, as a deployment would run them on two hosts."""
    workers = {}
    for name in WORKERS:
        before = len(deploy.processes)
        deploy._spawn(f"celery-{name}", [str(BIN / "celery"), "-A", "sync_pipeline.defs.celery_worker", "worker",
                                         "-n", f"{name}@%h", "--concurrency", "1", "--loglevel", "INFO",
                                         "--without-gossip", "--without-mingle"])
        workers[name] = Worker(name, deploy.processes[before])
    for name, worker in workers.items():
        log = deploy.root / f"celery-{name}.log"

        def ready(worker: Worker = worker, log: Path = log) -> bool:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited:\n{log.read_text(errors='replace')}")
            return " ready." in log.read_text(errors="replace")

        wait_until(ready, LIVENESS_S, f"Celery worker {name} to be ready")
    return workers


def _celery_workers(instance: DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step, Celery node name) of each step a worker took, from the engine event the worker records
    ("Executing steps ... in celery worker")."""
    found = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        if data is not None and "Celery worker" in data.metadata:
            found.append((str(entry.step_key), str(data.metadata["Celery worker"].value).partition("@")[0]))
    return found


def _step_pids(instance: DagsterInstance, run_id: str) -> list[tuple[str, int]]:
    """(step, process id) of each start of a step, from its STEP_START event."""
    return [(str(e.step_key), int(e.dagster_event.pid or 0)) for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)
            if e.dagster_event is not None]


def _rows(deploy: Deployment, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(deploy.env["SYNC_DB_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


def _lock_holder_pid(deploy: Deployment, store: str) -> tuple[str, int]:
    rows = _rows(deploy, "SELECT run_id, holder FROM push_store_locks WHERE store_key = :s", s=store)
    assert rows and rows[0].run_id is not None, rows
    return str(rows[0].run_id), int(str(rows[0].holder).rpartition(":")[2])


def test_store_sync_on_two_celery_workers_and_a_killed_push_step_sent_again(
    tmp_path: Path, throwaway_postgres: dict[str, Any], redis_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = throwaway_postgres["url"]
    pg = {"DAGSTER_PG_HOST": url.host or "127.0.0.1", "DAGSTER_PG_PORT": str(url.port or 5432),
          "DAGSTER_PG_USER": url.username or "postgres", "DAGSTER_PG_PASSWORD": url.password or "",
          "DAGSTER_PG_DB": throwaway_postgres["instance_db"]}
    env = {**pg, EXECUTOR_ENV: "celery", BROKER_ENV: f"{redis_url}/0", BACKEND_ENV: f"{redis_url}/1"}
    app_url = throwaway_postgres["app_url"].render_as_string(hide_password=False)
    with deployment(tmp_path, ROOT / "deploy" / "celery" / "dagster.yaml", app_db_url=app_url,
                    extra_env=env) as deploy:
        workers = _start_workers(deploy)
        for name, value in pg.items():  # this process reads the run records from the same instance
            monkeypatch.setenv(name, value)
        instance = DagsterInstance.from_config(str(tmp_path / "dagster_home"))
        pipeline = RemotePipeline.connect("127.0.0.1", deploy.port)
        imported = pipeline.start_import(limit=30)
        assert pipeline.wait(imported, timeout=LIVENESS_S).state == "completed"

        gate = HeldAnswers(deploy, SHOPIFY_US, let_through=3)
        try:
            held_run = pipeline.start_push("shopify-us")
            wait_until(lambda: gate.held > 0, LIVENESS_S, "shopify-us's push to have a write held")
            run_id, pid = _lock_holder_pid(deploy, "shopify-us")
            assert run_id == held_run
            busy = next(w for w in workers.values() if w.runs(pid))  # a worker's pool process is mid-push
            idle = next(w for w in workers.values() if w is not busy)

            # The busy worker holds its one step unacknowledged and takes no other: every step of the
            # second store's run goes to the other worker.
            other_run = pipeline.start_push("shopee-sg")
            other = pipeline.wait(other_run, timeout=LIVENESS_S)
            assert other.state == "completed", other.as_dict()
            assert other.metrics["store_push/shopee-sg"]["created"] > 0
            taken = _celery_workers(instance, other_run)
            started = _step_pids(instance, other_run)
            assert {step for step, _ in taken} == {step for step, _ in started} >= {"platform_listings", "store_push"}
            assert {worker for _, worker in taken} == {idle.name}, taken
            assert all(idle.runs(pid) for _, pid in started), (started, idle.process.pid)

            assert deploy.sandbox is not None
            # The store already made these, some of them for calls whose answers the killed process never gets.
            made_before_kill = {doc["id"] for doc in deploy.sandbox.sandbox.state.list(*SHOPIFY_US, "product")}
            os.kill(pid, signal.SIGKILL)
        finally:
            gate.released.set()

        held = pipeline.wait(held_run, timeout=LIVENESS_S)
        assert held.state == "completed", held.as_dict()
        # The push step was started twice: in the process killed on the busy worker, then again,
        # sent by Celery, in another process (of whichever worker took it).
        push_workers = [worker for step, worker in _celery_workers(instance, held_run) if step == "store_push"]
        push_pids = [p for step, p in _step_pids(instance, held_run) if step == "store_push"]
        assert len(push_workers) == len(push_pids) == 2, (push_workers, push_pids)
        assert (push_workers[0], push_pids[0]) == (busy.name, pid) and push_pids[1] != pid
        assert any(w.runs(push_pids[1]) for w in workers.values())
        # The sandbox store holds each listing of the store once: none lost, none twice. A product
        # carries its parent SKU as the tag the pipeline finds it by.
        listed = {str(r.sku) for r in _rows(
            deploy, "SELECT sku FROM platform_listings WHERE store_key = 'shopify-us' AND action = 'list' "
                    "AND valid = :v", v=True)}
        assert listed
        products = deploy.sandbox.sandbox.state.list(*SHOPIFY_US, "product")
        on_store = Counter(tag.removeprefix(SKU_TAG_PREFIX) for doc in products for tag in doc["tags"]
                           if tag.startswith(SKU_TAG_PREFIX))
        assert set(on_store) == listed, set(on_store) ^ listed
        assert set(on_store.values()) == {1}, {k: v for k, v in on_store.items() if v != 1}
        assert len(products) == len(listed)
        mappings = _rows(deploy, "SELECT sku, status, external_id FROM store_mappings WHERE store_key = 'shopify-us'")
        assert {m.status for m in mappings} == {"listed"} and {m.sku for m in mappings} == listed
        assert {m.external_id for m in mappings} == {doc["id"] for doc in products}
        assert made_before_kill and made_before_kill <= {doc["id"] for doc in products}  # kept, not made again
        assert held.metrics["store_push/shopify-us"]["errors"] == 0
