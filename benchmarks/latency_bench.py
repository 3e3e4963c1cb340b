"""Latency of a Magento change to every store, measured as a shop owner would (issue 14).

    .venv/bin/python -m benchmarks.latency_bench [--products 48000] [--on-website 300] [--changes 10]

What runs, all real and on loopback:

* a generated Magento catalog of ``--products`` products in a throwaway MariaDB database; the
  website carries the first ``--on-website`` top-level products (with their variants), so the four
  stores hold a few hundred products each. (Pushing every sellable product of a 48k catalog to
  four sandbox stores at their rate ceilings first would take longer than the measurement.) The
  sensor still polls, and every import still reads, the whole 48k catalog;
* the app DB and the Dagster instance (``dagster.yaml``: run storage, run queue) in throwaway
  PostgreSQL databases;
* the four demo stores as sandbox HTTP servers in this process;
* ``dagster-daemon run`` with ``SYNC_AUTOMATION=on``: ``magento_change_sensor`` requests
  ``catalog_sync``, whose last asset pushes the changes to every store.

Then ``--changes`` changes of each kind, one at a time: a price change (``updated_at`` touched, as
a product save does), a stock change (only ``cataloginventory_stock_item``, as an order does) and
a product disabled (status 2, ``updated_at`` touched). Each store is read back through its own API
(every 0.5 s) until it shows the change; the latency is from the Magento commit to the last store.
The breakdown comes from the run's own events in the instance: sensor wait (commit to the run's
creation), queue (to dequeued), start-up (to the first step), import (the catalog steps), push
(``catalog_changes_pushed``), and the read-back after it. The writes each change cost per store are
the sandbox's own counts. Also: the sensor's polling query with MariaDB's ``EXPLAIN`` and its time
on the 48k catalog, and the load average with every figure. No figure is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.demo import DEMO_CREDENTIALS
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.mview import enable_update_by_schedule
from sync_pipeline.magento.watermark import read_watermark
from sync_pipeline.platforms.base import RemoteProduct
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.tables import store_mappings, store_sync_marks
from sync_pipeline.sandbox.app import build_sandbox, provision_from_stores_file
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import DEMO_STORES_FILE, StoreConfig, load_stores

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
READ_BACK_EVERY_S = 0.5
CHANGE_TIMEOUT_S = 180.0
MEDIAN_TARGET_S, P95_TARGET_S = 15.0, 30.0
KINDS = ("price", "stock", "disable")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# --- the world ------------------------------------------------------------------------------------


@dataclass
class World:
    root: Path
    magento: sa.Engine
    app: sa.Engine
    stores: list[StoreConfig]
    sandbox: SandboxServer
    instance_env: dict[str, str]
    daemon: subprocess.Popen[bytes] | None = None


@contextmanager
def throwaway_databases(magento_db: str | None = None) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A MariaDB database for Magento, PostgreSQL ones for the app and the Dagster instance; with
    ``magento_db``, that existing (generated, yours to change) MariaDB database is used and kept."""
    tag = uuid.uuid4().hex[:8]
    names = {"magento": f"lat_magento_{tag}", "app": f"lat_app_{tag}", "instance": f"lat_dagster_{tag}"}
    maria = sa.create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
    pg = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    if magento_db:
        names["magento"] = magento_db
    else:
        with maria.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{names['magento']}`"))
    with pg.connect() as conn:
        for key in ("app", "instance"):
            conn.execute(sa.text(f'CREATE DATABASE "{names[key]}"'))
    pg_url = sa.make_url(POSTGRES_ADMIN_URL)
    env = {"DAGSTER_PG_HOST": pg_url.host or "127.0.0.1", "DAGSTER_PG_PORT": str(pg_url.port or 5432),
           "DAGSTER_PG_USER": pg_url.username or "postgres", "DAGSTER_PG_PASSWORD": pg_url.password or "",
           "DAGSTER_PG_DB": names["instance"]}
    try:
        yield (f"{MARIADB_ADMIN_URL.rstrip('/')}/{names['magento']}",
               pg_url.set(database=names["app"]).render_as_string(hide_password=False), env)
    finally:
        if not magento_db:
            with maria.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{names['magento']}`"))
        with pg.connect() as conn:
            for key in ("app", "instance"):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{names[key]}" WITH (FORCE)'))
        maria.dispose()
        pg.dispose()


