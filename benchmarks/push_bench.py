"""Store push benchmark (issue 5, section 9): the whole push engine, one store per platform.

What it does, in order:

1. Starts the sandbox as its own process (``python -m sync_pipeline.sandbox``) with one Shopify,
   one Shopee and one TikTok store at the platforms' DEFAULT rate limits (Shopify: 2000-point
   bucket restored at 100 points/s; Shopee: 10 requests/s, the sandbox's and the client's
   default; TikTok: 50 QPS), and an image host serving real 300x300 PNGs (Shopee and TikTok upload
   image files, so the client fetches every image).
2. Seeds ``--products`` listings per store into a fresh PostgreSQL app DB (variants 1-5, 3 on
   average; images 2-6, 4 on average).
3. Pushes each store alone, each in its own process as a Dagster run would: products/s, API
   calls per product, share of the rate ceiling used, peak memory (max RSS of that process), and
   the CPU that process spent pushing (user + system, all its threads, from ``getrusage``; the
   sandbox is another process): per call, and as a share of one core at the rate reached.
4. Re-runs each store with nothing changed: the calls the sandbox counted must be 0.
5. Resets everything and pushes all stores together, one process each: wall time against the
   slowest single store.

Run (takes a while: Shopee at 10 requests/s is the slow one)::

    timeout 3000 .venv/bin/python -m benchmarks.push_bench --products 1000 > /tmp/push_bench.txt 2>&1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import yaml

from sync_pipeline.db import create_all, make_engine, utcnow
from sync_pipeline.listings.model import (
    AttributeValue,
    CatalogDetails,
    Listing,
    ListingAttribute,
    ListingVariant,
    Package,
    ShippingChoice,
)
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.base import CallObserver, CallRecord, StoreClient
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.engine import PushOptions, push_store
from sync_pipeline.stores import load_stores
from sync_pipeline_tests.platforms.tiktok_fixtures import png

POSTGRES = os.environ.get("PUSH_BENCH_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432")
SHOPIFY_BUCKET, SHOPIFY_RESTORE = 2000.0, 100.0
CEILINGS = {"shopify": SHOPIFY_RESTORE, "shopee": 10.0, "tiktok": 50.0}  # points/s or requests/s
BURSTS = {"shopify": SHOPIFY_BUCKET, "shopee": 10.0, "tiktok": 5.0}  # what a fresh bucket lends at start
CREDENTIALS = {
    "BENCH_SHOPIFY_TOKEN": "shpat_bench_push_token",
    "BENCH_SHOPEE_PID": "200999", "BENCH_SHOPEE_KEY": "shopee-bench-partner-key",
    "BENCH_SHOPEE_AT": "shopee-bench-access", "BENCH_SHOPEE_RT": "shopee-bench-refresh",
    "BENCH_TT_KEY": "tt-bench-app-key", "BENCH_TT_SECRET": "tt-bench-app-secret",
    "BENCH_TT_AT": "TTP_bench_access", "BENCH_TT_RT": "TTP_bench_refresh",
}
SANDBOX_IDS = {"bench-shopify": ("shopify", "bench"), "bench-shopee": ("shopee", "400001"),
               "bench-tiktok": ("tiktok", "bench_cipher")}


# --- the world: stores file, sandbox process, image host, app DB -------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_stores_file(path: Path, sandbox_url: str) -> None:
    """Three stores with no ``rate_limit``: the platforms' defaults apply on both sides."""
    stores = [
        {"key": "bench-shopify", "platform": "shopify", "name": "Bench Shopify", "endpoint": f"{sandbox_url}/shopify/bench",
         "credentials": {"access_token": "BENCH_SHOPIFY_TOKEN"},
         "settings": {"api_version": "2026-07", "location_id": "gid://shopify/Location/1"}},
        {"key": "bench-shopee", "platform": "shopee", "name": "Bench Shopee", "endpoint": f"{sandbox_url}/shopee",
         "currency": "SGD",
         "credentials": {"partner_id": "BENCH_SHOPEE_PID", "partner_key": "BENCH_SHOPEE_KEY",
                         "access_token": "BENCH_SHOPEE_AT", "refresh_token": "BENCH_SHOPEE_RT"},
         "settings": {"shop_id": 400001}},
        {"key": "bench-tiktok", "platform": "tiktok", "name": "Bench TikTok", "endpoint": f"{sandbox_url}/tiktok",
         "credentials": {"app_key": "BENCH_TT_KEY", "app_secret": "BENCH_TT_SECRET",
                         "access_token": "BENCH_TT_AT", "refresh_token": "BENCH_TT_RT"},
         "settings": {"shop_cipher": "bench_cipher", "warehouse_id": "7000001",
                      "auth_endpoint": f"{sandbox_url}/tiktok-auth"}},
    ]
    path.write_text(yaml.safe_dump({"stores": stores}), encoding="utf-8")


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    url: str

    def calls(self, store_key: str) -> dict[str, Any]:
        platform, sid = SANDBOX_IDS[store_key]
        answer: dict[str, Any] = requests.get(f"{self.url}/_sandbox/calls/{platform}/{sid}", timeout=30).json()
        return answer

    def products(self, store_key: str) -> int:
        platform, sid = SANDBOX_IDS[store_key]
        kind = {"shopify": "product", "shopee": "item", "tiktok": "products"}[platform]
        return len(requests.get(f"{self.url}/_sandbox/docs/{platform}/{sid}/{kind}", timeout=60).json())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_sandbox(workdir: Path, name: str) -> tuple[SandboxProcess, Path]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stores_file = workdir / f"stores-{name}.yaml"
    write_stores_file(stores_file, url)
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_pipeline.sandbox", "--port", str(port), "--state", str(workdir / f"{name}.db"),
         "--stores-file", str(stores_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ.copy())
    assert process.stdout is not None
    line = process.stdout.readline()  # "sandbox serving ... on URL" once it listens
    if "serving" not in line:
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return SandboxProcess(process, url), stores_file


