"""The stores file: problems fail at load, naming the file, the store and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sync_pipeline.stores import DEMO_STORES_FILE, MissingCredentialError, StoresFileError, load_stores


def write(tmp_path: Path, stores: list[dict]) -> Path:
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": stores}), encoding="utf-8")
    return path


def shop(key: str = "shop-a", **changes: object) -> dict:
    entry = {"key": key, "platform": "shopify", "name": key, "endpoint": "http://127.0.0.1:1/shopify",
             "credentials": {"access_token": "SHOP_A_TOKEN"}}
    entry.update(changes)
    return entry


def load_error(path: Path) -> str:
    with pytest.raises(StoresFileError) as raised:
        load_stores(path)
    return str(raised.value)


def test_the_demo_file_has_two_shopify_stores_a_shopee_and_a_tiktok_shop() -> None:
    stores = load_stores(DEMO_STORES_FILE)
    assert [s.platform.value for s in stores.stores] == ["shopify", "shopify", "shopee", "tiktok"]


def test_unknown_platform_names_file_store_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, [shop(), shop("shop-b", platform="amazon")])
    message = load_error(path)
    assert str(path) in message and "store 'shop-b'" in message and "field 'platform'" in message
    assert "'amazon'" in message


def test_duplicate_key_names_the_entries(tmp_path: Path) -> None:
    path = write(tmp_path, [shop(), shop("shop-b"), shop()])
    message = load_error(path)
    assert message == f"{path}: store 'shop-a' (entries #1, #3), field 'key': duplicate store key"


def test_duplicate_key_is_reported_with_other_problems(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, [shop(), shop(platform="ebay")]))
    assert "duplicate store key" in message and "field 'platform'" in message


@pytest.mark.parametrize(
    ("rule", "field", "words"),
    [
        ({"price_rule": {"multiplier": "-1"}}, "price_rule.multiplier", "greater than 0"),
        ({"price_rule": {"rounding": "98"}}, "price_rule.rounding", "'98'"),
        ({"price_rule": {"min_price": "10", "max_price": "5"}}, "price_rule", "min_price is greater than max_price"),
        ({"price_rule": {"min_price": "-1"}}, "price_rule.min_price", "must not be negative"),
        ({"price_rule": {"fx_rate": "0"}}, "price_rule.fx_rate", "greater than 0"),
        ({"price_rule": {"multipler": "1.1"}}, "price_rule.multipler", "Extra inputs"),
        ({"title_rule": {"min_similarity": 0.9, "max_similarity": 0.8}}, "title_rule", "min_similarity"),
        ({"limits": {"images": 0}}, "limits", "at least 1: images"),
    ],
)
def test_bad_rule_names_file_store_and_field(tmp_path: Path, rule: dict, field: str, words: str) -> None:
    path = write(tmp_path, [shop("shop-a", **rule)])
    message = load_error(path)
    assert message.startswith(f"{path}: store 'shop-a', field '{field}'")
    assert words in message


def test_store_without_a_key_is_named_by_position(tmp_path: Path) -> None:
    entry = shop()
    del entry["key"]
    assert "store #2, field 'key': Field required" in load_error(write(tmp_path, [shop("x"), entry]))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    assert "cannot read stores file" in load_error(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stores: [\n", encoding="utf-8")
    assert "not valid YAML" in load_error(bad)
    bad.write_text("shops: []\n", encoding="utf-8")
    assert "expected a top-level 'stores:' list" in load_error(bad)


def test_a_missing_credential_fails_only_when_that_store_asks_for_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_A_TOKEN", raising=False)
    monkeypatch.setenv("SHOP_B_TOKEN", "secret-b")
    stores = load_stores(write(tmp_path, [shop(), shop("shop-b", credentials={"access_token": "SHOP_B_TOKEN"})]))
    assert stores.by_key("shop-b").credential("access_token") == "secret-b"
    with pytest.raises(MissingCredentialError, match="SHOP_A_TOKEN") as raised:
        stores.by_key("shop-a").credential("access_token")
    assert "secret" not in str(raised.value)


def test_a_field_given_twice_inside_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stores.yaml"
    path.write_text(
        "stores:\n"
        "  - key: shop-a\n"
        "    platform: shopify\n"
        "    name: Shop A\n"
        "    endpoint: http://127.0.0.1:1/shopify\n"
        "    credentials: {access_token: SHOP_A_TOKEN}\n"
        "    price_rule:\n"
        "      multiplier: '1.10'\n"
        "      multiplier: '0.10'\n"
        "    name: Shop A again\n",
        encoding="utf-8",
    )
    message = load_error(path)
    assert "store 'shop-a', field 'price_rule.multiplier': given twice (lines 8 and 9)" in message
    assert "store 'shop-a', field 'name': given twice (lines 4 and 10)" in message


@pytest.mark.parametrize("pasted", ["shpat_0123456789abcdef0123456789abcdef", "2001887", "Bearer AbC.dEf-123"])
def test_a_secret_pasted_as_a_credential_is_refused_without_repeating_it(tmp_path: Path, pasted: str) -> None:
    message = load_error(write(tmp_path, [shop(credentials={"access_token": pasted})]))
    assert "store 'shop-a', field 'credentials'" in message and "access_token" in message
    assert pasted not in message


def test_a_secret_on_a_broken_yaml_line_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "stores.yaml"
    path.write_text("stores:\n  - key: shop-a\n    credentials: {access_token: shpat_9f8e7d6c5b4a: oops}\n",
                    encoding="utf-8")
    message = load_error(path)
    assert "line 3" in message and "shpat_9f8e7d6c5b4a" not in message
