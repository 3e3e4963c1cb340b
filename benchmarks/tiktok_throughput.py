"""TikTok Shop throughput: 500 listings (3 variants, 4 images each) into one sandbox shop.

The shop and the client both keep TikTok's default limit (50 QPS, 4.4); the client's limiter is
one for all APIs, so the ceiling is 50 requests/s. Workers push listings from a thread pool, as
the push does. Run: ``.venv/bin/python -m benchmarks.tiktok_throughput [--listings 500 --workers 8]``.
"""

from __future__ import annotations

import argparse
import os
import struct
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from benchmarks.support import CallCounter, MemoryTokenStore
from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant, Package
from sync_pipeline.platforms.tiktok.client import TikTokClient
from sync_pipeline.platforms.tiktok.wire import DEFAULT_QPS
from sync_pipeline.sandbox.app import build_sandbox
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import StoreConfig

CIPHER = "bench_cipher"
SECRETS = {"BENCH_TT_APP_KEY": "bench-app", "BENCH_TT_APP_SECRET": "bench-secret-value",
           "BENCH_TT_ACCESS": "TTP_bench-access", "BENCH_TT_REFRESH": "TTP_bench-refresh"}


def _png(shade: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([shade % 256]) * 300 for _ in range(300))
    header = struct.pack(">IIBBBBB", 300, 300, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _listing(n: int) -> Listing:
    sku = f"BENCH-{n:05d}"
    variants = tuple(
        ListingVariant(f"{sku}-{size}", Decimal("25.99"), None, 10 + i, {"Size": size})
        for i, size in enumerate(("S", "M", "L"))
    )
    return Listing(
        store_key="tiktok-bench", platform="tiktok", sku=sku, source_id=n, action="list",
        title=f"Benchmark hoodie number {n}", description="<p>Warm.</p>", price=Decimal("25.99"),
        compare_at_price=None, currency="USD", stock_qty=33,
        images=tuple(f"http://media.example.test/{sku}/{i}.png" for i in range(4)),
        category_id="601152", handle=sku.lower(), options=("Size",), variants=variants, weight_kg=Decimal("0.4"),
        # US shops need package dimensions (real-stores 1.2)
        details=CatalogDetails(package=Package(Decimal("0.4"), "KILOGRAM", Decimal(30), Decimal(20), Decimal(5))),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    os.environ.update(SECRETS)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = build_sandbox(Path(tmp) / "sandbox.db", ("tiktok",))
        with SandboxServer(sandbox) as server:
            sandbox.emulator("tiktok").provision(CIPHER, {  # the platform's defaults: 50 QPS per API
                "app_key": SECRETS["BENCH_TT_APP_KEY"], "app_secret": SECRETS["BENCH_TT_APP_SECRET"],
                "access_token": SECRETS["BENCH_TT_ACCESS"], "refresh_token": SECRETS["BENCH_TT_REFRESH"],
                "warehouse_id": "7000001"})
            store = StoreConfig(
                key="tiktok-bench", platform="tiktok", name="bench", endpoint=f"{server.url}/tiktok",  # type: ignore[arg-type]
                credentials={"app_key": "BENCH_TT_APP_KEY", "app_secret": "BENCH_TT_APP_SECRET",
                             "access_token": "BENCH_TT_ACCESS", "refresh_token": "BENCH_TT_REFRESH"},
                settings={"shop_cipher": CIPHER, "warehouse_id": "7000001",
                          "auth_endpoint": f"{server.url}/tiktok-auth"},
            )
            calls = CallCounter()
            image = _png(128)
            client = TikTokClient(store, MemoryTokenStore(), observer=calls, image_source=lambda url: image,
                                  pool_size=args.workers)
            listings = [_listing(n) for n in range(args.listings)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                refs = list(pool.map(lambda item: client.upsert(item, None), listings))
            elapsed = time.perf_counter() - started
            client.close()
            counts = sandbox.state.call_counts("tiktok", CIPHER)
    requests_sent = sum(calls.outcomes.values())
    rate = requests_sent / elapsed
    throttled = sum(n for (_op, _outcome, status), n in calls.outcomes.items() if status == 429)
    print(f"listings: {len(refs)} created ({len({r.product_id for r in refs})} distinct products)")
    print(f"requests: {requests_sent} sent, {counts['total']} served, {throttled} answered 429")
    print(f"by operation: {dict(counts['operations'])}")
    print(f"elapsed: {elapsed:.1f} s; throughput {rate:.1f} requests/s = {rate / DEFAULT_QPS:.0%} of the "
          f"{DEFAULT_QPS:.0f} QPS ceiling; {len(refs) / elapsed:.2f} listings/s")


if __name__ == "__main__":
    main()
