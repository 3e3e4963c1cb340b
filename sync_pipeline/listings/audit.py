"""Audits of a store's stored listings: the rules behind the asset checks that gate the push.

Each audit reads ``platform_listings`` for one store in chunks and judges what is *stored* (what
the push would send), against the catalog and the store's rules as they are now. Only listings
the push would act on are judged: valid ones (invalid listings are never pushed), and for the
content audits only those that list (a delist sends no content).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, select

from sync_pipeline.catalog.product import CatalogProduct, UnreadableProduct
from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.checks import CheckOutcome
from sync_pipeline.listings.identity import keys_sharing
from sync_pipeline.listings.mapping import RULE_REASONS, default_weight, rule_violations
from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.rules_db import load_rules, never_read_reason, rules_required
from sync_pipeline.listings.shapes import (
    BAD_CATALOG_ROW,
    platform_limits,
    sold_out_skus,
    store_title_limits,
    variant_prices,
)
from sync_pipeline.listings.store import catalog_products_by_sku, one_product_per_sku
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.listings.title_text import forbidden_characters, normalize, similarity
from sync_pipeline.listings.titles import OUT_OF_BAND
from sync_pipeline.money import to_decimal
from sync_pipeline.platforms.factory import client_class
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.spec import Platform
from sync_pipeline.stores import StoreConfig

MIN_IMAGES = 3
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)")


def stored_listings(
    engine: Engine, store_key: str, chunk_size: int = 1000, skus: Sequence[str] | None = None
) -> Iterator[list[Listing]]:
    """The store's valid listings as stored, in chunks; only those of ``skus`` when given (the
    fast path audits what it rebuilt, not the whole store)."""
    if skus is not None:
        wanted = sorted(set(skus))
        for start in range(0, len(wanted), chunk_size):
            yield from _stored_chunks(engine, store_key, chunk_size, wanted[start:start + chunk_size])
        return
    yield from _stored_chunks(engine, store_key, chunk_size, None)


def _stored_chunks(
    engine: Engine, store_key: str, chunk_size: int, skus: Sequence[str] | None
) -> Iterator[list[Listing]]:
    last_id = 0
    while True:
        query = (
            select(platform_listings.c.id, platform_listings.c.payload, platform_listings.c.price)
            .where(
                platform_listings.c.store_key == store_key,
                platform_listings.c.valid.is_(True),
                platform_listings.c.id > last_id,
            )
            .order_by(platform_listings.c.id)
            .limit(chunk_size)
        )
        if skus is not None:
            query = query.where(platform_listings.c.sku.in_(list(skus)))
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield [_with_column_price(Listing.from_json(row.payload), row.price) for row in rows]


def _listed_chunks(
    engine: Engine, store_key: str, skus: Sequence[str] | None, result: CheckOutcome
) -> Iterator[list[Listing]]:
    """The store's valid listings that list (a delist has nothing to check), chunk by chunk, each
    counted in ``result.checked``: what every per-listing audit walks."""
    for chunk in stored_listings(engine, store_key, skus=skus):
        listed = [listing for listing in chunk if listing.action == "list"]
        result.checked += len(listed)
        yield listed


def audit_prices(
    engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None
) -> CheckOutcome:
    """Every stored price equals the rule applied to today's catalog price: zero mismatches."""
    result = CheckOutcome()
    for chunk in _listed_chunks(engine, store.key, skus, result):
        catalog = catalog_products_by_sku(engine, [listing.sku for listing in chunk])
        for listing in chunk:
            found = catalog.get(listing.sku)
            if found is None:
                result.fail(listing.sku, "not in the catalog any more")
                continue
            for problem in _price_problems(listing, found, store):
                result.fail(listing.sku, problem)
    return result


def audit_titles(
    engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None
) -> CheckOutcome:
    """Titles in the similarity band (or saying they are not) and unlike other platforms' titles."""
    result = CheckOutcome()
    limits = store_title_limits(store)
    for chunk in _listed_chunks(engine, store.key, skus, result):
        chunk_skus = [listing.sku for listing in chunk]
        masters = _master_titles(engine, chunk_skus)
        others = _other_platform_titles(engine, chunk_skus, store.platform)
        for listing in chunk:
            score = similarity(masters.get(listing.sku, ""), listing.title)
            in_band = limits.min_similarity <= score <= limits.max_similarity
            says_out = any(r.startswith(OUT_OF_BAND) for r in listing.reasons)
            if not in_band and not says_out:
                result.fail(listing.sku, f"similarity {score:.2f} outside the band and no reason given")
            if in_band and says_out:
                result.fail(listing.sku, f"similarity {score:.2f} is in the band but flagged out of it")
            for platform, title in others.get(listing.sku, ()):
                if normalize(title) == normalize(listing.title):
                    result.fail(listing.sku, f"same title as on {platform}: {listing.title!r}")
    return result


