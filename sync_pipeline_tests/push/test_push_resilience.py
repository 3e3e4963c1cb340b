"""The push under the worst a run meets: killed with SIGKILL mid-push, raced by a second push of the
same store, and a sustained throttling storm. Sandboxes are real HTTP servers; the killed push runs
in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.guard import StorePushLocked
from sync_pipeline.push.tables import push_runs, push_sync_log, store_mappings
from sync_pipeline.push.verify import spot_check
from sync_pipeline.stores import StoreConfig, StoresFile
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import store_listing
from sync_pipeline_tests.push.test_push_sandbox import MEDIA, db, push, sandbox_id, stores  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
HOLD_LIMIT_S = 600.0  # a held write is let go after this, so a broken test cannot hang for ever


class HeldWrites:
    """Writes to one sandbox store wait (while ``hold_when()`` says so) until released.

    A push is then caught mid-push for certain, where sandbox latency only made it likely: on a loaded
    machine a slow test thread could miss the whole push.
    """

    def __init__(self, hold_when: Callable[[], bool]) -> None:
        self.hold_when = hold_when
        self.released = threading.Event()
        self.waiting = 0  # writes held right now
        self.busy = 0  # held writes not yet answered (they still commit after release)
        self._lock = threading.Lock()

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + HOLD_LIMIT_S  # an upper bound against hanging, never a timing assert
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {HOLD_LIMIT_S:g}s"
            time.sleep(0.05)

    def gate(self, handle: Callable[[Any, Any], Any], sid: str) -> Callable[[Any, Any], Any]:
        def held(req: Any, routed: Any) -> Any:
            if routed.store != sid or not routed.is_write or self.released.is_set() or not self.hold_when():
                return handle(req, routed)
            with self._lock:
                self.waiting += 1
                self.busy += 1
            try:
                self.released.wait(HOLD_LIMIT_S)
                with self._lock:
                    self.waiting -= 1
                return handle(req, routed)
            finally:
                with self._lock:
                    self.busy -= 1
        return held


@contextmanager
def held_writes(sandbox_server: Any, store: StoreConfig, hold_when: Callable[[], bool] = lambda: True,
                ) -> Iterator[HeldWrites]:
    """Hold the store's writes for the block; on leaving, release them and wait until they are answered."""
    platform, sid = sandbox_id(store)
    emulator = sandbox_server.sandbox.emulator(platform)
    holder = HeldWrites(hold_when)
    emulator.handle = holder.gate(emulator.handle, sid)
    try:
        yield holder
    finally:
        holder.released.set()
        del emulator.handle  # the class's own handler again (the sandbox is shared by the session)
        holder.wait_until(lambda: holder.busy == 0, "held writes answered")


def parents_on_store(sandbox_server: Any, store: StoreConfig) -> Counter[str]:
    """How many live products the store holds per parent SKU, read from the sandbox's own documents."""
    platform, sid = sandbox_id(store)
    counted: Counter[str] = Counter()
    if platform == "shopify":
        for doc in sandbox_server.docs(platform, sid, "product"):
            counted[str(doc["handle"]).upper()] += 1
    elif platform == "shopee":
        for doc in sandbox_server.docs(platform, sid, "item"):
            if doc.get("item_status") != "DELETED":
                counted[str(doc["item_sku"])] += 1
    else:
        for doc in sandbox_server.docs(platform, sid, "products"):
            if doc.get("status") != "DELETED":
                counted[str(doc["skus"][0]["seller_sku"]).rsplit("-", 1)[0]] += 1
    return counted


def assert_each_once(db: Engine, sandbox_server: Any, store: StoreConfig, skus: list[str]) -> None:  # noqa: F811
    counted = parents_on_store(sandbox_server, store)
    assert sorted(counted) == sorted(skus), set(counted) ^ set(skus)
    assert set(counted.values()) == {1}, {k: v for k, v in counted.items() if v != 1}
    mappings = ledger.load_mappings(db, store.key)
    assert {m.status for m in mappings.values()} == {"listed"}
    assert len({m.external_id for m in mappings.values()}) == len(skus)
    check = spot_check(db, store.key, build_client(store, DbTokenStore(db)), 10, seed=1)
    assert check.passed, check.failures


def seed_store(db: Engine, store: StoreConfig, count: int, prefix: str = "KIL") -> list[str]:  # noqa: F811
    skus = [f"{prefix}-{i:03d}" for i in range(count)]
    save_listings(db, [store_listing(store, sku, MEDIA.url) for sku in skus])
    return skus


def confirmed(db: Engine, store_key: str) -> int:  # noqa: F811
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(store_mappings)
                                .where(store_mappings.c.store_key == store_key)
                                .where(store_mappings.c.status == "listed")).scalar_one())


