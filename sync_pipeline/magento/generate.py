"""Command line: fill a Magento database with a generated catalog.

    python -m sync_pipeline.magento.generate --url mysql+pymysql://root@127.0.0.1/magento \\
        --products 48000 --seed 7 [--dirty] [--today 2025-06-01] [--replace] [--msi] [--commerce]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from sync_pipeline.db import make_engine, redact_url
from sync_pipeline.magento.generator import generate_catalog


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate a Magento 2.4 catalog (EAV tables) for demos and tests.")
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the Magento database")
    parser.add_argument("--products", type=int, required=True, help="top-level products (children come extra)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dirty", action="store_true", help="add the showcase of bad rows")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the date special-price windows are relative to (default: today)")
    parser.add_argument("--replace", action="store_true", help="drop the catalog tables first")
    parser.add_argument("--msi", action="store_true",
                        help="write Multi-Source Inventory too: sources, a second stock, reservations")
    parser.add_argument("--commerce", action="store_true",
                        help="Adobe Commerce's staging layout (row_id, created_in/updated_in versions)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    engine = make_engine(args.url)
    started = time.perf_counter()
    try:
        catalog = generate_catalog(engine, products=args.products, seed=args.seed, dirty=args.dirty,
                                   today=args.today, replace=args.replace, msi=args.msi,
                                   commerce=args.commerce)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"{redact_url(args.url)}: {catalog.products} products ({catalog.children} children, "
          f"{catalog.entities} entities), {len(catalog.sellable_ids)} sellable, in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
