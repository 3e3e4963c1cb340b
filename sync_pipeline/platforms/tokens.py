"""Refreshed platform tokens, kept in the app DB, encrypted at rest when ``SYNC_SECRET_KEY`` is set.

A Shopee or TikTok refresh token works once (Shopify's expiring tokens rotate too). The client
saves the new pair here (committed) before using it, so a process that dies right after a refresh
still finds the valid pair.

With ``SYNC_SECRET_KEY`` set (a Fernet key; several, comma-separated, to rotate: the first
encrypts, any decrypts), both tokens are stored as ``fernet:<token>`` (AES-128-CBC with an HMAC,
from the ``cryptography`` library): a copy of the app DB alone gives no store away. Without it they
are stored as they are, and the Dagster layer warns once per run outside the demo. Rows written
before the key was set are read as they are and encrypted at the next refresh.
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, DateTime, Engine, Numeric, String, Table, Text, select

from sync_pipeline.db import create_all, metadata, utcnow
from sync_pipeline.platforms.base import TokenPair
from sync_pipeline.stores import DEMO_STORES_FILE

SECRET_KEY_ENV = "SYNC_SECRET_KEY"
_ENCRYPTED = "fernet:"
_GENERATE = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


# The platforms' token storage: one row per store whose tokens were refreshed.
platform_tokens = Table(
    "platform_tokens",
    metadata,
    Column("store_key", String(64), primary_key=True),
    # Refresh tokens are single-use: the new pair is committed here before it is ever used.
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("access_expires_at", Numeric(20, 3)),
    Column("refresh_expires_at", Numeric(20, 3)),
    Column("updated_at", DateTime, nullable=False),
)


class TokenKeyError(RuntimeError):
    """The key is missing, malformed or not the one the tokens were encrypted with (never printed)."""


def token_cipher(secret_key: str | None) -> MultiFernet | None:
    """The cipher for ``SYNC_SECRET_KEY``'s value, or None when it is unset."""
    keys = [k.strip() for k in (secret_key or "").split(",") if k.strip()]
    if not keys:
        return None
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise TokenKeyError(f"{SECRET_KEY_ENV} is not a Fernet key (32 url-safe base64 bytes); make one with: "
                            f"{_GENERATE}") from None


def unencrypted_tokens_warning(stores_file: str | os.PathLike[str]) -> str | None:
    """The warning to give once per run when refreshed tokens would be stored in clear, or None."""
    if os.environ.get(SECRET_KEY_ENV, "").strip():
        return None
    if os.path.abspath(stores_file) == os.path.abspath(DEMO_STORES_FILE):
        return None  # the demo's stores are the local sandboxes: nothing to protect
    return (f"{SECRET_KEY_ENV} is not set: tokens obtained by refresh are stored unencrypted in the app DB; "
            f"set it to a Fernet key ({_GENERATE})")


class DbTokenStore:
    def __init__(self, engine: Engine, secret_key: str | None = None) -> None:
        """``secret_key``: the Fernet key(s); None reads ``SYNC_SECRET_KEY``."""
        self.engine = engine
        create_all(engine)
        self._lock = threading.Lock()
        self._cipher = token_cipher(secret_key if secret_key is not None else os.environ.get(SECRET_KEY_ENV))

    def load(self, store_key: str) -> TokenPair | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(platform_tokens).where(platform_tokens.c.store_key == store_key)
            ).mappings().first()
        if row is None:
            return None
        return TokenPair(
            access_token=self._reveal(store_key, row["access_token"]),
            refresh_token=self._reveal(store_key, row["refresh_token"]),
            access_expires_at=_float(row["access_expires_at"]),
            refresh_expires_at=_float(row["refresh_expires_at"]),
        )

    def save(self, store_key: str, pair: TokenPair) -> None:
        values = {
            "access_token": self._hide(pair.access_token),
            "refresh_token": self._hide(pair.refresh_token),
            "access_expires_at": pair.access_expires_at,
            "refresh_expires_at": pair.refresh_expires_at,
            "updated_at": utcnow(),
        }
        with self._lock, self.engine.begin() as conn:
            updated = conn.execute(
                platform_tokens.update().where(platform_tokens.c.store_key == store_key).values(**values)
            ).rowcount
            if not updated:
                conn.execute(platform_tokens.insert().values(store_key=store_key, **values))

    def _hide(self, token: str) -> str:
        if self._cipher is None:
            return token
        return _ENCRYPTED + self._cipher.encrypt(token.encode()).decode()

    def _reveal(self, store_key: str, stored: str) -> str:
        if not stored.startswith(_ENCRYPTED):
            return stored
        if self._cipher is None:
            raise TokenKeyError(f"store '{store_key}': its refreshed tokens are encrypted and {SECRET_KEY_ENV} "
                                "is not set in this process")
        try:
            return self._cipher.decrypt(stored[len(_ENCRYPTED):].encode()).decode()
        except InvalidToken:
            raise TokenKeyError(f"store '{store_key}': its refreshed tokens were encrypted with another "
                                f"{SECRET_KEY_ENV}") from None


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)
