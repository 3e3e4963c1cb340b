"""TikTok specifics of the push against its sandbox: sold-out variants (the platform refuses a
quantity of 0; the listing shape leaves them out, the push carries that shape) and recovering an
unconfirmed create (its search finds variant SKUs only)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Engine

from sync_pipeline.listings.shapes import without_sold_out_variants
from sync_pipeline.platforms.factory import build_client
from sync_pipeline.platforms.tokens import DbTokenStore
from sync_pipeline.push import ledger
from sync_pipeline.push.verify import spot_check
from sync_pipeline.stores import StoresFile
from sync_pipeline_tests.push.builders import make_listing
from sync_pipeline_tests.push.listing_rows import save_listings
from sync_pipeline_tests.push.sandbox_stores import store_listing
from sync_pipeline_tests.push.test_push_resilience import parents_on_store
from sync_pipeline_tests.push.test_push_sandbox import MEDIA, db, push, stores  # noqa: F401 - fixtures


def sold_out(listing: Any, *variant_indexes: int) -> Any:
    """The listing as the shapes build it once those variants sold out."""
    variants = tuple(dataclasses.replace(v, stock_qty=0) if i in variant_indexes else v
                     for i, v in enumerate(listing.variants))
    return without_sold_out_variants(
        dataclasses.replace(listing, variants=variants, stock_qty=sum(v.stock_qty for v in variants)))


def test_sold_out_shape_of_a_tiktok_listing() -> None:
    tiktok = make_listing("T-1", platform="tiktok")
    assert without_sold_out_variants(tiktok) is tiktok
    partly = sold_out(tiktok, 1)
    assert [v.sku for v in partly.variants] == ["T-1-S", "T-1-L"] and partly.action == "list"
    assert sold_out(tiktok, 0, 1, 2).action == "delist"
    shopify = sold_out(make_listing("S-1"), 0, 1, 2)
    assert shopify.action == "list" and len(shopify.variants) == 3  # other platforms hold a 0 as it is


def test_sold_out_variants_are_left_out_and_a_sold_out_listing_is_delisted(db: Engine, sandbox_server: Any,  # noqa: F811
                                                                          stores: StoresFile) -> None:  # noqa: F811
    store = stores.by_key("tiktok-us")
    client = build_client(store, DbTokenStore(db))
    full = store_listing(store, "SOLD-1", MEDIA.url)
    save_listings(db, [sold_out(full, 1)])
    report = push(db, store)
    assert (report.progress.created, report.progress.errors) == (1, 0), report.progress.first_errors
    ref = ledger.load_mappings(db, store.key)["SOLD-1"].ref
    assert ref is not None
    remote = client.read_product(ref)
    assert remote is not None and sorted(v.sku for v in remote.variants) == ["SOLD-1-L", "SOLD-1-S"]
    assert spot_check(db, store.key, client, 5).passed

    save_listings(db, [sold_out(full, 0, 1, 2)])  # everything sold out: deactivated, no error
    report = push(db, store)
    assert (report.progress.delisted, report.progress.errors) == (1, 0), report.progress.first_errors
    remote = client.read_product(ref)
    assert remote is not None and remote.status != "active"

    save_listings(db, [full])  # back in stock: relisted with every variant
    report = push(db, store)
    assert (report.progress.updated, report.progress.errors) == (1, 0), report.progress.first_errors
    mapping = ledger.load_mappings(db, store.key)["SOLD-1"]
    assert mapping.ref is not None
    remote = client.read_product(mapping.ref)
    assert remote is not None and remote.status == "active"
    assert sorted(v.sku for v in remote.variants) == ["SOLD-1-L", "SOLD-1-M", "SOLD-1-S"]
    assert {v.stock_qty for v in remote.variants} == {5}
    assert parents_on_store(sandbox_server, store) == {"SOLD-1": 1}


def test_unconfirmed_create_is_found_by_variant_sku(db: Engine, sandbox_server: Any, stores: StoresFile) -> None:  # noqa: F811
    """A run died after TikTok created the product but before the mapping was confirmed, and the
    listing changed since (so the idempotency key no longer matches): the re-run must find the
    product by a variant SKU and update it, not create a second one."""
    store = stores.by_key("tiktok-us")
    client = build_client(store, DbTokenStore(db))
    first = store_listing(store, "LOST-1", MEDIA.url)
    client.upsert(first, None)  # the store has it; the app DB only knows a create was sent
    with db.begin() as conn:
        ledger.mark_pending(conn, store.key, ["LOST-1"], "dead-run")
    assert client.find_by_sku("LOST-1") is None  # the parent SKU is not searchable on TikTok
    changed = dataclasses.replace(first, title="Everyday Organic Cotton Crew Tee LOST-1 New Season")
    save_listings(db, [changed])
    report = push(db, store)
    assert (report.progress.created, report.progress.errors) == (1, 0), report.progress.first_errors
    assert parents_on_store(sandbox_server, store) == {"LOST-1": 1}
    mapping = ledger.load_mappings(db, store.key)["LOST-1"]
    assert mapping.status == "listed" and mapping.ref is not None
    remote = client.read_product(mapping.ref)
    assert remote is not None and remote.title == changed.title
