"""Shopify throughput: 500 listings (3 variants, 4 images each) into one sandbox store.

Shopify's ceiling is points, not requests: the store and the client keep the default bucket
(2000 points, restored at 100 points/s, contract 1.7). The first 2000 points are a burst; after it
no client can sustain more than 100 points/s, so the figure that matters is the points/s consumed
after the burst against that 100. Workers push listings from a thread pool, as the push does.
Run: ``.venv/bin/python -m benchmarks.shopify_throughput [--listings 500 --workers 8]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.platforms.base import CallRecord
from sync_pipeline.platforms.shopify.client import ShopifyClient
from sync_pipeline.platforms.shopify.graphql import DEFAULT_BUCKET_SIZE, DEFAULT_RESTORE_RATE
from sync_pipeline.sandbox.app import build_sandbox
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import StoreConfig

TOKEN_VAR = "BENCH_SHOPIFY_TOKEN"


def bench_listing(n: int) -> Listing:
    sku = f"BENCH-{n:04d}"
    images = tuple(f"https://img.example/{sku}/{i}.jpg" for i in range(4))
    variants = tuple(
        ListingVariant(f"{sku}-{size}", Decimal("20.00") + i, None, 10 + i, {"Size": size}, images[i])
        for i, size in enumerate(("S", "M", "L"))
    )
    return Listing(
        store_key="bench",
        platform="shopify",
        sku=sku,
        source_id=n,
        action="list",
        title=f"Bench Tee {n}",
        description="<p>Bench.</p>",
        price=Decimal("20.00"),
        compare_at_price=None,
        currency="USD",
        stock_qty=33,
        images=images,
        category_id=None,
        handle=sku.lower(),
        options=("Size",),
        variants=variants,
    )


class CostLog:
    """Actual cost and throttles as reported in each response (the observer sees every call)."""

    def __init__(self) -> None:
        self.points = 0
        self.throttled = 0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, record: CallRecord) -> None:
        try:
            body = json.loads(record.response_body or "")
        except ValueError:
            return
        cost = (body.get("extensions") or {}).get("cost") or {}
        with self._lock:
            self.calls += 1
            if cost.get("actualQueryCost") is None:
                self.throttled += 1
            else:
                self.points += int(cost["actualQueryCost"])


def run(listings: int, workers: int) -> dict[str, float]:
    os.environ[TOKEN_VAR] = "shpat_bench_token"
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = build_sandbox(Path(tmp) / "sandbox.db", ["shopify"])
        with SandboxServer(sandbox) as server:
            sandbox.emulator("shopify").provision(
                "bench", {"access_token": os.environ[TOKEN_VAR]}
            )  # default bucket
            store = StoreConfig(
                key="bench",
                platform="shopify",
                name="Bench",
                endpoint=f"{server.url}/shopify/bench",
                credentials={"access_token": TOKEN_VAR},
                settings={"location_id": "gid://shopify/Location/1"},
            )
            log = CostLog()
            client = ShopifyClient(store, observer=log)
            work = [bench_listing(n) for n in range(listings)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                refs = list(pool.map(lambda item: client.upsert(item, None), work))
            elapsed = time.perf_counter() - started
            stored = len(sandbox.state.list("shopify", "bench", "product"))
    steady_points = max(log.points - DEFAULT_BUCKET_SIZE, 0)
    return {
        "listings": listings,
        "stored": stored,
        "refs": len(refs),
        "seconds": elapsed,
        "calls": log.calls,
        "throttled": log.throttled,
        "points": log.points,
        "points_per_s": log.points / elapsed,
        "steady_points_per_s": steady_points / elapsed,
        "ceiling": DEFAULT_RESTORE_RATE,
        "ceiling_with_burst": (DEFAULT_BUCKET_SIZE + DEFAULT_RESTORE_RATE * elapsed) / elapsed,
        "products_per_s": listings / elapsed,
        "requests_per_s": log.calls / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    r = run(args.listings, args.workers)
    print(
        f"shopify: {r['listings']} listings -> {r['stored']} products in {r['seconds']:.1f} s "
        f"({r['products_per_s']:.2f} products/s, {r['requests_per_s']:.2f} requests/s, {r['throttled']} throttled answers)"
    )
    print(
        f"points consumed: {r['points']} ({r['points_per_s']:.1f} points/s overall, "
        f"ceiling incl. the {DEFAULT_BUCKET_SIZE:.0f}-point burst {r['ceiling_with_burst']:.1f} points/s = "
        f"{100 * r['points_per_s'] / r['ceiling_with_burst']:.1f}%)"
    )
    print(
        f"after the burst: {r['steady_points_per_s']:.1f} points/s of {r['ceiling']:.0f} "
        f"= {100 * r['steady_points_per_s'] / r['ceiling']:.1f}% of the restore rate"
    )


if __name__ == "__main__":
    main()
