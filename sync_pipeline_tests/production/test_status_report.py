"""The product state report on a real pipeline: catalog imported, listings built and pushed to the
sandbox stores through the Dagster assets, then states changed the way they change in a shop."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import materialize

from sync_pipeline import cli
from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.db import make_engine
from sync_pipeline.defs import catalog
from sync_pipeline.defs.listings import platform_listings as listings_asset
from sync_pipeline.defs.push import store_push
from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase, StoresConfig
from sync_pipeline.demo import DEMO_CREDENTIALS
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.push.tables import push_dead_letters
from sync_pipeline.sandbox.app import build_sandbox, provision_from_stores_file
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.status.report import (
    SyncState,
    csv_header,
    iter_product_states,
    product_states,
    search_skus,
    state_counts,
    write_csv,
)
from sync_pipeline.stores import DEMO_STORES_FILE, load_stores

PUSHED = "shopify-us"


@dataclass
class Shop:
    app_url: str
    stores_file: Path
    resources: dict[str, Any]

    @property
    def engine(self) -> sa.Engine:
        return self.resources["app_db"].engine

    def materialize_store(self, key: str = PUSHED) -> None:
        for asset in (listings_asset, store_push):
            assert materialize([asset], partition_key=key, resources=self.resources).success

    def stores(self) -> Any:
        return load_stores(self.stores_file).stores


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_db_url: str) -> Iterator[Shop]:
    for name, value in DEMO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    magento_url = f"sqlite:///{tmp_path / 'magento.db'}"
    engine = make_engine(magento_url)
    generate_catalog(engine, products=40, seed=3, today=date.today())
    engine.dispose()
    sandbox = build_sandbox(tmp_path / "sandbox.db")
    server = SandboxServer(sandbox).start()
    port = server.url.rsplit(":", 1)[1]
    stores_file = tmp_path / "stores.yaml"
    stores_file.write_text(DEMO_STORES_FILE.read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    monkeypatch.setenv("SYNC_STORES_FILE", str(stores_file))
    monkeypatch.setenv("SYNC_DB_URL", app_db_url)
    provision_from_stores_file(sandbox, stores_file)
    resources = {
        "magento_db": MagentoDatabase(url=magento_url, media_base_url=f"{server.url}/_sandbox/media/catalog/product"),
        "app_db": AppDatabase(url=app_db_url), "stores_config": StoresConfig(path=str(stores_file)),
    }
    try:
        assert materialize([catalog.magento_products, catalog.catalog_products], resources=resources).success
        built = Shop(app_db_url, stores_file, resources)
        built.materialize_store()
        yield built
    finally:
        resources["app_db"].engine.dispose()
        server.stop()
        sandbox.state.close()


def _skus(engine: sa.Engine, n: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(platform_listings.c.sku).where(platform_listings.c.store_key == PUSHED)
                                 .where(platform_listings.c.valid.is_(True)).order_by(platform_listings.c.sku)
                                 .limit(n)).scalars())


def _reprice(conn: sa.Connection, sku: str, more: int) -> None:
    """A new price in the catalog: the product's and its variants' (listings price the variants)."""
    conn.execute(sa.update(catalog_products).where(catalog_products.c.sku == sku)
                 .values(price=catalog_products.c.price + more, special_price=None))
    conn.execute(sa.update(catalog_variants).where(catalog_variants.c.parent_sku == sku)
                 .values(price=catalog_variants.c.price + more))


def test_states_follow_the_shop(shop: Shop) -> None:
    synced, repriced, failing, invalid, retired = _skus(shop.engine, 5)
    stores = shop.stores()
    with shop.engine.begin() as conn:
        _reprice(conn, repriced, 7)
        conn.execute(sa.insert(push_dead_letters).values(
            store_key=PUSHED, sku=failing, run_id="r1", action="update_price", error_class="RATE_LIMITED",
            message="429 after 5 attempts", attempts=5, first_failed_at=datetime(2025, 1, 1),
            last_failed_at=datetime(2025, 1, 2)))
        conn.execute(sa.update(catalog_products).where(catalog_products.c.sku == retired).values(is_active=False))
    shop.materialize_store()  # retired is delisted; repriced gets the new price...
    with shop.engine.begin() as conn:  # ...then changes again after the push, and one turns invalid
        _reprice(conn, repriced, 3)
    assert materialize([listings_asset], partition_key=PUSHED, resources=shop.resources).success
    with shop.engine.begin() as conn:
        conn.execute(sa.update(platform_listings).where(platform_listings.c.sku == invalid)
                     .where(platform_listings.c.store_key == PUSHED)
                     .values(valid=False, reasons=["title: longer than 255 characters"]))

    states = {p.sku: p for p in product_states(shop.engine, stores, [synced, repriced, failing, invalid, retired])}
    on = {sku: states[sku].store(PUSHED) for sku in states}
    assert on[synced].state == SyncState.SYNCED and on[synced].external_id and on[synced].last_synced_at
    assert on[synced].price is not None and on[synced].title and on[synced].currency == "USD"
    assert states[synced].master_price is not None
    assert on[repriced].state == SyncState.NOT_SYNCED and "update price" in on[repriced].reason
    assert on[failing].state == SyncState.ERROR and "RATE_LIMITED" in on[failing].reason
    assert on[invalid].state == SyncState.INVALID and "longer than 255" in on[invalid].reason
    assert on[retired].state == SyncState.DELISTED
    other = states[synced].store("shopee-sg")
    assert other.state == SyncState.NOT_SYNCED and "no listing" in other.reason and other.external_id is None


def test_counts_and_csv_cover_every_product(shop: Shop) -> None:
    stores = shop.stores()
    keys = [s.key for s in stores]
    states = list(iter_product_states(shop.engine, stores))
    with shop.engine.connect() as conn:
        assert len(states) == conn.execute(sa.select(sa.func.count()).select_from(catalog_products)).scalar_one()
    counts = state_counts(states)
    assert set(counts) == set(keys) and all(set(c) == {s.value for s in SyncState} for c in counts.values())
    assert sum(counts[PUSHED].values()) == len(states) and counts[PUSHED]["synced"] > 0
    assert counts["shopee-sg"]["not synced"] == len(states)
    out = io.StringIO()
    assert write_csv(states, keys, out) == len(states)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == csv_header(keys) and len(rows) == len(states) + 1
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["sku"] == states[0].sku and first[f"{PUSHED}:state"] == states[0].store(PUSHED).state.value


def test_status_command_prints_a_product_and_searches(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    (sku,) = _skus(shop.engine, 1)
    assert cli.main(["status", sku]) == 0
    out = capsys.readouterr().out
    assert out.startswith(sku) and "synced" in out and "shopee-sg" in out and "dead letters: none" in out
    category = next(line for line in out.splitlines() if "category:" in line)
    assert category.split("category:")[1].strip() not in ("", "-")  # the pushed store's mapped category
    log_part = out.split("last sync log lines")[1]
    assert f" {PUSHED} " in log_part and sku in log_part and " ok HTTP 200" in log_part

    assert cli.main(["--json", "status", sku]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["sku"] == sku and {s["store_key"]: s["state"] for s in data["stores"]}[PUSHED] == "synced"
    assert data["dead_letters"] == [] and data["last_errors"] == []
    assert {s["store_key"]: s["category"] for s in data["stores"]}[PUSHED]
    assert data["sync_log"] and all(line["sku"] == sku for line in data["sync_log"])

    word = sku[:4].lower()
    assert search_skus(shop.engine, word)
    assert cli.main(["status", "--search", word, "--limit", "3"]) == 0
    header, *rows = capsys.readouterr().out.rstrip().splitlines()
    keys = [s.key for s in shop.stores()]
    assert header.split()[:3] == ["sku", "title", "master"]
    assert all(f"{key} price" in header and f"{key} state" in header for key in keys)
    assert 1 <= len(rows) <= 3 and any(row.split()[0] == sku for row in rows)
    assert cli.main(["status", "NO-SUCH-SKU"]) == 4
    assert "no product" in capsys.readouterr().err


def test_log_and_dead_letters_commands(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    sku, failing = _skus(shop.engine, 2)
    assert cli.main(["log", sku]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(f" {PUSHED} " in line and f" {sku} " in line for line in lines)
    assert cli.main(["log", "--store", PUSHED, "--limit", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 5 and {d["store_key"] for d in data} == {PUSHED}
    assert [d["at"] for d in data] == sorted(d["at"] for d in data)  # oldest first, as a log reads
    assert cli.main(["log", sku, "--since", "2099-01-01"]) == 4
    assert "no sync log lines for SKU" in capsys.readouterr().err
    assert cli.main(["log", sku, "--since", "yesterday-ish"]) == 2
    assert "--since" in capsys.readouterr().err
    assert cli.main(["log"]) == 2 and "SKU or --store" in capsys.readouterr().err
    assert cli.main(["log", "--store", "no-such-store"]) == 2 and "no store" in capsys.readouterr().err

    assert cli.main(["dead-letters"]) == 0
    assert capsys.readouterr().out.strip() == "no dead letters"
    with shop.engine.begin() as conn:
        conn.execute(sa.insert(push_dead_letters).values(
            store_key=PUSHED, sku=failing, run_id="r1", action="update_price", error_class="RATE_LIMITED",
            message="429 Too Many Requests\nafter 5 attempts", attempts=5, first_failed_at=datetime(2026, 1, 1),
            last_failed_at=datetime(2026, 1, 2, 3, 4, 5)))
    assert cli.main(["dead-letters", "--store", PUSHED]) == 0
    out = capsys.readouterr().out
    header, rule, row = out.splitlines()[:3]
    assert header.split()[:5] == ["store", "sku", "action", "class", "attempts"]
    assert row.split()[:5] == [PUSHED, failing, "update_price", "RATE_LIMITED", "5"]
    assert "2026-01-02 03:04:05" in row and "429 Too Many Requests after 5 attempts" in row
    assert cli.main(["--json", "dead-letters"]) == 0
    (letter,) = json.loads(capsys.readouterr().out)
    assert letter["sku"] == failing and letter["attempts"] == 5 and letter["error_class"] == "RATE_LIMITED"
    assert cli.main(["dead-letters", "--store", "shopee-sg"]) == 0
    assert capsys.readouterr().out.strip() == "no dead letters on shopee-sg"


def test_product_status_table_is_the_owners_list_problems_first_and_exports_csv(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_pipeline.defs.status import product_status

    failing = _skus(shop.engine, 3)[-1]
    with shop.engine.begin() as conn:
        conn.execute(sa.insert(push_dead_letters).values(
            store_key=PUSHED, sku=failing, run_id="r1", action="update_price", error_class="NETWORK_ERROR",
            message="reset", attempts=2, first_failed_at=datetime(2026, 1, 1), last_failed_at=datetime(2026, 1, 1)))
    target = tmp_path / "exports" / "status.csv"
    monkeypatch.setenv("SYNC_STATUS_CSV", str(target))
    result = materialize([product_status], resources=shop.resources)
    assert result.success
    meta = {k: v.value for k, v in result.asset_materializations_for_node("product_status")[0].metadata.items()}
    keys = [s.key for s in shop.stores()]
    with shop.engine.connect() as conn:
        products = conn.execute(sa.select(sa.func.count()).select_from(catalog_products)).scalar_one()
    assert meta["products"] == products and meta["stores"] == len(keys)
    # Per-state listing figures count product-by-store listings and say so; they add up to listings.
    assert not {"synced", "not_synced", "invalid", "error", "delisted"} & set(meta)
    assert meta["listings_synced"] > 0 and meta["listings_synced"] + meta["listings_not_synced"] \
        + meta["listings_invalid"] + meta["listings_error"] + meta["listings_delisted"] \
        == meta["listings"] == products * len(keys)
    # products counted once each (by their worst store) ...
    assert sum(meta[f"products_{state.value.replace(' ', '_')}"] for state in SyncState) == products
    assert meta["products_error"] == 1
    # ... and product-by-store counts apart, every store and state present
    per_store = {r.data["store"]: r.data for r in meta["products_per_store"].records}
    assert list(per_store) == keys
    assert all(sum(row[s.value] for s in SyncState) == products for row in per_store.values())
    assert per_store[PUSHED]["error"] == 1 and per_store["shopee-sg"]["not synced"] == products
    records = [r.data for r in meta["product_list"].records]
    assert list(records[0]) == ["sku", "title", "master price", *[f"{k} price" for k in keys],
                                *[f"{k} state" for k in keys]]
    assert records[0]["sku"] == failing and records[0][f"{PUSHED} state"] == "error"  # problems first
    synced = next(r for r in records if r[f"{PUSHED} state"] == "synced")
    assert synced[f"{PUSHED} price"].endswith(" USD") and synced["shopee-sg price"] == "-"
    assert meta["csv"] == str(target.resolve())
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0] == csv_header(keys) and len(rows) == products + 1
    assert not list(target.parent.glob("*.partial"))


def test_product_status_is_requested_after_an_import_and_after_a_push(shop: Shop) -> None:
    """The automation condition, evaluated as the automation sensor evaluates it, on a real instance."""
    from dagster import DagsterInstance, Definitions, evaluate_automation_conditions

    from sync_pipeline.defs.status import product_status

    assets = Definitions(assets=[catalog.magento_products, catalog.catalog_products, listings_asset, store_push,
                                 product_status], resources=shop.resources)
    with DagsterInstance.ephemeral() as instance:
        first = evaluate_automation_conditions(defs=assets, instance=instance)
        assert first.total_requested == 0  # nothing imported or pushed yet on this instance
        assert materialize([catalog.magento_products, catalog.catalog_products], resources=shop.resources,
                           instance=instance).success
        after_import = evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor)
        assert after_import.get_num_requested(product_status.key) == 1
        assert materialize([product_status], resources=shop.resources, instance=instance).success
        settled = evaluate_automation_conditions(defs=assets, instance=instance, cursor=after_import.cursor)
        assert settled.get_num_requested(product_status.key) == 0
        assert materialize([listings_asset, store_push], partition_key=PUSHED, resources=shop.resources,
                           instance=instance).success
        after_push = evaluate_automation_conditions(defs=assets, instance=instance, cursor=settled.cursor)
        assert after_push.get_num_requested(product_status.key) == 1


def test_reconciliation_reports_products_changed_or_deleted_on_the_store(shop: Shop) -> None:
    import dataclasses

    from sync_pipeline.defs.status import store_drift
    from sync_pipeline.platforms.base import RemoteRef
    from sync_pipeline.platforms.factory import build_client
    from sync_pipeline.platforms.tokens import DbTokenStore
    from sync_pipeline.push.ledger import load_mappings

    in_step = materialize([store_drift], partition_key=PUSHED, resources=shop.resources)
    assert in_step.success
    meta = {k: v.value for k, v in in_step.asset_materializations_for_node("store_drift")[0].metadata.items()}
    assert meta["checked"] > 0 and meta["drifted"] == 0
    (check,) = in_step.get_asset_check_evaluations()
    assert check.passed

    deleted, repriced = _skus(shop.engine, 2)
    store = next(s for s in shop.stores() if s.key == PUSHED)
    client = build_client(store, DbTokenStore(shop.engine))
    mappings = load_mappings(shop.engine, PUSHED)
    try:  # someone edits the store by hand
        client.delete_product(RemoteRef(mappings[deleted].external_id or "", dict(mappings[deleted].external_variant_ids)))
        listing = mappings[repriced].last_listing()
        assert listing is not None
        cheaper = dataclasses.replace(listing, variants=tuple(
            dataclasses.replace(v, price=v.price - 1) for v in listing.variants))
        ref = mappings[repriced].ref
        assert ref is not None
        client.update_prices(ref, cheaper)
    finally:
        client.close()

    drifted = materialize([store_drift], partition_key=PUSHED, resources=shop.resources)
    assert drifted.success  # drift is reported, not a failed run
    meta = {k: v.value for k, v in drifted.asset_materializations_for_node("store_drift")[0].metadata.items()}
    assert (meta["deleted_on_store"], meta["changed_on_store"], meta["drifted"]) == (1, 1, 2)
    assert deleted in meta["deleted_skus"] and repriced in meta["changes"] and "price of" in meta["changes"]
    (check,) = drifted.get_asset_check_evaluations()
    assert not check.passed and check.severity.value == "WARN"
