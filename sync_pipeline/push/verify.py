"""Checks on a store after a push: mappings complete, products as pushed, errors and dead letters.

Pure functions over the app DB and a ``StoreClient``; the Dagster checks only report them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from sync_pipeline.checks import CheckOutcome
from sync_pipeline.db import utcnow
from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import RemoteProduct, RemoteRef, StoreClient
from sync_pipeline.push import ledger

_CENT = Decimal("0.01")


def mappings_have_external_ids(engine: Engine, store_key: str) -> CheckOutcome:
    """Every valid listing the push confirmed (listed or delisted) has a remote product id."""
    rows = ledger.valid_listing_mappings(engine, store_key)
    confirmed = [r for r in rows if r.status in {"listed", "delisted"}]
    missing = [r.sku for r in confirmed if not r.external_id]
    pending = sum(1 for r in rows if r.status == "pending")
    return CheckOutcome(len(confirmed), len(missing), [f"{sku}: no external id" for sku in missing[:20]],
                        {"unconfirmed_creates": pending})


def spot_check(engine: Engine, store_key: str, client: StoreClient, sample: int = 5, *,
               owned_fields: frozenset[str] = frozenset(), seed: int | None = None) -> CheckOutcome:
    """Read back ``sample`` random listed products and compare them with the listing as pushed."""
    rows = ledger.listed_mappings(engine, store_key)
    chosen = random.Random(seed).sample(rows, min(sample, len(rows)))
    failures: list[str] = []
    for row in chosen:
        listing = Listing.from_json(dict(row.last_payload))
        remote = client.read_product(RemoteRef(row.external_id, dict(row.external_variant_ids or {})))
        failures += [f"{row.sku}: {problem}" for problem in compare(listing, remote, owned_fields)]
    return CheckOutcome(len(chosen), len(failures), failures, {"sampled": ", ".join(r.sku for r in chosen)})


def compare(listing: Listing, remote: RemoteProduct | None, owned: frozenset[str] = frozenset()) -> list[str]:
    """Differences between a listing and the product read back, each naming the field."""
    if remote is None:
        return ["product: missing on the store"]
    problems = []
    if remote.visible is False and listing.action == "list":  # None: the platform cannot tell
        problems.append("visibility: listed, but shoppers cannot see it (not active, or not published on the "
                        "store's channels)")
    if "title" not in owned and remote.title != listing.title:
        problems.append(f"title: expected {listing.title!r}, store has {remote.title!r}")
    if "images" not in owned and remote.image_count != len(listing.images):
        problems.append(f"image count: expected {len(listing.images)}, store has {remote.image_count}")
    by_sku = {v.sku: v for v in remote.variants}
    if set(by_sku) != {v.sku for v in listing.variants}:
        problems.append(f"variants: expected {sorted(v.sku for v in listing.variants)}, store has {sorted(by_sku)}")
    for variant in listing.variants:
        got = by_sku.get(variant.sku)
        if got is None:
            continue
        if "price" not in owned and _money(got.price) != _money(variant.price):
            problems.append(f"price of {variant.sku}: expected {variant.price}, store has {got.price}")
        if "price" not in owned and not _compare_at_matches(variant.compare_at_price, got.compare_at_price,
                                                             variant.price):
            problems.append(f"compare-at price of {variant.sku}: expected {variant.compare_at_price}, "
                            f"store has {got.compare_at_price}")
        if "stock" not in owned and got.stock_qty != variant.stock_qty:
            problems.append(f"stock of {variant.sku}: expected {variant.stock_qty}, store has {got.stock_qty}")
    return problems


def last_push_error_share(engine: Engine, store_key: str) -> CheckOutcome:
    """The error share of the store's latest push against its threshold."""
    row = ledger.latest_finished_push(engine, store_key)
    if row is None:
        return CheckOutcome(figures={"note": "no push yet"})
    counts, options = dict(row.counts or {}), dict(row.options or {})
    writes, errors = int(counts.get("writes_planned", 0)), int(counts.get("errors", 0))
    threshold = float(options.get("error_threshold", 0.05))
    share = errors / writes if writes else 0.0
    failures = [] if share <= threshold else [f"run {row.run_id}: {errors}/{writes} writes failed ({share:.1%})"]
    return CheckOutcome(writes, len(failures), failures, {"error_share": share, "threshold": threshold})


def stale_dead_letters(engine: Engine, store_key: str, max_age: timedelta) -> CheckOutcome:
    cutoff = utcnow() - max_age
    rows = ledger.dead_letters(engine, store_key)
    old = [r for r in rows if r["first_failed_at"] < cutoff]
    return CheckOutcome(len(rows), len(old), [f"{r['sku']}: {r['error_class']} since {r['first_failed_at']:%Y-%m-%d %H:%M}"
                                              for r in old[:20]], {"dead_letters": len(rows), "older": len(old)})


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(_CENT)


def _compare_at_matches(expected: Decimal | None, got: Decimal | None, price: Decimal) -> bool:
    # Platforms without a separate compare-at field report the selling price (or nothing) there.
    if expected is None:
        return got is None or _money(got) == _money(price)
    return _money(got) == _money(expected)
