"""Schedules and sensors, evaluated with Dagster's build_*_context helpers on real databases."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from dagster import (
    AssetMaterialization,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    MaterializeResult,
    asset,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    define_asset_job,
    job,
    op,
)
from dagster._core.test_utils import create_run_for_test

from sync_pipeline.db import make_engine
from sync_pipeline.defs import automation
from sync_pipeline.defs.partitions import store_partitions
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase, default_resources
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.watermark import SourceWatermark, read_watermark


@pytest.fixture
def magento(magento_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(magento_db_url)
    generate_catalog(engine, products=30, seed=5, today=date(2025, 1, 15))
    yield engine
    engine.dispose()


def _evaluate(engine: sa.Engine, cursor: str | None, instance: DagsterInstance | None = None) -> Any:
    resources = {"magento_db": MagentoDatabase(url=engine.url.render_as_string(hide_password=False))}
    with build_sensor_context(cursor=cursor, instance=instance, resources=resources) as context:
        return automation.magento_change_sensor.evaluate_tick(context)


def _stock_rows(engine: sa.Engine) -> list[Any]:
    stock = m.cataloginventory_stock_item
    with engine.connect() as conn:
        return list(conn.execute(sa.select(stock.c.product_id, stock.c.qty).where(stock.c.qty > 1)
                                 .order_by(stock.c.product_id).limit(2)))


# --- schedule ------------------------------------------------------------------------------------


def test_catalog_schedule_runs_catalog_sync_every_15_minutes_by_default() -> None:
    schedule = automation.catalog_sync_schedule
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.job_name == "catalog_sync"
    data = schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=datetime(2025, 1, 1, 12, 15)))
    assert len(data.run_requests or []) == 1


def test_catalog_schedule_cron_and_default_status_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_CATALOG_CRON", "*/5 6-22 * * *")
    monkeypatch.setenv("SYNC_AUTOMATION", "on")
    try:
        reloaded = importlib.reload(automation)
        assert reloaded.catalog_sync_schedule.cron_schedule == "*/5 6-22 * * *"
        assert reloaded.catalog_sync_schedule.default_status.value == "RUNNING"
        assert reloaded.magento_change_sensor.default_status.value == "RUNNING"
    finally:
        monkeypatch.delenv("SYNC_CATALOG_CRON")
        monkeypatch.delenv("SYNC_AUTOMATION")
        reloaded = importlib.reload(automation)
    assert reloaded.catalog_sync_schedule.default_status.value == "STOPPED"


# --- Magento change sensor -----------------------------------------------------------------------


def test_first_look_requests_an_import_and_stores_the_watermark_as_cursor(magento: sa.Engine) -> None:
    data = _evaluate(magento, cursor=None)
    (request,) = data.run_requests
    watermark = read_watermark(magento)
    assert request.run_key == f"magento-{watermark.digest}"
    assert SourceWatermark.from_cursor(data.cursor) == watermark
    assert watermark.products >= 30 and watermark.stock_rows > 0 and watermark.max_updated_at


def test_unchanged_catalog_requests_nothing_and_keeps_the_cursor(magento: sa.Engine) -> None:
    cursor = read_watermark(magento).to_cursor()
    data = _evaluate(magento, cursor=cursor)
    assert not data.run_requests
    assert data.skip_message and "unchanged" in data.skip_message
    assert data.cursor in (None, cursor)


def _bump_updated_at(engine: sa.Engine) -> None:
    product = m.catalog_product_entity
    with engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.min(product.c.entity_id))).scalar_one()
        conn.execute(sa.update(product).where(product.c.entity_id == first)
                     .values(updated_at=datetime(2030, 1, 1, 8, 0, 0)))


def _change_one_stock(engine: sa.Engine) -> None:
    stock = m.cataloginventory_stock_item
    (row, _) = _stock_rows(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(stock).where(stock.c.product_id == row.product_id).values(qty=row.qty - 1))


def _move_stock_between_products(engine: sa.Engine) -> None:
    """One unit sold here, one received there: the total stays the same."""
    stock = m.cataloginventory_stock_item
    a, b = _stock_rows(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(stock).where(stock.c.product_id == a.product_id).values(qty=a.qty - 1))
        conn.execute(sa.update(stock).where(stock.c.product_id == b.product_id).values(qty=b.qty + 1))


def _add_product(engine: sa.Engine) -> None:
    product = m.catalog_product_entity
    with engine.begin() as conn:
        template = conn.execute(sa.select(product).order_by(product.c.entity_id.desc()).limit(1)).mappings().one()
        values = {k: v for k, v in template.items() if k != "entity_id"} | {"sku": "NEW-SKU-1"}
        conn.execute(sa.insert(product).values(**values))


@pytest.mark.parametrize("change, words", [
    (_bump_updated_at, "products updated"),
    (_change_one_stock, "stock changed"),
    (_move_stock_between_products, "stock changed"),
    (_add_product, "products added"),
])
def test_each_kind_of_change_requests_one_import_with_a_new_cursor(magento: sa.Engine, change: Any, words: str) -> None:
    before = read_watermark(magento)
    change(magento)
    after = read_watermark(magento)
    assert any(words in c for c in after.changes_since(before))
    data = _evaluate(magento, cursor=before.to_cursor())
    (request,) = data.run_requests
    assert request.run_key == f"magento-{after.digest}" != f"magento-{before.digest}"
    assert data.cursor == after.to_cursor()
    again = _evaluate(magento, cursor=data.cursor)
    assert not again.run_requests


def test_a_queued_import_absorbs_the_change_without_a_second_request(magento: sa.Engine) -> None:
    before = read_watermark(magento)
    _change_one_stock(magento)
    with DagsterInstance.ephemeral() as instance:
        # NOT_STARTED: created but not yet launched, as a queued run is (QUEUED needs a remote origin).
        create_run_for_test(instance, job_name="catalog_sync", status=DagsterRunStatus.NOT_STARTED)
        data = _evaluate(magento, cursor=before.to_cursor(), instance=instance)
    assert not data.run_requests
    assert "already queued" in (data.skip_message or "")
    assert data.cursor == read_watermark(magento).to_cursor()


def test_a_cursor_from_another_layout_counts_as_no_cursor(magento: sa.Engine) -> None:
    assert SourceWatermark.from_cursor('{"max_entity_id": 3}') is None
    assert SourceWatermark.from_cursor("not json") is None
    data = _evaluate(magento, cursor='{"old": 1}')
    assert len(data.run_requests) == 1


# --- push after catalog change -------------------------------------------------------------------


def _catalog_materialized(instance: DagsterInstance, inserted: int, updated: int) -> None:
    instance.report_runless_asset_event(
        AssetMaterialization("catalog_products", metadata={"inserted": inserted, "updated": updated})
    )


def _repository() -> Any:
    """The real code location (its store_sync job is what the sensor's partitioned requests target)."""
    from sync_pipeline.definitions import defs

    return defs.get_repository_def()


def _push_tick(instance: DagsterInstance, cursor: str | None) -> Any:
    return automation.push_stores_after_catalog_change.evaluate_tick(
        build_sensor_context(instance=instance, cursor=cursor, repository_def=_repository())
    )


def test_a_changed_catalog_requests_one_store_sync_run_per_store() -> None:
    with DagsterInstance.ephemeral() as instance:
        _catalog_materialized(instance, inserted=3, updated=2)
        data = _push_tick(instance, cursor=None)
        stores = store_partitions.get_partition_keys()
        assert sorted(r.partition_key for r in data.run_requests) == sorted(stores) and len(stores) >= 2
        assert len({r.run_key for r in data.run_requests}) == len(stores)
        assert data.cursor
        # Seen already: the next tick asks for nothing.
        assert not _push_tick(instance, cursor=data.cursor).run_requests
        _catalog_materialized(instance, inserted=0, updated=1)
        later = _push_tick(instance, cursor=data.cursor)
        assert len(later.run_requests) == len(stores)
        assert not {r.run_key for r in later.run_requests} & {r.run_key for r in data.run_requests}


def test_a_catalog_import_that_wrote_nothing_pushes_nothing() -> None:
    with DagsterInstance.ephemeral() as instance:
        _catalog_materialized(instance, inserted=0, updated=0)
        data = _push_tick(instance, cursor=None)
        assert not data.run_requests
        assert "without a product" in (data.skip_message or "")


# --- run failure notification --------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "json": json.loads(body),
                                    "content_type": self.headers["Content-Type"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token-in-path", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@op
def push_to_store() -> None:
    raise RuntimeError("store refused: password=hunter2 via postgresql://sync:s3cret@db.internal/app")


@job(tags={"dagster/partition": "shopify-us"})
def failing_push() -> None:
    push_to_store()


def _failure_context(instance: DagsterInstance) -> Any:
    result = failing_push.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE]
    return build_run_status_sensor_context(
        sensor_name="notify_run_failure", dagster_event=failure, dagster_instance=instance, dagster_run=run,
    ).for_run_failure(), result.run_id


def test_a_failed_run_is_posted_to_the_webhook_without_secrets(
    webhook: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = webhook
    monkeypatch.setenv("SYNC_FAILURE_WEBHOOK_URL", url)
    with DagsterInstance.ephemeral() as instance:
        context, run_id = _failure_context(instance)
        automation.notify_run_failure(context)
    (post,) = received
    assert post["path"] == "/hooks/secret-token-in-path" and post["content_type"] == "application/json"
    body = post["json"]
    assert body["event"] == "run_failed" and body["job"] == "failing_push" and body["run_id"] == run_id
    assert body["partition"] == "shopify-us"
    (step,) = body["failed_steps"]
    assert step["step"] == "push_to_store" and "store refused" in step["error"]
    text = json.dumps(body)
    assert "hunter2" not in text and "s3cret" not in text and "secret-token-in-path" not in text
    assert "password=***" in text and "postgresql://***@db.internal" in text


def test_without_a_webhook_the_failure_is_only_logged(webhook: tuple[str, list[dict[str, Any]]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, received = webhook
    monkeypatch.delenv("SYNC_FAILURE_WEBHOOK_URL", raising=False)
    with DagsterInstance.ephemeral() as instance:
        context, _ = _failure_context(instance)
        automation.notify_run_failure(context)
    assert received == []


def test_an_unreachable_webhook_does_not_fail_the_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SYNC_FAILURE_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    # What the real post ran into is recorded rather than timed: a time bound races a loaded machine.
    refused: list[str] = []
    real_post = automation.post_webhook

    def recording_post(url: str, payload: dict[str, Any]) -> None:
        try:
            real_post(url, payload)
        except requests.RequestException as exc:
            refused.append(type(exc).__name__)
            raise

    monkeypatch.setattr(automation, "post_webhook", recording_post)
    with DagsterInstance.ephemeral() as instance:
        context, _ = _failure_context(instance)
        automation.notify_run_failure(context)  # must not raise
    assert refused == ["ConnectionError"]


@pytest.mark.parametrize("text, hidden", [
    ("mysql+pymysql://magento:Pa55@10.0.0.5/shop", "Pa55"),
    ('{"access_token": "shpat_abc123"}', "shpat_abc123"),
    ("partner_key=deadbeef&sign=f00", "deadbeef"),
    ("X-Shopify-Access-Token: shpat_zzz", "shpat_zzz"),
])
def test_redact_hides_credentials(text: str, hidden: str) -> None:
    assert hidden not in automation.redact(text)


# --- dead letters --------------------------------------------------------------------------------


def _dead_letter(engine: sa.Engine, store: str, sku: str, error_class: str, minutes_ago: int, attempts: int = 1) -> None:
    from sync_pipeline.db import create_all
    from sync_pipeline.push.tables import push_dead_letters

    create_all(engine)
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=minutes_ago)
    with engine.begin() as conn:
        conn.execute(sa.insert(push_dead_letters).values(
            store_key=store, sku=sku, run_id="r", action="create", error_class=error_class, message="m",
            attempts=attempts, first_failed_at=at, last_failed_at=at))


def _retry_tick(app_db_url: str, cursor: str | None) -> Any:
    with build_sensor_context(cursor=cursor, resources={"app_db": AppDatabase(url=app_db_url)}) as context:
        return automation.retry_dead_letters_sensor.evaluate_tick(context)


def test_retryable_dead_letters_that_rested_request_one_retry_run(app_db_url: str) -> None:
    engine = make_engine(app_db_url)
    try:
        assert _retry_tick(app_db_url, None).skip_message == "no retryable dead letter is due"
        _dead_letter(engine, "shopify-us", "A", "RATE_LIMITED", minutes_ago=30)
        _dead_letter(engine, "shopee-sg", "B", "NETWORK_ERROR", minutes_ago=60)
        _dead_letter(engine, "tiktok-us", "C", "VALIDATION", minutes_ago=60)  # not retryable
        _dead_letter(engine, "shopify-eu", "D", "RATE_LIMITED", minutes_ago=2)  # too fresh
        _dead_letter(engine, "shopify-eu", "E", "NETWORK_ERROR", minutes_ago=90, attempts=10)  # given up
        data = _retry_tick(app_db_url, None)
        (request,) = data.run_requests
        config = request.run_config["ops"]["retry_dead_letters_push"]["config"]
        assert config["stores"] == ["shopee-sg", "shopify-us"]
        assert set(config["error_classes"]) == {"RATE_LIMITED", "NETWORK_ERROR"}
        assert request.run_key == f"dead-letters-{data.cursor}"
        again = _retry_tick(app_db_url, data.cursor)
        assert not again.run_requests and "already requested" in (again.skip_message or "")
        # The retry failed once more: a new attempt is a new set, asked for again.
        _dead_letter(engine, "shopify-us", "F", "RATE_LIMITED", minutes_ago=20)
        later = _retry_tick(app_db_url, data.cursor)
        assert len(later.run_requests) == 1 and later.cursor != data.cursor
    finally:
        engine.dispose()


def test_nightly_reconciliation_reads_every_store_back_once_a_night() -> None:
    from sync_pipeline.defs.status import reconcile_stores, store_drift

    assert automation.nightly_reconciliation.cron_schedule == "30 2 * * *"
    repository = Definitions(assets=[store_drift], jobs=[reconcile_stores],
                             resources=default_resources()).get_repository_def()
    context = build_schedule_context(scheduled_execution_time=datetime(2025, 3, 4, 2, 30), repository_def=repository)
    data = automation.nightly_reconciliation.evaluate_tick(context)
    stores = store_partitions.get_partition_keys()
    assert sorted(r.partition_key for r in data.run_requests) == sorted(stores)
    assert {r.run_key for r in data.run_requests} == {f"reconcile-2025-03-04-{key}" for key in stores}


# --- polling intervals ---------------------------------------------------------------------------


def test_sensor_intervals_default_to_seconds_and_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert automation.magento_change_sensor.minimum_interval_seconds == 5
    assert automation.push_stores_after_catalog_change.minimum_interval_seconds == 5
    monkeypatch.setenv("SYNC_CHANGE_POLL_SECONDS", "2")
    monkeypatch.setenv("SYNC_PUSH_SENSOR_SECONDS", "3")
    try:
        reloaded = importlib.reload(automation)
        assert reloaded.magento_change_sensor.minimum_interval_seconds == 2
        assert reloaded.push_stores_after_catalog_change.minimum_interval_seconds == 3
    finally:
        monkeypatch.delenv("SYNC_CHANGE_POLL_SECONDS")
        monkeypatch.delenv("SYNC_PUSH_SENSOR_SECONDS")
        importlib.reload(automation)


@pytest.mark.parametrize("raw", ["0", "five", "-3"])
def test_a_bad_interval_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SYNC_CHANGE_POLL_SECONDS", raw)
    with pytest.raises(ValueError, match="SYNC_CHANGE_POLL_SECONDS"):
        automation.interval_seconds("SYNC_CHANGE_POLL_SECONDS", 5)


def _import_run(instance: DagsterInstance, job_name: str) -> None:
    """A run named like the pipeline's import jobs whose step materializes catalog_products."""
    @asset(name="catalog_products")
    def stand_in() -> MaterializeResult:  # type: ignore[type-arg]
        return MaterializeResult(metadata={"inserted": 0, "updated": 2})

    job_def = Definitions(assets=[stand_in], jobs=[define_asset_job(job_name)]).resolve_job_def(job_name)
    assert job_def.execute_in_process(instance=instance).success


def test_an_import_by_catalog_sync_is_not_pushed_again_by_the_sensor() -> None:
    """catalog_sync pushes its own changes (catalog_changes_pushed); a store_sync per store after
    it would rebuild every listing for nothing. Other imports (magento_import) still fan out."""
    with DagsterInstance.ephemeral() as instance:
        _import_run(instance, "catalog_sync")
        data = _push_tick(instance, cursor=None)
        assert not data.run_requests and "catalog_changes_pushed" in (data.skip_message or "")
        _import_run(instance, "magento_import")
        later = _push_tick(instance, cursor=data.cursor)
        assert sorted(r.partition_key for r in later.run_requests) == sorted(store_partitions.get_partition_keys())
