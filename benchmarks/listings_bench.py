"""Benchmark: per-store listings for a synthetic catalog, the way the ``platform_listings`` asset
computes them (``materialize_store_listings``), store after store in one process.

    .venv/bin/python -m benchmarks.listings_bench --products 5000 48000
    .venv/bin/python -m benchmarks.listings_bench --products 48000 --db-url postgresql+psycopg2://postgres@127.0.0.1:5432/bench

For each size: a fresh app DB is filled with synthetic catalog rows (not timed), then every demo
store's listings are computed and written (first run: all inserted), then computed again with
nothing changed (second run: nothing rewritten). Title generation is timed on its own, per
platform, over the same master titles. Peak memory is the process's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from sync_pipeline.catalog.product import CatalogProduct
from sync_pipeline.catalog.tables import catalog_products, catalog_variants
from sync_pipeline.db import create_all, make_engine, metadata, redact_url
from sync_pipeline.listings.shapes import store_title_limits, title_facts
from sync_pipeline.listings.store import catalog_chunks, materialize_store_listings
from sync_pipeline.listings.titles import seo_title
from sync_pipeline.stores import DEMO_STORES_FILE, Platform, load_stores

ADJECTIVES = ["Radiant", "Breathe-Easy", "Chaz", "Montana", "Oslo", "Summit", "Aero", "Nimbus", "Kodiak", "Sprite",
              "Zephyr", "Atlas", "Helios", "Juno", "Orion", "Pulse", "Rival", "Strike", "Tundra", "Vortex"]
MODIFIERS = ["Wind", "Trek", "Fleece", "Performance", "Seamless", "Ultralight", "Thermal", "Classic", "Pro",
             "Everyday", "Hybrid", "Stretch", "Cargo", "Compression", "Insulated"]
NOUNS = {
    "Men/Tops/Jackets": ["Jacket", "Shell", "Parka"],
    "Men/Tops/Tees": ["Tee", "Crew Tee", "Henley"],
    "Men/Bottoms/Pants": ["Pant", "Jogger", "Short"],
    "Women/Tops/Hoodies & Sweatshirts": ["Hoodie", "Sweatshirt", "Pullover"],
    "Women/Bottoms/Skirts": ["Skirt", "Skort"],
    "Gear/Bags": ["Duffle Bag", "Backpack", "Tote"],
    "Gear/Fitness Equipment": ["Yoga Mat", "Kettlebell", "Foam Roller"],
    "Gear/Watches": ["Analog Watch", "Sport Watch", "Chronograph"],
}
TAILS = ["", "", "", "for Men", "with Hood and Zipper Pockets", "- Water Resistant", "and Carry Pouch",
         "with Moisture Wicking Fabric for Running and Training Sessions"]
COLORS = ["Black", "Blue", "Gray", "Green", "Orange", "Purple", "Red", "White", "Yellow"]
SIZES = ["XS", "S", "M", "L", "XL"]
MATERIALS = ["Cotton", "Polyester", "Nylon", "Fleece", "Wool", "Leather", "Stainless Steel"]
NOW = datetime(2026, 11, 1)


def synthetic_catalog(count: int, seed: int = 7) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Products in batches of 1000: 40 % configurable with 2-10 variants, the rest simple."""
    rng = random.Random(seed)
    batch_products: list[dict[str, Any]] = []
    batch_variants: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        category = rng.choice(list(NOUNS))
        title = " ".join(
            w for w in (rng.choice(ADJECTIVES), rng.choice(MODIFIERS), rng.choice(NOUNS[category]), rng.choice(TAILS)) if w
        )
        sku = f"BN{n:06d}"
        price = Decimal(rng.randrange(500, 20000)) / 100
        configurable = rng.random() < 0.4
        batch_products.append({
            "sku": sku, "source_id": n, "type_id": "configurable" if configurable else "simple",
            "title": title, "description": f"<p>{title}: <strong>made to last</strong>.</p><ul><li>Light</li><li>Tough</li></ul>",
            "url_key": title.lower().replace(" ", "-") + f"-{n}", "price": price,
            "special_price": price * Decimal("0.8") if rng.random() < 0.2 else None,
            "stock_qty": rng.randrange(0, 200), "is_active": rng.random() > 0.05, "weight": Decimal("0.5"),
            "categories": [category], "images": [f"https://media.example/{sku}/{i}.jpg" for i in range(rng.randrange(1, 7))],
            "attributes": {"material": rng.choice(MATERIALS)}, "content_hash": "0" * 64,
            "created_at": NOW, "updated_at": NOW,
        })
        if configurable:
            colors = rng.sample(COLORS, rng.randrange(1, 3))
            sizes = rng.sample(SIZES, rng.randrange(2, 6))
            for position, (color, size) in enumerate((c, s) for c in colors for s in sizes):
                batch_variants.append({
                    "sku": f"{sku}-{size}-{color}", "parent_sku": sku, "source_id": count + n * 20 + position,
                    "price": None, "special_price": None, "stock_qty": rng.randrange(0, 30), "is_active": True,
                    "options": {"color": color, "size": size}, "weight": None, "image": None, "position": position,
                })
        if len(batch_products) == 1000:
            yield batch_products, batch_variants
            batch_products, batch_variants = [], []
    if batch_products:
        yield batch_products, batch_variants