def audit_limits(
    engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None
) -> CheckOutcome:
    """Lengths, counts and characters within what the platform accepts."""
    result = CheckOutcome()
    limits = platform_limits(store)
    title_limits = store_title_limits(store)
    for chunk in _listed_chunks(engine, store.key, skus, result):
        for listing in chunk:
            problems = []
            if not title_limits.min_length <= len(listing.title) <= title_limits.max_length:
                problems.append(f"title length {len(listing.title)}")
            bad = forbidden_characters(listing.title, store.platform)
            if bad:
                problems.append(f"title characters {''.join(sorted(set(bad)))!r}")
            if len(listing.description) > limits.description_length:
                problems.append(f"description length {len(listing.description)}")
            problems += _description_format_problems(listing.description, store.platform)
            if len(listing.images) > limits.images:
                problems.append(f"{len(listing.images)} images")
            if len(listing.variants) > limits.variants:
                problems.append(f"{len(listing.variants)} variants")
            if len(listing.options) > limits.options:
                problems.append(f"{len(listing.options)} option axes")
            for problem in problems:
                result.fail(listing.sku, problem)
    return result


def audit_images(
    engine: Engine, store: StoreConfig, minimum: int = MIN_IMAGES, skus: Sequence[str] | None = None
) -> CheckOutcome:
    """Listings with fewer than ``minimum`` images sell worse: a warning, not a blocker."""
    result = CheckOutcome()
    for chunk in _listed_chunks(engine, store.key, skus, result):
        for listing in chunk:
            if len(listing.images) < minimum:
                result.fail(listing.sku, f"{len(listing.images)} image(s)")
    return result


def audit_categories(
    engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None
) -> CheckOutcome:
    """Every valid listing carries one of the store's mapped categories (or its default)."""
    result = CheckOutcome()
    known = set(store.category_map.values()) | ({store.default_category} if store.default_category else set())
    for chunk in _listed_chunks(engine, store.key, skus, result):
        for listing in chunk:
            if listing.category_id not in known:
                result.fail(listing.sku, f"category {listing.category_id!r} is not in the store's map")
    return result


def audit_identity(engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None) -> CheckOutcome:
    """No two listings of the store share a handle or a seller SKU (a variant's SKU), compared
    ignoring case and surrounding spaces as the platforms do: either would make two catalog
    products one store product, the later overwriting the earlier.

    With ``skus`` (the fast path), only collisions that involve those listings are reported; they
    are still compared with every listing of the store, but reading only each listing's handle and
    variant SKUs, not its whole payload (a 48,000-listing store is otherwise seconds of CPU)."""
    result = CheckOutcome()
    handles: dict[str, str] = {}
    seller_skus: dict[str, tuple[str, str]] = {}
    # A Magento child of two configurables is the same SKU in two products where the platform takes
    # that (the listings put it under one parent elsewhere); a SKU differing only by case never is.
    shared_ok = client_class(store.platform).sku_in_several_products
    if skus is not None:
        return _identity_of(engine, store.key, skus, shared_ok)
    wanted: set[str] | None = None
    for sku, handle_text, variant_skus in _identities(engine, store.key):
        involved = wanted is None or sku in wanted
        if involved:
            result.checked += 1
        handle = handle_text.strip().casefold()
        owner = handles.setdefault(handle, sku)
        if owner != sku and (involved or owner in wanted):  # type: ignore[operator]
            result.fail(sku, f"handle {handle_text!r} is also {owner}'s")
        for variant_sku in variant_skus:
            owner, owner_sku = seller_skus.setdefault(variant_sku.strip().casefold(), (sku, variant_sku))
            if owner != sku and not (shared_ok and owner_sku == variant_sku) and (
                    involved or owner in wanted):  # type: ignore[operator]
                result.fail(sku, f"seller SKU {variant_sku!r} is also in {owner}")
    return result


def _identity_of(engine: Engine, store_key: str, skus: Sequence[str], shared_ok: bool) -> CheckOutcome:
    """``audit_identity`` for a few changed listings: only the listings sharing one of their keys
    (``listing_identity_keys``, indexed) are read, and judged in listing order as the whole-store
    pass judges them (the first listing holding a key owns it)."""
    result = CheckOutcome()
    wanted = set(skus)
    rows = keys_sharing(engine, store_key, skus)
    result.checked = len({sku for _, _, kind, _, _, sku in rows if kind == "handle" and sku in wanted})
    owners: dict[tuple[str, str], tuple[str, str]] = {}
    for _, _, kind, key, value, sku in rows:
        owner, owner_value = owners.setdefault((kind, key), (sku, value))
        if owner == sku or not (sku in wanted or owner in wanted):
            continue
        if kind == "handle":
            result.fail(sku, f"handle {value!r} is also {owner}'s")
        elif not (shared_ok and owner_value == value):
            result.fail(sku, f"seller SKU {value!r} is also in {owner}")
    return result


