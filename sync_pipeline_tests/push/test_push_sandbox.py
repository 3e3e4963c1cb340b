"""The push against the sandboxes as real HTTP servers, with the app DB on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.platforms.base import CallObserver, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.engine import PushOptions, PushReport, push_store, repush_dead_letters
from sync_pipeline.push.rollback import rollback_push
from sync_pipeline.push.verify import spot_check
from sync_pipeline.stores import StoreConfig, StoresFile
from sync_pipeline_tests.push.builders import with_price
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import client_installed, provision, store_listing

SKUS = [f"TEE-{i:03d}" for i in range(12)]
PRODUCT_DOCS = {"shopee": "item", "tiktok": "products", "shopify": "product"}


@pytest.fixture
def db(app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stores(sandbox_server: Any, image_host: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoresFile:
    MEDIA.url = image_host.url
    return provision(sandbox_server, tmp_path, monkeypatch)


class _Media:
    url = ""


MEDIA = _Media()  # the image host of the current test (real PNGs the clients upload)


def ready(stores: StoresFile) -> list[StoreConfig]:
    chosen = [s for s in stores.stores if client_installed(s.platform.value)]
    if not chosen:
        pytest.skip("no platform client is installed yet")
    return chosen


def factory(db: Engine, store: StoreConfig):  # type: ignore[no-untyped-def]
    def build(observer: CallObserver) -> StoreClient:
        return build_client(store, DbTokenStore(db), observer=observer)
    return build


def sandbox_id(store: StoreConfig) -> tuple[str, str]:
    if store.platform.value == "shopee":
        return "shopee", str(store.settings["shop_id"])
    if store.platform.value == "tiktok":
        return "tiktok", str(store.settings["shop_cipher"])
    return "shopify", store.endpoint.rstrip("/").rsplit("/", 1)[1]


def writes(sandbox_server: Any, store: StoreConfig) -> int:
    return int(sandbox_server.calls(*sandbox_id(store))["writes"])


def seed(db: Engine, sandbox_server: Any, stores: list[StoreConfig], skus: list[str] = SKUS) -> None:
    save_listings(db, [store_listing(s, sku, MEDIA.url) for s in stores for sku in skus])


def push(db: Engine, store: StoreConfig, **options: Any) -> PushReport:
    run_id = options.pop("run_id", None)
    return push_store(db, store, factory(db, store), PushOptions(**options), run_id=run_id)


def test_full_push_rerun_price_change_and_delist(db: Engine, sandbox_server: Any, stores: StoresFile) -> None:
    targets = ready(stores)
    seed(db, sandbox_server, targets)
    for store in targets:
        report = push(db, store)
        assert (report.progress.created, report.progress.errors) == (len(SKUS), 0), report.progress.first_errors
        assert spot_check(db, store.key, build_client(store, DbTokenStore(db)), 5).passed
    before = {s.key: writes(sandbox_server, s) for s in targets}
    for store in targets:  # nothing changed: zero write calls
        assert push(db, store).progress.unchanged == len(SKUS)
    assert {s.key: writes(sandbox_server, s) for s in targets} == before

    for store in targets:  # one price change: exactly one write per store
        changed = with_price(store_listing(store, SKUS[3], MEDIA.url), "77.00")
        save_listings(db, [changed])
        assert push(db, store).progress.updated == 1
        assert writes(sandbox_server, store) == before[store.key] + 1
        check = spot_check(db, store.key, build_client(store, DbTokenStore(db)), len(SKUS))
        assert check.passed, check.failures

    for store in targets:  # a product disabled in the catalog is delisted
        save_listings(db, [store_listing(store, SKUS[5], MEDIA.url, action="delist")])
        assert push(db, store).progress.delisted == 1
        ref = ledger.load_mappings(db, store.key)[SKUS[5]].ref
        assert ref is not None
        remote = build_client(store, DbTokenStore(db)).read_product(ref)
        assert remote is not None and remote.status != "active"


def test_dry_run_and_manual_skus(db: Engine, sandbox_server: Any, stores: StoresFile) -> None:
    targets = ready(stores)
    seed(db, sandbox_server, targets)
    for store in targets:
        before = sandbox_server.calls(*sandbox_id(store))["total"]
        report = push(db, store, dry_run=True)
        assert report.plan_counts["create"] == len(SKUS)
        assert sandbox_server.calls(*sandbox_id(store))["total"] == before
        report = push(db, store, skus=(SKUS[0], SKUS[1]))
        assert report.progress.created == 2
        assert sorted(ledger.load_mappings(db, store.key)) == [SKUS[0], SKUS[1]]


def test_faults_5xx_throttle_drop_and_token_expiry(db: Engine, sandbox_server: Any, stores: StoresFile) -> None:
    targets = ready(stores)
    seed(db, sandbox_server, targets)
    for store in targets:
        platform, sid = sandbox_id(store)
        sandbox_server.faults(platform, sid, server_error_next=2, throttle_next=2, drop_after_commit_next=1,
                              only_writes=True)
        report = push(db, store, skus=tuple(SKUS[:6]))
        assert (report.progress.created, report.progress.errors) == (6, 0), report.progress.first_errors
        sandbox_server.faults(platform, sid)
        if platform != "shopify":
            sandbox_server.sandbox.emulator(platform).expire_tokens(sid)
        report = push(db, store)
        assert (report.progress.created, report.progress.errors) == (6, 0), report.progress.first_errors
        mappings = ledger.load_mappings(db, store.key)
        assert len({m.external_id for m in mappings.values() if m.status == "listed"}) == len(SKUS)
        assert len(sandbox_server.docs(platform, sid, PRODUCT_DOCS[platform])) == len(SKUS)  # no duplicate


def test_rollback_restores_price_and_removes_created(db: Engine, sandbox_server: Any, stores: StoresFile) -> None:
    targets = ready(stores)
    seed(db, sandbox_server, targets, SKUS[:3])
    for store in targets:
        push(db, store, skus=(SKUS[0],), run_id=f"first-{store.key}")
        save_listings(db, [with_price(store_listing(store, SKUS[0], MEDIA.url), "55.00")])
        push(db, store, run_id=f"second-{store.key}")
        report = rollback_push(db, store, f"second-{store.key}", factory(db, store))
        assert (report.restored, sorted(report.deleted), report.failed) == ([SKUS[0]], SKUS[1:3], {})
        client = build_client(store, DbTokenStore(db))
        ref = ledger.load_mappings(db, store.key)[SKUS[0]].ref
        remote = client.read_product(ref) if ref else None
        assert remote is not None and {v.price for v in remote.variants} == {Decimal("10.00")}
        assert sorted(ledger.load_mappings(db, store.key)) == [SKUS[0]]
        assert all(client.find_by_sku(s) is None for s in SKUS[1:3])


def test_rejected_product_lands_in_dead_letters_then_repushes(db: Engine, sandbox_server: Any,
                                                              stores: StoresFile) -> None:
    targets = ready(stores)
    for store in targets:
        bad = store_listing(store, "BAD-1", MEDIA.url, title="Tee " * 70)  # over every platform's title limit
        save_listings(db, [bad, store_listing(store, "OK-1", MEDIA.url)])
        report = push(db, store, error_threshold=1.0)
        letters = ledger.dead_letters(db, store.key)
        assert report.progress.created == 1 and [d["sku"] for d in letters] == ["BAD-1"], letters
        assert letters[0]["error_class"] == "INVALID_PRODUCT"
        save_listings(db, [store_listing(store, "BAD-1", MEDIA.url)])  # fixed
        again = repush_dead_letters(db, store, factory(db, store))
        assert again.progress.created == 1 and ledger.dead_letters(db, store.key) == []


# --- the records say what happened --------------------------------------------------------------------


def _log_rows(db: Engine, run_id: str) -> list[Any]:
    import sqlalchemy as sa

    from sync_pipeline.push.tables import push_sync_log

    with db.connect() as conn:
        return list(conn.execute(sa.select(push_sync_log).where(push_sync_log.c.run_id == run_id)).mappings())


def _fast_factory(db: Engine, store: StoreConfig):  # type: ignore[no-untyped-def]
    from sync_pipeline.platforms.retry import RetryPolicy

    def build(observer: CallObserver) -> StoreClient:
        return build_client(store, DbTokenStore(db), observer=observer, retry=RetryPolicy(base_delay=0.01))
    return build


def test_sync_log_has_one_row_per_http_call_with_its_final_outcome(db: Engine, sandbox_server: Any,
                                                                   stores: StoresFile) -> None:
    """Under throttling and error envelopes (Shopify's THROTTLED in a 200, Shopee's and TikTok's
    error envelopes), every platform: rows == HTTP calls the sandbox received == the run's calls."""
    targets = ready(stores)
    seed(db, sandbox_server, targets, SKUS[:4])
    for store in targets:
        assert push(db, store).progress.created == 4
        save_listings(db, [with_price(store_listing(store, sku, MEDIA.url), "21.00") for sku in SKUS[:4]])
        platform, sid = sandbox_id(store)
        sandbox_server.faults(platform, sid, throttle_next=3, server_error_next=2, only_writes=True)
        before = sandbox_server.calls(platform, sid)
        run_id = f"faulted-{store.key}"
        report = push_store(db, store, _fast_factory(db, store), PushOptions(requeue_delay_s=0.01), run_id=run_id)
        after = sandbox_server.calls(platform, sid)
        assert (report.progress.updated, report.progress.errors) == (4, 0), report.progress.first_errors
        rows = _log_rows(db, run_id)
        received = after["received"] - before["received"]
        assert len(rows) == received == report.progress.calls, (store.key, len(rows), received)
        failed = [r for r in rows if r["outcome"] == "error"]
        assert len(failed) == 5, (store.key, [(r["operation"], r["http_status"], r["error_class"]) for r in rows])
        assert sum(r["error_class"] == "RATE_LIMITED" for r in rows) == 3, store.key
        # Each failed call's row names its class, an HTTP 5xx answer's too (not only errors in a body).
        assert all(r["error_class"] for r in failed), (store.key, [(r["http_status"], r["error_class"]) for r in failed])
        server_errors = [r["error_class"] for r in failed if (r["http_status"] or 0) >= 500]
        assert server_errors and set(server_errors) == {"NETWORK_ERROR"}, (store.key, server_errors)
        # Every call answered "ok" is one the store handled (faulted answers never reach its handler).
        assert len(rows) - len(failed) == after["total"] - before["total"], store.key