@pytest.mark.slow
@pytest.mark.parametrize("store_key", ["shopify-us", "tiktok-us", "shopee-sg"])
def test_sigkill_mid_push_then_rerun_leaves_each_product_once(db: Engine, sandbox_server: Any,  # noqa: F811
                                                              stores: StoresFile, store_key: str,  # noqa: F811
                                                              app_db_url: str, tmp_path: Path) -> None:
    store = stores.by_key(store_key)
    skus = seed_store(db, store, 60)
    platform, sid = sandbox_id(store)
    # Once 8 products are confirmed every further write is held: the child is killed mid-push for
    # certain, with writes in flight (they commit after the kill, unanswered, as on a real store).
    with held_writes(sandbox_server, store, lambda: confirmed(db, store.key) >= 8) as hold:
        child = subprocess.Popen([sys.executable, "-m", "sync_pipeline_tests.push.push_child", app_db_url,
                                  os.environ["SYNC_STORES_FILE"], store.key], cwd=ROOT, env=os.environ.copy(),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        hold.wait_until(lambda: hold.waiting > 0 or child.poll() is not None, "the push reached a held write")
        child.send_signal(signal.SIGKILL)
        output = child.communicate()[0]
    assert child.returncode == -signal.SIGKILL, output
    done_before = confirmed(db, store.key)
    assert 8 <= done_before < len(skus), done_before  # really killed mid-push

    report = push(db, store)  # takes over the dead process's guard at once
    assert report.progress.errors == 0, report.progress.first_errors
    assert report.progress.created == len(skus) - done_before
    assert_each_once(db, sandbox_server, store, skus)
    assert push(db, store).progress.unchanged == len(skus)


def test_two_pushes_of_one_store_started_together(db: Engine, sandbox_server: Any,  # noqa: F811
                                                  stores: StoresFile) -> None:  # noqa: F811
    store = stores.by_key("shopify-us")
    skus = seed_store(db, store, 12, "RACE")
    start = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def run(name: str) -> None:
        start.wait()
        try:
            outcomes[name] = push(db, store, run_id=f"race-{name}")
        except StorePushLocked as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    # The winner's writes wait until the loser has been refused: however the threads are scheduled,
    # the second push comes while the first holds the store.
    with held_writes(sandbox_server, store) as hold:
        for thread in threads:
            thread.start()
        hold.wait_until(lambda: any(isinstance(v, StorePushLocked) for v in outcomes.values())
                        or len(outcomes) == 2, "one push refused")
    for thread in threads:
        thread.join(HOLD_LIMIT_S)
    refused = [v for v in outcomes.values() if isinstance(v, StorePushLocked)]
    pushed = [v for v in outcomes.values() if not isinstance(v, StorePushLocked)]
    assert len(refused) == 1 and len(pushed) == 1, outcomes
    message = str(refused[0])
    assert f"store '{store.key}' is already being pushed by run race-" in message and "refuses" in message
    assert pushed[0].progress.created == len(skus)
    with db.connect() as conn:  # the refused run never started: one run row, by the winner
        runs = conn.execute(sa.select(push_runs.c.run_id).where(push_runs.c.store_key == store.key)).scalars().all()
    assert runs == [pushed[0].run_id]
    assert_each_once(db, sandbox_server, store, skus)


@pytest.mark.slow
@pytest.mark.parametrize("store_key", ["shopify-us", "shopee-sg", "tiktok-us"])
def test_throttling_storm_completes_without_errors(db: Engine, sandbox_server: Any, stores: StoresFile,  # noqa: F811
                                                   store_key: str) -> None:
    store = stores.by_key(store_key)
    skus = seed_store(db, store, 30, "STORM")
    platform, sid = sandbox_id(store)
    sandbox_server.faults(platform, sid, throttle_rate=0.3, seed=7)  # every call, the whole run
    report = push(db, store)
    assert (report.progress.created, report.progress.errors) == (len(skus), 0), report.progress.first_errors
    with db.connect() as conn:  # the storm was met: throttled answers are in the sync log
        throttled = conn.execute(sa.select(sa.func.count()).select_from(push_sync_log)
                                 .where(push_sync_log.c.store_key == store.key)
                                 .where(sa.or_(push_sync_log.c.error_class == "RATE_LIMITED",
                                               push_sync_log.c.http_status == 429,
                                               # Shopify answers a throttle with HTTP 200 and a THROTTLED error
                                               push_sync_log.c.response_body.like("%THROTTLED%")))).scalar_one()
    assert throttled >= 5, throttled
    sandbox_server.faults(platform, sid)
    assert_each_once(db, sandbox_server, store, skus)
