"""Remote triggering against real webserver + daemon processes, and the run queue's limits.

Once on the embedded instance (SQLite, ``dagster.embedded.yaml``) and once on the production
instance (``dagster.yaml``: PostgreSQL storage from DAGSTER_PG_* on a throwaway database).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from sync_pipeline.remote import RemoteError, RemotePipeline, RunStatus
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.conftest import POSTGRES_ADMIN_URL, _unavailable
from sync_pipeline_tests.production.harness import BIN, LIVENESS_S, ROOT, Deployment, deployment, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dagster_processes")]


SHOPIFY_US = ("shopify", "demo-us")  # the demo store's sandbox id
# A held request is let go after this, so a broken test cannot hang for ever; above every wait the
# test makes while it holds (LIVENESS_S), so the hold never ends before the test has seen what it holds for.
HOLD_LIMIT_S = 2 * LIVENESS_S


class Hold:
    """Every request to one sandbox store waits until released: the run calling it is mid-push."""

    def __init__(self, deploy: Deployment, store: tuple[str, str]) -> None:
        self.waiting = 0
        self.released = threading.Event()
        self._lock = threading.Lock()
        assert deploy.sandbox is not None
        emulator = deploy.sandbox.sandbox.emulator(store[0])
        handle = emulator.handle

        def hold(req: Any, routed: Any) -> Any:
            if routed.store == store[1] and not self.released.is_set():
                with self._lock:
                    self.waiting += 1
                self.released.wait(HOLD_LIMIT_S)
            return handle(req, routed)

        emulator.handle = hold  # type: ignore[method-assign]


def _overlap(a: RunStatus, b: RunStatus) -> bool:
    assert a.started_at and a.finished_at and b.started_at and b.finished_at
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def _watch_pair(pipeline: RemotePipeline, first: str, second: str, timeout: float = LIVENESS_S) -> list[tuple[str, str]]:
    """Both runs' states, sampled until both finished (bounded)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pair = (pipeline.status(first).state, pipeline.status(second).state)
        seen.append(pair)
        if all(state in {"completed", "failed"} for state in pair):
            return seen
        time.sleep(0.3)
    raise TimeoutError(f"runs {first} and {second} did not finish in {timeout}s: last {seen[-1:]}")


def _imports_queue_one_at_a_time(pipeline: RemotePipeline) -> None:
    first = pipeline.start_import(limit=10)
    second = pipeline.start_import(limit=10)
    _watch_pair(pipeline, first, second)
    a, b = pipeline.status(first), pipeline.status(second)
    assert (a.state, b.state) == ("completed", "completed"), (a, b)
    # The queue's decision, from the runs' own records: the second started after the first ended
    # (sampling the states while they run would depend on how fast the machine is).
    assert not _overlap(a, b), "two imports ran at the same time"
    later, earlier = sorted([a, b], key=lambda s: s.started_at or 0, reverse=True)
    for run in (a, b):
        figures = run.metrics["catalog_products"]
        assert figures["processed"] == figures["total_found"] <= 10 and figures["total_found"] > 0
    # The second import resumed from the first one's cursor.
    assert (later.metrics["catalog_products"]["last_processed_source_id"]
            > earlier.metrics["catalog_products"]["last_processed_source_id"])


