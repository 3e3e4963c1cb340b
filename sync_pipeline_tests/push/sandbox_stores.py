"""Demo-like stores served by the test sandbox: a stores file, env credentials, provisioning."""

from __future__ import annotations

import dataclasses
import importlib.util
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync_pipeline.listings.mapping import catalog_details
from sync_pipeline.listings.model import Listing
from sync_pipeline.sandbox.app import provision_from_stores_file
from sync_pipeline.stores import StoreConfig, StoresFile, load_stores
from sync_pipeline_tests.push.builders import make_listing

CREDENTIALS = {
    "PUSH_T_SHOPIFY_US": "shpat_push_test_us_token", "PUSH_T_SHOPIFY_EU": "shpat_push_test_eu_token",
    "PUSH_T_SHOPEE_PID": "200777", "PUSH_T_SHOPEE_KEY": "shopee-partner-key-push-test",
    "PUSH_T_SHOPEE_AT": "shopee-access-push-test", "PUSH_T_SHOPEE_RT": "shopee-refresh-push-test",
    "PUSH_T_TT_KEY": "tt-app-key-push", "PUSH_T_TT_SECRET": "tt-app-secret-push-test",
    "PUSH_T_TT_AT": "TTP_access_push_test", "PUSH_T_TT_RT": "TTP_refresh_push_test",
}


def stores_yaml(url: str) -> dict[str, Any]:
    return {"stores": [
        {"key": "shopify-us", "platform": "shopify", "name": "US", "endpoint": f"{url}/shopify/push-us",
         "credentials": {"access_token": "PUSH_T_SHOPIFY_US"},
         "settings": {"api_version": "2026-07", "location_id": "gid://shopify/Location/1"}},
        {"key": "shopify-eu", "platform": "shopify", "name": "EU", "endpoint": f"{url}/shopify/push-eu",
         "currency": "EUR", "credentials": {"access_token": "PUSH_T_SHOPIFY_EU"}, "owned_fields": ["description"],
         "settings": {"api_version": "2026-07", "location_id": "gid://shopify/Location/1"}},
        {"key": "shopee-sg", "platform": "shopee", "name": "SG", "endpoint": f"{url}/shopee", "currency": "SGD",
         "credentials": {"partner_id": "PUSH_T_SHOPEE_PID", "partner_key": "PUSH_T_SHOPEE_KEY",
                         "access_token": "PUSH_T_SHOPEE_AT", "refresh_token": "PUSH_T_SHOPEE_RT"},
         "settings": {"shop_id": 300001, "tier_variation_wait_seconds": 0, "default_weight_kg": "0.5"},
         "rate_limit": {"requests_per_second": 200}},
        {"key": "tiktok-us", "platform": "tiktok", "name": "TT", "endpoint": f"{url}/tiktok",
         "credentials": {"app_key": "PUSH_T_TT_KEY", "app_secret": "PUSH_T_TT_SECRET",
                         "access_token": "PUSH_T_TT_AT", "refresh_token": "PUSH_T_TT_RT"},
         "settings": {"shop_cipher": "push_cipher", "warehouse_id": "7000001", "audit_delay_seconds": 0,
                      "auth_endpoint": f"{url}/tiktok-auth"},
         # US shops need package dimensions (real-stores 1.2)
         "mapping": {"package": {"dimensions": {"length": 30, "width": 20, "height": 5}}},
         "rate_limit": {"requests_per_second": 200}},
    ]}


def client_installed(platform: str) -> bool:
    return importlib.util.find_spec(f"sync_pipeline.platforms.{platform}") is not None


def provision(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoresFile:
    """Write the stores file, set the env credentials, provision every store in the sandbox."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump(stores_yaml(sandbox.url)), encoding="utf-8")
    outcomes = provision_from_stores_file(sandbox.sandbox, path, base_url=sandbox.url)
    assert all(o.sandbox_store for o in outcomes), outcomes
    monkeypatch.setenv("SYNC_STORES_FILE", str(path))
    return load_stores(path)


def store_listing(store: StoreConfig, sku: str, media_url: str, **kwargs: Any) -> Listing:
    """A listing for ``store`` whose images are real PNGs served under ``media_url``."""
    listing = make_listing(sku, store_key=store.key, platform=store.platform.value,
                           title=kwargs.pop("title", None) or f"Everyday Organic Cotton Crew Tee {sku} Soft Fit", **kwargs)
    images = tuple(f"{media_url}/media/{sku}-{i}.png" for i in range(len(listing.images)))
    listing = dataclasses.replace(listing, images=images, currency=store.currency, weight_kg=Decimal("0.5"),
                                  category_id=_category(store))
    details = catalog_details(listing, {}, store, None)
    return dataclasses.replace(listing, details=details) if details is not None else listing


def _category(store: StoreConfig) -> str:
    return {"shopify": "Apparel & Accessories > Clothing > Shirts & Tops", "shopee": "100017",
            "tiktok": "601152"}[store.platform.value]
