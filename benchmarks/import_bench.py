"""Magento import figures (issue 2, section 8): a generated catalog in MariaDB imported into PostgreSQL.

    .venv/bin/python -m benchmarks.import_bench [--products 48000] [--seed 7] [--dirty] [--profile FILE]
                                                [--msi] [--import-only]

``--msi`` generates Multi-Source Inventory too (sources, a second stock, reservations); the reader
then computes salable quantities from it and the raw read also fetches the source items and
reservations. ``--import-only`` stops after the raw reads and the full import (phases 1-3).

Everything is measured in one process, so the ratios hold on a noisy machine:

1. raw read: the same driver (pymysql through SQLAlchemy) reads every row of the five
   ``catalog_product_entity_*`` value tables, the stock items and the super links, with no
   processing (run before and after the import; the faster run is the floor);
2. full import in "everything due" mode (``start_import`` then ``load_staged``, what
   ``run_import`` does, timed apart): wall time, products/s, peak RSS, the job's metrics;
3. the ratio full import / raw read;
4. runs with nothing changed: three as plain Python (the median is judged) and one through Dagster (``materialize`` of
   ``magento_products`` and ``catalog_products`` with real resources), next to the time Dagster
   takes to materialize two trivial assets in the same process;
5. a run after 1% of the products changed price (``updated_at`` touched) and 1% changed stock
   (``updated_at`` left alone, as Magento does), with the changes checked in the catalog.

Memory: the RSS high-water mark (``VmHWM`` of ``/proc/self/status``), reset before each phase by
writing ``5`` to ``/proc/self/clear_refs``, so each phase reports its own peak; the process's
``ru_maxrss`` is printed at the end too. The catalog is generated in a child process so the
generator's memory never counts. Both databases are created here and dropped at the end, on
failure too. No figure is asserted: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing import get_context
from typing import Any, TypeVar

import sqlalchemy as sa

from sync_pipeline.catalog.imports import start_import
from sync_pipeline.catalog.load import LoadResult, load_staged
from sync_pipeline.catalog.request import ImportRequest
from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.magento import schema as m
from sync_pipeline.magento.reader import MagentoCatalogReader

MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

QUIET_DAGSTER_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RAW_RATIO_TARGET = 3.0
NO_CHANGE_TARGET_S = 1.0
NO_CHANGE_RUNS = 3  # one sample on a loaded machine says little; the verdict takes the median
PEAK_RSS_TARGET_MB = 500.0
CHANGED_SHARE = 0.01
SOLD_OUT_SHARE = 0.1  # of the stock changes, this share sells out (the product must turn inactive)
PRICE_STEP = Decimal("1.00")
STOCK_STEP = 5

T = TypeVar("T")


# --- measuring ---------------------------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Start a new RSS high-water mark (Linux >= 4.0); False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


@dataclass
class Phase:
    label: str
    seconds: float = 0.0
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measured(label: str, phases: list[Phase]) -> Iterator[Phase]:
    phase = Phase(label)
    _reset_peak_rss()
    phase.rss_before_mb = _status_kb("VmRSS") / 1024
    started = time.perf_counter()
    try:
        yield phase
    finally:
        phase.seconds = time.perf_counter() - started
        phase.peak_rss_mb = _status_kb("VmHWM") / 1024
        phases.append(phase)
        print(f"  {label}: {phase.seconds:.2f} s, peak RSS {phase.peak_rss_mb:.0f} MB", flush=True)


# --- throwaway databases -----------------------------------------------------------------------


@dataclass
class Databases:
    magento_url: str
    app_url: str
    drop: list[Callable[[], None]]


@contextmanager
def throwaway_databases() -> Iterator[Databases]:
    name = f"sp_bench_{uuid.uuid4().hex[:10]}"
    drops: list[Callable[[], None]] = []
    try:
        maria = sa.create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with maria.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"))
        drops.append(lambda: _drop(maria, f"DROP DATABASE IF EXISTS `{name}`"))
        postgres = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with postgres.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        drops.append(lambda: _drop(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        yield Databases(
            magento_url=f"{MARIADB_ADMIN_URL.rstrip('/')}/{name}?charset=utf8mb4",
            app_url=f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
            drop=drops,
        )
    finally:
        for drop in reversed(drops):
            drop()
        print(f"dropped the throwaway databases {name}", flush=True)


def _drop(admin: sa.Engine, statement: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(statement))
    admin.dispose()


# --- the phases --------------------------------------------------------------------------------


def generate_in_child(magento_url: str, products: int, seed: int, dirty: bool, msi: bool = False) -> dict[str, int]:
    """Runs in a child process: the generator's own memory never reaches this process's peak."""
    from sync_pipeline.magento.generator import generate_catalog

    engine = make_engine(magento_url)
    try:
        catalog = generate_catalog(engine, products=products, seed=seed, dirty=dirty, msi=msi)
    finally:
        engine.dispose()
    return {"products": catalog.products, "children": catalog.children, "entities": catalog.entities,
            "sellable": len(catalog.sellable_ids), "rejections": len(catalog.expected_rejections)}


def raw_read(magento: sa.Engine) -> dict[str, int]:
    """Every value, stock and super-link row, fetched by the driver and dropped: the floor."""
    queries = {table.name: f"SELECT entity_id, attribute_id, store_id, value FROM {table.name}"
               for table in m.PRODUCT_VALUE_TABLES.values()}
    queries["cataloginventory_stock_item"] = (
        "SELECT product_id, qty, is_in_stock, manage_stock, use_config_manage_stock FROM cataloginventory_stock_item")
    queries["catalog_product_super_link"] = "SELECT parent_id, product_id FROM catalog_product_super_link"
    rows = {}
    with magento.connect() as conn:
        if sa.inspect(conn).has_table("inventory_source_item"):
            queries["inventory_source_item"] = "SELECT source_code, sku, quantity, status FROM inventory_source_item"
            queries["inventory_reservation"] = "SELECT stock_id, sku, quantity FROM inventory_reservation"
        for table, query in queries.items():
            rows[table] = len(conn.exec_driver_sql(query).fetchall())
    return rows


def raw_read_of_imported(magento: sa.Engine, app: sa.Engine, batch: int = 500) -> int:
    """The stricter floor: only the value rows of the products and variants the catalog holds,
    read in id batches like the reader does (still no processing)."""
    with app.connect() as conn:
        ids = sorted({int(i) for i in conn.execute(sa.select(catalog_products.c.source_id)).scalars()}
                     | {int(i) for i in conn.execute(sa.select(catalog_variants.c.source_id)).scalars()})
    rows = 0
    with magento.connect() as conn:
        for start in range(0, len(ids), batch):
            in_list = ",".join(str(i) for i in ids[start:start + batch])
            for table in m.PRODUCT_VALUE_TABLES.values():
                rows += len(conn.exec_driver_sql(
                    f"SELECT entity_id, attribute_id, store_id, value FROM {table.name} "
                    f"WHERE entity_id IN ({in_list})").fetchall())
            rows += len(conn.exec_driver_sql(
                f"SELECT product_id, qty, is_in_stock FROM cataloginventory_stock_item "
                f"WHERE product_id IN ({in_list})").fetchall())
    return rows


@dataclass
class ImportFigures:
    extract_s: float
    load_s: float
    loaded: LoadResult
    extract: dict[str, int]


def import_everything_due(magento: sa.Engine, app: sa.Engine) -> ImportFigures:
    """What ``run_import`` does, with the extract and the load timed apart."""
    started = time.perf_counter()
    reader = MagentoCatalogReader(magento)
    extract = start_import(app, reader, ImportRequest.everything_due())
    extracted = time.perf_counter()
    loaded = load_staged(app)
    if loaded is None:
        raise RuntimeError("the staged extract vanished before it was loaded")
    return ImportFigures(
        extract_s=extracted - started, load_s=time.perf_counter() - extracted, loaded=loaded,
        extract={"new": extract.new, "changed": extract.changed, "reconciled": extract.reconciled,
                 "gone": extract.gone},
    )


def profiled(path: str | None, work: Callable[[], T]) -> T:
    if path is None:
        return work()
    profile = cProfile.Profile()
    result = profile.runcall(work)
    profile.dump_stats(path)
    stats = pstats.Stats(profile).sort_stats("cumulative")
    print(f"  profile written to {path}; top functions by cumulative time:")
    stats.print_stats(30)
    return result


# --- through Dagster ---------------------------------------------------------------------------


def dagster_trivial_materialize() -> float:
    """Dagster's own cost: two trivial assets (one depending on the other), same process."""
    from dagster import asset, materialize

    @asset
    def trivial_upstream() -> int:
        return 1

    @asset
    def trivial_downstream(trivial_upstream: int) -> int:
        return trivial_upstream + 1

    started = time.perf_counter()
    result = materialize([trivial_upstream, trivial_downstream], run_config=QUIET_DAGSTER_LOGS)
    if not result.success:
        raise RuntimeError("the trivial materialization failed")
    return time.perf_counter() - started