def _store_pushes_queue_per_store(pipeline: RemotePipeline, deploy: Deployment) -> None:
    # shopify-us's store calls are held, so its first run is certainly mid-push while the queue
    # decides about the others: the other store's run must start then (side by side), and the same
    # store's second run must wait. No wall-clock sampling decides the outcome.
    hold = Hold(deploy, SHOPIFY_US)
    try:
        first = pipeline.start_push("shopify-us")
        wait_until(lambda: hold.waiting > 0, LIVENESS_S, "shopify-us's first store call")
        again = pipeline.start_push("shopify-us")
        other = pipeline.start_push("shopee-sg")
        wait_until(lambda: pipeline.status(other).state in {"running", "completed", "failed"}, LIVENESS_S,
                   "shopee-sg's run to start while shopify-us is mid-push")
        assert pipeline.status(first).state == "running"
    finally:
        hold.released.set()
    runs = {run.run_id: run for run in pipeline.wait_all([first, again, other], timeout=LIVENESS_S, poll=0.5)}
    a, b, c = runs[first], runs[again], runs[other]
    assert [r.state for r in (a, b, c)] == ["completed"] * 3, [r.as_dict() for r in (a, b, c)]
    assert (a.partition, b.partition, c.partition) == ("shopify-us", "shopify-us", "shopee-sg")
    assert not _overlap(a, b), "two pushes of one store ran at the same time"
    assert _overlap(a, c), "two different stores did not run side by side"
    earlier, later = sorted([a, b], key=lambda s: s.started_at or 0)
    pushed = earlier.metrics["store_push/shopify-us"]
    repushed = later.metrics["store_push/shopify-us"]
    assert pushed["created"] > 0 and pushed["errors"] == 0
    assert repushed["created"] == repushed["updated"] == 0 and repushed["unchanged"] == pushed["created"]
    assert c.metrics["store_push/shopee-sg"]["created"] > 0
    assert c.metrics["platform_listings/shopee-sg"]["listings"] > 0


def _cli(deploy: Deployment, *args: str, timeout: float = LIVENESS_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "sync-pipeline"), "--port", str(deploy.port), "--in-process", *args], capture_output=True,
                          text=True, timeout=timeout, env=deploy.env, cwd=ROOT)


def _tags(deploy: Deployment, run_id: str) -> dict[str, str]:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"
    answer = requests.post(f"{deploy.url}/graphql", timeout=CALL_BOUND_S, json={"query": query, "variables": {"id": run_id}})
    return {tag["key"]: tag["value"] for tag in answer.json()["data"]["runOrError"]["tags"]}


def _run_count(deploy: Deployment) -> int:
    answer = requests.post(f"{deploy.url}/graphql", timeout=CALL_BOUND_S,
                           json={"query": "{ runsOrError { ... on Runs { count } } }"})
    return int(answer.json()["data"]["runsOrError"]["count"])