def audit_store_rules(engine: Engine, store: StoreConfig, skus: Sequence[str] | None = None) -> CheckOutcome:
    """Every valid listing meets its category's rules as last read from the store (``store_catalog_rules``);
    a listing that fails them is invalid, with the reasons, and never pushed. Where the platform
    publishes rules and none could ever be read, every listing fails (nothing unchecked reaches the
    store); ``platform_listings`` and the fast path read them first (``rules_for_listings``)."""
    result = CheckOutcome()
    rules = load_rules(engine, store.key)
    if rules is None:
        if rules_required(store):
            reason = never_read_reason(engine, store)
            for chunk in _listed_chunks(engine, store.key, skus, result):
                for listing in chunk:
                    result.fail(listing.sku, reason)
        return result
    default_kg = default_weight(store)
    for chunk in _listed_chunks(engine, store.key, skus, result):
        for listing in chunk:
            for problem in rule_violations(listing, rules, store.name, default_weight_kg=default_kg):
                result.fail(listing.sku, problem)
    return result


def invalid_by_store_rules(engine: Engine, store_key: str) -> list[tuple[str, str]]:
    """(sku, reason) of listings kept invalid because of the store's rules, for the check's report."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(platform_listings.c.sku, platform_listings.c.reasons)
            .where(platform_listings.c.store_key == store_key, platform_listings.c.valid.is_(False))
            .order_by(platform_listings.c.sku)
        ).all()
    return [(row.sku, reason) for row in rows for reason in row.reasons or []
            if reason.split(":", 1)[0] in RULE_REASONS]


def _identities(engine: Engine, store_key: str, chunk_size: int = 5000) -> Iterator[tuple[str, str, list[str]]]:
    """(SKU, handle, variant SKUs) of the store's valid listings, in id order, read from the payload's
    two fields by the database (SQLite, PostgreSQL and MySQL all extract JSON members)."""
    payload = platform_listings.c.payload
    last_id = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(platform_listings.c.id, platform_listings.c.sku, payload["handle"].as_string(),
                       payload["variants"])
                .where(platform_listings.c.store_key == store_key, platform_listings.c.valid.is_(True),
                       platform_listings.c.id > last_id)
                .order_by(platform_listings.c.id)
                .limit(chunk_size)
            ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        for _, sku, handle, variants in rows:
            yield sku, handle or "", [str(v.get("sku") or "") for v in (variants or [])]


# -- helpers ----------------------------------------------------------------------------------


def _with_column_price(listing: Listing, column_price: Any) -> Listing:
    """Keep the queryable ``price`` column honest too: a copy whose price disagrees is a mismatch."""
    if column_price is not None and to_decimal(column_price) != listing.price:
        return Listing(**{**listing.__dict__, "reasons": (*listing.reasons, f"price_column: {column_price}")})
    return listing


def _price_problems(listing: Listing, product: CatalogProduct | UnreadableProduct, store: StoreConfig) -> list[str]:
    if isinstance(product, UnreadableProduct):
        return [f"price cannot be computed ({BAD_CATALOG_ROW}: {product.error})"]
    kept = one_product_per_sku(product, store)[0]  # as the shape keeps them
    expected = variant_prices(product, store, kept)
    if isinstance(expected, str):
        return [f"price cannot be computed ({expected})"]
    problems = [r for r in listing.reasons if r.startswith("price_column")]
    stored = {v.sku: v for v in listing.variants}
    listed = set(expected) - sold_out_skus(product, store, kept)  # the shape leaves those out
    if set(stored) != listed:
        problems.append(f"variants {sorted(stored)} != catalog {sorted(listed)}")
    for sku, want in expected.items():
        have = stored.get(sku)
        if have is None:
            continue
        if have.price != want.price or have.compare_at_price != want.compare_at_price:
            problems.append(
                f"{sku} priced {have.price}/{have.compare_at_price}, rule gives {want.price}/{want.compare_at_price}"
            )
        if have.price <= 0:
            problems.append(f"{sku} price {have.price} is not positive")
    return problems


def _description_format_problems(description: str, platform: Platform) -> list[str]:
    return platform_spec(platform).description_problems({m.casefold() for m in _TAG_NAME.findall(description)})


def _master_titles(engine: Engine, skus: Sequence[str]) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(catalog_products.c.sku, catalog_products.c.title).where(catalog_products.c.sku.in_(list(skus)))
        )
        return {row.sku: row.title for row in rows}


def _other_platform_titles(engine: Engine, skus: Sequence[str], platform: Platform) -> dict[str, list[tuple[str, str]]]:
    titles: dict[str, list[tuple[str, str]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(platform_listings.c.sku, platform_listings.c.platform, platform_listings.c.title).where(
                platform_listings.c.sku.in_(list(skus)), platform_listings.c.platform != platform.value
            )
        )
        for row in rows:
            titles.setdefault(row.sku, []).append((row.platform, row.title))
    return titles
