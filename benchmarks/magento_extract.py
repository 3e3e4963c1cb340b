"""Magento extract figures: generate a catalog into a throwaway MariaDB database, read it back.

    .venv/bin/python -m benchmarks.magento_extract [--products 48000] [--chunk-size 500]

Prints generation time, one full ``iter_products`` pass, ``stock_and_status`` over every candidate,
and a raw read of the five value tables with the same driver (no processing) as the floor to
compare with. The database is created and dropped by this script. No figure is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
import uuid
from datetime import date

import sqlalchemy as sa

from sync_pipeline.magento import schema as m
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.magento.reader import MagentoCatalogReader

ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, started: float, extra: str = "") -> None:
    print(f"{label:<42} {time.perf_counter() - started:7.2f} s  {extra}")


def run(products: int, chunk_size: int) -> None:
    name = f"sp_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"))
    engine = sa.create_engine(f"{ADMIN_URL.rstrip('/')}/{name}?charset=utf8mb4")
    try:
        started = time.perf_counter()
        catalog = generate_catalog(engine, products=products, seed=7, dirty=True, today=date(2025, 6, 1))
        _timed(f"generate {products} products", started,
               f"{catalog.entities} entities, {len(catalog.sellable_ids)} sellable")

        reader = MagentoCatalogReader(engine, today=date(2025, 6, 1))
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        found = rejected = examined = 0
        for chunk in reader.iter_products(after_id=0, limit=None, chunk_size=chunk_size):
            found += len(chunk.products)
            rejected += len(chunk.rejected)
            examined += chunk.examined
        _timed(f"iter_products, chunk {chunk_size}", started,
               f"{examined} examined, {found} found, {rejected} rejected; "
               f"peak RSS {rss_before:.0f} -> {_peak_rss_mb():.0f} MB")

        tracemalloc.start()
        for chunk in reader.iter_products(after_id=0, limit=None, chunk_size=chunk_size):
            del chunk
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{'iter_products again, under tracemalloc':<42} peak traced memory {peak / 2**20:.1f} MB")

        started = time.perf_counter()
        statuses = reader.stock_and_status(catalog.candidate_ids)
        _timed("stock_and_status, every candidate", started, f"{len(statuses)} ids")

        started = time.perf_counter()
        rows = 0
        with engine.connect() as conn:
            for table in m.PRODUCT_VALUE_TABLES.values():
                result = conn.exec_driver_sql(f"SELECT entity_id, attribute_id, store_id, value FROM {table.name}")
                rows += len(result.fetchall())
        _timed("raw read of the five value tables", started, f"{rows} rows")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=48_000)
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()
    run(args.products, args.chunk_size)


if __name__ == "__main__":
    main()
