"""The fast path: after an import, only what changed is rebuilt, audited and pushed, every store at once.

A full ``store_sync`` run rebuilds all of a store's listings (48,000 products: tens of seconds)
and audits all of them, for what is usually a handful of changed products. Here each store keeps
two marks in ``store_sync_marks``:

* ``catalog_seen_at``: the newest ``catalog_products.updated_at`` its listings include. Products
  updated after it are rebuilt. The import stamps rows with its own clock, chunk after chunk, one
  import at a time (the run queue and the app-DB guard), so a row stamped at or below a mark that
  was read was committed before it; rows of an import still writing are stamped later.
* ``listings_pushed_at``: the newest ``platform_listings.updated_at`` a push took to the store.
  Listings changed after it are audited and pushed, and the mark moves only after a push that did
  not fail, so a store that was locked, refused or failed is tried again by the next run.

A store's listings are rebuilt in full when its rules (its entry in the stores file, or the
category rules last read from the store) changed since the marks were written, or when it has no
marks yet. The push itself is the ordinary ``push_store``
limited to the changed SKUs: the store's lock, limiter, pending marks, dead letters and sync log
are the same as a full push's. The blocking listing audits judge the changed listings (the
uniqueness of handles and seller SKUs is judged over the whole store, since a changed listing can
collide with any other); a store that fails one is not pushed (its push mark stays, so it is
judged again next time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.catalog.tables import catalog_products
from sync_pipeline.checks import CheckOutcome
from sync_pipeline.db import utcnow
from sync_pipeline.listings.audit import (
    audit_categories,
    audit_identity,
    audit_images,
    audit_limits,
    audit_prices,
    audit_store_rules,
    audit_titles,
)
from sync_pipeline.listings.rules_db import load_rules, rules_for_listings
from sync_pipeline.listings.store import StoreListingsSummary, materialize_store_listings
from sync_pipeline.listings.tables import platform_listings
from sync_pipeline.platforms.base import CallRecord
from sync_pipeline.push.engine import push_store
from sync_pipeline.push.guard import StorePushLocked
from sync_pipeline.push.options import ClientFactory, ProgressCallback, PushOptions, PushReport
from sync_pipeline.push.plan import UnknownOwnedFieldError
from sync_pipeline.push.tables import store_sync_marks
from sync_pipeline.stores import MissingCredentialError, StoreConfig

Audit = Callable[..., CheckOutcome]

# The audits behind the blocking checks of ``platform_listings``: a failure keeps the store unpushed.
BLOCKING_AUDITS: dict[str, Audit] = {
    "listing_prices_match_rule": audit_prices,
    "listing_titles_in_band_and_distinct": audit_titles,
    "listing_within_platform_limits": audit_limits,
    "listing_category_mapped": audit_categories,
    "listing_meets_store_rules": audit_store_rules,
}
# Uniqueness is a property of the whole store: a changed listing is compared with every other one
# (reading only each listing's handle and variant SKUs).
STORE_WIDE_AUDITS: dict[str, Audit] = {"listing_identity_unique": audit_identity}
WARNING_AUDITS: dict[str, Audit] = {"listing_has_three_images": audit_images}


@dataclass(frozen=True)
class StoreMarks:
    rules_digest: str
    catalog_seen_at: datetime | None
    listings_pushed_at: datetime | None


@dataclass
class StoreChanges:
    """What the fast path did for one store."""

    store_key: str
    full_rebuild: bool = False
    listings: StoreListingsSummary | None = None
    pushed_skus: tuple[str, ...] = ()
    audits: dict[str, CheckOutcome] = field(default_factory=dict)
    push: PushReport | None = None
    refused: str | None = None  # why the store was not pushed (audit, lock, credentials)

    @property
    def failed(self) -> bool:
        return self.refused is not None or (self.push is not None and self.push.failed)

    def failure_message(self) -> str:
        if self.refused is not None:
            return f"store '{self.store_key}': {self.refused}"
        return self.push.failure_message() if self.push is not None else ""

    def describe(self) -> str:
        built = "full rebuild" if self.full_rebuild else "changed products"
        changed = self.listings.changed if self.listings is not None else 0
        pushed = self.push.progress.describe() if self.push is not None else "nothing pushed"
        return (f"{self.store_key}: listings ({built}) {changed} changed; {len(self.pushed_skus)} to push; "
                f"{self.refused or pushed}")


def rules_digest(store: StoreConfig, engine: Engine | None = None) -> str:
    """A digest of everything the stores file says about the store and, with ``engine``, of the
    category rules last read from the store (``store_catalog_rules``): when either moves, every
    listing of the store may change, so the fast path rebuilds them all."""
    digest = hashlib.sha256(store.model_dump_json().encode())
    rules = load_rules(engine, store.key) if engine is not None else None
    if rules is not None:
        digest.update(json.dumps(rules.to_json(), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_marks(engine: Engine, store_key: str) -> StoreMarks | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(store_sync_marks).where(store_sync_marks.c.store_key == store_key)).first()
    if row is None:
        return None
    return StoreMarks(row.rules_digest, row.catalog_seen_at, row.listings_pushed_at)


def _write_marks(engine: Engine, store_key: str, **values: object) -> None:
    with engine.begin() as conn:
        updated = conn.execute(
            sa.update(store_sync_marks).where(store_sync_marks.c.store_key == store_key)
            .values(**values, updated_at=utcnow())
        ).rowcount
        if not updated:
            conn.execute(sa.insert(store_sync_marks).values(store_key=store_key, updated_at=utcnow(),
                                                            **{"rules_digest": "", **values}))


def catalog_high_water(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        value: datetime | None = conn.execute(sa.select(sa.func.max(catalog_products.c.updated_at))).scalar()
    return value


def catalog_changed_since(engine: Engine, since: datetime) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(catalog_products.c.sku).where(catalog_products.c.updated_at > since)
        ).scalars())


def rebuild_store_listings(engine: Engine, store: StoreConfig,
                           progress: Callable[[StoreListingsSummary], None] | None = None) -> StoreListingsSummary:
    """Every listing of the store rebuilt (the ``platform_listings`` asset), then the listings mark
    moved to the newest catalog change read before the rebuild started, with the store's rules."""
    seen = catalog_high_water(engine)
    summary = materialize_store_listings(engine, store, progress=progress)
    _write_marks(engine, store.key, rules_digest=rules_digest(store, engine), catalog_seen_at=seen)
    return summary