def test_remote_triggering_and_run_queue_on_the_embedded_instance(tmp_path: Path) -> None:
    with deployment(tmp_path, ROOT / "dagster.embedded.yaml") as deploy:
        pipeline = RemotePipeline.connect("127.0.0.1", deploy.port, in_process=True)
        _imports_queue_one_at_a_time(pipeline)
        _store_pushes_queue_per_store(pipeline, deploy)

        # The CLI: an import with --wait, then status and wait of that run as JSON.
        done = _cli(deploy, "--json", "import", "--limit", "5", "--wait")
        assert done.returncode == 0, done.stderr
        final = json.loads(done.stdout.strip().splitlines()[-1])
        assert final["state"] == "completed" and final["metrics"]["catalog_products"]["total_found"] <= 5
        status = _cli(deploy, "--json", "status", final["run_id"])
        assert status.returncode == 0 and json.loads(status.stdout)["run_id"] == final["run_id"]
        waited = _cli(deploy, "wait", final["run_id"], "--timeout", str(LIVENESS_S))
        assert waited.returncode == 0 and "completed" in waited.stdout and "catalog_products:" in waited.stdout

        bad = _cli(deploy, "import", "--no-resume")
        assert bad.returncode == 2 and "--start-after-id" in bad.stderr
        missing = _cli(deploy, "status", str(uuid.uuid4()))
        assert missing.returncode == 2 and "could not be found" in missing.stderr

        # A manual sync of two SKUs on one platform: it runs and pushes only those.
        skus = _pushed_skus(deploy, "shopify-us", 2)
        run_id = pipeline.start_manual_sync({"ops": {"manual_sync_push": {"config": {
            "skus": skus, "platforms": ["shopify"]}}}})
        assert pipeline.wait(run_id, timeout=LIVENESS_S).state == "completed"
        manual = _cli(deploy, "--json", "manual-sync", "--skus", ",".join(skus), "--stores", "shopee-sg", "--wait")
        assert manual.returncode == 0, manual.stderr + manual.stdout
        assert json.loads(manual.stdout.strip().splitlines()[-1])["job"] == "manual_sync"

        # Settings the job would refuse are refused before launching (exit 2, nothing launched) ...
        runs = _run_count(deploy)
        refused = _cli(deploy, "--json", "import", "--no-resume", "--start-after-id", "0", "--limit", "5000", "--wait")
        assert refused.returncode == 2 and "limit" in refused.stderr, refused.stdout + refused.stderr
        # ... also by the webserver itself, for a client that checks nothing (GraphQL straight to
        # the webserver, the code server applies the jobs' rules while it builds the run's plan),
        # and for what only the code location knows (its stores file): no run is created.
        for job, config, reason in [
            ("magento_import", {"magento_products": {"limit": 5000}}, "limit: Input should be less than or equal to 1000"),
            ("magento_import", {"magento_products": {"resume_from_last": False}},
             "start_after_id is required when resume_from_last is false"),
            ("catalog_sync", {"magento_products": {"limit": 1001}}, "limit: Input should be less than or equal to 1000"),
            ("rollback_push", {"rollback_push_run": {"store": "shopify-usa", "run_id": str(uuid.uuid4())}},
             "store: 'shopify-usa' is not in"),
            ("retry_dead_letters", {"retry_dead_letters_push": {"error_classes": ["RATE_LIMIT"]}},
             "error_classes: unknown error class(es) RATE_LIMIT"),
        ]:
            run_config = {"ops": {op: {"config": settings} for op, settings in config.items()}}
            with pytest.raises(RemoteError, match=f"{job} refused before launch") as launch:
                pipeline.start_job(job, run_config)
            assert reason in str(launch.value), launch.value
        unknown_store = _cli(deploy, "manual-sync", "--skus", "MH01", "--stores", "shopify-usa", "--wait")
        assert unknown_store.returncode == 2, unknown_store.stdout + unknown_store.stderr
        assert "stores: 'shopify-usa' not in" in unknown_store.stderr, unknown_store.stderr
        assert _run_count(deploy) == runs, "a refused launch created a run"
        # ... and a run that fails (a manual sync of a SKU the catalog lacks) reads as failed: exit 1.
        failing_run = pipeline.start_manual_sync({"ops": {"manual_sync_push": {"config": {
            "skus": ["NO-SUCH-SKU"], "platforms": ["shopify"]}}}})
        failing = _cli(deploy, "--json", "wait", failing_run, "--timeout", str(LIVENESS_S), timeout=LIVENESS_S + 60)
        assert failing.returncode == 1, failing.stdout + failing.stderr
        assert json.loads(failing.stdout.strip().splitlines()[-1])["state"] == "failed"
        # Run retries (on in this instance) leave it alone: it failed in its own step, and a retry
        # would fail the same way. The tag is the retry daemon's input; it is written just after
        # the failure, so it is waited for (bounded), not sampled.
        assert wait_until(lambda: _tags(deploy, failing_run).get("dagster/will_retry"), LIVENESS_S,
                          "the failed run's retry decision") == "false"