@cache
def _image_bytes(shade: int) -> bytes:
    return png(300, 300, shade)


class _ImageHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        body = _image_bytes(sum(self.path.encode()) % 7)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_image_host() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def fresh_database(name: str) -> str:
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{POSTGRES}/{name}"
    engine = make_engine(url)
    create_all(engine)
    engine.dispose()
    return url


# --- the catalog ---------------------------------------------------------------------------------


def bench_listing(store_key: str, platform: str, n: int, media: str) -> Listing:
    sku = f"PB-{n:05d}"
    variants_count, images_count = 1 + n % 5, 2 + n % 5  # averages 3 and 4
    images = tuple(f"{media}/media/{sku}-{i}.png" for i in range(images_count))
    sizes = ("XS", "S", "M", "L", "XL")
    if variants_count == 1:
        variants: tuple[ListingVariant, ...] = (ListingVariant(sku, Decimal("24.00"), None, 7, {}),)
        options: tuple[str, ...] = ()
    else:
        variants = tuple(ListingVariant(f"{sku}-{sizes[i]}", Decimal("24.00") + i, Decimal("30.00") + i, 5 + i,
                                        {"Size": sizes[i]}) for i in range(variants_count))
        options = ("Size",)
    category = {"shopify": "Apparel & Accessories > Clothing > Shirts & Tops", "shopee": "100017",
                "tiktok": "601152"}[platform]
    return Listing(
        store_key=store_key, platform=platform, sku=sku, source_id=n + 1, action="list",  # type: ignore[arg-type]
        title=f"Everyday Organic Cotton Crew Tee Number {n} Soft Fit", description="<p>Soft organic cotton.</p>",
        price=variants[0].price, compare_at_price=None, currency="SGD" if platform == "shopee" else "USD",
        stock_qty=sum(v.stock_qty for v in variants), images=images, category_id=category, handle=sku.lower(),
        options=options, variants=variants, weight_kg=Decimal("0.5"),
        details=_details(platform),
    )


def _details(platform: str) -> CatalogDetails | None:
    """What a mapped store's listings carry (issue 10): attribute, brand, package, shipping channels."""
    package = Package(Decimal("0.5"), "KILOGRAM", Decimal(30), Decimal(20), Decimal(5))
    if platform == "tiktok":
        return CatalogDetails(attributes=(ListingAttribute("Material", "100157", (AttributeValue("Cotton", "1000059"),)),),
                              brand_id="7082427311584347905", brand_name="Luma", package=package)
    if platform == "shopee":
        return CatalogDetails(attributes=(ListingAttribute("Material", "100134", (AttributeValue("Cotton", "1001"),)),),
                              brand_id="3001", brand_name="Luma", package=package,
                              shipping=(ShippingChoice("10001"), ShippingChoice("10004", size_id="1")))
    return None