def refresh_store_listings(engine: Engine, store: StoreConfig) -> tuple[StoreListingsSummary, bool]:
    """The store's listings brought up to the catalog: only products changed since its mark, or all
    of them when its rules changed or it has no mark. Returns the summary and whether it was full."""
    marks = read_marks(engine, store.key)
    if marks is None or marks.rules_digest != rules_digest(store, engine) or marks.catalog_seen_at is None:
        return rebuild_store_listings(engine, store), True
    seen = catalog_high_water(engine)
    changed = catalog_changed_since(engine, marks.catalog_seen_at)
    summary = materialize_store_listings(engine, store, skus=changed) if changed else StoreListingsSummary(store.key)
    if seen is not None and seen != marks.catalog_seen_at:
        _write_marks(engine, store.key, catalog_seen_at=seen)
    return summary, False


def listings_high_water(engine: Engine, store_key: str) -> datetime | None:
    """The newest change among the store's listings (read before a full push starts)."""
    table = platform_listings
    with engine.connect() as conn:
        value: datetime | None = conn.execute(
            sa.select(sa.func.max(table.c.updated_at)).where(table.c.store_key == store_key)
        ).scalar()
    return value


def record_full_push(engine: Engine, store_key: str, pushed_up_to: datetime | None) -> None:
    """After a full push that did not fail (``store_sync``): everything up to the stamp read before
    it started is on the store, so the fast path need not look at it again."""
    if pushed_up_to is not None:
        _write_marks(engine, store_key, listings_pushed_at=pushed_up_to)


def listings_to_push(engine: Engine, store_key: str, since: datetime | None) -> tuple[list[str], datetime | None]:
    """SKUs of the store's listings changed after ``since`` (all when None), and the newest stamp."""
    table = platform_listings
    newest = listings_high_water(engine, store_key)
    with engine.connect() as conn:
        query = sa.select(table.c.sku).where(table.c.store_key == store_key)
        if since is not None:
            query = query.where(table.c.updated_at > since)
        skus = list(conn.execute(query).scalars())
    return skus, newest


def sync_store_changes(engine: Engine, store: StoreConfig, client_factory: ClientFactory, *, run_id: str,
                       on_progress: ProgressCallback | None = None) -> StoreChanges:
    """One store through the fast path: listings refreshed, changed listings audited, then pushed."""
    outcome = StoreChanges(store.key)
    # A store whose rules were never read has them read now, before its listings are built (a
    # store that cannot be read is held back by the rules audit, with the reason).
    rules_for_listings(engine, store, lambda: client_factory(_ignore_call))
    outcome.listings, outcome.full_rebuild = refresh_store_listings(engine, store)
    marks = read_marks(engine, store.key)
    since = marks.listings_pushed_at if marks is not None else None
    skus, newest = listings_to_push(engine, store.key, since)
    outcome.pushed_skus = tuple(sorted(skus))
    if not skus:
        return outcome
    # A store seen for the first time is audited whole, as the checks of store_sync would.
    audited = None if since is None else outcome.pushed_skus
    for name, audit in {**BLOCKING_AUDITS, **WARNING_AUDITS}.items():
        outcome.audits[name] = audit(engine, store, skus=audited)
    for name, audit in STORE_WIDE_AUDITS.items():
        outcome.audits[name] = audit(engine, store, skus=audited)  # against every listing of the store
    blocked = [name for name in [*BLOCKING_AUDITS, *STORE_WIDE_AUDITS] if not outcome.audits[name].passed]
    if blocked:
        examples = "; ".join(e for name in blocked for e in outcome.audits[name].examples[:3])
        outcome.refused = f"not pushed: {', '.join(blocked)} failed ({examples})"
        return outcome
    try:
        outcome.push = push_store(engine, store, client_factory, PushOptions(skus=outcome.pushed_skus),
                                  run_id=run_id, on_progress=on_progress)
    except (MissingCredentialError, StorePushLocked, UnknownOwnedFieldError) as exc:
        outcome.refused = str(exc)
        return outcome
    if not outcome.push.failed:
        _write_marks(engine, store.key, listings_pushed_at=newest)
    return outcome


def _ignore_call(record: CallRecord) -> None:
    """The rules read is not part of the push: its calls are not in the push's sync log."""


def sync_changes(engine: Engine, stores: Sequence[StoreConfig], client_factory: Callable[[StoreConfig], ClientFactory],
                 *, run_id: str, on_progress: ProgressCallback | None = None) -> list[StoreChanges]:
    """Every store through the fast path side by side, one thread per store (each store's push has
    its own client, limiter and lock). Refusals and failed pushes are reported per store; an
    unexpected error is raised once every store has finished."""

    def one(store: StoreConfig) -> StoreChanges:
        return sync_store_changes(engine, store, client_factory(store), run_id=run_id, on_progress=on_progress)

    with ThreadPoolExecutor(max_workers=max(1, len(stores))) as pool:
        return list(pool.map(one, stores))
