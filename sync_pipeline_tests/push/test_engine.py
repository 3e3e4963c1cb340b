"""The engine's bookkeeping with the in-memory test double (store calls are tested on the sandbox)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.platforms.base import CallObserver, ErrorClass, PlatformError, StoreClient
from sync_pipeline.push import ledger
from sync_pipeline.push.engine import PushOptions, PushProgress, push_store, repush_dead_letters
from sync_pipeline.push.guard import StorePushGuard, StorePushLocked
from sync_pipeline.push.rollback import rollback_push
from sync_pipeline.push.tables import (
    push_dead_letters,
    push_rollback_snapshots,
    push_runs,
    push_sync_log,
    store_mappings,
)
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.push.builders import make_listing, with_price, with_stock
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.memory_store import InMemoryStoreClient

STORE = StoreConfig(key="store-a", platform="shopify", name="A", endpoint="http://127.0.0.1:1/x",  # type: ignore[arg-type]
                    credentials={"access_token": "UNUSED_TOKEN_VAR"})


@pytest.fixture
def db(app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


def factory(client: InMemoryStoreClient):  # type: ignore[no-untyped-def]
    def build(observer: CallObserver) -> StoreClient:
        client.observer = observer
        return client
    return build


def push(db: Engine, client: InMemoryStoreClient, store: StoreConfig = STORE, **options: object) -> object:
    return push_store(db, store, factory(client), PushOptions(**options))  # type: ignore[arg-type]


def test_full_push_then_rerun_makes_no_write(db: Engine) -> None:
    save_listings(db, [make_listing(f"SKU-{i:02d}") for i in range(30)])
    client = InMemoryStoreClient()
    report = push_store(db, STORE, factory(client))
    assert (report.progress.created, report.progress.errors, client.write_count) == (30, 0, 30)
    mappings = ledger.load_mappings(db, STORE.key)
    assert all(m.external_id and m.status == "listed" for m in mappings.values()) and len(mappings) == 30
    again = push_store(db, STORE, factory(client))
    assert client.write_count == 30 and again.progress.unchanged == 30 and again.progress.calls == 0


def test_price_change_sends_one_price_update(db: Engine) -> None:
    listings = [make_listing(s) for s in "ABC"]
    save_listings(db, listings)
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client))
    save_listings(db, [with_price(listings[1], "99.00")])
    report = push_store(db, STORE, factory(client))
    assert report.progress.updated == 1
    assert client.writes == {"upsert": 3, "update_prices": 1}


def test_price_and_stock_change_send_both_calls_only(db: Engine) -> None:
    listing = make_listing("A")
    save_listings(db, [listing])
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client))
    save_listings(db, [with_stock(with_price(listing, "1.50"), 0)])
    push_store(db, STORE, factory(client))
    assert client.writes == {"upsert": 1, "update_prices": 1, "update_stock": 1}


def test_delist_listing_is_delisted_once(db: Engine) -> None:
    save_listings(db, [make_listing("A")])
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client))
    save_listings(db, [make_listing("A", action="delist")])
    assert push_store(db, STORE, factory(client)).progress.delisted == 1
    assert push_store(db, STORE, factory(client)).progress.unchanged == 1
    assert client.writes == {"upsert": 1, "delist": 1}
    assert ledger.load_mappings(db, STORE.key)["A"].status == "delisted"


def test_invalid_listing_is_counted_not_pushed(db: Engine) -> None:
    save_listings(db, [make_listing("A"), make_listing("B", valid=False)])
    client = InMemoryStoreClient()
    report = push_store(db, STORE, factory(client))
    assert (report.progress.created, report.progress.invalid, client.skus()) == (1, 1, ["A"])


def test_failure_goes_to_dead_letters_and_repush_clears_it(db: Engine) -> None:
    save_listings(db, [make_listing(s) for s in "ABCD"])
    rejected = PlatformError(ErrorClass.INVALID_PRODUCT, "title too long", platform_code="E42")
    client = InMemoryStoreClient(fail_skus={"B": rejected})
    report = push_store(db, STORE, factory(client), PushOptions(error_threshold=0.5))
    assert (report.progress.created, report.progress.errors, report.failed) == (3, 1, False)
    assert report.progress.first_errors and "B" in report.progress.first_errors[0]
    letters = ledger.dead_letters(db, STORE.key)
    assert [(d["sku"], d["error_class"], d["platform_code"], d["message"]) for d in letters] == [
        ("B", "INVALID_PRODUCT", "E42", "title too long")]
    assert letters[0]["payload"]["sku"] == "B" and letters[0]["attempts"] == 1
    # a store refusal means nothing exists: the next create needs no lookup
    assert ledger.load_mappings(db, STORE.key)["B"].status == "error"

    again = repush_dead_letters(db, STORE, factory(client))  # still broken: attempts grow
    assert again.progress.errors == 1 and ledger.dead_letters(db)[0]["attempts"] == 2
    client.fail_skus.clear()  # the product was fixed
    fixed = repush_dead_letters(db, STORE, factory(client))
    assert fixed.progress.created == 1 and ledger.dead_letters(db) == []
    assert client.skus() == ["A", "B", "C", "D"] and client.reads["find_by_sku"] == 0


def test_error_share_over_threshold_fails_the_run(db: Engine) -> None:
    save_listings(db, [make_listing(s) for s in "ABCDEFGHIJ"])
    client = InMemoryStoreClient(fail_skus={"A": PlatformError(ErrorClass.NETWORK_ERROR, "reset")})
    report = push_store(db, STORE, factory(client))
    assert report.error_share == pytest.approx(0.1) and report.failed
    assert "1 of 10 writes failed" in report.failure_message()
    with db.connect() as conn:
        assert conn.execute(sa.select(push_runs.c.status)).scalar_one() == "failed"
    # a network failure leaves the outcome unknown: the create stays pending for a lookup
    assert ledger.load_mappings(db, STORE.key)["A"].status == "pending"


def test_pending_create_is_looked_up_not_duplicated(db: Engine) -> None:
    listing = make_listing("A")
    save_listings(db, [listing])
    client = InMemoryStoreClient()
    client.upsert(listing, None)  # the store created it; the run died before confirming
    with db.begin() as conn:
        ledger.mark_pending(conn, STORE.key, ["A"], "dead-run")
    report = push_store(db, STORE, factory(client))
    assert report.progress.created == 1 and client.skus() == ["A"]
    assert client.reads["find_by_sku"] == 1


def test_unauthorized_stops_the_store_run(db: Engine) -> None:
    save_listings(db, [make_listing(f"S{i:03d}") for i in range(300)])
    denied = PlatformError(ErrorClass.UNAUTHORIZED, "invalid token")
    client = InMemoryStoreClient(fail_skus={f"S{i:03d}": denied for i in range(300)})
    report = push_store(db, STORE, factory(client), PushOptions(workers=2, chunk_size=10))
    assert report.failed and report.aborted and "credentials" in report.failure_message()
    assert client.write_count < 300


def test_max_products_and_skus(db: Engine) -> None:
    save_listings(db, [make_listing(s) for s in "ABCDEF"])
    client = InMemoryStoreClient()
    assert push_store(db, STORE, factory(client), PushOptions(max_products=2)).progress.created == 2
    assert client.skus() == ["A", "B"]
    push_store(db, STORE, factory(client), PushOptions(skus=("E", "Z")))
    assert client.skus() == ["A", "B", "E"]


def test_dry_run_calls_nothing_and_reports_fields(db: Engine) -> None:
    listing = make_listing("A")
    save_listings(db, [listing, make_listing("B")])
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client), PushOptions(skus=("A",)))
    save_listings(db, [dataclasses.replace(with_price(listing, "3.00"), title="Other")])
    calls_before = client.write_count + sum(client.reads.values())

    def no_client(observer: CallObserver) -> StoreClient:
        raise AssertionError("a dry run must not build a client")

    report = push_store(db, STORE, no_client, PushOptions(dry_run=True))
    assert report.dry_run and report.plan_counts["create"] == 1 and report.plan_counts["update_content"] == 1
    assert report.field_changes == {"new": 1, "price": 1, "title": 1}
    assert client.write_count + sum(client.reads.values()) == calls_before


def test_sync_log_records_every_call_with_sku(db: Engine) -> None:
    save_listings(db, [make_listing(s) for s in "AB"])
    report = push_store(db, STORE, factory(InMemoryStoreClient()), run_id="run-1")
    with db.connect() as conn:
        rows = conn.execute(sa.select(push_sync_log.c.run_id, push_sync_log.c.sku, push_sync_log.c.operation)
                            ).all()
    assert sorted(rows) == [("run-1", "A", "upsert"), ("run-1", "B", "upsert")]
    assert report.progress.calls == 2


def test_progress_reported_every_fifty_products(db: Engine) -> None:
    save_listings(db, [make_listing(f"S{i:03d}") for i in range(120)])
    seen: list[int] = []

    def on_progress(progress: PushProgress) -> None:
        seen.append(progress.done)

    push_store(db, STORE, factory(InMemoryStoreClient()), PushOptions(progress_seconds=3600), on_progress=on_progress)
    assert seen[0] == 0 and seen[-1] == 120
    assert all(b - a <= 50 + 2 * 32 for a, b in zip(seen, seen[1:], strict=False))  # at most a wait's batch late
    assert len(seen) >= 3


def test_guard_refuses_a_second_push(db: Engine) -> None:
    save_listings(db, [make_listing("A")])
    holder = StorePushGuard(db, STORE.key, "run-holding")
    holder.acquire()
    with pytest.raises(StorePushLocked, match="already being pushed by run run-holding"):
        push_store(db, STORE, factory(InMemoryStoreClient()))
    holder.release()
    assert push_store(db, STORE, factory(InMemoryStoreClient())).progress.created == 1


def test_stale_guard_is_taken_over(db: Engine) -> None:
    dead = StorePushGuard(db, STORE.key, "run-dead")
    dead.acquire()
    with db.begin() as conn:
        from sync_pipeline.db import utcnow
        from sync_pipeline.push.tables import push_store_locks
        conn.execute(sa.update(push_store_locks).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    StorePushGuard(db, STORE.key, "run-new", stale_after=timedelta(minutes=10)).acquire()


def _run_row(db: Engine, run_id: str) -> tuple[str, str | None]:
    with db.connect() as conn:
        row = conn.execute(sa.select(push_runs.c.status, push_runs.c.error_message)
                           .where(push_runs.c.run_id == run_id)).one()
    return row.status, row.error_message


def test_a_taken_over_runs_push_record_becomes_failed_abandoned(db: Engine) -> None:
    import socket
    import subprocess
    import sys

    from sync_pipeline.db import utcnow
    from sync_pipeline.push.tables import push_store_locks

    # A holder on this machine whose process has exited (as after SIGKILL).
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    StorePushGuard(db, STORE.key, "run-killed").acquire()
    ledger.start_run(db, "run-killed", STORE.key, "push", {})
    with db.begin() as conn:
        conn.execute(sa.update(push_store_locks).values(holder=f"{socket.gethostname()}:{gone.pid}"))
    StorePushGuard(db, STORE.key, "run-next").acquire()
    status, message = _run_row(db, "run-killed")
    assert status == "failed" and message is not None
    assert message.startswith("abandoned: its process no longer exists") and "run-next" in message

    # A holder elsewhere that stopped heart-beating.
    ledger.start_run(db, "run-next", STORE.key, "push", {})
    with db.begin() as conn:
        conn.execute(sa.update(push_store_locks).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    StorePushGuard(db, STORE.key, "run-third").acquire()
    assert _run_row(db, "run-next")[0] == "failed"
    assert "abandoned: stopped heart-beating" in (_run_row(db, "run-next")[1] or "")


def test_racing_guards_exactly_one_wins(db: Engine) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def race(n: int) -> None:
        barrier.wait()
        try:
            StorePushGuard(db, STORE.key, f"run-{n}").acquire()
            winners.append(f"run-{n}")
        except StorePushLocked:
            pass

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_rollback_restores_prices_and_removes_created(db: Engine) -> None:
    a, b = make_listing("A", price="10.00"), make_listing("B")
    save_listings(db, [a, b])
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client), PushOptions(skus=("A",)), run_id="first")
    save_listings(db, [with_price(a, "20.00")])
    push_store(db, STORE, factory(client), run_id="second")  # A repriced, B created
    assert {p.listing.sku: str(p.listing.price) for p in client.products.values()} == {"A": "20.00", "B": "10.00"}
    with db.connect() as conn:
        actions = dict(conn.execute(sa.select(push_rollback_snapshots.c.sku, push_rollback_snapshots.c.action)
                                    .where(push_rollback_snapshots.c.run_id == "second")).all())
    assert actions == {"A": "update_price", "B": "create"}

    report = rollback_push(db, STORE, "second", factory(client))
    assert (report.restored, report.deleted, report.failed) == (["A"], ["B"], {})
    assert {p.listing.sku: str(p.listing.price) for p in client.products.values()} == {"A": "10.00"}
    with db.connect() as conn:
        assert sorted(conn.execute(sa.select(store_mappings.c.sku)).scalars()) == ["A"]
    # the catalog still says 20.00: the next push sends the price again and recreates B
    report = push_store(db, STORE, factory(client))
    assert (report.progress.updated, report.progress.created) == (1, 1)


def test_rollback_relists_a_delisted_product(db: Engine) -> None:
    save_listings(db, [make_listing("A")])
    client = InMemoryStoreClient()
    push_store(db, STORE, factory(client), run_id="one")
    save_listings(db, [make_listing("A", action="delist")])
    push_store(db, STORE, factory(client), run_id="two")
    assert next(iter(client.products.values())).status == "delisted"
    report = rollback_push(db, STORE, "two", factory(client))
    assert report.restored == ["A"] and next(iter(client.products.values())).status == "active"
    assert ledger.load_mappings(db, STORE.key)["A"].status == "listed"


def test_owned_description_is_kept_on_content_update(db: Engine) -> None:
    owned = STORE.model_copy(update={"owned_fields": ("description",)})
    listing = make_listing("A", description="<p>first</p>")
    save_listings(db, [listing])
    client = InMemoryStoreClient()
    push_store(db, owned, factory(client))
    stored = next(iter(client.products.values()))
    stored.listing = dataclasses.replace(stored.listing, description="<p>written by the store</p>")
    save_listings(db, [dataclasses.replace(listing, description="<p>catalog edit</p>")])
    assert push_store(db, owned, factory(client)).progress.unchanged == 1  # owned field alone: no call
    save_listings(db, [dataclasses.replace(listing, description="<p>catalog edit</p>", title="New title")])
    assert push_store(db, owned, factory(client)).progress.updated == 1
    stored = next(iter(client.products.values()))
    assert (stored.listing.title, stored.listing.description) == ("New title", "<p>written by the store</p>")


def test_dead_letter_table_keeps_first_and_last_failure(db: Engine) -> None:
    save_listings(db, [make_listing("A")])
    client = InMemoryStoreClient(fail_skus={"A": PlatformError(ErrorClass.INVALID_PRODUCT, "bad")})
    push_store(db, STORE, factory(client), run_id="r1")
    push_store(db, STORE, factory(client), run_id="r2")
    with db.connect() as conn:
        row = conn.execute(sa.select(push_dead_letters)).mappings().one()
    assert row["run_id"] == "r2" and row["attempts"] == 2 and row["first_failed_at"] <= row["last_failed_at"]
