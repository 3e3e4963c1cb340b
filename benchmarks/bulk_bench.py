"""First load of one Shopify store through bulk mutations against the per-call path (issue 13).

What it does:

1. Starts the sandbox as its own process with one Shopify store (2000-point bucket restored at
   100 points/s, Shopify's Standard plan) whose bulk runs are not held back by any rate of their own
   (``sandbox_bulk_lines_per_second`` 1e9): a bulk run then goes as fast as the sandbox can execute
   its lines on this machine.
2. Seeds ``--products`` listings (variants 1-5, 3 on average; images 2-6, 4 on average; the same
   catalog as ``push_bench``) into a fresh PostgreSQL app DB and pushes the store once with
   ``bulk_threshold`` 1000: one bulk ``productSet`` run, then one bulk ``publishablePublish`` run.
   Reported: the push's wall time, the pipeline's own part (building the JSONL and the intent rows,
   reading the result lines and writing mappings, snapshots and sync log: ``bulk_pipeline_s``, and
   the CPU of those phases, ``bulk_pipeline_cpu_s``), the CPU of the whole pushing process
   (``push_cpu_s``: planning and polling too; the DB server's own CPU is not in it) and the time
   spent staging, starting and polling (``bulk_waiting_s``: the sandbox's work here). On a loaded
   machine the wall figures are inflated by the wait for a core; the CPU figures much less.
3. Pushes ``--sample`` products of the same catalog through the per-call path into a second store
   and counts the points Shopify charged; the per-call first load of ``--products`` is then
   computed: points per product x products / 100 points/s (the ceiling; a per-call load cannot go
   faster than the bucket refills, whatever the pipeline does).
4. Models the bulk load on a real store: Shopify publishes no bulk processing rate, so
   ``--assumed-rate`` lines per second (for both runs) is an assumption, and the modelled run is
   lines / rate x 2 runs + the pipeline's own measured time.

Run::

    timeout 3000 .venv/bin/python -m benchmarks.bulk_bench --products 10000 --sample 200
    timeout 3000 .venv/bin/python -m benchmarks.bulk_bench --products 48000 --sample 200

``--skip-per-call --profile FILE`` runs the bulk push alone under cProfile (where the pipeline's own
time goes); ``--sandbox-rate`` sets the sandbox's bulk lines/s (default: as fast as it executes them).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import yaml

from benchmarks.push_bench import Tally, bench_listing, free_port, fresh_database, start_image_host
from sync_pipeline.db import make_engine, utcnow
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.base import CallObserver, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.engine import PushOptions, push_store
from sync_pipeline.stores import load_stores

CEILING = 100.0  # points/s restored, Shopify Standard plan
TOKEN_ENV = "BENCH_BULK_SHOPIFY_TOKEN"


def write_stores_file(path: Path, url: str, sandbox_rate: float) -> None:
    common = {"platform": "shopify", "credentials": {"access_token": TOKEN_ENV}}
    settings = {"api_version": "2026-07", "location_id": "gid://shopify/Location/1",
                "sandbox_bulk_lines_per_second": sandbox_rate, "bulk_poll_seconds": 1}
    stores = [
        {**common, "key": "bulk-bench", "name": "Bulk", "endpoint": f"{url}/shopify/bulkbench",
         "settings": {**settings, "bulk_threshold": 1000}},
        {**common, "key": "percall-bench", "name": "Per call", "endpoint": f"{url}/shopify/percallbench",
         "settings": {**settings, "bulk_threshold": 0}},
    ]
    path.write_text(yaml.safe_dump({"stores": stores}), encoding="utf-8")


def seed(db_url: str, store_key: str, products: int, media: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for start in range(0, products, 2000):
            rows = []
            for n in range(start, min(start + 2000, products)):
                listing = bench_listing(store_key, "shopify", n, media)
                rows.append({"store_key": store_key, "sku": listing.sku, "source_id": listing.source_id,
                             "platform": "shopify", "action": "list", "valid": True, "reasons": [],
                             "title": listing.title, "price": listing.price, "compare_at_price": None,
                             "currency": listing.currency, "stock_qty": listing.stock_qty,
                             "payload": listing.to_json(), "updated_at": utcnow(), **listing.hashes()})
            conn.execute(sa.insert(platform_listings), rows)
    engine.dispose()


def child(db_url: str, stores_file: str, store_key: str, profile: str | None = None) -> None:
    """One push in its own process, as a Dagster run would do it. ``profile``: a cProfile dump of
    the push goes there."""
    store = load_stores(stores_file).by_key(store_key)
    engine = make_engine(db_url)
    tallies: list[Tally] = []

    def factory(observer: CallObserver) -> StoreClient:
        tally = Tally(observer)
        tallies.append(tally)
        return build_client(store, DbTokenStore(engine), observer=tally)

    profiler = cProfile.Profile() if profile else None
    cpu_before = _cpu_s()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = push_store(engine, store, factory, PushOptions(error_threshold=1.0))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    p = report.progress
    print(json.dumps({"seconds": time.perf_counter() - started, "created": p.created, "errors": p.errors,
                      "first_errors": p.first_errors, "calls": sum(t.calls for t in tallies),
                      "points": sum(t.points for t in tallies), "bulk_lines": p.bulk_total,
                      "bulk_pipeline_s": p.bulk_pipeline_s, "bulk_waiting_s": p.bulk_waiting_s,
                      "bulk_pipeline_cpu_s": p.bulk_pipeline_cpu_s, "push_cpu_s": _cpu_s() - cpu_before,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _cpu_s() -> float:
    """CPU seconds of this process so far (user + system), whatever the machine's load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(db_url: str, stores_file: Path, key: str, profile: str | None = None) -> dict[str, Any]:
    extra = ["--profile", profile] if profile else []
    out = subprocess.run([sys.executable, "-m", "benchmarks.bulk_bench", "--child", key, "--db", db_url,
                          "--stores-file", str(stores_file), *extra], capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{key}: no result\n{out.stdout}\n{out.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--assumed-rate", type=float, nargs="+", default=[10.0, 25.0, 50.0])
    parser.add_argument("--child")
    parser.add_argument("--db")
    parser.add_argument("--stores-file")
    parser.add_argument("--profile", help="write a cProfile dump of the bulk push here")
    parser.add_argument("--skip-per-call", action="store_true", help="only the bulk push (profiling)")
    parser.add_argument("--sandbox-rate", type=float, default=1e9,
                        help="the sandbox's bulk lines/s (default: as fast as it can execute them)")
    args = parser.parse_args()
    os.environ.setdefault(TOKEN_ENV, "shpat_bulk_bench_token")
    if args.child:
        child(args.db, args.stores_file, args.child, args.profile)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bulk_bench_"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stores_file = workdir / "stores.yaml"
    write_stores_file(stores_file, url, args.sandbox_rate)
    sandbox = subprocess.Popen([sys.executable, "-m", "sync_pipeline.sandbox", "--port", str(port), "--state",
                                str(workdir / "sandbox.db"), "--stores-file", str(stores_file)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ.copy())
    assert sandbox.stdout is not None
    if "serving" not in sandbox.stdout.readline():
        raise RuntimeError("the sandbox did not start")
    try:
        media = start_image_host()
        db_url = fresh_database("bulk_bench")
        seed(db_url, "bulk-bench", args.products, media)
        seed(db_url, "percall-bench", args.sample, media)
        print(f"load before: {os.getloadavg()}", flush=True)
        bulk = run_child(db_url, stores_file, "bulk-bench", args.profile)
        print(json.dumps(bulk), flush=True)
        if args.skip_per_call:
            return
        per_call = run_child(db_url, stores_file, "percall-bench")
        print(json.dumps(per_call), flush=True)
        print(f"load after: {os.getloadavg()}", flush=True)
        on_store = len(requests.get(f"{url}/_sandbox/docs/shopify/bulkbench/product", timeout=300).json())
        report(args, bulk, per_call, on_store)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


def report(args: argparse.Namespace, bulk: dict[str, Any], per_call: dict[str, Any], on_store: int) -> None:
    n = args.products
    points_per_product = per_call["points"] / args.sample
    per_call_s = points_per_product * n / CEILING
    own = bulk["bulk_pipeline_s"]
    print(f"\nproducts {n}: bulk created {bulk['created']} (errors {bulk['errors']}), {on_store} on the store, "
          f"{bulk['calls']} calls, max RSS {bulk['max_rss_mb']:.0f} MB")
    print(f"bulk push wall (sandbox executing lines as fast as it can here): {bulk['seconds']:.1f} s; "
          f"pipeline's own {own:.1f} s; staging/starting/polling {bulk['bulk_waiting_s']:.1f} s "
          f"-> sandbox lines/s {2 * n / max(bulk['bulk_waiting_s'], 1e-9):.0f} (two runs)")
    print(f"per-call sample: {args.sample} products, {per_call['points']} points, {per_call['calls']} calls "
          f"-> {points_per_product:.1f} points/product -> {n} products at {CEILING:.0f} points/s = "
          f"{per_call_s:.0f} s ({per_call_s / 3600:.2f} h) (computed)")
    own_cpu, push_cpu = bulk["bulk_pipeline_cpu_s"], bulk["push_cpu_s"]
    print(f"pipeline's own phases: {own:.1f} s wall ({own / n * 1000:.2f} ms/product), {own_cpu:.1f} s CPU "
          f"({own_cpu / n * 1000:.2f} ms/product); pushing process CPU {push_cpu:.1f} s "
          f"({push_cpu / n * 1000:.2f} ms/product, planning and polling included; the DB server's CPU is not)")
    for rate in args.assumed_rate:
        modelled = 2 * n / rate + own
        print(f"assumed Shopify bulk rate {rate:g} lines/s: bulk load {modelled:.0f} s ({modelled / 60:.1f} min), "
              f"pipeline share {own / modelled:.1%} by wall here ({push_cpu / (2 * n / rate + push_cpu):.1%} by the "
              f"pushing process's CPU), {per_call_s / modelled:.1f}x faster than per-call")


if __name__ == "__main__":
    main()
