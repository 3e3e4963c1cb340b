"""Refreshed tokens at rest: encrypted in the app DB when SYNC_SECRET_KEY is set (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from sync_pipeline.db import make_engine
from sync_pipeline.platforms.base import TokenPair
from sync_pipeline.platforms.tokens import (
    SECRET_KEY_ENV,
    DbTokenStore,
    TokenKeyError,
    platform_tokens,
    unencrypted_tokens_warning,
)
from sync_pipeline.stores import DEMO_STORES_FILE

PAIR = TokenPair("access-7f3a9c1e55d2", "refresh-0b8e44d7a6c9", 1_900_000_000.0, 1_950_000_000.0)


@pytest.fixture
def db(app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(app_db_url)
    yield engine
    engine.dispose()


def _raw(db: Engine) -> list[str]:
    with db.connect() as conn:
        row = conn.execute(sa.select(platform_tokens.c.access_token, platform_tokens.c.refresh_token)).one()
    return [row.access_token, row.refresh_token]


def test_tokens_are_encrypted_at_rest_with_a_key(db: Engine) -> None:
    key = Fernet.generate_key().decode()
    DbTokenStore(db, secret_key=key).save("shop-a", PAIR)
    raw = _raw(db)
    assert all(value.startswith("fernet:") for value in raw)
    assert not any(secret in value for value in raw for secret in (PAIR.access_token, PAIR.refresh_token))
    assert DbTokenStore(db, secret_key=key).load("shop-a") == PAIR


def test_a_rotated_key_still_reads_and_the_next_save_uses_the_new_key(db: Engine) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    DbTokenStore(db, secret_key=old).save("shop-a", PAIR)
    rotating = DbTokenStore(db, secret_key=f"{new},{old}")
    assert rotating.load("shop-a") == PAIR
    rotating.save("shop-a", PAIR)
    assert DbTokenStore(db, secret_key=new).load("shop-a") == PAIR


def test_without_a_key_tokens_stay_readable_and_old_clear_rows_are_read(db: Engine) -> None:
    DbTokenStore(db, secret_key="").save("shop-a", PAIR)
    assert _raw(db) == [PAIR.access_token, PAIR.refresh_token]
    assert DbTokenStore(db, secret_key=Fernet.generate_key().decode()).load("shop-a") == PAIR


def test_encrypted_tokens_without_the_key_fail_clearly(db: Engine) -> None:
    key = Fernet.generate_key().decode()
    DbTokenStore(db, secret_key=key).save("shop-a", PAIR)
    with pytest.raises(TokenKeyError, match=f"encrypted and {SECRET_KEY_ENV} is not set"):
        DbTokenStore(db, secret_key="").load("shop-a")
    with pytest.raises(TokenKeyError, match="encrypted with another") as wrong:
        DbTokenStore(db, secret_key=Fernet.generate_key().decode()).load("shop-a")
    assert key not in str(wrong.value)


def test_a_malformed_key_is_refused_without_repeating_it(db: Engine) -> None:
    with pytest.raises(TokenKeyError, match="not a Fernet key") as bad:
        DbTokenStore(db, secret_key="my-password-123")
    assert "my-password-123" not in str(bad.value)


def test_the_unencrypted_warning_is_given_outside_the_demo_only(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    production = tmp_path / "stores.yaml"
    warning = unencrypted_tokens_warning(production)
    assert warning is not None and SECRET_KEY_ENV in warning and "unencrypted" in warning
    assert unencrypted_tokens_warning(DEMO_STORES_FILE) is None
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    assert unencrypted_tokens_warning(production) is None
