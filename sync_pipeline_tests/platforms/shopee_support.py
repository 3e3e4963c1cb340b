"""Builders shared by the Shopee emulator and client tests: a provisioned shop, its store config, listings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sync_pipeline.listings.model import Listing, ListingVariant
from sync_pipeline.stores import StoreConfig
from sync_pipeline_tests.sandbox.conftest import RunningSandbox

SHOP_ID = "200001"
PARTNER_ID = 2001887
PARTNER_KEY = "sandbox-partner-key-7f3a9c"
ACCESS_TOKEN = "access-token-initial-5b1e"
REFRESH_TOKEN = "refresh-token-initial-9d42"
SECRETS = (PARTNER_KEY, ACCESS_TOKEN, REFRESH_TOKEN)


def provision_shop(sandbox: RunningSandbox, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "partner_id": PARTNER_ID,
        "partner_key": PARTNER_KEY,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "requests_per_second": 500,
        "tier_variation_delay_seconds": 0,
    }
    config.update(overrides)
    return sandbox.provision("shopee", SHOP_ID, config)


def shopee_store(
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    *,
    partner_key: str = PARTNER_KEY,
    requests_per_second: float | None = 500,
    **settings: Any,
) -> StoreConfig:
    """A store config pointing at the sandbox; credentials in env vars as in production."""
    for name, value in {
        "TEST_SHOPEE_PARTNER_ID": str(PARTNER_ID),
        "TEST_SHOPEE_PARTNER_KEY": partner_key,
        "TEST_SHOPEE_ACCESS_TOKEN": ACCESS_TOKEN,
        "TEST_SHOPEE_REFRESH_TOKEN": REFRESH_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    return StoreConfig.model_validate(
        {
            "key": "shopee-test",
            "platform": "shopee",
            "name": "Shopee test shop",
            "endpoint": sandbox.endpoint("shopee"),
            "currency": "SGD",
            "credentials": {
                "partner_id": "TEST_SHOPEE_PARTNER_ID",
                "partner_key": "TEST_SHOPEE_PARTNER_KEY",
                "access_token": "TEST_SHOPEE_ACCESS_TOKEN",
                "refresh_token": "TEST_SHOPEE_REFRESH_TOKEN",
            },
            "settings": {"shop_id": int(SHOP_ID), "tier_variation_wait_seconds": 0, **settings},
            "rate_limit": {"requests_per_second": requests_per_second} if requests_per_second else {},
        }
    )


def image_urls(sandbox: RunningSandbox, sku: str, count: int) -> tuple[str, ...]:
    return tuple(f"{sandbox.url}/_sandbox/media/catalog/{sku}/{n}.png" for n in range(count))


def simple_listing(
    sandbox: RunningSandbox, sku: str = "MS-TEE-01", *, title: str = "Cotton Crew Tee Classic Fit",
    price: str = "19.90", stock: int = 7, images: int = 2, **changes: Any,
) -> Listing:
    fields: dict[str, Any] = {
        "store_key": "shopee-test",
        "platform": "shopee",
        "sku": sku,
        "source_id": 1,
        "action": "list",
        "title": title,
        "description": "A soft cotton tee for every day, machine washable.",
        "price": Decimal(price),
        "compare_at_price": None,
        "currency": "SGD",
        "stock_qty": stock,
        "images": image_urls(sandbox, sku, images),
        "category_id": "100017",
        "handle": sku.lower(),
        "variants": (ListingVariant(sku, Decimal(price), None, stock, {}, None, Decimal("0.3")),),
        "weight_kg": Decimal("0.3"),
    }
    fields.update(changes)
    return Listing(**fields)


def variant_listing(
    sandbox: RunningSandbox, sku: str = "WH-HOODIE", *, colors: tuple[str, ...] = ("Blue", "Black"),
    sizes: tuple[str, ...] = ("M",), images: int = 3, base_price: str = "49.00",
) -> Listing:
    variants = []
    for c, color in enumerate(colors):
        for s, size in enumerate(sizes):
            variants.append(
                ListingVariant(
                    sku=f"{sku}-{color[:3].upper()}-{size}",
                    price=Decimal(base_price) + c + s,
                    compare_at_price=None,
                    stock_qty=3 + c + s,
                    options={"Color": color, "Size": size},
                    image=f"{sandbox.url}/_sandbox/media/catalog/{sku}/{color}.png",
                )
            )
    return Listing(
        store_key="shopee-test",
        platform="shopee",
        sku=sku,
        source_id=2,
        action="list",
        title="Zip Hoodie Fleece Lined Everyday",
        description="Warm fleece-lined hoodie with a full zip and two pockets.",
        price=min(v.price for v in variants),
        compare_at_price=None,
        currency="SGD",
        stock_qty=sum(v.stock_qty for v in variants),
        images=image_urls(sandbox, sku, images),
        category_id="100019",
        handle=sku.lower(),
        options=("Color", "Size"),
        variants=tuple(variants),
        weight_kg=Decimal("0.6"),
    )
