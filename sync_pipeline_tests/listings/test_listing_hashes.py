"""The listing hashes are stored and compared across runs and versions: they must not drift."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sync_pipeline.listings.model import (
    AttributeValue,
    CatalogDetails,
    Certification,
    Listing,
    ListingAttribute,
    ListingVariant,
    Package,
)

LISTING = Listing(
    store_key="shopify-us", platform="shopify", sku="MJ03", source_id=7, action="list",
    title="Montana Wind Jacket | Black Polyester", description="<p>Crème &amp; brûlée</p>",
    price=Decimal("49.00"), compare_at_price=Decimal("59.00"), currency="USD", stock_qty=7,
    images=("http://m.test/a.jpg", "http://m.test/b.jpg"), category_id="Apparel > Jackets",
    handle="montana-wind-jacket", options=("Color", "Size"),
    variants=(
        ListingVariant("MJ03-S-Black", Decimal("49.00"), Decimal("59.00"), 3, {"Color": "Black", "Size": "S"},
                       None, Decimal("0.8")),
        ListingVariant("MJ03-M-Black", Decimal("52.00"), None, 4, {"Color": "Black", "Size": "M"},
                       "http://m.test/c.jpg", None),
    ),
    weight_kg=Decimal("0.8"),
)


def test_hashes_are_pinned() -> None:
    """Digests of a fixed listing, as stored by earlier versions: a change to the encoding would make
    every product in every store look changed (a full re-push)."""
    assert LISTING.hashes() == {
        "content_hash": "e6c63e6e3b01fbadebb022a881dcd9d307c1aaf4f7cd1a4dd30a0b99e8565788",
        "price_hash": "15a7fc537f17c8fbe60022450a361360c25ec629d0a033354765cfb4ee75be10",
        "stock_hash": "de807ac2936b09b99bd6940db07f2027a2fadda3f19f5a4808673525d5dd4114",
        "payload_hash": "a9ca445d1e698325e90e0df2e2cd94a1869ce074f7e23a573d9370ed1098accc",
    }
    assert LISTING.payload_hash() == LISTING.hashes()["payload_hash"]


DETAILED = Listing(
    store_key="tiktok-us", platform="tiktok", sku="FM03", source_id=8, action="list",
    title="Treadmill", description="<p>Fast</p>", price=Decimal("499.00"), compare_at_price=None, currency="USD",
    stock_qty=2, images=("http://m.test/t.jpg",), category_id="603014", handle="treadmill",
    variants=(ListingVariant("FM03", Decimal("499.00"), None, 2, {}),), weight_kg=Decimal("30"),
    details=CatalogDetails(
        attributes=(ListingAttribute("Power Source", "100610", (AttributeValue("Manual", "1002002"),)),),
        brand_id="7082427311584347905",
        certifications=(Certification("7182427311584347905", ("http://m.test/c.png",)),),
        package=Package(Decimal("30"), "KILOGRAM", Decimal("120"), Decimal("60"), Decimal("40"))),
)


def test_a_listing_with_catalog_details_keeps_its_pinned_content_hash() -> None:
    """Digest stored before ``CatalogDetails.cod`` and ``.variations`` existed: a listing using neither keeps it;
    asking for cash on delivery is a content change."""
    assert DETAILED.content_hash() == "553bcb450f8c4804513680811220ce7f9efdf6c69de8c1d6a5b984b8f830c712"
    assert DETAILED.details is not None
    with_cod = replace(DETAILED, details=replace(DETAILED.details, cod=True))
    assert _changed(DETAILED.hashes(), with_cod.hashes()) == {"content_hash", "payload_hash"}
    assert Listing.from_json(with_cod.to_json()) == with_cod


def test_each_hash_moves_only_with_its_own_fields() -> None:
    cheaper = replace(LISTING, variants=(replace(LISTING.variants[0], price=Decimal("45.00")), LISTING.variants[1]))
    restocked = replace(LISTING, variants=(replace(LISTING.variants[0], stock_qty=9), LISTING.variants[1]))
    renamed = replace(LISTING, title="Montana Wind Jacket, Black")
    base = LISTING.hashes()
    assert _changed(base, cheaper.hashes()) == {"price_hash", "payload_hash"}
    assert _changed(base, restocked.hashes()) == {"stock_hash", "payload_hash"}
    assert _changed(base, renamed.hashes()) == {"content_hash", "payload_hash"}


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {key for key in before if before[key] != after[key]}
