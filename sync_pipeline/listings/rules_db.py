"""Reading a store's catalog rules through its client and keeping the last good read in the app DB.

A failed read never loses the rules the listings are checked against: the last good ones stay,
with the time they were read, and the failure is recorded beside them (the freshness check warns
once they are older than ``STALE_AFTER``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from sync_pipeline.db import create_all, utcnow
from sync_pipeline.listings.rules import StoreRules
from sync_pipeline.listings.tables import store_catalog_rules
from sync_pipeline.names import STORE_RULES_REFRESH_JOB
from sync_pipeline.platforms.base import PlatformError, StoreClient
from sync_pipeline.platforms.factory import client_class
from sync_pipeline.stores import MissingCredentialError, StoreConfig

STALE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class RulesRefresh:
    store_key: str
    rules: StoreRules | None  # what the listings will use (fresh, or the last good read)
    fresh: bool  # read just now
    error: str | None = None  # why this read failed


def mapped_categories(store: StoreConfig) -> list[str]:
    return list(dict.fromkeys([*store.category_map.values(), *([store.default_category] if store.default_category
                                                                  else [])]))


def refresh_rules(engine: Engine, store: StoreConfig, client: StoreClient, now: datetime | None = None) -> RulesRefresh:
    """Read the rules of the store's mapped categories; on failure fall back to the last good read."""
    stamp = _naive(now or utcnow())
    try:
        rules = client.read_catalog_rules(mapped_categories(store))
    except PlatformError as exc:
        _record_failure(engine, store, stamp, f"{exc.error_class}: {exc.message}")
        return RulesRefresh(store.key, load_rules(engine, store.key), fresh=False, error=f"{exc.error_class}: "
                            f"{exc.message}")
    if rules is None:
        return RulesRefresh(store.key, None, fresh=False)
    save_rules(engine, rules, stamp)
    return RulesRefresh(store.key, rules, fresh=True)


def rules_for_listings(engine: Engine, store: StoreConfig, connect: Callable[[], StoreClient]) -> RulesRefresh | None:
    """The read made on a store's first listings run: where the platform publishes rules and none were
    ever read, read them now (through ``connect()``), so the listings are judged against them. None
    when nothing had to be read."""
    if not rules_required(store) or load_rules(engine, store.key) is not None:
        return None
    try:
        client = connect()
    except (MissingCredentialError, ValueError) as exc:
        # Not fatal here: the listings are still built, and the blocking rules audit holds every one
        # of them back with this reason until the rules are read.
        error = f"{type(exc).__name__}: {exc}"
        _record_failure(engine, store, utcnow(), error)
        return RulesRefresh(store.key, None, fresh=False, error=error)
    try:
        return refresh_rules(engine, store, client)
    finally:
        client.close()


def rules_required(store: StoreConfig) -> bool:
    """The store's platform publishes catalog rules, so its listings are judged against them."""
    return client_class(store.platform).publishes_catalog_rules


def never_read_reason(engine: Engine, store: StoreConfig) -> str:
    """Why a store whose platform publishes rules has none: the owner's next step included."""
    _age, error = rules_age(engine, store.key)
    why = f"the last read failed ({error})" if error else "no read was attempted"
    return f"rules of store {store.key} never read: {why}; run {STORE_RULES_REFRESH_JOB} for '{store.key}'"


def save_rules(engine: Engine, rules: StoreRules, attempted_at: datetime | None = None) -> None:
    create_all(engine)
    row = {"platform": rules.platform, "rules": rules.to_json(), "read_at": _naive(rules.read_at),
           "attempted_at": _naive(attempted_at or rules.read_at), "last_error": None}
    with engine.begin() as conn:
        updated = conn.execute(store_catalog_rules.update()
                               .where(store_catalog_rules.c.store_key == rules.store_key).values(**row))
        if not updated.rowcount:
            conn.execute(store_catalog_rules.insert().values(store_key=rules.store_key, **row))


def load_rules(engine: Engine, store_key: str) -> StoreRules | None:
    row = _row(engine, store_key)
    return StoreRules.from_json(row.rules) if row is not None and row.rules else None


def rules_age(engine: Engine, store_key: str, now: datetime | None = None) -> tuple[timedelta | None, str | None]:
    """(age of the last good read or None if never read, the latest failure or None)."""
    row = _row(engine, store_key)
    if row is None:
        return None, None
    age = _naive(now or utcnow()) - row.read_at if row.read_at is not None else None
    return age, row.last_error


def _record_failure(engine: Engine, store: StoreConfig, stamp: datetime, error: str) -> None:
    create_all(engine)
    with engine.begin() as conn:
        updated = conn.execute(store_catalog_rules.update().where(store_catalog_rules.c.store_key == store.key)
                               .values(attempted_at=stamp, last_error=error[:2000]))
        if not updated.rowcount:
            conn.execute(store_catalog_rules.insert().values(store_key=store.key, platform=store.platform.value,
                                                             attempted_at=stamp, last_error=error[:2000]))


def _row(engine: Engine, store_key: str):  # type: ignore[no-untyped-def]
    create_all(engine)
    with engine.connect() as conn:
        return conn.execute(select(store_catalog_rules).where(store_catalog_rules.c.store_key == store_key)).first()


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