def dagster_import(magento_url: str, app_url: str) -> tuple[float, dict[str, Any]]:
    from dagster import materialize

    from sync_pipeline.defs.catalog import catalog_products as catalog_asset
    from sync_pipeline.defs.catalog import magento_products
    from sync_pipeline.defs.resources import AppDatabase, MagentoDatabase

    started = time.perf_counter()
    result = materialize([magento_products, catalog_asset],
                         resources={"magento_db": MagentoDatabase(url=magento_url),
                                    "app_db": AppDatabase(url=app_url)},
                         run_config=QUIET_DAGSTER_LOGS)
    seconds = time.perf_counter() - started
    if not result.success:
        raise RuntimeError("the Dagster import failed")
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key is not None and e.asset_key.to_user_string() == "catalog_products"]
    metadata = {k: v.value for k, v in event.materialization.metadata.items()
                if k in ("total_found", "inserted", "updated", "skipped", "errors_count", "elapsed_ms")}
    return seconds, metadata


# --- 1% of prices and stock change in Magento --------------------------------------------------


@dataclass
class Changes:
    prices: dict[str, Decimal]  # sku -> expected catalog price
    stock: dict[str, int]  # sku -> expected catalog stock
    sold_out: set[str]


def change_prices_and_stock(magento: sa.Engine, app: sa.Engine, share: float, seed: int) -> Changes:
    """Price changes touch ``updated_at``; stock changes do not, as Magento's stock updates do not."""
    with app.connect() as conn:
        simple = conn.execute(
            sa.select(catalog_products.c.sku, catalog_products.c.source_id, catalog_products.c.price,
                      catalog_products.c.stock_qty)
            .where(catalog_products.c.is_active.is_(True), catalog_products.c.type_id == "simple",
                   catalog_products.c.stock_qty > 0)
            .order_by(catalog_products.c.source_id)
        ).all()
    with magento.connect() as conn:
        total = int(conn.execute(sa.text(
            "SELECT COUNT(*) FROM catalog_product_entity e WHERE NOT EXISTS "
            "(SELECT 1 FROM catalog_product_super_link l WHERE l.product_id = e.entity_id)")).scalar_one())
        managed = {int(i) for i in conn.execute(sa.text(
            "SELECT product_id FROM cataloginventory_stock_item WHERE stock_id = 1 AND "
            "(manage_stock = 1 OR use_config_manage_stock = 1)")).scalars()}
    per_kind = max(1, round(total * share))
    candidates = [r for r in simple if r.source_id in managed]
    chosen = random.Random(seed).sample(candidates, min(2 * per_kind, len(candidates)))
    priced, stocked = chosen[:per_kind], chosen[per_kind:]
    sold_out = stocked[: max(1, round(len(stocked) * SOLD_OUT_SHARE))]
    with magento.begin() as conn:
        price_id = int(conn.execute(sa.text(
            "SELECT attribute_id FROM eav_attribute WHERE entity_type_id = 4 AND attribute_code = 'price'"
        )).scalar_one())
        conn.execute(sa.text(
            f"UPDATE catalog_product_entity_decimal SET value = value + {PRICE_STEP} "
            f"WHERE attribute_id = {price_id} AND entity_id IN ({_id_list(priced)})"))
        conn.execute(sa.text(
            f"UPDATE catalog_product_entity SET updated_at = UTC_TIMESTAMP() WHERE entity_id IN ({_id_list(priced)})"))
        conn.execute(sa.text(
            f"UPDATE cataloginventory_stock_item SET qty = qty + {STOCK_STEP} "
            f"WHERE stock_id = 1 AND product_id IN ({_id_list(stocked)})"))
        conn.execute(sa.text(
            "UPDATE cataloginventory_stock_item SET qty = 0, is_in_stock = 0 "
            f"WHERE stock_id = 1 AND product_id IN ({_id_list(sold_out)})"))
    sold_out_skus = {r.sku for r in sold_out}
    return Changes(
        prices={r.sku: Decimal(r.price) + PRICE_STEP for r in priced},
        stock={r.sku: 0 if r.sku in sold_out_skus else int(r.stock_qty) + STOCK_STEP for r in stocked},
        sold_out=sold_out_skus,
    )


