"""``sync-pipeline status SKU`` and ``sync-pipeline status --search TEXT``: read the app DB directly
(``SYNC_DB_URL``, the stores file from ``SYNC_STORES_FILE``) and print a product's state per store."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from typing import Any

from sync_pipeline.db import create_all, default_sync_db_url, make_engine
from sync_pipeline.status.owner import store_categories, sync_log
from sync_pipeline.status.report import (
    ProductState,
    dead_letters_of,
    left_out_text,
    product_states,
    recent_errors,
    search_skus,
)
from sync_pipeline.stores import load_stores

EXIT_FOUND, EXIT_NOT_FOUND = 0, 4
LOG_LINES = 8


def print_product_status(sku: str | None, search: str | None, limit: int = 20, as_json: bool = False) -> int:
    engine = make_engine(os.environ.get("SYNC_DB_URL") or default_sync_db_url())
    try:
        create_all(engine)
        stores = load_stores().stores
        skus = search_skus(engine, search, limit) if search is not None else [sku or ""]
        states = product_states(engine, stores, skus)
        if not states:
            print(f"no product matches {search!r}" if search is not None else f"no product with SKU {sku!r}",
                  file=sys.stderr)
            return EXIT_NOT_FOUND
        if as_json:
            print(json.dumps([_as_json(engine, p, detail=search is None) for p in states], default=str, indent=2))
        elif search is not None:
            from sync_pipeline.status.owner_list import owner_frame, printable

            print(printable(owner_frame(states, [store.key for store in stores])))
        else:
            _print_detail(engine, states[0])
        return EXIT_FOUND
    finally:
        engine.dispose()


def _print_detail(engine: Any, product: ProductState) -> None:
    print(f"{product.sku}  {product.title}")
    print(f"master price {product.master_price if product.master_price is not None else '-'}"
          f"  ({'active' if product.is_active else 'inactive'} in the catalog)")
    if product.variants_left_out:
        print(f"variants left out (Magento cannot sell them): {left_out_text(product)}")
    print()
    categories = store_categories(engine, product.sku, [s.store_key for s in product.stores])
    head = f"{'store':<12} {'state':<11} {'price':>12} {'external id':<28} {'last synced':<20} title / reason"
    print(head + "\n" + "-" * len(head))
    for s in product.stores:
        price = f"{s.price} {s.currency}" if s.price is not None else "-"
        synced = s.last_synced_at.isoformat(sep=" ", timespec="seconds") if s.last_synced_at else "-"
        print(f"{s.store_key:<12} {s.state.value:<11} {price:>12} {(s.external_id or '-')[:28]:<28} {synced:<20} "
              f"{s.title or '-'}" + f"\n{'':<12} category: {categories.get(s.store_key) or '-'}"
              + (f"\n{'':<12} reason: {s.reason}" if s.reason else ""))
    letters = dead_letters_of(engine, product.sku)
    print("\ndead letters:" + ("" if letters else " none"))
    for letter in letters:
        print(f"  {letter['store_key']}: {letter['action']} {letter['error_class']} after {letter['attempts']} "
              f"attempt(s), last {letter['last_failed_at']}: {letter['message'][:200]}")
    errors = recent_errors(engine, product.sku)
    print("last errors:" + ("" if errors else " none"))
    for error in errors:
        print(f"  {error.at} {error.store_key} {error.operation} {error.error_class or ''}: {error.message}")
    lines = sync_log(engine, sku=product.sku, limit=LOG_LINES)
    print(f"last sync log lines (`sync-pipeline log {product.sku}` for more):" + ("" if lines else " none"))
    for line in lines:
        print(f"  {line.text()}")


def _as_json(engine: Any, product: ProductState, detail: bool) -> dict[str, Any]:
    data = asdict(product)
    for store in data["stores"]:
        store["state"] = str(store["state"])
    if detail:
        categories = store_categories(engine, product.sku, [s.store_key for s in product.stores])
        for store in data["stores"]:
            store["category"] = categories.get(store["store_key"], "")
        data["dead_letters"] = dead_letters_of(engine, product.sku)
        data["last_errors"] = [asdict(e) for e in recent_errors(engine, product.sku)]
        data["sync_log"] = [line.as_dict() for line in sync_log(engine, sku=product.sku, limit=LOG_LINES)]
    return data
