"""Sandbox assembly, the CLI's argument defaults and the client factory's dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_pipeline.platforms.factory import build_client
from sync_pipeline.sandbox.__main__ import parse_args
from sync_pipeline.sandbox.app import build_sandbox, emulator_class, installed_platforms
from sync_pipeline.stores import load_stores


def test_unknown_platform_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown platform 'ebay'"):
        build_sandbox(tmp_path / "s.db", ["ebay"])


def test_emulators_are_found_by_platform_name(tmp_path: Path) -> None:
    assert "shopify" in installed_platforms()
    sandbox = build_sandbox(tmp_path / "s.db", installed_platforms())
    assert set(installed_platforms()) <= {e.platform for e in sandbox.emulators}  # plus companions (auth hosts)
    assert emulator_class("shopify").prefix == "/shopify"


def test_cli_defaults() -> None:
    args = parse_args([])
    assert (args.port, args.state, args.stores_file) == (8765, ".data/sandbox.db", None)


def test_factory_dispatches_and_insists_on_a_token_store_where_tokens_rotate(monkeypatch: pytest.MonkeyPatch) -> None:
    stores = load_stores()
    monkeypatch.setenv("DEMO_SHOPIFY_US_TOKEN", "shpat_demo")
    client = build_client(stores.by_key("shopify-us"), None)
    assert client.platform == "shopify"
    with pytest.raises(ValueError, match="needs a token store"):
        build_client(stores.by_key("shopee-sg"), None)
