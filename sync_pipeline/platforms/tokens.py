"""Refreshed platform tokens, kept in the app DB.

A Shopee or TikTok refresh token works once. The client saves the new pair here (committed)
before using it, so a process that dies right after a refresh still finds the valid pair.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from sync_pipeline.catalog.tables import create_all, platform_tokens
from sync_pipeline.platforms.base import TokenPair


class DbTokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_all(engine)
        self._lock = threading.Lock()

    def load(self, store_key: str) -> TokenPair | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(platform_tokens).where(platform_tokens.c.store_key == store_key)
            ).mappings().first()
        if row is None:
            return None
        return TokenPair(
            access_token=row["access_token"],
            refresh_token=row["refresh_token"],
            access_expires_at=_float(row["access_expires_at"]),
            refresh_expires_at=_float(row["refresh_expires_at"]),
        )

    def save(self, store_key: str, pair: TokenPair) -> None:
        values = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "access_expires_at": pair.access_expires_at,
            "refresh_expires_at": pair.refresh_expires_at,
            "updated_at": datetime.now(UTC).replace(tzinfo=None),
        }
        with self._lock, self.engine.begin() as conn:
            updated = conn.execute(
                platform_tokens.update().where(platform_tokens.c.store_key == store_key).values(**values)
            ).rowcount
            if not updated:
                conn.execute(platform_tokens.insert().values(store_key=store_key, **values))


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)