def keep_on_website(magento: sa.Engine, count: int) -> int:
    """Only the first ``count`` top-level products (and their variants) stay on the website."""
    with magento.begin() as conn:
        parents = [int(i) for i in conn.execute(sa.text(
            "SELECT e.entity_id FROM catalog_product_entity e WHERE NOT EXISTS "
            "(SELECT 1 FROM catalog_product_super_link l WHERE l.product_id = e.entity_id) "
            "ORDER BY e.entity_id LIMIT :n"), {"n": count}).scalars()]
        children = [int(i) for i in conn.execute(sa.text(
            f"SELECT product_id FROM catalog_product_super_link WHERE parent_id IN ({_ids(parents)})")).scalars()]
        kept = parents + children
        conn.execute(sa.text(f"DELETE FROM catalog_product_website WHERE product_id NOT IN ({_ids(kept)})"))
    return len(parents)


def _ids(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids) or "0"


def start_daemon(world: World, magento_url: str, app_url: str, stores_file: Path) -> None:
    home = world.root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    (world.root / "workspace.yaml").write_text(
        f"load_from:\n  - python_module:\n      module_name: sync_pipeline.definitions\n"
        f"      working_directory: {ROOT}\n      location_name: sync_pipeline\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "SYNC_", "MAGENTO_"))}
    env.update(DEMO_CREDENTIALS)
    env.update(world.instance_env)
    env.update({
        "DAGSTER_HOME": str(home), "MAGENTO_DB_URL": magento_url, "SYNC_DB_URL": app_url,
        "SYNC_STORES_FILE": str(stores_file), "SYNC_AUTOMATION": "on", "PYTHONPATH": str(ROOT),
        "SYNC_DATA_DIR": str(world.root / "data"), "DAGSTER_DISABLE_TELEMETRY": "1",
        "MAGENTO_MEDIA_BASE_URL": f"{world.sandbox.url}/_sandbox/media/catalog/product",
    })
    log = open(world.root / "daemon.log", "wb")  # noqa: SIM115 - closed with the process
    world.daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(world.root / "workspace.yaml")],
                                    cwd=world.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)


def stop_daemon(world: World) -> None:
    if world.daemon is not None and world.daemon.poll() is None:
        os.killpg(world.daemon.pid, signal.SIGTERM)
        try:
            world.daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(world.daemon.pid, signal.SIGKILL)
            world.daemon.wait(timeout=10)


