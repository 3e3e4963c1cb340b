"""The fast path (push/changes.py) from the catalog in the app DB to the four sandbox stores (real
HTTP servers): first run builds and pushes everything, a run with nothing changed calls nothing, a
stock change is one inventory call per store, a rules change rebuilds that store only, a failing
blocking audit or a held lock keeps a store unpushed until the next run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy import Engine

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import utcnow
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.base import CallObserver, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import changes
from sync_pipeline.push.guard import StorePushGuard
from sync_pipeline.push.tables import push_sync_log, store_sync_marks
from sync_pipeline.stores import StoreConfig, StoresFile, load_stores
from sync_pipeline_tests.listings.catalog_rows import insert_catalog, product_row
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.sandbox_stores import provision, stores_yaml
from sync_pipeline_tests.push.test_push_sandbox import db, sandbox_id  # noqa: F401 - fixtures
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

SKUS = [f"FAST-{i:02d}" for i in range(6)]
CATEGORY = "Men/Tops/Jackets"
CATEGORIES = {"shopify": "Apparel & Accessories > Clothing > Shirts & Tops", "shopee": "100017", "tiktok": "601152"}


@pytest.fixture
def stores(sandbox_server: Any, image_host: Any, tmp_path: Path,  # noqa: F811
           monkeypatch: pytest.MonkeyPatch) -> StoresFile:
    stores_file = provision(sandbox_server, tmp_path, monkeypatch)
    data = stores_yaml(sandbox_server.url)
    for entry in data["stores"]:
        entry["category_map"] = {CATEGORY: CATEGORIES[entry["platform"]]}
    (tmp_path / "stores.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert stores_file.keys() == load_stores(tmp_path / "stores.yaml").keys()
    return load_stores(tmp_path / "stores.yaml")


class Catalog:
    def __init__(self, engine: Engine, media_url: str) -> None:
        self.engine, self.media_url, self.clock = engine, media_url, datetime(2026, 1, 1, 8, 0)

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)  # the importer's clock: each import stamps later
        return self.clock

    def seed(self) -> None:
        stamp = self.tick()
        insert_catalog(self.engine, [product_row(
            sku, i + 1, title=f"Montana Wind Jacket {sku} Hooded Zip Front", weight=0.5,
            images=[f"{self.media_url}/media/{sku}-{n}.png" for n in range(3)],
            created_at=stamp, updated_at=stamp) for i, sku in enumerate(SKUS)])

    def update(self, sku: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(catalog_products).where(catalog_products.c.sku == sku)
                         .values(**values, updated_at=self.tick()))


@pytest.fixture
def catalog(db: Engine, image_host: Any) -> Catalog:  # noqa: F811
    built = Catalog(db, image_host.url)
    built.seed()
    return built


def factories(db: Engine) -> Callable[[StoreConfig], Callable[[CallObserver], StoreClient]]:  # noqa: F811
    def per_store(store: StoreConfig) -> Callable[[CallObserver], StoreClient]:
        return lambda observer: build_client(store, DbTokenStore(db), observer=observer)
    return per_store


def run(db: Engine, stores: StoresFile, run_id: str) -> dict[str, changes.StoreChanges]:  # noqa: F811
    return {o.store_key: o for o in changes.sync_changes(db, stores.stores, factories(db), run_id=run_id)}


def writes(sandbox_server: Any, stores: StoresFile) -> dict[str, int]:  # noqa: F811
    return {s.key: int(sandbox_server.calls(*sandbox_id(s))["writes"]) for s in stores.stores}


def logged(db: Engine, run_id: str) -> dict[str, list[str]]:  # noqa: F811
    with db.connect() as conn:
        rows = conn.execute(sa.select(push_sync_log.c.store_key, push_sync_log.c.operation)
                            .where(push_sync_log.c.run_id == run_id).order_by(push_sync_log.c.id)).all()
    out: dict[str, list[str]] = {}
    for store_key, operation in rows:
        out.setdefault(store_key, []).append(operation)
    return out


def first_run(db: Engine, stores: StoresFile) -> dict[str, changes.StoreChanges]:  # noqa: F811
    outcomes = run(db, stores, "first")
    for outcome in outcomes.values():
        assert outcome.full_rebuild and not outcome.failed, outcome.describe()
        assert outcome.push is not None and outcome.push.progress.created == len(SKUS), outcome.describe()
    return outcomes


@pytest.mark.slow
def test_first_run_then_nothing_then_one_stock_change(db: Engine, sandbox_server: Any, stores: StoresFile,  # noqa: F811
                                                       catalog: Catalog) -> None:
    first_run(db, stores)
    before = writes(sandbox_server, stores)
    calls_before = {s.key: sandbox_server.calls(*sandbox_id(s))["total"] for s in stores.stores}

    idle = run(db, stores, "idle")
    assert all(not o.full_rebuild and not o.pushed_skus and o.push is None for o in idle.values())
    assert {s.key: sandbox_server.calls(*sandbox_id(s))["total"] for s in stores.stores} == calls_before

    catalog.update("FAST-03", stock_qty=2)
    stock = run(db, stores, "stock")
    assert {k: o.pushed_skus for k, o in stock.items()} == {s.key: ("FAST-03",) for s in stores.stores}
    assert {k: o.listings.changed for k, o in stock.items() if o.listings} == {s.key: 1 for s in stores.stores}
    # One write per store (the sandbox's own count), and it is the inventory call (the sync log
    # names each call; Shopify's also reads the variant ids first).
    assert {k: v - before[k] for k, v in writes(sandbox_server, stores).items()} == {s.key: 1 for s in stores.stores}
    operations = logged(db, "stock")
    assert set(operations) == {s.key for s in stores.stores}
    assert all([op for op in ops if op in STOCK_OPERATIONS] == [ops[-1]] for ops in operations.values()), operations
    for store in stores.stores:
        client = build_client(store, DbTokenStore(db))
        try:
            remote = client.find_by_sku("FAST-03")  # read back through the store's own API
        finally:
            client.close()
        assert remote is not None and sum(v.stock_qty for v in remote.variants) == 2, (store.key, remote)


STOCK_OPERATIONS = {"inventorySetQuantities", "shopee.product.update_stock", "product.inventory"}


@pytest.mark.slow
def test_a_rules_change_rebuilds_that_store_only(db: Engine, sandbox_server: Any, stores: StoresFile,  # noqa: F811
                                                 catalog: Catalog, tmp_path: Path) -> None:
    first_run(db, stores)
    data = yaml.safe_load((tmp_path / "stores.yaml").read_text())
    data["stores"][0]["price_rule"] = {"multiplier": "1.10"}
    (tmp_path / "stores.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    changed = load_stores(tmp_path / "stores.yaml")
    repriced = changed.stores[0].key
    outcomes = run(db, changed, "rules")
    assert {k for k, o in outcomes.items() if o.full_rebuild} == {repriced}
    assert set(outcomes[repriced].pushed_skus) == set(SKUS)
    assert outcomes[repriced].push is not None and outcomes[repriced].push.progress.updated == len(SKUS)
    assert all(not o.pushed_skus for k, o in outcomes.items() if k != repriced)


@pytest.mark.slow
def test_a_failing_blocking_audit_or_a_held_lock_keeps_the_store_for_the_next_run(
    db: Engine, sandbox_server: Any, stores: StoresFile, catalog: Catalog  # noqa: F811
) -> None:
    first_run(db, stores)
    audited, locked = stores.stores[0], stores.stores[2]
    catalog.update("FAST-01", price=55)
    # A listing whose stored price no longer follows the rule: the price audit must stop that store.
    with db.begin() as conn:
        conn.execute(sa.update(store_sync_marks).where(store_sync_marks.c.store_key == audited.key)
                     .values(catalog_seen_at=catalog.clock))  # its listings "already include" the change
        conn.execute(sa.update(platform_listings)
                     .where(platform_listings.c.store_key == audited.key, platform_listings.c.sku == "FAST-02")
                     .values(price=1, updated_at=utcnow()))
    guard = StorePushGuard(db, locked.key, "someone-else", timedelta(hours=1))
    with guard:
        before = writes(sandbox_server, stores)
        outcomes = run(db, stores, "blocked")
        after = writes(sandbox_server, stores)
    assert outcomes[audited.key].failed and "listing_prices_match_rule" in (outcomes[audited.key].refused or "")
    assert outcomes[locked.key].failed and outcomes[locked.key].push is None
    assert after[audited.key] == before[audited.key] and after[locked.key] == before[locked.key]
    pushed = {k for k, o in outcomes.items() if not o.failed}
    assert pushed == {s.key for s in stores.stores} - {audited.key, locked.key}
    assert all(after[k] - before[k] == 1 for k in pushed)  # FAST-01's new price, nothing else

    # The locked store's push mark did not move: the next run pushes FAST-01 there.
    again = run(db, stores, "after-lock")
    assert again[locked.key].pushed_skus == ("FAST-01",) and not again[locked.key].failed
    assert again[locked.key].push is not None and again[locked.key].push.progress.updated == 1
    assert again[audited.key].failed  # still wrong until its listings are rebuilt


def test_the_rules_digest_follows_the_stores_entry() -> None:
    store = load_stores().stores[0]
    same = StoreConfig.model_validate(store.model_dump())
    assert changes.rules_digest(store) == changes.rules_digest(same)
    other = store.model_copy(update={"category_map": {"X": "1"}})
    assert changes.rules_digest(store) != changes.rules_digest(other)


def test_an_existing_app_db_gets_the_fast_path_indexes(app_db_url: str) -> None:
    """Deployed app DBs predate the indexes; create_all (run by every run's resource) adds them."""
    from sync_pipeline.db import create_all, make_engine

    engine = make_engine(app_db_url)
    try:
        create_all(engine)
        with engine.begin() as conn:
            for name in ("ix_catalog_products_updated_at", "ix_platform_listings_store_updated"):
                conn.execute(sa.text(f"DROP INDEX {name}"))
        create_all(engine)
        inspector = sa.inspect(engine)
        assert "ix_catalog_products_updated_at" in {i["name"] for i in inspector.get_indexes("catalog_products")}
        assert "ix_platform_listings_store_updated" in {i["name"] for i in inspector.get_indexes("platform_listings")}
    finally:
        engine.dispose()


def test_the_identity_audit_for_changed_skus_compares_them_with_the_whole_store(db: Engine) -> None:  # noqa: F811
    """Scoped to the changed SKUs it reports their collisions with any listing of the store, and
    leaves an older collision between two unchanged listings to the full check."""
    import dataclasses

    from sync_pipeline.listings.audit import audit_identity
    from sync_pipeline_tests.push.builders import make_listing
    from sync_pipeline_tests.push.listing_rows import save_listings

    store = load_stores().stores[0]
    old_a = dataclasses.replace(make_listing("OLD-A", store_key=store.key, variants=0), handle="same-old")
    old_b = dataclasses.replace(make_listing("OLD-B", store_key=store.key, variants=0), handle="Same-Old ")
    fresh = dataclasses.replace(make_listing("NEW-C", store_key=store.key, variants=2), handle="new-c")
    clash = dataclasses.replace(make_listing("NEW-D", store_key=store.key, variants=0), handle="NEW-C")
    save_listings(db, [old_a, old_b, fresh, clash, make_listing("NEW-E", store_key=store.key, variants=0)])

    whole = audit_identity(db, store)
    assert whole.checked == 5 and whole.failures == 2  # the old pair and the new pair
    scoped = audit_identity(db, store, skus=["NEW-D"])
    assert scoped.checked == 1 and scoped.failures == 1 and "NEW-D: handle 'NEW-C' is also NEW-C's" in scoped.examples
    assert audit_identity(db, store, skus=["NEW-E"]).passed
    # A changed listing whose variant SKU another listing already uses, case and spaces aside.
    save_listings(db, [dataclasses.replace(make_listing("NEW-E", store_key=store.key, variants=0), handle="new-e",
                                           variants=(dataclasses.replace(fresh.variants[0], sku=" new-c-s"),))])
    seller = audit_identity(db, store, skus=["NEW-E"])
    assert seller.failures == 1 and "seller SKU" in seller.examples[0]


def test_an_existing_app_db_gets_the_identity_keys_of_its_listings(db: Engine) -> None:  # noqa: F811
    """An app DB made before listing_identity_keys: create_all makes the table and fills it from
    the stored listings, so the changed-SKU identity audit sees the listings written before."""
    import dataclasses

    from sync_pipeline.db import create_all
    from sync_pipeline.listings.audit import audit_identity
    from sync_pipeline.listings.tables import listing_identity_keys
    from sync_pipeline_tests.push.builders import make_listing
    from sync_pipeline_tests.push.listing_rows import save_listings

    store = load_stores().stores[0]
    old = dataclasses.replace(make_listing("OLD-A", store_key=store.key, variants=1), handle="old-a")
    new = dataclasses.replace(make_listing("NEW-B", store_key=store.key, variants=0), handle=" OLD-A")
    save_listings(db, [old, new])
    with db.begin() as conn:
        listing_identity_keys.drop(conn)  # as the DB was before the table existed
    create_all(db)
    with db.connect() as conn:
        kept = conn.execute(sa.select(listing_identity_keys.c.listing_sku, listing_identity_keys.c.kind,
                                      listing_identity_keys.c.key)).all()
    assert {tuple(r) for r in kept} >= {("OLD-A", "handle", "old-a"), ("NEW-B", "handle", "old-a"),
                                        ("OLD-A", "sku", old.variants[0].sku.strip().casefold())}
    scoped = audit_identity(db, store, skus=["NEW-B"])
    assert scoped.failures == 1 and "NEW-B: handle ' OLD-A' is also OLD-A's" in scoped.examples
    create_all(db)  # a second call adds nothing
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(listing_identity_keys)).scalar_one() == len(kept)
