"""First loads through Shopify bulk mutations, against the sandbox over HTTP and a real app DB:
the happy path, failures per line, a push SIGKILLed mid-bulk and re-run, one bulk mutation at a time.

Bulk processing is stepped by the sandbox clock (its rate is in lines per second of sandbox time),
never by sleeping: a test that must catch a run mid-bulk sets a rate at which real time moves
nothing, and advances the clock by exactly the lines it wants done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml
from sqlalchemy import Engine

from sync_pipeline.push import ledger
from sync_pipeline.push.bulk import bulk_threshold
from sync_pipeline.push.engine import PushProgress
from sync_pipeline.push.tables import push_bulk_loads, push_dead_letters, push_sync_log
from sync_pipeline.stores import StoreConfig, StoresFile, load_stores
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import store_listing
from sync_pipeline_tests.push.test_push_resilience import (
    HOLD_LIMIT_S,
    ROOT,
    HeldWrites,
    assert_each_once,
    seed_store,
)
from sync_pipeline_tests.push.test_push_sandbox import MEDIA, db, push, sandbox_id, stores  # noqa: F401 - fixtures

SLOW = 0.001  # lines per second of sandbox time: real time alone moves a run by nothing a test can see
FAST = 1e6


def bulk_store(stores: StoresFile, tmp_path: Path, threshold: int = 5) -> StoreConfig:  # noqa: F811
    """shopify-us with bulk loads above ``threshold`` creates, polled often; also written to a
    stores file of its own (for a push in another process)."""
    path = Path(os.environ["SYNC_STORES_FILE"])
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in raw["stores"]:
        if entry["key"] == "shopify-us":
            entry["settings"].update(bulk_threshold=threshold, bulk_poll_seconds=0.02)
    bulk_file = tmp_path / "stores-bulk.yaml"
    bulk_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_stores(bulk_file).by_key("shopify-us")


def set_rate(sandbox_server: Any, store: StoreConfig, lines_per_second: float) -> None:
    platform, sid = sandbox_id(store)
    config = sandbox_server.sandbox.state.get_store(platform, sid)
    sandbox_server.sandbox.state.put_store(platform, sid, {**config, "bulk_lines_per_second": lines_per_second})


def operations(sandbox_server: Any, store: StoreConfig) -> list[dict[str, Any]]:
    platform, sid = sandbox_id(store)
    return list(sandbox_server.sandbox.emulator(platform).bulk.stats(sid))


def visible_on_storefront(sandbox_server: Any, store: StoreConfig) -> int:
    _, sid = sandbox_id(store)
    body = requests.get(f"{sandbox_server.url}/shopify/{sid}/products.json?limit=250", timeout=CALL_BOUND_S).json()
    return len(body["products"])


def test_threshold_setting_is_checked(stores: StoresFile, tmp_path: Path) -> None:  # noqa: F811
    store = stores.by_key("shopify-us")
    assert bulk_threshold(store) == 1000
    for bad in (-1, "many", 2.5, True):
        with pytest.raises(ValueError, match="bulk_threshold must be a whole number"):
            bulk_threshold(store.model_copy(update={"settings": {**store.settings, "bulk_threshold": bad}}))


def test_first_load_goes_in_bulk_and_a_rerun_changes_nothing(db: Engine, sandbox_server: Any,  # noqa: F811
                                                             stores: StoresFile, tmp_path: Path) -> None:  # noqa: F811
    store = bulk_store(stores, tmp_path)
    set_rate(sandbox_server, store, FAST)
    skus = seed_store(db, store, 12, "BLK")
    seen: list[PushProgress] = []
    report = push_with_progress(db, store, seen)
    assert (report.progress.created, report.progress.errors) == (12, 0), report.progress.first_errors
    ops = operations(sandbox_server, store)
    assert [o["status"] for o in ops] == ["COMPLETED", "COMPLETED"]  # productSet lines, then publish lines
    assert [o["objectCount"] for o in ops] == ["12", "12"]
    calls = sandbox_server.calls(*sandbox_id(store))["operations"]
    assert "productSet" not in calls and calls["bulkOperationRunMutation"] == 2  # no per-call creates
    assert any(p.bulk_total == 12 and p.bulk_done == 12 for p in seen)
    assert_each_once(db, sandbox_server, store, skus)
    assert visible_on_storefront(sandbox_server, store) == 12
    with db.connect() as conn:
        logged = conn.execute(sa.select(push_sync_log.c.sku).where(push_sync_log.c.run_id == report.run_id)
                              .where(push_sync_log.c.operation == "bulk:productSet")).scalars().all()
        assert sorted(logged) == sorted(skus)  # one sync-log row per line
        assert conn.execute(sa.select(push_bulk_loads.c.phase)).scalars().all() == ["done"]
    again = push(db, store)
    assert again.progress.unchanged == 12 and len(operations(sandbox_server, store)) == 2


def test_below_the_threshold_creates_go_one_call_each(db: Engine, sandbox_server: Any,  # noqa: F811
                                                      stores: StoresFile, tmp_path: Path) -> None:  # noqa: F811
    store = bulk_store(stores, tmp_path, threshold=12)
    skus = seed_store(db, store, 12, "ONE")
    assert push(db, store).progress.created == 12
    assert operations(sandbox_server, store) == []
    assert_each_once(db, sandbox_server, store, skus)


def test_failed_lines_become_dead_letters(db: Engine, sandbox_server: Any, stores: StoresFile,  # noqa: F811
                                          tmp_path: Path) -> None:
    store = bulk_store(stores, tmp_path)
    set_rate(sandbox_server, store, FAST)
    skus = seed_store(db, store, 10, "PRT")
    too_long = [store_listing(store, sku, MEDIA.url, title="T" * 300) for sku in skus[:2]]  # Shopify: max 255
    save_listings(db, too_long)
    report = push(db, store)
    assert (report.progress.created, report.progress.errors) == (8, 2)
    with db.connect() as conn:
        letters = {r.sku: r for r in conn.execute(sa.select(push_dead_letters)
                                                  .where(push_dead_letters.c.store_key == store.key))}
    assert sorted(letters) == skus[:2]
    assert letters[skus[0]].error_class == "INVALID_PRODUCT" and letters[skus[0]].platform_code == "INVALID_PRODUCT"
    assert "title" in letters[skus[0]].message
    mappings = ledger.load_mappings(db, store.key)
    assert {mappings[s].status for s in skus[:2]} == {"error"}
    assert {mappings[s].status for s in skus[2:]} == {"listed"}
    assert len(sandbox_server.docs(*sandbox_id(store), "product")) == 8


@pytest.mark.slow
def test_sigkill_mid_bulk_then_rerun_polls_the_same_operation(db: Engine, sandbox_server: Any,  # noqa: F811
                                                               stores: StoresFile, tmp_path: Path,  # noqa: F811
                                                               app_db_url: str) -> None:
    store = bulk_store(stores, tmp_path)
    set_rate(sandbox_server, store, SLOW)
    skus = seed_store(db, store, 20, "KBK")
    child = subprocess.Popen([sys.executable, "-m", "sync_pipeline_tests.push.push_child", app_db_url,
                              str(tmp_path / "stores-bulk.yaml"), store.key], cwd=ROOT, env=os.environ.copy(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    waiter = HeldWrites(lambda: False)
    try:
        waiter.wait_until(lambda: recorded_operation(db) is not None or child.poll() is not None,
                          "the bulk operation id recorded")
        assert child.poll() is None, child.communicate()[0]
        sandbox_server.advance_clock(7 / SLOW)  # seven lines' worth: the child's next poll runs them
        waiter.wait_until(lambda: operations(sandbox_server, store)[0]["objectCount"] == "7",
                          "the child polled seven lines done")
    finally:
        child.send_signal(signal.SIGKILL)
        output = child.communicate()[0]
    assert child.returncode == -signal.SIGKILL, output
    assert ledger.load_mappings(db, store.key)[skus[0]].status == "pending"  # killed before any result was read
    assert len(sandbox_server.docs(*sandbox_id(store), "product")) == 7

    set_rate(sandbox_server, store, FAST)
    report = push(db, store)
    assert report.progress.errors == 0, report.progress.first_errors
    assert report.progress.created == 20
    ops = operations(sandbox_server, store)
    assert len(ops) == 2 and ops[0]["id"] == recorded_operation(db)  # the same productSet run, then publish
    assert_each_once(db, sandbox_server, store, skus)
    assert visible_on_storefront(sandbox_server, store) == 20
    assert push(db, store).progress.unchanged == 20


def test_a_bulk_mutation_already_running_is_waited_for(db: Engine, sandbox_server: Any,  # noqa: F811
                                                       stores: StoresFile, tmp_path: Path) -> None:  # noqa: F811
    store = bulk_store(stores, tmp_path)
    set_rate(sandbox_server, store, SLOW)
    skus = seed_store(db, store, 8, "WAIT")
    other = foreign_bulk_run(sandbox_server, store)
    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(report=push(db, store)))
    thread.start()
    waiter = HeldWrites(lambda: False)
    waiter.wait_until(lambda: refused_runs(sandbox_server, store) >= 1 or not thread.is_alive(),
                      "the push was told another bulk mutation runs")
    assert thread.is_alive() and operations(sandbox_server, store)[0]["status"] in ("CREATED", "RUNNING")
    set_rate(sandbox_server, store, FAST)
    sandbox_server.advance_clock(1)  # the other run finishes; the push starts its own after it
    thread.join(HOLD_LIMIT_S)  # a bound against hanging; the outcome, not the time, is asserted
    assert not thread.is_alive(), f"the push did not end within {HOLD_LIMIT_S:g}s"
    report = outcome["report"]
    assert report.progress.created == 8, report.progress.first_errors
    ops = operations(sandbox_server, store)
    assert ops[0]["id"] == other and ops[0]["status"] == "COMPLETED"
    assert ops[0]["completedAt"] <= ops[1]["createdAt"]
    assert_each_once(db, sandbox_server, store, skus)


# -- helpers ------------------------------------------------------------------------------------------


def push_with_progress(db: Engine, store: StoreConfig, seen: list[PushProgress]) -> Any:  # noqa: F811
    from sync_pipeline.push.engine import PushOptions, push_store
    from sync_pipeline_tests.push.test_push_sandbox import factory

    return push_store(db, store, factory(db, store), PushOptions(),
                      on_progress=lambda p: seen.append(PushProgress(**{**p.as_dict(), "first_errors": []})))


def recorded_operation(db: Engine) -> str | None:  # noqa: F811
    with db.connect() as conn:
        return conn.execute(sa.select(push_bulk_loads.c.product_set_op)).scalar()


def foreign_bulk_run(sandbox_server: Any, store: StoreConfig) -> str:
    """A bulk mutation someone else started on the shop (an import app)."""
    from sync_pipeline_tests.sandbox.test_shopify_bulk import LINE_MUTATION, RUN, STAGE

    _, sid = sandbox_id(store)
    url = f"{store.endpoint}/admin/api/2026-07/graphql.json"
    headers = {"X-Shopify-Access-Token": os.environ["PUSH_T_SHOPIFY_US"]}
    staged = requests.post(url, json={"query": STAGE, "variables": {"input": [{
        "resource": "BULK_MUTATION_VARIABLES", "filename": "x.jsonl", "mimeType": "text/jsonl",
        "httpMethod": "PUT"}]}}, headers=headers, timeout=CALL_BOUND_S).json()["data"]["stagedUploadsCreate"]["stagedTargets"][0]
    key = next(p["value"] for p in staged["parameters"] if p["name"] == "key")
    # A line the shop refuses (title over 255): the run occupies the shop but leaves no product behind.
    line = json.dumps({"input": {"title": "x" * 300, "handle": "someone-elses-tee"}})
    assert requests.put(staged["url"], data=(line + "\n").encode(), timeout=CALL_BOUND_S).status_code == 201
    body = requests.post(url, json={"query": RUN, "variables": {"m": LINE_MUTATION, "p": key}}, headers=headers,
                         timeout=CALL_BOUND_S).json()
    return str(body["data"]["bulkOperationRunMutation"]["bulkOperation"]["id"])


def refused_runs(sandbox_server: Any, store: StoreConfig) -> int:
    """bulkOperationRunMutation calls the sandbox answered beyond the foreign run (i.e. refused ones)."""
    calls = sandbox_server.calls(*sandbox_id(store))["operations"].get("bulkOperationRunMutation", 0)
    return int(calls) - 1
