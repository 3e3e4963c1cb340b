"""The push's jobs and checks through Dagster (execute_in_process), with real resources, the app DB on
SQLite and the sandboxes as real HTTP servers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import (
    AssetCheckEvaluation,
    AssetSelection,
    Definitions,
    ExecuteInProcessResult,
    define_asset_job,
    materialize,
)

from sync_pipeline.db import utcnow
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.push import (
    manual_sync,
    push_dry_run,
    retry_dead_letters,
    rollback_push,
    store_push,
    store_push_error_share,
    store_push_has_external_ids,
    store_push_no_old_dead_letters,
    store_push_spot_check,
)
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.tables import push_dead_letters, push_runs, push_sync_log, store_mappings
from sync_pipeline.stores import StoresFile
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.builders import with_price
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import provision, store_listing
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

SKUS = ["JOB-A", "JOB-B", "JOB-C", "JOB-D", "JOB-E"]
TARGETS = {"shopify-us": ("shopify", "push-us"), "shopee-sg": ("shopee", "300001")}


class World:
    def __init__(self, sandbox: Any, images: Any, tmp_path: Path, stores: StoresFile, db_url: str) -> None:
        self.sandbox, self.images, self.stores = sandbox, images, stores
        self.app_db = AppDatabase(url=db_url)
        self.resources = {"app_db": self.app_db, "stores_config": StoresConfig(path=str(tmp_path / "stores.yaml"))}

    @property
    def engine(self) -> sa.Engine:
        return self.app_db.engine

    def listing(self, store_key: str, sku: str, **kwargs: Any) -> Any:
        return store_listing(self.stores.by_key(store_key), sku, self.images.url, **kwargs)

    def writes(self, store_key: str) -> int:
        return int(self.sandbox.calls(*TARGETS[store_key])["writes"])

    def total_calls(self) -> int:
        return sum(int(self.sandbox.calls(*ids)["total"]) for ids in TARGETS.values())

    def run_job(self, job: Any, op: str, config: dict[str, Any], ok: bool = True,
                instance: Any = None) -> ExecuteInProcessResult:
        result: ExecuteInProcessResult = job.execute_in_process(
            run_config={"ops": {op: {"config": config}}}, resources=self.resources, raise_on_error=False,
            instance=instance)
        assert result.success is ok, [str(e.event_specific_data) for e in result.all_events if e.is_failure]
        return result

    def push_all(self, store_key: str) -> None:
        result = materialize([store_push], partition_key=store_key, resources=self.resources)
        assert result.success

    def check(self, check: Any, store_key: str, config: dict[str, Any] | None = None) -> AssetCheckEvaluation:
        run_config = {"ops": {check.node_def.name: {"config": config}}} if config else None
        job = define_asset_job("check_only", selection=AssetSelection.checks(check), partitions_def=store_partitions)
        defs = Definitions(assets=[store_push], asset_checks=[check], jobs=[job], resources=self.resources)
        result = defs.resolve_job_def("check_only").execute_in_process(
            run_config=run_config, tags={"dagster/partition": store_key})  # checks alone: partition by tag
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 1
        return evaluations[0]

    def client(self, store_key: str) -> Any:
        return build_client(self.stores.by_key(store_key), DbTokenStore(self.engine))


@pytest.fixture
def world(sandbox_server: Any, image_host: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
          sqlite_app_db_url: str) -> World:
    stores = provision(sandbox_server, tmp_path, monkeypatch)
    w = World(sandbox_server, image_host, tmp_path, stores, sqlite_app_db_url)
    save_listings(w.engine, [w.listing(key, sku) for key in TARGETS for sku in SKUS])
    return w


@pytest.mark.slow
def test_manual_sync_touches_only_the_chosen_skus(world: World) -> None:
    for key in TARGETS:
        world.push_all(key)
    save_listings(world.engine, [with_price(world.listing(key, sku), "31.00") for key in TARGETS for sku in SKUS])
    before = {key: world.writes(key) for key in TARGETS}
    result = world.run_job(manual_sync, "manual_sync_push", {"skus": ["JOB-A", "JOB-C"], "stores": list(TARGETS)})
    # One price call per chosen SKU per store, nothing for the other three.
    assert {key: world.writes(key) - before[key] for key in TARGETS} == {"shopify-us": 2, "shopee-sg": 2}
    with world.engine.connect() as conn:
        logged = set(conn.execute(sa.select(push_sync_log.c.sku).where(push_sync_log.c.run_id == result.run_id))
                     .scalars())
    assert logged == {"JOB-A", "JOB-C"}
    for key in TARGETS:
        mappings = ledger.load_mappings(world.engine, key)
        pushed = {sku: Decimal(str(mappings[sku].last_payload["price"])) for sku in SKUS}  # type: ignore[index]
        assert pushed == {"JOB-A": Decimal("31.00"), "JOB-B": Decimal("10.00"), "JOB-C": Decimal("31.00"),
                          "JOB-D": Decimal("10.00"), "JOB-E": Decimal("10.00")}


def test_push_dry_run_calls_nothing(world: World) -> None:
    before = world.total_calls()
    result = world.run_job(push_dry_run, "push_dry_run_plan", {"stores": list(TARGETS)})
    assert world.total_calls() == before == 0
    assert ledger.load_mappings(world.engine, "shopify-us") == {}
    with world.engine.connect() as conn:
        kinds = conn.execute(sa.select(push_runs.c.kind, push_runs.c.counts).where(push_runs.c.run_id == result.run_id)
                             ).all()
    assert sorted(k for k, _ in kinds) == ["dry_run", "dry_run"]
    assert all(counts["plan"]["create"] == len(SKUS) for _, counts in kinds)


def test_retry_dead_letters_job_repushes_fixed_products(world: World) -> None:
    save_listings(world.engine, [world.listing("shopify-us", "JOB-A", title="Tee " * 70)])  # over the title limit
    failed = world.run_job(manual_sync, "manual_sync_push", {"skus": ["JOB-A", "JOB-B"], "stores": ["shopify-us"]},
                           ok=False)  # 1 of 2 failed: above the 5% threshold
    assert failed.run_id
    assert [d["sku"] for d in ledger.dead_letters(world.engine, "shopify-us")] == ["JOB-A"]
    save_listings(world.engine, [world.listing("shopify-us", "JOB-A")])  # fixed in the catalog
    world.run_job(retry_dead_letters, "retry_dead_letters_push", {"stores": ["shopify-us"]})
    assert ledger.dead_letters(world.engine, "shopify-us") == []
    assert ledger.load_mappings(world.engine, "shopify-us")["JOB-A"].status == "listed"
    assert world.client("shopify-us").find_by_sku("JOB-A") is not None


def test_rollback_job_restores_prices_and_removes_created_products(world: World) -> None:
    world.run_job(manual_sync, "manual_sync_push", {"skus": ["JOB-A"], "stores": ["shopify-us"]})
    save_listings(world.engine, [with_price(world.listing("shopify-us", "JOB-A"), "44.00")])
    change = world.run_job(manual_sync, "manual_sync_push", {"skus": ["JOB-A", "JOB-B"], "stores": ["shopify-us"]})
    client = world.client("shopify-us")
    assert client.find_by_sku("JOB-B") is not None
    world.run_job(rollback_push, "rollback_push_run", {"store": "shopify-us", "run_id": change.run_id})
    remote = client.find_by_sku("JOB-A")
    assert remote is not None and {v.price for v in remote.variants} == {Decimal("10.00")}
    assert client.find_by_sku("JOB-B") is None
    assert sorted(ledger.load_mappings(world.engine, "shopify-us")) == ["JOB-A"]


@pytest.mark.slow
def test_each_check_passes_on_good_data_and_fails_on_bad(world: World) -> None:
    key = "shopify-us"
    world.push_all(key)
    for check in (store_push_has_external_ids, store_push_spot_check, store_push_error_share,
                  store_push_no_old_dead_letters):
        assert world.check(check, key).passed, check.node_def.name

    with world.engine.begin() as conn:  # a confirmed mapping that lost its external id
        conn.execute(sa.update(store_mappings).where(store_mappings.c.store_key == key)
                     .where(store_mappings.c.sku == "JOB-B").values(external_id=None))
    bad = world.check(store_push_has_external_ids, key)
    assert not bad.passed and "JOB-B: no external id" in bad.metadata["failures"].value
    with world.engine.begin() as conn:
        conn.execute(sa.update(store_mappings).where(store_mappings.c.sku == "JOB-B")
                     .values(status="pending"))  # keeps the spot check on the other four

    ref = ledger.load_mappings(world.engine, key)["JOB-C"].ref
    assert ref is not None
    edited = with_price(world.listing(key, "JOB-C"), "1.00")
    world.client(key).update_prices(ref, edited)  # changed on the store behind the push's back
    bad = world.check(store_push_spot_check, key, {"sample": 5})
    assert not bad.passed and "JOB-C" in bad.metadata["failures"].value and "price" in bad.metadata["failures"].value

    with world.engine.begin() as conn:  # a dead letter failing for two days
        conn.execute(sa.insert(push_dead_letters).values(
            store_key=key, sku="JOB-D", run_id="old", action="update_price", payload={}, error_class="NETWORK_ERROR",
            message="timed out", attempts=3, first_failed_at=utcnow() - timedelta(days=2), last_failed_at=utcnow()))
    bad = world.check(store_push_no_old_dead_letters, key)
    assert not bad.passed and bad.severity.value == "WARN" and "JOB-D" in bad.metadata["failures"].value
    assert world.check(store_push_no_old_dead_letters, key, {"max_age_hours": 72}).passed

    with world.engine.begin() as conn:  # the latest push: 3 of 10 writes failed against a 5% threshold
        conn.execute(sa.insert(push_runs).values(
            run_id="later", store_key=key, kind="push", status="failed", options={"error_threshold": 0.05},
            counts={"writes_planned": 10, "errors": 3}, started_at=utcnow() + timedelta(seconds=5),
            finished_at=utcnow() + timedelta(seconds=6)))
    bad = world.check(store_push_error_share, key)
    assert not bad.passed and "3/10 writes failed" in bad.metadata["failures"].value


def _failure_text(result: ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)


def test_manual_sync_refuses_unknown_skus_before_any_call(world: World) -> None:
    result = world.run_job(manual_sync, "manual_sync_push",
                           {"skus": ["JOB-A", "NOPE-1", "JOB-Z"], "stores": list(TARGETS)}, ok=False)
    text = _failure_text(result)
    assert "SKU(s) not in the catalog, nothing was sent: JOB-Z, NOPE-1" in text
    assert world.total_calls() == 0
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(push_runs)).scalar_one() == 0


def _refused_at_launch(world: World, job: Any, op: str, config: dict[str, Any]) -> str:
    """The job refuses ``config`` while the run is set up: the message, with no run and no call."""
    from dagster import DagsterInvalidConfigError, instance_for_test

    before = world.total_calls()
    with instance_for_test() as instance:
        with pytest.raises(DagsterInvalidConfigError) as refused:
            job.execute_in_process(run_config={"ops": {op: {"config": config}}}, instance=instance,
                                   resources=world.resources)
        assert instance.get_runs() == []
    assert world.total_calls() == before
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(push_runs)).scalar_one() == 0
    message = str(refused.value)
    assert message.startswith(f"{job.name} refused before launch, nothing was started: ops.{op}.config: "), message
    return message


def _plain_job(op: Any) -> Any:
    """The op in a job without the launch check: what the step itself refuses."""
    from dagster import job

    @job(name=f"plain_{op.name}")
    def plain() -> None:
        op()
    return plain


def test_retry_dead_letters_refuses_an_unknown_error_class(world: World) -> None:
    from sync_pipeline.defs.push import retry_dead_letters_push

    config = {"stores": ["shopify-us"], "error_classes": ["NETWORK_EROR"]}
    message = _refused_at_launch(world, retry_dead_letters, "retry_dead_letters_push", config)
    assert "error_classes: unknown error class(es) NETWORK_EROR" in message
    result = world.run_job(_plain_job(retry_dead_letters_push), "retry_dead_letters_push", config, ok=False)
    assert "unknown error class(es) NETWORK_EROR" in _failure_text(result)
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(push_runs)).scalar_one() == 0


@pytest.mark.parametrize(("job_name", "config", "reason"), [
    ("manual_sync", {"skus": [], "stores": ["shopify-us"]}, "skus: name at least one SKU"),
    ("manual_sync", {"skus": ["JOB-A", " "], "stores": ["shopify-us"]}, "skus: entry 2 is blank"),
    ("manual_sync", {"skus": ["JOB-A"], "stores": ["shopify-uss"]}, "stores: 'shopify-uss' not in "),
    ("manual_sync", {"skus": ["JOB-A"], "platforms": ["shopfy"]}, "platforms: unknown platform(s) shopfy"),
    ("manual_sync", {"skus": ["JOB-A"]}, "stores / platforms: choose stores"),
    ("push_dry_run", {"max_products": 0}, "max_products: 0 is not a positive number"),
    ("rollback_push", {"store": "shopee", "run_id": "x"}, "store: 'shopee' is not in "),
    ("rollback_push", {"store": "shopee-sg", "run_id": " "}, "run_id: the push run to undo is blank"),
    ("adopt_store_listings", {"store": "nope"}, "store: 'nope' is not in "),
])
def test_config_a_step_would_refuse_is_refused_before_the_run_exists(
        world: World, job_name: str, config: dict[str, Any], reason: str) -> None:
    from sync_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    (op,) = job.graph.node_dict
    assert reason in _refused_at_launch(world, job, op, config)
    # The step applies the same rule when run without the launch check.
    plain = _plain_job(job.graph.node_named(op).definition)
    assert reason in _failure_text(world.run_job(plain, op, config, ok=False))


def test_rollback_refuses_a_run_that_pushed_nothing_to_the_store(world: World) -> None:
    pushed = world.run_job(manual_sync, "manual_sync_push", {"skus": ["JOB-A"], "stores": ["shopify-us"]})
    before = world.total_calls()
    other = world.run_job(rollback_push, "rollback_push_run", {"store": "shopee-sg", "run_id": pushed.run_id},
                          ok=False)
    text = _failure_text(other)
    assert f"run '{pushed.run_id}' changed nothing on store 'shopee-sg' (it pushed to: shopify-us)" in text
    missing = world.run_job(rollback_push, "rollback_push_run", {"store": "shopify-us", "run_id": "no-such-run"},
                            ok=False)
    assert "run 'no-such-run' changed nothing on store 'shopify-us' (no such push run)" in _failure_text(missing)
    assert world.total_calls() == before
    world.run_job(rollback_push, "rollback_push_run", {"store": "shopify-us", "run_id": pushed.run_id})
    again = world.run_job(rollback_push, "rollback_push_run", {"store": "shopify-us", "run_id": pushed.run_id},
                          ok=False)
    assert "was already rolled back" in _failure_text(again)


def _written(world: World) -> tuple[int, int, int]:
    """Calls sent to the sandboxes, push runs recorded, sync log lines written."""
    with world.engine.connect() as conn:
        return (world.total_calls(),
                conn.execute(sa.select(sa.func.count()).select_from(push_runs)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(push_sync_log)).scalar_one())


@pytest.mark.parametrize("instance_file", ["dagster.yaml", "dagster.embedded.yaml"])
def test_refusals_at_the_step_start_write_nothing_and_are_not_retried(world: World, instance_file: str) -> None:
    """What only the step can judge (the app DB's SKUs and runs) or what a partitioned job takes
    without a launch check fails in the step before any write, and the instance's run retries (the
    shipped file's own settings) mark the run as not to be retried: a retry would fail the same way."""
    import yaml
    from dagster import instance_for_test

    from sync_pipeline.defs.push import retry_dead_letters_push

    retries = yaml.safe_load((Path(__file__).parents[2] / instance_file).read_text())["run_retries"]
    assert retries["enabled"] and retries["max_retries"] > 0  # the retry policy is on: it must decline
    with instance_for_test(overrides={"run_retries": retries}) as instance:
        runs = [
            world.run_job(manual_sync, "manual_sync_push", {"skus": ["NOPE-1"], "stores": ["shopify-us"]},
                          ok=False, instance=instance),
            world.run_job(rollback_push, "rollback_push_run", {"store": "shopify-us", "run_id": "no-such-run"},
                          ok=False, instance=instance),
            world.run_job(_plain_job(retry_dead_letters_push), "retry_dead_letters_push",
                          {"error_classes": ["NETWORK_EROR"]}, ok=False, instance=instance),
            *[materialize([store_push], partition_key="shopify-us", resources=world.resources, instance=instance,
                          run_config={"ops": {"store_push": {"config": config}}}, raise_on_error=False)
              for config in ({"max_products": -1}, {"skus": ["JOB-A", "  "]})],
        ]
        reasons = [_failure_text(run) for run in runs]
        tags = [instance.get_run_by_id(run.run_id).tags for run in runs]
    for reason, expected in zip(reasons, ["SKU(s) not in the catalog, nothing was sent: NOPE-1",
                                          "run 'no-such-run' changed nothing on store 'shopify-us'",
                                          "unknown error class(es) NETWORK_EROR",
                                          "max_products: -1 is not 0 or more", "skus: entry 2 is blank"], strict=True):
        assert expected in reason, reason
    assert [(t.get("dagster/failure_reason"), t.get("dagster/will_retry")) for t in tags] == \
        [("STEP_FAILURE", "false")] * len(runs)
    assert _written(world) == (0, 0, 0)


def test_no_credential_value_reaches_dagster_storage_the_app_db_or_the_output(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """Two failing runs: a token pasted into the stores file, and a token the store rejects. Then
    every file of DAGSTER_HOME, the app DB file and everything printed: no trace of either."""
    import yaml
    from dagster import instance_for_test

    pasted = "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"
    rejected = "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"
    original = Path(world.resources["stores_config"].path)
    entries = yaml.safe_load(original.read_text())
    for entry in entries["stores"]:
        if entry["key"] == "shopify-us":
            entry["credentials"] = {"access_token": pasted}
    pasted_file = tmp_path / "stores-with-a-pasted-token.yaml"
    pasted_file.write_text(yaml.safe_dump(entries))
    monkeypatch.setenv("PUSH_T_SHOPIFY_US", rejected)
    home = tmp_path / "dagster_home"
    home.mkdir()
    run_config = {"ops": {"manual_sync_push": {"config": {"skus": ["JOB-A"], "stores": ["shopify-us"]}}}}
    with instance_for_test(temp_dir=str(home)) as instance:
        for stores_path in (pasted_file, original):
            result = manual_sync.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False,
                resources={**world.resources, "stores_config": StoresConfig(path=str(stores_path))})
            assert not result.success
            assert "credential" in _failure_text(result)  # each failed for its credential
    database = Path(str(world.engine.url.database))
    assert database.is_file()
    printed = capfd.readouterr()
    places = {str(p): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    places[str(database)] = database.read_bytes()
    places["output"] = (printed.out + printed.err).encode()
    for secret in (pasted, rejected):
        hits = [where for where, content in places.items() if secret.encode() in content]
        assert hits == [], f"{secret[:8]}... found in {hits}"


def test_one_warning_per_run_when_refreshed_tokens_would_be_stored_in_clear(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from cryptography.fernet import Fernet
    from dagster import instance_for_test

    run_config = {"ops": {"manual_sync_push": {"config": {"skus": ["JOB-A"], "stores": list(TARGETS)}}}}

    def warnings_of_one_run() -> int:
        with instance_for_test() as instance:
            result = manual_sync.execute_in_process(run_config=run_config, instance=instance,
                                                    resources=world.resources)
            assert result.success
            return sum(1 for entry in instance.all_logs(result.run_id)
                       if entry.level == logging.WARNING and "SYNC_SECRET_KEY" in entry.user_message)

    monkeypatch.delenv("SYNC_SECRET_KEY", raising=False)
    assert warnings_of_one_run() == 1  # two stores, one run: one warning
    monkeypatch.setenv("SYNC_SECRET_KEY", Fernet.generate_key().decode())
    assert warnings_of_one_run() == 0