def seed_listings(db_url: str, products: int, media: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for store_key, (platform, _sid) in SANDBOX_IDS.items():
            rows = []
            for n in range(products):
                listing = bench_listing(store_key, platform, n, media)
                rows.append({
                    "store_key": store_key, "sku": listing.sku, "source_id": listing.source_id,
                    "platform": platform, "action": "list", "valid": True, "reasons": [], "title": listing.title,
                    "price": listing.price, "compare_at_price": None, "currency": listing.currency,
                    "stock_qty": listing.stock_qty, "payload": listing.to_json(), "updated_at": utcnow(),
                    **listing.hashes()})
            conn.execute(sa.insert(platform_listings), rows)
    engine.dispose()


# --- one store's push, in its own process ----------------------------------------------------------


class Tally:
    """What the client reports: calls, throttled answers, Shopify points actually charged."""

    def __init__(self, forward: CallObserver) -> None:
        self.forward = forward
        self.calls = self.throttled = self.points = 0
        self._lock = threading.Lock()

    def __call__(self, record: CallRecord) -> None:
        points = 0
        if record.operation and record.response_body and "actualQueryCost" in record.response_body:
            try:
                cost = (json.loads(record.response_body).get("extensions") or {}).get("cost") or {}
                points = int(cost.get("actualQueryCost") or 0)
            except ValueError:
                points = 0
        with self._lock:
            self.calls += 1
            self.points += points
            self.throttled += int(record.error_class == "RATE_LIMITED")
        self.forward(record)


def child(db_url: str, stores_file: str, store_key: str, read_rules: bool = True) -> None:
    store = load_stores(stores_file).by_key(store_key)
    engine = make_engine(db_url)
    tallies: list[Tally] = []

    def factory(observer: CallObserver) -> StoreClient:
        tally = Tally(observer)
        tallies.append(tally)
        return build_client(store, DbTokenStore(engine), observer=tally)

    # The store's catalog rules are read once per refresh (store_catalog_rules), never per product.
    rules_tally = Tally(lambda record: None)
    rules_started = time.perf_counter()
    if read_rules:  # the no-op re-run reads nothing: the rules are read per refresh, not per push
        rules_client = build_client(store, DbTokenStore(engine), observer=rules_tally)
        rules_client.read_catalog_rules([bench_listing(store_key, store.platform.value, 0, "").category_id or ""])
        rules_client.close()
    rules_seconds = time.perf_counter() - rules_started
    started = time.perf_counter()
    cpu_before = _cpu_seconds()
    report = push_store(engine, store, factory, PushOptions(error_threshold=1.0))
    cpu = _cpu_seconds() - cpu_before  # every thread of this process: the push's own CPU, not the sandbox's
    elapsed = time.perf_counter() - started
    p = report.progress
    print(json.dumps({
        "rules_calls": rules_tally.calls, "rules_seconds": rules_seconds,
        "store": store_key, "platform": store.platform.value, "seconds": elapsed, "created": p.created,
        "updated": p.updated, "unchanged": p.unchanged, "errors": p.errors, "first_errors": p.first_errors,
        "calls": sum(t.calls for t in tallies), "throttled": sum(t.throttled for t in tallies),
        "points": sum(t.points for t in tallies), "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": cpu,
    }))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_children(db_url: str, stores_file: Path, keys: list[str],
                 read_rules: bool = True) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-m", "benchmarks.push_bench", "--child", key, "--db", db_url,
                                   "--stores-file", str(stores_file), *([] if read_rules else ["--no-rules"])],
                                  stdout=subprocess.PIPE, text=True)
                 for key in keys]
    outputs = [process.communicate()[0] for process in processes]
    wall = time.perf_counter() - started
    results = []
    for key, out in zip(keys, outputs, strict=True):
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"{key}: the push process printed no result:\n{out}")
        results.append(json.loads(lines[-1]))
    return results, wall


