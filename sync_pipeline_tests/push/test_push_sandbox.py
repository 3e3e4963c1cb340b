"""The push against the sandboxes as real HTTP servers, with the app DB on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from sync_pipeline.catalog.tables import create_all
from sync_pipeline.db import make_engine
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
