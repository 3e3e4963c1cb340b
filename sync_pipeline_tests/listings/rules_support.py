"""Store rules for tests whose subject is not the rules: a Shopee/TikTok store's listings are held
back until its rules are read, so such tests seed rules that ask for nothing beyond a weight."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from sync_pipeline.listings.rules import CategoryRules, StoreRules
from sync_pipeline.listings.rules_db import mapped_categories, rules_required, save_rules
from sync_pipeline.stores import StoreConfig


def seed_open_rules(engine: Engine, stores: list[StoreConfig]) -> None:
    """Every mapped category of each rules-publishing store, leaf and open, with no requirement."""
    for store in stores:
        if rules_required(store):
            categories = {c: CategoryRules(category_id=c, name=c) for c in mapped_categories(store)}
            save_rules(engine, StoreRules(store_key=store.key, platform=store.platform.value,
                                          read_at=datetime.now(UTC).replace(tzinfo=None), categories=categories))