def test_owner_commands_against_the_webserver(tmp_path: Path) -> None:
    """push --max-products / --watch, manual-sync --force, rollback, import --watch and status RUN_ID
    of jobs made of ops, through the command line against real webserver and daemon processes."""
    with deployment(tmp_path, ROOT / "dagster.embedded.yaml") as deploy:
        first = _cli(deploy, "--json", "import", "--limit", "60", "--wait")
        assert first.returncode == 0, first.stderr
        pushed = _cli(deploy, "--json", "push", "shopify-us", "--wait")
        assert pushed.returncode == 0, pushed.stderr
        skus = _pushed_skus(deploy, "shopify-us", 2)

        # --force sends them although nothing changed; without it the same sync makes no write call.
        forced = _cli(deploy, "--json", "manual-sync", "--skus", skus[0], "--stores", "shopify-us", "--force", "--wait")
        assert forced.returncode == 0, forced.stderr + forced.stdout
        assert _write_calls(deploy, json.loads(forced.stdout.strip().splitlines()[-1])["run_id"]) > 0
        plain = _cli(deploy, "--json", "manual-sync", "--skus", skus[0], "--stores", "shopify-us", "--wait")
        assert plain.returncode == 0 and _write_calls(deploy, json.loads(plain.stdout.strip().splitlines()[-1])["run_id"]) == 0

        # The pilot: two products on a store not pushed yet, then that push rolled back.
        pilot = _cli(deploy, "--json", "push", "tiktok-us", "--max-products", "2", "--wait")
        assert pilot.returncode == 0, pilot.stderr + pilot.stdout
        piloted = json.loads(pilot.stdout.strip().splitlines()[-1])
        assert piloted["metrics"]["store_push/tiktok-us"]["created"] == 2
        assert _listed(deploy, "tiktok-us") == 2
        undo = _cli(deploy, "--json", "rollback", "tiktok-us", piloted["run_id"], "--wait")
        assert undo.returncode == 0, undo.stderr + undo.stdout
        assert json.loads(undo.stdout.strip().splitlines()[-1])["job"] == "rollback_push"
        assert _listed(deploy, "tiktok-us") == 0
        unknown = _cli(deploy, "rollback", "no-such-store", piloted["run_id"])
        assert unknown.returncode == 2 and "no store" in unknown.stderr
        # status RUN_ID of a job made of ops (here the rollback) shows its figures per store
        figures = _cli(deploy, "status", json.loads(undo.stdout.strip().splitlines()[-1])["run_id"])
        assert figures.returncode == 0 and "store_push/tiktok-us: restored=0, deleted=2, errors=0" in figures.stdout

        # --watch: a bar per store, then the summary table; the exit status of the worst store
        watched = _cli(deploy, "push", "all", "--watch")
        assert watched.returncode == 0, watched.stderr + watched.stdout
        assert "summary" in watched.stderr
        summary = watched.stderr.split("summary", 1)[1]
        for store in ("shopify-us", "shopify-eu", "shopee-sg", "tiktok-us"):
            row = next(line.split() for line in summary.splitlines() if line.split()[:1] == [store])
            assert row[1] == "completed", row
        imported = _cli(deploy, "import", "--limit", "5", "--watch")
        assert imported.returncode == 0 and "inserted" in imported.stderr, imported.stderr



