"""The spot-check's comparison of a listing with the product read back (pure logic, no server)."""

from __future__ import annotations

from sync_pipeline.platforms.base import RemoteProduct, RemoteRef, RemoteVariant
from sync_pipeline.push.verify import compare
from sync_pipeline_tests.push.builders import make_listing


def read_back(image_count: int) -> RemoteProduct:
    listing = make_listing("TEE", images=4)
    variants = tuple(RemoteVariant(v.sku, v.price, None, v.stock_qty) for v in listing.variants)
    return RemoteProduct(RemoteRef("1"), "TEE", listing.title, "active", image_count, variants, visible=True)


def test_the_store_image_count_must_equal_the_listing_s() -> None:
    listing = make_listing("TEE", images=4)
    assert compare(listing, read_back(4)) == []
    assert compare(listing, read_back(3)) == ["image count: expected 4, store has 3"]
    # A store whose images the merchant owns is not compared on them.
    assert compare(listing, read_back(3), frozenset({"images"})) == []