def test_dead_letters_count_every_attempt_across_requeue_rounds(db: Engine, sandbox_server: Any,
                                                               stores: StoresFile) -> None:
    targets = ready(stores)
    seed(db, sandbox_server, targets, SKUS[:1])
    for store in targets:
        assert push(db, store).progress.created == 1
        save_listings(db, [with_price(store_listing(store, SKUS[0], MEDIA.url), "23.00")])
        platform, sid = sandbox_id(store)
        sandbox_server.faults(platform, sid, server_error_rate=1.0, only_writes=True)
        before = sandbox_server.calls(platform, sid)["received"]
        report = push_store(db, store, _fast_factory(db, store),
                            PushOptions(requeue_delay_s=0.01, error_threshold=1.0), run_id=f"dead-{store.key}")
        sent = sandbox_server.calls(platform, sid)["received"] - before
        sandbox_server.faults(platform, sid)
        assert report.progress.errors == 1
        letters = ledger.dead_letters(db, store.key)
        # 3 attempts of the client's retry policy in each of 4 rounds (the first and 3 requeues).
        assert [d["attempts"] for d in letters] == [sent] == [12], store.key


def test_no_call_is_sent_after_the_store_rejects_the_credentials(db: Engine, sandbox_server: Any,
                                                                 stores: StoresFile,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = next(s for s in ready(stores) if s.platform.value == "shopify")
    seed(db, sandbox_server, [store], SKUS)
    monkeypatch.setenv(store.credentials["access_token"], "shpat_revoked_by_the_merchant")
    platform, sid = sandbox_id(store)
    workers = 3
    report = push(db, store, workers=workers, run_id="revoked")
    received = sandbox_server.calls(platform, sid)["received"]
    assert report.aborted and "rejected the credentials" in report.aborted
    # At most the calls already in flight when the first refusal came back: one per worker.
    assert 1 <= received <= workers < len(SKUS)
    rows = _log_rows(db, "revoked")
    assert len(rows) == received
    assert {(r["http_status"], r["error_class"]) for r in rows} == {(401, "UNAUTHORIZED")}


def test_tokens_obtained_by_refresh_are_encrypted_in_the_app_db(db: Engine, sandbox_server: Any, stores: StoresFile,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy as sa
    from cryptography.fernet import Fernet

    from sync_pipeline.platforms.tokens import platform_tokens

    monkeypatch.setenv("SYNC_SECRET_KEY", Fernet.generate_key().decode())
    targets = [s for s in ready(stores) if s.platform.value in ("shopee", "tiktok")]
    seed(db, sandbox_server, targets, SKUS[:1])
    for store in targets:
        assert push(db, store).progress.created == 1
        platform, sid = sandbox_id(store)
        sandbox_server.sandbox.emulator(platform).expire_tokens(sid)
        save_listings(db, [with_price(store_listing(store, SKUS[0], MEDIA.url), "19.00")])
        assert push(db, store).progress.updated == 1
        pair = DbTokenStore(db).load(store.key)
        assert pair is not None and pair.access_token != store.credential("access_token")  # refreshed
        with db.connect() as conn:
            raw = conn.execute(sa.select(platform_tokens.c.access_token, platform_tokens.c.refresh_token)
                               .where(platform_tokens.c.store_key == store.key)).one()
        assert all(value.startswith("fernet:") for value in raw)
        assert pair.access_token not in "".join(raw) and pair.refresh_token not in "".join(raw)