def _query(deploy: Deployment, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(deploy.env["SYNC_DB_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def _write_calls(deploy: Deployment, run_id: str) -> int:
    """Shopify product writes of a run, from the sync log (one row per call)."""
    return int(_query(deploy, "SELECT count(*) FROM push_sync_log WHERE run_id = :r AND operation = 'productSet'",
                      r=run_id))


def _listed(deploy: Deployment, store: str) -> int:
    return int(_query(deploy, "SELECT count(*) FROM store_mappings WHERE store_key = :s AND status = 'listed' "
                              "AND external_id IS NOT NULL", s=store))


def _pushed_skus(deploy: Deployment, store: str, count: int) -> list[str]:
    engine = sa.create_engine(deploy.env["SYNC_DB_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT sku FROM store_mappings WHERE store_key = :s ORDER BY sku LIMIT :n"),
                                {"s": store, "n": count}).scalars().all()
    finally:
        engine.dispose()
    assert len(rows) == count
    return list(rows)


@pytest.fixture
def throwaway_postgres() -> Iterator[dict[str, Any]]:
    """Two fresh PostgreSQL databases: the Dagster instance's and the app DB."""
    names = {"instance": f"sp_dagster_{uuid.uuid4().hex[:8]}", "app": f"sp_app_{uuid.uuid4().hex[:8]}"}
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - unreachable server
        admin.dispose()
        _unavailable("PostgreSQL", exc)
    url = sa.make_url(POSTGRES_ADMIN_URL)
    try:
        yield {"url": url, "instance_db": names["instance"], "app_url": url.set(database=names["app"])}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_run_queue_on_the_production_instance_with_postgres_storage(
    tmp_path: Path, throwaway_postgres: dict[str, Any]
) -> None:
    url = throwaway_postgres["url"]
    env = {"DAGSTER_PG_HOST": url.host or "127.0.0.1", "DAGSTER_PG_PORT": str(url.port or 5432),
           "DAGSTER_PG_USER": url.username or "postgres", "DAGSTER_PG_PASSWORD": url.password or "",
           "DAGSTER_PG_DB": throwaway_postgres["instance_db"]}
    app_url = throwaway_postgres["app_url"].render_as_string(hide_password=False)
    with deployment(tmp_path, ROOT / "dagster.yaml", app_db_url=app_url, extra_env=env) as deploy:
        pipeline = RemotePipeline.connect("127.0.0.1", deploy.port, in_process=True)
        _imports_queue_one_at_a_time(pipeline)
        _store_pushes_queue_per_store(pipeline, deploy)
    # The runs were recorded in PostgreSQL, not in files under DAGSTER_HOME.
    engine = sa.create_engine(url.set(database=throwaway_postgres["instance_db"]))
    try:
        with engine.connect() as conn:
            jobs = conn.execute(sa.text("SELECT pipeline_name, status FROM runs")).all()
    finally:
        engine.dispose()
    assert sorted(j for j, _ in jobs).count("magento_import") == 2
    assert sorted(j for j, _ in jobs).count("store_sync") == 3
    assert {s for _, s in jobs} == {"SUCCESS"}
    assert not (tmp_path / "dagster_home" / "history").exists()


def test_a_killed_run_is_marked_failed_and_its_push_record_abandoned(tmp_path: Path) -> None:
    """SIGKILL the process of a push launched through the daemon while it is mid-push (its store
    calls held by the sandbox): the run turns failed, `sync-pipeline wait` says failed (exit 1),
    and the next push of the store marks the dead run's push record failed (abandoned)."""
    with deployment(tmp_path, ROOT / "dagster.embedded.yaml") as deploy:
        pipeline = RemotePipeline.connect("127.0.0.1", deploy.port, in_process=True)
        imported = pipeline.start_import(limit=20)
        assert pipeline.wait(imported, timeout=LIVENESS_S).state == "completed"
        hold = Hold(deploy, SHOPIFY_US)
        try:
            run_id = pipeline.start_push("shopify-us")
            wait_until(lambda: hold.waiting > 0, LIVENESS_S, "the push's first store call")
            holder = _lock_holder(deploy, "shopify-us")
            assert holder is not None and holder[0] == run_id
            os.kill(holder[1], signal.SIGKILL)
            waited = _cli(deploy, "wait", run_id, "--timeout", str(LIVENESS_S), timeout=LIVENESS_S + 60)
            assert waited.returncode == 1 and "failed" in waited.stdout, waited.stdout + waited.stderr
            assert pipeline.status(run_id).state == "failed"
        finally:
            hold.released.set()
        following = pipeline.start_push("shopify-us")
        assert pipeline.wait(following, timeout=LIVENESS_S).state == "completed"
        status, message = _push_run(deploy, run_id)
        assert status == "failed" and message is not None and message.startswith("abandoned:"), message


def _app_db(deploy: Deployment) -> sa.Engine:
    return sa.create_engine(deploy.env["SYNC_DB_URL"])


def _lock_holder(deploy: Deployment, store: str) -> tuple[str, int] | None:
    engine = _app_db(deploy)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT run_id, holder FROM push_store_locks WHERE store_key = :s"),
                               {"s": store}).first()
    finally:
        engine.dispose()
    if row is None or row.run_id is None:
        return None
    return str(row.run_id), int(str(row.holder).rpartition(":")[2])


def _push_run(deploy: Deployment, run_id: str) -> tuple[str, str | None]:
    engine = _app_db(deploy)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT status, error_message FROM push_runs WHERE run_id = :r AND kind = 'push'"),
                               {"r": run_id}).one()
    finally:
        engine.dispose()
    return str(row.status), row.error_message
