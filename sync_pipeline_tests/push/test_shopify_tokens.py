"""Shopify tokens that renew, on the sandbox: expiring offline tokens with rotating refresh
tokens (saved before use), renewal ahead of expiry and after a 401, the client credentials grant,
and static tokens as before. Expiry is forced (``expire_tokens``), never waited for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import Engine

from sync_pipeline.db import create_all, make_engine
from sync_pipeline.platforms.base import TokenPair
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push.engine import PushOptions, PushReport, push_store
from sync_pipeline.sandbox.shopify.emulator import INVALID_TOKEN_BODY
from sync_pipeline.stores import StoreConfig, load_stores
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture
from sync_pipeline_tests.push.builders import with_price
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import store_listing
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

CLIENT = {"client_id": "shopify-app-client-id", "client_secret": "shpss_sandbox_client_secret"}


@pytest.fixture
def db(sqlite_app_db_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


def shop(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
         env: dict[str, str], provision: dict[str, Any]) -> StoreConfig:
    """A stores-file entry naming ``env``'s variables, and the sandbox store behind it."""
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    sandbox.provision("shopify", name, provision)
    credentials = {var.removeprefix("TOK_T_").lower(): var for var in env}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"stores": [{
        "key": name, "platform": "shopify", "name": name, "endpoint": f"{sandbox.url}/shopify/{name}",
        "credentials": credentials,
        "settings": {"api_version": "2026-07", "location_id": "gid://shopify/Location/1"}}]}), encoding="utf-8")
    return load_stores(path).stores[0]


def push(db: Engine, store: StoreConfig) -> PushReport:
    return push_store(db, store, lambda observer: build_client(store, DbTokenStore(db), observer=observer),
                      PushOptions())


def oauth_calls(sandbox: Any, name: str) -> int:
    return int(sandbox.calls("shopify", name)["operations"].get("oauth_access_token", 0))


def test_an_expired_token_is_refreshed_the_new_pair_saved_and_the_run_continues(
        db: Engine, sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        image_host: Any) -> None:  # noqa: F811
    store = shop(sandbox_server, tmp_path, monkeypatch, "expiring",
                 {"TOK_T_ACCESS_TOKEN": "shpat_first", "TOK_T_REFRESH_TOKEN": "shprt_first",
                  "TOK_T_CLIENT_ID": CLIENT["client_id"], "TOK_T_CLIENT_SECRET": CLIENT["client_secret"]},
                 {"access_token": "shpat_first", "refresh_token": "shprt_first", "token_lifetime": 3600, **CLIENT})
    listings = [store_listing(store, f"EXP-{i}", image_host.url) for i in range(4)]
    save_listings(db, listings)
    assert push(db, store).progress.created == 4 and oauth_calls(sandbox_server, "expiring") == 0

    sandbox_server.sandbox.emulator("shopify").expire_tokens("expiring")
    answer = requests.post(f"{store.endpoint}/admin/api/2026-07/graphql.json", json={"query": "{ shop { id } }"},
                           headers={"X-Shopify-Access-Token": "shpat_first"}, timeout=CALL_BOUND_S)
    assert (answer.status_code, answer.json()) == (401, INVALID_TOKEN_BODY)  # Shopify's own body

    save_listings(db, [with_price(listing, "12.00") for listing in listings])
    before = time.time()  # the new token is issued after this, for its full hour
    report = push(db, store)
    assert (report.progress.updated, report.progress.errors) == (4, 0), report.progress.first_errors
    assert oauth_calls(sandbox_server, "expiring") == 1  # one refresh for all the worker threads
    saved = DbTokenStore(db).load("expiring")
    assert saved is not None and saved.access_token != "shpat_first" and saved.refresh_token != "shprt_first"
    assert saved.access_expires_at is not None and saved.access_expires_at >= before + 3600

    # rotation: the next refresh uses the saved refresh token, which retires the first one for good
    sandbox_server.sandbox.emulator("shopify").expire_tokens("expiring")
    save_listings(db, [with_price(listing, "13.00") for listing in listings])
    assert push(db, store).progress.updated == 4
    again = DbTokenStore(db).load("expiring")
    assert again is not None and again.refresh_token not in (saved.refresh_token, "shprt_first")
    dead = requests.post(f"{store.endpoint}/admin/oauth/access_token", timeout=CALL_BOUND_S, json={
        **CLIENT, "refresh_token": "shprt_first", "grant_type": "refresh_token"})
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"