def _id_list(rows: list[Any]) -> str:
    return ",".join(str(int(r.source_id)) for r in rows)


def changes_that_did_not_land(app: sa.Engine, changes: Changes) -> list[str]:
    wanted = sorted(set(changes.prices) | set(changes.stock))
    with app.connect() as conn:
        rows = {r.sku: r for r in conn.execute(
            sa.select(catalog_products.c.sku, catalog_products.c.price, catalog_products.c.stock_qty,
                      catalog_products.c.is_active).where(catalog_products.c.sku.in_(wanted)))}
        variants = {r.sku: r for r in conn.execute(
            sa.select(catalog_variants.c.sku, catalog_variants.c.price, catalog_variants.c.stock_qty,
                      catalog_variants.c.is_active).where(catalog_variants.c.sku.in_(wanted)))}
    problems = []
    for sku, price in changes.prices.items():
        for where, row in (("product", rows.get(sku)), ("variant", variants.get(sku))):
            if row is None or Decimal(row.price) != price:
                problems.append(f"{sku}: {where} price {None if row is None else row.price}, expected {price}")
    for sku, qty in changes.stock.items():
        active = sku not in changes.sold_out
        for where, row in (("product", rows.get(sku)), ("variant", variants.get(sku))):
            if row is None or int(row.stock_qty) != qty or bool(row.is_active) != active:
                problems.append(f"{sku}: {where} stock/active {None if row is None else (row.stock_qty, row.is_active)}, "
                                f"expected {(qty, active)}")
    return problems


