"""What the fast path costs a 48,000-product store when nothing changed, and for one changed product.

    .venv/bin/python -m benchmarks.fastpath_noop [--products 48000] [--samples 5]

A throwaway PostgreSQL app DB gets a synthetic catalog (``listings_bench``'s), one store's
listings are built in full (``rebuild_store_listings``, which also writes the store's marks), and
its push mark is set as a full push would. Then, timed: ``refresh_store_listings`` plus
``listings_to_push`` with nothing changed (the per-store work of ``catalog_changes_pushed`` on an
idle tick), and the same after one product's stock changed in the catalog, with the changed
listing's audits (the blocking ones and the identity one on the changed SKU; the identity audit
looks up the listings sharing a key with it in ``listing_identity_keys``). Then, in the same run,
the parts the fast path no longer does, against what replaced them: every handle assigned over the
whole catalog (``catalog_handles``) against the changed product's kept handle (``kept_handles``),
and the identity audit over the whole store against the changed SKU's look-up. No store is called
(a push of one SKU is the store's own request time). Wall and CPU seconds, median of
``--samples``; no figure is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from benchmarks.listings_bench import fill_catalog
from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.listings.identity import catalog_handles, kept_handles
from sync_pipeline.push import changes
from sync_pipeline.stores import DEMO_STORES_FILE, load_stores

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def timed(work: Callable[[], object], samples: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def run(products: int, samples: int) -> None:
    name = f"noop_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        create_all(engine)
        fill_catalog(engine, products)
        store = load_stores(DEMO_STORES_FILE).by_key("shopify-us")
        wall, cpu = time.perf_counter(), time.process_time()
        summary = changes.rebuild_store_listings(engine, store)
        print(f"load {os.getloadavg()[0]:.1f}; {products} products, full rebuild of {store.key}: "
              f"{summary.listings} listings in {time.perf_counter() - wall:.1f} s ({time.process_time() - cpu:.1f} s CPU)")
        changes.record_full_push(engine, store.key, changes.listings_high_water(engine, store.key))

        def idle() -> None:
            refreshed, full = changes.refresh_store_listings(engine, store)
            marks = changes.read_marks(engine, store.key)
            skus, _ = changes.listings_to_push(engine, store.key, marks.listings_pushed_at if marks else None)
            assert not full and refreshed.listings == 0 and not skus, (full, refreshed.listings, len(skus))

        idle_wall, idle_cpu = timed(idle, samples)
        print(f"nothing changed: {idle_wall * 1000:.0f} ms wall, {idle_cpu * 1000:.0f} ms CPU (median of {samples}; "
              f"load {os.getloadavg()[0]:.1f})")

        with engine.connect() as conn:
            sku = conn.execute(sa.select(catalog_products.c.sku).where(catalog_products.c.is_active.is_(True),
                                                                       catalog_products.c.stock_qty > 0)
                               .order_by(catalog_products.c.id).limit(1)).scalar_one()
        step = iter(range(1, 10_000))

        def one_change() -> None:
            with engine.begin() as conn:
                conn.execute(sa.update(catalog_products).where(catalog_products.c.sku == sku).values(
                    stock_qty=catalog_products.c.stock_qty + 1,
                    updated_at=sa.func.now() + timedelta(seconds=next(step))))
            refreshed, _ = changes.refresh_store_listings(engine, store)
            marks = changes.read_marks(engine, store.key)
            skus, newest = changes.listings_to_push(engine, store.key, marks.listings_pushed_at if marks else None)
            assert skus == [sku], skus
            for audit in changes.BLOCKING_AUDITS.values():
                audit(engine, store, skus=skus)
            for audit in changes.STORE_WIDE_AUDITS.values():
                audit(engine, store, skus=skus)
            changes.record_full_push(engine, store.key, newest)

        change_wall, change_cpu = timed(one_change, samples)
        print(f"one product's stock changed (refresh, audits, marks; no store call): {change_wall * 1000:.0f} ms wall, "
              f"{change_cpu * 1000:.0f} ms CPU (median of {samples}; load {os.getloadavg()[0]:.1f})")
        identity = changes.STORE_WIDE_AUDITS["listing_identity_unique"]
        parts: list[tuple[str, Callable[[], object]]] = [
            ("the identity audit for the changed SKU (indexed look-up)", lambda: identity(engine, store, skus=[sku])),
            ("the identity audit over the whole store (the check; what the fast path read before)",
             lambda: identity(engine, store, skus=None)),
            ("the changed product's handle kept from its listing", lambda: kept_handles(engine, store.key,
                                                                                        store.handles, [sku])),
            ("every handle assigned over the catalog (what the fast path did before)",
             lambda: catalog_handles(engine, store.handles)),
        ]
        for label, work in parts:
            wall, cpu = timed(work, samples)
            print(f"  {label}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU (median of {samples})")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=48000)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    run(args.products, args.samples)


if __name__ == "__main__":
    main()