def test_a_token_about_to_expire_is_renewed_before_the_first_call(
        db: Engine, sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        image_host: Any) -> None:  # noqa: F811
    store = shop(sandbox_server, tmp_path, monkeypatch, "ahead",
                 {"TOK_T_ACCESS_TOKEN": "shpat_env", "TOK_T_REFRESH_TOKEN": "shprt_env",
                  "TOK_T_CLIENT_ID": CLIENT["client_id"], "TOK_T_CLIENT_SECRET": CLIENT["client_secret"]},
                 {"access_token": "shpat_env", "refresh_token": "shprt_env", "token_lifetime": 3600, **CLIENT})
    # the stored pair (newer than the environment's) has a minute left: inside the renewal margin
    DbTokenStore(db).save("ahead", TokenPair("shpat_env", "shprt_env", access_expires_at=time.time() + 60))
    save_listings(db, [store_listing(store, "AHEAD", image_host.url)])
    report = push(db, store)
    assert (report.progress.created, report.progress.errors) == (1, 0)
    assert oauth_calls(sandbox_server, "ahead") == 1
    assert sandbox_server.calls("shopify", "ahead")["operations"].get("productSet") == 1
    saved = DbTokenStore(db).load("ahead")
    assert saved is not None and saved.access_token != "shpat_env"


def test_client_credentials_grant_asks_for_its_own_token(
        db: Engine, sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        image_host: Any) -> None:  # noqa: F811
    store = shop(sandbox_server, tmp_path, monkeypatch, "own-org",
                 {"TOK_T_CLIENT_ID": CLIENT["client_id"], "TOK_T_CLIENT_SECRET": CLIENT["client_secret"]},
                 {**CLIENT})
    save_listings(db, [store_listing(store, "CC-1", image_host.url)])
    before = time.time()  # the token is granted after this, for its full 24 h
    assert push(db, store).progress.created == 1
    saved = DbTokenStore(db).load("own-org")
    assert saved is not None and saved.refresh_token == ""
    assert saved.access_expires_at is not None and saved.access_expires_at >= before + 86_400  # 24 h
    sandbox_server.sandbox.emulator("shopify").expire_tokens("own-org")
    save_listings(db, [with_price(store_listing(store, "CC-1", image_host.url), "11.00")])
    assert push(db, store).progress.updated == 1  # a 401, then a new token by the same grant
    assert oauth_calls(sandbox_server, "own-org") == 2


def test_a_wrong_client_secret_stops_the_store_without_leaking_it(
        db: Engine, sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        image_host: Any) -> None:  # noqa: F811
    store = shop(sandbox_server, tmp_path, monkeypatch, "wrong-secret",
                 {"TOK_T_CLIENT_ID": CLIENT["client_id"], "TOK_T_CLIENT_SECRET": "shpss_not_the_secret"},
                 {**CLIENT})
    save_listings(db, [store_listing(store, "WS-1", image_host.url)])
    with pytest.raises(Exception, match="client_credentials grant was refused") as failure:
        push(db, store)
    assert "shpss_not_the_secret" not in str(failure.value)


def test_a_static_token_still_works_and_is_never_refreshed(
        db: Engine, sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        image_host: Any) -> None:  # noqa: F811
    store = shop(sandbox_server, tmp_path, monkeypatch, "static",
                 {"TOK_T_ACCESS_TOKEN": "shpat_static"}, {"access_token": "shpat_static"})
    save_listings(db, [store_listing(store, "ST-1", image_host.url)])
    assert push(db, store).progress.created == 1
    assert oauth_calls(sandbox_server, "static") == 0 and DbTokenStore(db).load("static") is None