# --- the run -----------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _machine() -> str:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPUs, {total_kb / 1024 / 1024:.1f} GiB memory, Python {sys.version.split()[0]}, "
            f"load average {load}")


def run(products: int, seed: int, dirty: bool, profile_path: str | None, msi: bool = False,
        import_only: bool = False) -> int:
    print(f"machine: {_machine()}", flush=True)
    if not _reset_peak_rss():
        print("warning: /proc/self/clear_refs refused; peaks are process-wide high-water marks", flush=True)
    phases: list[Phase] = []
    with throwaway_databases() as dbs:
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            generated = pool.submit(generate_in_child, dbs.magento_url, products, seed, dirty, msi).result()
        print(f"generated in a child process in {time.perf_counter() - started:.1f} s: {generated}", flush=True)

        magento = make_engine(dbs.magento_url)
        app = make_engine(dbs.app_url)
        create_all(app)
        try:
            with measured("raw read (before)", phases) as raw_before:
                raw_before.notes = raw_read(magento)
            with measured("full import", phases) as full:
                figures = profiled(profile_path, lambda: import_everything_due(magento, app))
            with measured("raw read (after)", phases) as raw_after:
                raw_after.notes = raw_read(magento)
            with measured("raw read of the imported products' rows", phases) as raw_imported:
                raw_imported.notes = {"rows": raw_read_of_imported(magento, app)}
            if import_only:
                raw_s = min(raw_before.seconds, raw_after.seconds)
                print(f"\nMagento catalog: {generated}; MSI: {msi}; reader: {figures.extract}")
                print(f"raw read {raw_s:.2f} s ({sum(raw_before.notes.values()):,} rows: {raw_before.notes}); "
                      f"full import {full.seconds:.2f} s (extract {figures.extract_s:.2f} s + load "
                      f"{figures.load_s:.2f} s); ratio {full.seconds / raw_s:.2f}x (target <= "
                      f"{RAW_RATIO_TARGET:.0f}x: {_verdict(full.seconds / raw_s <= RAW_RATIO_TARGET)}); "
                      f"peak RSS {full.peak_rss_mb:.0f} MB")
                print(f"at the end: {_machine()}")
                return 0
            quiet_runs = []
            for attempt in range(1, NO_CHANGE_RUNS + 1):
                with measured(f"no-change run, plain Python, {attempt} of {NO_CHANGE_RUNS}", phases) as quiet:
                    quiet_figures = import_everything_due(magento, app)
                quiet_runs.append(quiet.seconds)
            quiet_median = statistics.median(quiet_runs)
            with measured("Dagster: trivial two-asset materialize, 1st", phases) as trivial_cold:
                dagster_trivial_materialize()
            with measured("Dagster: trivial two-asset materialize, 2nd", phases) as trivial_warm:
                dagster_trivial_materialize()
            with measured("no-change run through Dagster", phases) as quiet_dagster:
                quiet_dagster.notes = dagster_import(dbs.magento_url, dbs.app_url)[1]
            with measured("Dagster: trivial two-asset materialize, 3rd", phases) as trivial_after:
                dagster_trivial_materialize()
            changes = change_prices_and_stock(magento, app, CHANGED_SHARE, seed)
            with measured("run after 1% price + 1% stock changes", phases) as after_changes:
                changed_figures = import_everything_due(magento, app)
            missing = changes_that_did_not_land(app, changes)
        finally:
            magento.dispose()
            app.dispose()

    raw_rows = sum(raw_before.notes.values())
    raw_s = min(raw_before.seconds, raw_after.seconds)
    ratio = full.seconds / raw_s
    strict_ratio = full.seconds / raw_imported.seconds
    metrics = figures.loaded.metrics
    dagster_overhead = min(trivial_warm.seconds, trivial_after.seconds)
    dagster_import_share = quiet_dagster.seconds - dagster_overhead

    print()
    print(f"Magento catalog: {generated['products']} products + {generated['children']} children "
          f"({generated['entities']} entities), {generated['sellable']} sellable by the generator's count")
    print(f"full import: extract {figures.extract_s:.2f} s + load {figures.load_s:.2f} s; extract {figures.extract}")
    print(f"full import metrics: total_found {metrics.total_found}, processed {metrics.processed}, inserted "
          f"{metrics.inserted}, updated {metrics.updated}, skipped {metrics.skipped}, errors_count "
          f"{metrics.errors_count}, last_processed_source_id {metrics.last_processed_source_id}")
    quiet_m = quiet_figures.loaded.metrics
    print(f"no-change run: extract {quiet_figures.extract_s:.2f} s + load {quiet_figures.load_s:.2f} s; "
          f"{quiet_figures.extract}; inserted {quiet_m.inserted}, updated {quiet_m.updated}")
    print(f"no-change run through Dagster: catalog_products metadata {quiet_dagster.notes}")
    changed_m = changed_figures.loaded.metrics
    print(f"after changes: {len(changes.prices)} prices, {len(changes.stock)} stock ({len(changes.sold_out)} sold out); "
          f"extract {changed_figures.extract}; inserted {changed_m.inserted}, updated {changed_m.updated}; "
          f"not landed: {len(missing)}")
    for problem in missing[:10]:
        print(f"  {problem}")
    print()

    table = [
        ("raw read, all value/stock/link rows", f"{raw_s:.2f} s ({raw_rows:,} rows; runs "
         f"{raw_before.seconds:.2f} / {raw_after.seconds:.2f} s)", "", ""),
        ("raw read, imported products' rows only", f"{raw_imported.seconds:.2f} s "
         f"({raw_imported.notes['rows']:,} rows)", "", ""),
        ("full import (extract + load)", f"{full.seconds:.2f} s", "", ""),
        ("  Magento products examined / s", f"{products / full.seconds:,.0f}", "", ""),
        ("  catalog products written / s", f"{(metrics.inserted + metrics.updated) / full.seconds:,.0f}", "", ""),
        ("  peak RSS (VmHWM) during the import", f"{full.peak_rss_mb:.0f} MB (from {full.rss_before_mb:.0f} MB)",
         f"< {PEAK_RSS_TARGET_MB:.0f} MB", _verdict(full.peak_rss_mb < PEAK_RSS_TARGET_MB)),
        ("ratio full import / raw read (all rows)", f"{ratio:.2f}x", f"<= {RAW_RATIO_TARGET:.0f}x",
         _verdict(ratio <= RAW_RATIO_TARGET)),
        ("ratio full import / raw read (imported rows)", f"{strict_ratio:.2f}x", "(stricter, info)", ""),
        ("no-change run, plain Python (median; runs)",
         f"{quiet_median:.2f} s ({' / '.join(f'{q:.2f}' for q in quiet_runs)})", f"<= {NO_CHANGE_TARGET_S:.0f} s",
         _verdict(quiet_median <= NO_CHANGE_TARGET_S)),
        ("Dagster trivial materialize (1st / 2nd / 3rd)",
         f"{trivial_cold.seconds:.2f} / {trivial_warm.seconds:.2f} / {trivial_after.seconds:.2f} s", "", ""),
        ("no-change run through Dagster", f"{quiet_dagster.seconds:.2f} s", "", ""),
        ("  minus Dagster's own (best trivial)", f"{dagster_import_share:.2f} s", f"<= {NO_CHANGE_TARGET_S:.0f} s",
         _verdict(dagster_import_share <= NO_CHANGE_TARGET_S)),
        ("run after 1% price + 1% stock changes", f"{after_changes.seconds:.2f} s", "changes land",
         _verdict(not missing)),
        ("process ru_maxrss (whole run)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
         "", ""),
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    header = ("measure", "figure", "target", "verdict")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nat the end: {_machine()}")
    return 0 if not missing else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=48_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirty", action="store_true", help="add the generator's showcase of bad rows")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the full import into FILE (slows it down)")
    parser.add_argument("--msi", action="store_true", help="generate MSI sources, stocks and reservations too")
    parser.add_argument("--import-only", action="store_true", help="stop after the raw reads and the full import")
    args = parser.parse_args()
    return run(args.products, args.seed, args.dirty, args.profile, args.msi, args.import_only)


if __name__ == "__main__":
    raise SystemExit(main())