def wait_for(what: str, predicate: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def stores_in_step(world: World) -> bool:
    with world.app.connect() as conn:
        pushed = conn.execute(sa.select(sa.func.count()).select_from(store_sync_marks)
                              .where(store_sync_marks.c.listings_pushed_at.is_not(None))).scalar_one()
    return int(pushed) == len(world.stores)


# --- one change -------------------------------------------------------------------------------------


@dataclass
class Change:
    kind: str
    sku: str
    source_id: int
    written_at: float = 0.0
    seen_at: dict[str, float] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    step_overhead_s: float = 0.0
    load: str = ""

    @property
    def latency_s(self) -> float:
        return max(self.seen_at.values()) - self.written_at if self.seen_at else float("nan")


def attribute_id(conn: sa.Connection, code: str) -> int:
    return int(conn.execute(sa.text("SELECT attribute_id FROM eav_attribute WHERE entity_type_id = 4 "
                                    "AND attribute_code = :c"), {"c": code}).scalar_one())


def write_change(magento: sa.Engine, change: Change) -> None:
    with magento.begin() as conn:
        if change.kind == "price":
            conn.execute(sa.text("UPDATE catalog_product_entity_decimal SET value = value + 1 "
                                 "WHERE attribute_id = :a AND entity_id = :e"),
                         {"a": attribute_id(conn, "price"), "e": change.source_id})
        elif change.kind == "stock":
            conn.execute(sa.text("UPDATE cataloginventory_stock_item SET qty = qty + 3 "
                                 "WHERE stock_id = 1 AND product_id = :e"), {"e": change.source_id})
        else:
            conn.execute(sa.text("UPDATE catalog_product_entity_int SET value = 2 "
                                 "WHERE attribute_id = :a AND entity_id = :e"),
                         {"a": attribute_id(conn, "status"), "e": change.source_id})
        if change.kind != "stock":  # a save in Magento's admin touches updated_at; an order does not
            conn.execute(sa.text("UPDATE catalog_product_entity SET updated_at = UTC_TIMESTAMP() "
                                 "WHERE entity_id = :e"), {"e": change.source_id})
        change.written_at = time.time()


def fingerprint(product: RemoteProduct | None, kind: str) -> Any:
    if product is None:
        return None
    if kind == "price":
        return tuple(v.price for v in product.variants)
    if kind == "stock":
        return tuple(v.stock_qty for v in product.variants)
    return product.status


def read_back(world: World, change: Change, before: dict[str, Any]) -> None:
    """Each store polled through its own API until the product differs from what it showed before."""

    def watch(store: StoreConfig) -> None:
        client = build_client(store, DbTokenStore(world.app))
        try:
            deadline = time.time() + CHANGE_TIMEOUT_S
            while time.time() < deadline:
                if fingerprint(client.find_by_sku(change.sku), change.kind) != before[store.key]:
                    change.seen_at[store.key] = time.time()
                    return
                time.sleep(READ_BACK_EVERY_S)
        finally:
            client.close()

    threads = [threading.Thread(target=watch, args=(s,), daemon=True) for s in world.stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def breakdown(instance: Any, change: Change) -> None:
    """Where the time went, from the catalog_sync run's own events."""
    from dagster import DagsterEventType, RunsFilter

    def runs() -> list[Any]:
        records = instance.get_run_records(RunsFilter(job_name="catalog_sync"), limit=5)
        return [r for r in records if r.create_timestamp.timestamp() >= change.written_at - 0.5
                and r.dagster_run.is_finished]

    (record, *_) = wait_for("the change's catalog_sync run to finish", runs, 120, every=0.5)
    events = instance.all_logs(record.dagster_run.run_id)
    first: dict[Any, float] = {}
    steps: dict[str, list[float]] = {}
    for event in events:
        kind = event.dagster_event.event_type if event.dagster_event else None
        if kind is None:
            continue
        first.setdefault(kind, event.timestamp)
        if kind in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            steps.setdefault(event.step_key or "", []).append(event.timestamp)
    created = record.create_timestamp.timestamp()
    dequeued = first.get(DagsterEventType.RUN_DEQUEUED, created)
    step_start = first[DagsterEventType.STEP_START]
    push_start, push_end = steps["catalog_changes_pushed"][0], steps["catalog_changes_pushed"][-1]
    ended = first.get(DagsterEventType.RUN_SUCCESS) or first.get(DagsterEventType.RUN_FAILURE) or push_end
    # The start-up, split by the run's own events: the daemon's launch (dequeued -> RUN_STARTING),
    # the run process (RUN_STARTING -> RUN_START: a new Python importing Dagster and loading the code
    # location), and the run's set-up before its first step (RUN_START -> STEP_START).
    starting = first.get(DagsterEventType.RUN_STARTING, dequeued)
    run_start = first.get(DagsterEventType.RUN_START, starting)
    change.breakdown = {
        "sensor wait": created - change.written_at,
        "queue": dequeued - created,
        "start-up": step_start - dequeued,
        "launch": starting - dequeued,
        "process": run_start - starting,
        "to step": step_start - run_start,
        "import": push_start - step_start,
        "push": push_end - push_start,
        "read-back": max(change.seen_at.values()) - push_end if change.seen_at else float("nan"),
    }
    durations = [times[-1] - times[0] for times in steps.values()]
    change.steps = len(durations)
    change.step_overhead_s = ((ended - step_start) - sum(durations)) / max(1, len(durations))


def pick_products(world: World, count: int) -> list[tuple[str, int]]:
    """Simple products in stock, without a special price, listed on every store (so each change
    shows on all four)."""
    every_store = (sa.select(store_mappings.c.sku).where(store_mappings.c.status == "listed")
                   .group_by(store_mappings.c.sku)
                   .having(sa.func.count(sa.distinct(store_mappings.c.store_key)) == len(world.stores)))
    with world.app.connect() as conn:
        rows = conn.execute(sa.select(catalog_products.c.sku, catalog_products.c.source_id)
                            .where(catalog_products.c.is_active.is_(True), catalog_products.c.type_id == "simple",
                                   catalog_products.c.stock_qty > 2, catalog_products.c.sku.in_(every_store),
                                   # no special price: a regular-price change then moves the selling price
                                   catalog_products.c.special_price.is_(None))
                            .order_by(catalog_products.c.source_id)).all()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} simple products in stock on every store; raise --on-website")
    return [(r.sku, int(r.source_id)) for r in rows]


def measure(world: World, instance: Any, kind: str, sku: str, source_id: int) -> Change:
    change = Change(kind, sku, source_id)
    before: dict[str, Any] = {}
    for store in world.stores:
        client = build_client(store, DbTokenStore(world.app))
        try:
            before[store.key] = fingerprint(client.find_by_sku(sku), kind)
        finally:
            client.close()
    writes_before = {s.key: _writes(world, s) for s in world.stores}
    change.load = load()
    write_change(world.magento, change)
    read_back(world, change, before)
    breakdown(instance, change)
    change.writes = {s.key: _writes(world, s) - writes_before[s.key] for s in world.stores}
    return change


def _writes(world: World, store: StoreConfig) -> int:
    platform = store.platform.value
    ident = {"shopee": str(store.settings.get("shop_id")), "tiktok": str(store.settings.get("shop_cipher"))}.get(
        platform, store.endpoint.rstrip("/").rsplit("/", 1)[1])
    return int(world.sandbox.sandbox.state.call_counts(platform, ident)["writes"])


# --- the sensor's polling cost ---------------------------------------------------------------------


def polling_cost(magento: sa.Engine, samples: int = 20) -> list[tuple[str, list[str], float]]:
    """MariaDB's plan and the median time over ``samples`` reads, for the statement the sensor uses
    (Magento's changelogs when the indexers are on schedule) and for the table scan it falls back to."""
    from sync_pipeline.magento import watermark as w

    used = read_watermark(magento).source
    results = []
    for name, statement in (("changelog", w.changelog_statement(msi=False)), ("scan", w.scan_statement())):
        if name == "changelog" and used != "changelog":
            continue
        sql = str(statement.compile(magento, compile_kwargs={"literal_binds": True}))
        with magento.connect() as conn:
            plan = [" | ".join(str(v) for v in row) for row in conn.execute(sa.text("EXPLAIN " + sql))]
            times = []
            for _ in range(samples):
                started = time.perf_counter()
                conn.execute(sa.text(sql)).all()
                times.append(time.perf_counter() - started)
        results.append((name + (" (used by the sensor)" if name == used else ""), plan, statistics.median(times)))
    return results


# --- report ------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def report(changes: list[Change]) -> None:
    print("\nlatency from the Magento commit to the last store showing it (s)")
    print(f"{'kind':<9}{'n':>3}{'min':>8}{'median':>8}{'p95':>8}{'max':>8}   targets: median <= "
          f"{MEDIAN_TARGET_S:.0f}, p95 <= {P95_TARGET_S:.0f}")
    everything = []
    for kind in KINDS:
        values = [c.latency_s for c in changes if c.kind == kind and c.seen_at]
        everything += values
        if values:
            print(f"{kind:<9}{len(values):>3}{min(values):>8.1f}{statistics.median(values):>8.1f}"
                  f"{percentile(values, 0.95):>8.1f}{max(values):>8.1f}")
    if everything:
        median, p95 = statistics.median(everything), percentile(everything, 0.95)
        print(f"{'all':<9}{len(everything):>3}{min(everything):>8.1f}{median:>8.1f}{p95:>8.1f}{max(everything):>8.1f}"
              f"   median {'met' if median <= MEDIAN_TARGET_S else 'MISSED'}, "
              f"p95 {'met' if p95 <= P95_TARGET_S else 'MISSED'}")
    missing = [c for c in changes if len(c.seen_at) < 4]
    if missing:
        print(f"{len(missing)} change(s) not seen on every store within {CHANGE_TIMEOUT_S:.0f} s")
    print("\nbreakdown, median per kind (s)")
    parts = list(changes[0].breakdown) if changes and changes[0].breakdown else []
    print(f"{'kind':<9}" + "".join(f"{p:>12}" for p in parts))
    for kind in KINDS:
        chosen = [c for c in changes if c.kind == kind and c.breakdown]
        if chosen:
            print(f"{kind:<9}" + "".join(f"{statistics.median(c.breakdown[p] for c in chosen):>12.2f}" for p in parts))
    overheads = [c.step_overhead_s for c in changes if c.steps]
    if overheads:
        print(f"\nper-step overhead inside a run (run wall minus step times, per step): median "
              f"{statistics.median(overheads) * 1000:.0f} ms over {changes[0].steps} steps")
    print("\nwrites per store and change (sandbox counts)")
    for kind in KINDS:
        seen = sorted({tuple(sorted(c.writes.items())) for c in changes if c.kind == kind})
        print(f"  {kind}: " + "; ".join(", ".join(f"{k} {v}" for k, v in w) for w in seen))
    print("\nload average (1/5/15 min) at each change: " + ", ".join(c.load.split()[0] for c in changes))


def run(products: int, on_website: int, per_kind: int, update_by_schedule: bool = True,
        magento_db: str | None = None) -> int:
    started = time.monotonic()
    print(f"load at start {load()}; {os.cpu_count()} CPUs")
    with throwaway_databases(magento_db) as (magento_url, app_url, instance_env), \
            tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        root = Path(tmp)
        magento, app = make_engine(magento_url), make_engine(app_url)
        create_all(app)
        t = time.monotonic()
        if magento_db:
            print(f"Magento catalog: the existing database {magento_db} (generated with --products {products})")
        else:
            generate_catalog(magento, products=products, seed=7, today=date.today())
            print(f"generated {products} Magento products in {time.monotonic() - t:.1f} s")
        kept = keep_on_website(magento, on_website)
        if update_by_schedule:
            enable_update_by_schedule(magento)
        for name, plan, poll_s in polling_cost(magento):
            print(f"\nthe watermark statement, {name}, on {products} products: median {poll_s * 1000:.1f} ms "
                  f"(20 reads, load {load()}); MariaDB EXPLAIN:")
            for line in plan:
                print("  " + line)
        sandbox = SandboxServer(build_sandbox(root / "sandbox.db"), port=0).start()
        stores_file = root / "stores.yaml"
        stores_file.write_text(DEMO_STORES_FILE.read_text().replace("http://127.0.0.1:8765", sandbox.url))
        for name, value in DEMO_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        provision_from_stores_file(sandbox.sandbox, stores_file)
        os.environ.update(instance_env)
        world = World(root, magento, app, load_stores(stores_file).stores, sandbox, instance_env)
        try:
            start_daemon(world, magento_url, app_url, stores_file)
            t = time.monotonic()
            wait_for("the first import and push to every store", lambda: stores_in_step(world), 1800, every=2)
            print(f"\nfirst catalog_sync ({kept} products on the website, all four stores) in "
                  f"{time.monotonic() - t:.1f} s (load {load()})")
            from dagster import DagsterInstance

            instance = DagsterInstance.from_config(str(root / "dagster_home"))
            wait_for("the first run to finish", lambda: not _active(instance), 300)
            candidates = pick_products(world, per_kind + 1)
            # Disabled products stay disabled, so each disable takes a product of its own; price and
            # stock changes take turns over the others.
            disabled, others = candidates[:per_kind], candidates[per_kind:]
            plan = [("price", others[i % len(others)]) for i in range(per_kind)]
            plan += [("stock", others[(i + 1) % len(others)]) for i in range(per_kind)]
            plan += [("disable", product) for product in disabled]
            order = [plan[i + k * per_kind] for i in range(per_kind) for k in range(len(KINDS))]
            changes: list[Change] = []
            for kind, (sku, source_id) in order:
                change = measure(world, instance, kind, sku, source_id)
                changes.append(change)
                print(f"  {kind:<8}{sku:<14}{change.latency_s:6.1f} s  "
                      + " ".join(f"{k} {v:.1f}" for k, v in change.breakdown.items())
                      + f"  writes {sum(change.writes.values())}  load {change.load.split()[0]}", flush=True)
                wait_for("the run queue to drain", lambda: not _active(instance), 120, every=0.5)
            report(changes)
        finally:
            stop_daemon(world)
            sandbox.stop()
            magento.dispose()
            app.dispose()
            if world.daemon is not None and world.daemon.returncode not in (0, -signal.SIGTERM, None):
                print((root / "daemon.log").read_text()[-4000:], file=sys.stderr)
    print(f"\nload at end {load()}; whole benchmark {time.monotonic() - started:.0f} s")
    return 0


def _active(instance: Any) -> bool:
    from dagster import DagsterRunStatus, RunsFilter

    busy = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
            DagsterRunStatus.STARTED]
    return bool(instance.get_run_records(RunsFilter(statuses=busy), limit=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=48000)
    parser.add_argument("--on-website", type=int, default=600)
    parser.add_argument("--changes", type=int, default=10, help="changes of each kind")
    parser.add_argument("--on-save", action="store_true",
                        help="leave Magento's indexers on 'Update on Save' (no changelogs: the sensor scans)")
    parser.add_argument("--magento-db", help="an existing generated MariaDB database to use (and change) "
                                                 "instead of generating one")
    args = parser.parse_args()
    return run(args.products, args.on_website, args.changes, update_by_schedule=not args.on_save,
               magento_db=args.magento_db)


if __name__ == "__main__":
    sys.exit(main())