def ceiling_share(result: dict[str, Any]) -> tuple[float, float]:
    """(share of the sustained ceiling, share of the ceiling counting the start-up burst)."""
    platform, seconds = result["platform"], result["seconds"]
    used = result["points"] if platform == "shopify" else result["calls"] - result["throttled"]
    burst, rate = BURSTS[platform], CEILINGS[platform]
    return max(used - burst, 0) / seconds / rate, used / (burst + rate * seconds)


def describe(result: dict[str, Any], products: int) -> str:
    steady, with_burst = ceiling_share(result)
    unit = "points/s" if result["platform"] == "shopify" else "req/s"
    used = result["points"] if result["platform"] == "shopify" else result["calls"]
    return (f"| {result['store']} | {products} | {result['created']} | {result['errors']} | {result['seconds']:.1f} | "
            f"{products / result['seconds']:.2f} | {result['calls'] / products:.2f} | "
            f"{used / result['seconds']:.1f} {unit} of {CEILINGS[result['platform']]:.0f} | {steady:.1%} | "
            f"{with_burst:.1%} | {result['throttled']} | {result['max_rss_mb']:.0f} | "
            f"{result['cpu_seconds']:.1f} | {1000 * result['cpu_seconds'] / max(result['calls'], 1):.1f} | "
            f"{result['cpu_seconds'] / result['seconds']:.0%} |")


HEADER = ("| store | products | created | errors | seconds | products/s | calls/product | rate used | "
          "share of ceiling (after burst) | share incl. burst | throttled answers | peak RSS MB | CPU s | "
          "CPU ms/call | CPU share of one core |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--stores", nargs="*", default=list(SANDBOX_IDS))
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stores-file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-rules", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    if args.child:
        child(args.db, args.stores_file, args.child, read_rules=not args.no_rules)
        return
    media = start_image_host()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"# push benchmark: {args.products} products per store, stores {args.stores}, "
              f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}", flush=True)
        sandbox, stores_file = start_sandbox(workdir, "single")
        try:
            db_url = fresh_database("push_bench_single")
            seed_listings(db_url, args.products, media)
            print("\n## each store alone\n" + HEADER, flush=True)
            singles = {}
            for key in args.stores:
                (result,), wall = run_children(db_url, stores_file, [key])
                result["on_store"], result["wall"] = sandbox.products(key), wall
                singles[key] = result
                print(describe(result, args.products) + f" <!-- on store: {result['on_store']}; rules read once: "
                      f"{result['rules_calls']} calls in {result['rules_seconds']:.2f} s -->", flush=True)
                if result["first_errors"]:
                    print(f"<!-- first errors: {result['first_errors']} -->", flush=True)
            print("\n## no-op re-run (nothing changed)\n", flush=True)
            for key in args.stores:
                before = sandbox.calls(key)["total"]
                (result,), _wall = run_children(db_url, stores_file, [key], read_rules=False)
                after = sandbox.calls(key)["total"]
                print(f"- {key}: {after - before} calls counted by the sandbox, {result['calls']} by the client, "
                      f"unchanged {result['unchanged']}, {result['seconds']:.2f} s", flush=True)
        finally:
            sandbox.stop()
        if args.skip_parallel or len(args.stores) < 2:
            return
        sandbox, stores_file = start_sandbox(workdir, "parallel")
        try:
            db_url = fresh_database("push_bench_parallel")
            seed_listings(db_url, args.products, media)
            results, wall = run_children(db_url, stores_file, args.stores)
            print("\n## all stores together (one process each)\n" + HEADER, flush=True)
            for result in results:
                print(describe(result, args.products) + f" <!-- on store: {sandbox.products(result['store'])} -->",
                      flush=True)
            slowest = max(singles.values(), key=lambda r: r["wall"])
            longest = max(r["seconds"] for r in results)
            print(f"\nparallel: wall time {wall:.1f} s (process start included) against the slowest single store's "
                  f"{slowest['wall']:.1f} s ({slowest['store']}): ratio {wall / slowest['wall']:.2f} (goal <= 1.20); "
                  f"push time alone: longest store {longest:.1f} s against {slowest['seconds']:.1f} s: ratio "
                  f"{longest / slowest['seconds']:.2f}", flush=True)
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
