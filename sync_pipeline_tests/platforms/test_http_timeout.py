"""The store clients' HTTP timeout: the store's own setting, else SYNC_HTTP_TIMEOUT_SECONDS, else 30 s,
applied by every platform's client to its calls (pure configuration; no server is called)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync_pipeline.demo import DEMO_CREDENTIALS
from sync_pipeline.platforms.base import TokenPair
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.http import DEFAULT_TIMEOUT_S, TIMEOUT_ENV, HttpTransport, http_timeout
from sync_pipeline.stores import StoreConfig, StoresFileError, load_stores

DEMO_STORES = Path(__file__).parents[2] / "sync_pipeline" / "stores_demo.yaml"
ONE_PER_PLATFORM = ("shopify-us", "shopee-sg", "tiktok-us")


class NoTokens:
    """Token storage that holds nothing: the clients fall back to the configured credentials."""

    def load(self, store_key: str) -> TokenPair | None:
        return None

    def save(self, store_key: str, pair: TokenPair) -> None:
        raise AssertionError("no token is refreshed while a client is only built")


def _timeouts(stores: list[StoreConfig], monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The timeout of every transport each store's client opens (whatever module of the client opens it)."""
    opened: list[HttpTransport] = []
    original = HttpTransport.__init__

    def recording(self: HttpTransport, **kwargs: Any) -> None:
        original(self, **kwargs)
        opened.append(self)

    monkeypatch.setattr(HttpTransport, "__init__", recording)
    timeouts = {}
    for store in stores:
        opened.clear()
        client = build_client(store, NoTokens())
        assert opened, f"{store.key}: the client opened no transport"
        (timeouts[store.key],) = {transport.timeout for transport in opened}
        client.close()
    return timeouts


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> list[StoreConfig]:
    for name, value in DEMO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    return [load_stores(DEMO_STORES).by_key(key) for key in ONE_PER_PLATFORM]


def test_every_client_keeps_30_s_by_default(stores: list[StoreConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_TIMEOUT_S == 30.0
    assert _timeouts(stores, monkeypatch) == dict.fromkeys(ONE_PER_PLATFORM, 30.0)


def test_the_environment_sets_every_store_and_a_store_setting_wins(
        stores: list[StoreConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "240")
    own = stores[1].model_copy(update={"http_timeout_seconds": 95.5})
    assert _timeouts([stores[0], own, stores[2]], monkeypatch) == {"shopify-us": 240.0, "shopee-sg": 95.5, "tiktok-us": 240.0}


@pytest.mark.parametrize("raw", ["0", "-5", "thirty", "inf", "nan"])
def test_a_bad_environment_value_is_refused_naming_the_variable(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, raw)
    with pytest.raises(ValueError, match=f"{TIMEOUT_ENV} must be a number of seconds above 0"):
        http_timeout(None)


def test_the_stores_file_takes_a_per_store_timeout_and_refuses_a_non_positive_one(tmp_path: Path) -> None:
    text = DEMO_STORES.read_text().replace("  - key: shopee-sg\n", "  - key: shopee-sg\n    http_timeout_seconds: 120\n", 1)
    (tmp_path / "ok.yaml").write_text(text)
    assert load_stores(tmp_path / "ok.yaml").by_key("shopee-sg").http_timeout_seconds == 120
    (tmp_path / "bad.yaml").write_text(text.replace("http_timeout_seconds: 120", "http_timeout_seconds: 0"))
    with pytest.raises(StoresFileError, match="http_timeout_seconds"):
        load_stores(tmp_path / "bad.yaml")
