"""Shopee throughput: 500 listings (3 variants, 4 images each) into one sandbox shop, defaults everywhere.

Shop and client keep their defaults: 10 requests/s (the client's ``DEFAULT_REQUESTS_PER_SECOND``;
Shopee publishes no product quota), 5 s between ``add_item`` and ``init_tier_variation``, 4 h tokens.
Each listing costs one ``upload_image`` (four files in one call), ``add_item`` and
``init_tier_variation``; images are fetched over HTTP from the sandbox's media stand-in.
Run: ``.venv/bin/python -m benchmarks.shopee_throughput [--listings 500 --workers 24]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from benchmarks.support import CallCounter, MemoryTokenStore
from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.platforms.shopee.client import DEFAULT_REQUESTS_PER_SECOND, ShopeeClient
from sync_pipeline.sandbox.app import build_sandbox
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import StoreConfig

SHOP_ID = "300001"
SECRETS = {"BENCH_SHOPEE_PARTNER_ID": "2001887", "BENCH_SHOPEE_PARTNER_KEY": "bench-partner-key",
           "BENCH_SHOPEE_ACCESS": "bench-access-token", "BENCH_SHOPEE_REFRESH": "bench-refresh-token"}


def _listing(n: int, media: str) -> Listing:
    sku = f"BENCH-{n:05d}"
    variants = tuple(
        ListingVariant(f"{sku}-{size}", Decimal("25.90"), None, 10 + i, {"Size": size}, None, Decimal("0.4"))
        for i, size in enumerate(("S", "M", "L"))
    )
    return Listing(
        store_key="shopee-bench", platform="shopee", sku=sku, source_id=n, action="list",
        title=f"Benchmark fleece hoodie number {n}", description="Warm fleece hoodie with a zip and pockets.",
        price=Decimal("25.90"), compare_at_price=None, currency="SGD", stock_qty=33,
        images=tuple(f"{media}/{sku}/{i}.png" for i in range(4)), category_id="100017", handle=sku.lower(),
        options=("Size",), variants=variants, weight_kg=Decimal("0.4"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=500)
    parser.add_argument("--workers", type=int, default=24)
    args = parser.parse_args()
    os.environ.update(SECRETS)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = build_sandbox(Path(tmp) / "sandbox.db", ("shopee",))
        with SandboxServer(sandbox) as server:
            sandbox.emulator("shopee").provision(SHOP_ID, {  # the shop's defaults: 10 req/s, 5 s tier wait
                "partner_id": int(SECRETS["BENCH_SHOPEE_PARTNER_ID"]),
                "partner_key": SECRETS["BENCH_SHOPEE_PARTNER_KEY"],
                "access_token": SECRETS["BENCH_SHOPEE_ACCESS"], "refresh_token": SECRETS["BENCH_SHOPEE_REFRESH"]})
            store = StoreConfig.model_validate({
                "key": "shopee-bench", "platform": "shopee", "name": "bench", "endpoint": f"{server.url}/shopee",
                "currency": "SGD", "settings": {"shop_id": int(SHOP_ID)},
                "credentials": {"partner_id": "BENCH_SHOPEE_PARTNER_ID", "partner_key": "BENCH_SHOPEE_PARTNER_KEY",
                                "access_token": "BENCH_SHOPEE_ACCESS", "refresh_token": "BENCH_SHOPEE_REFRESH"},
            })
            calls = CallCounter()
            client = ShopeeClient(store, MemoryTokenStore(), observer=calls, pool_size=args.workers)
            listings = [_listing(n, f"{server.url}/_sandbox/media") for n in range(args.listings)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                refs = list(pool.map(lambda item: client.upsert(item, None), listings))
            elapsed = time.perf_counter() - started
            client.close()
            shop_calls = sandbox.state.call_counts("shopee", SHOP_ID)
            media_calls = sandbox.state.call_counts("shopee", f"partner-{SECRETS['BENCH_SHOPEE_PARTNER_ID']}")
    sent = sum(calls.outcomes.values())
    rate = sent / elapsed
    throttled = sum(n for (_op, _outcome, status), n in calls.outcomes.items() if status == 429)
    print(f"listings: {len(refs)} created ({len({r.product_id for r in refs})} distinct items, "
          f"{sum(len(r.variant_ids) for r in refs)} models)")
    print(f"requests: {sent} sent, {shop_calls['total'] + media_calls['total']} served, {throttled} throttled")
    print(f"by operation: {dict(shop_calls['operations']) | dict(media_calls['operations'])}")
    print(f"workers: {args.workers}; elapsed {elapsed:.1f} s; throughput {rate:.2f} requests/s = "
          f"{rate / DEFAULT_REQUESTS_PER_SECOND:.0%} of the {DEFAULT_REQUESTS_PER_SECOND:.0f} requests/s ceiling; "
          f"{len(refs) / elapsed:.2f} listings/s")


if __name__ == "__main__":
    main()