def fill_catalog(engine: Engine, count: int) -> None:
    metadata.drop_all(engine, tables=[t for t in metadata.sorted_tables
                                      if t.name in ("catalog_products", "catalog_variants", "platform_listings")])
    create_all(engine)
    for products, variants in synthetic_catalog(count):
        with engine.begin() as conn:
            conn.execute(insert(catalog_products), products)
            if variants:
                conn.execute(insert(catalog_variants), variants)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_titles(engine: Engine) -> dict[str, float]:
    """Seconds to generate every title once per platform (the per-store runs include this too)."""
    stores = {s.platform: s for s in load_stores(DEMO_STORES_FILE).stores}
    rows = [(p.title, title_facts(p.sku, p.attributes, [v.options for v in p.variants], p.categories))
            for chunk in catalog_chunks(engine) for p in chunk if isinstance(p, CatalogProduct)]
    timings = {}
    for platform in Platform:
        limits = store_title_limits(stores[platform])
        start = time.perf_counter()
        for master, facts in rows:
            seo_title(master, platform, facts, limits)
        timings[platform.value] = time.perf_counter() - start
    return timings


def _one_store(db_url: str, store_key: str) -> tuple[str, int, int, int, float, float]:
    """One partition's work in its own process, as Dagster's multiprocess executor would run it."""
    engine = make_engine(db_url)
    store = load_stores(DEMO_STORES_FILE).by_key(store_key)
    start, cpu_start = time.perf_counter(), time.process_time()
    summary = materialize_store_listings(engine, store)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    engine.dispose()
    return store_key, summary.listings, summary.valid, summary.changed, seconds, cpu


def run_parallel(db_url: str, workers: int) -> float:
    keys = load_stores(DEMO_STORES_FILE).keys()
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_one_store, [db_url] * len(keys), keys))
    wall = time.perf_counter() - start
    for key, listings, valid, changed, seconds, cpu in results:
        print(f"| {key} | first, {workers} workers | {listings} | {valid} | {changed} | {seconds:.2f} | "
              f"{cpu:.2f} | {listings / seconds:,.0f} |")
    return wall


def run(db_url: str, count: int, workers: int) -> None:
    engine = make_engine(db_url)
    started = time.perf_counter()
    fill_catalog(engine, count)
    with engine.connect() as conn:
        variants = conn.execute(text("SELECT COUNT(*) FROM catalog_variants")).scalar_one()
    print(f"\n## {count} products (load average before: {os.getloadavg()[0]:.1f}) ({variants} variants) on {engine.dialect.name}: catalog filled in "
          f"{time.perf_counter() - started:.1f}s, peak RSS so far {peak_rss_mb():.0f} MB")
    print("| store | run | listings | valid | changed | seconds | CPU seconds | listings/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    total = 0.0
    for label in ("first", "unchanged"):
        for store in load_stores(DEMO_STORES_FILE).stores:
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = materialize_store_listings(engine, store)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            if label == "first":
                total += seconds
            print(f"| {store.key} | {label} | {summary.listings} | {summary.valid} | {summary.changed} | "
                  f"{seconds:.2f} | {cpu:.2f} | {summary.listings / seconds:,.0f} |")
    print(f"\nall four stores one after the other, first run: {total:.1f}s; peak RSS {peak_rss_mb():.0f} MB")
    if workers > 1:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM platform_listings"))
        wall = run_parallel(db_url, workers)
        print(f"all four stores on {workers} worker processes, first run: {wall:.1f}s wall clock")
    titles = time_titles(engine)
    print("titles alone: " + ", ".join(f"{p} {s:.2f}s ({count / s:,.0f}/s)" for p, s in titles.items()))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, nargs="+", default=[5000, 48000])
    parser.add_argument("--workers", type=int, default=2,
                        help="also time the first run with stores in this many processes (1: skip)")
    parser.add_argument("--db-url", help="app DB to use (its catalog and listings tables are replaced); "
                                         "default: a new SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.products:
            url = args.db_url or f"sqlite:///{Path(tmp) / f'bench_{count}.db'}"
            print(f"# listings benchmark: {redact_url(url)}")
            run(url, count, args.workers)


if __name__ == "__main__":
    main()
