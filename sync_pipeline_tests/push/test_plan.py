from __future__ import annotations

import dataclasses

import pytest

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import RemoteProduct, RemoteRef
from sync_pipeline.push.plan import (
    Action,
    MappingStatus,
    StoreMapping,
    UnknownOwnedFieldError,
    build_plan,
    decide,
    pushed_hashes,
    with_owned_fields_from,
)
from sync_pipeline_tests.push.builders import make_listing, with_price, with_stock

NOTHING_OWNED: frozenset[str] = frozenset()


def mapped(listing: Listing, *, status: str = MappingStatus.LISTED, owned: frozenset[str] = NOTHING_OWNED,
           external_id: str | None = "p-1") -> StoreMapping:
    h = pushed_hashes(listing, owned)
    return StoreMapping(sku=listing.sku, status=status, external_id=external_id,
                        external_variant_ids={v.sku: f"v-{v.sku}" for v in listing.variants},
                        content_hash=h.content_hash, price_hash=h.price_hash, stock_hash=h.stock_hash,
                        payload_hash=h.payload_hash, last_payload=listing.to_json())


def test_new_listing_is_created() -> None:
    assert decide(make_listing("A"), None, NOTHING_OWNED).action is Action.CREATE


def test_pending_mapping_is_created_with_recovery() -> None:
    listing = make_listing("A")
    pending = StoreMapping(sku="A", status=MappingStatus.PENDING)
    product = decide(listing, pending, NOTHING_OWNED)
    assert product.action is Action.CREATE and product.recover


def test_same_listing_is_unchanged() -> None:
    listing = make_listing("A")
    assert decide(listing, mapped(listing), NOTHING_OWNED).action is Action.UNCHANGED


def test_price_change_is_a_price_update_only() -> None:
    listing = make_listing("A")
    product = decide(with_price(listing, "12.00"), mapped(listing), NOTHING_OWNED)
    assert (product.action, product.price_changed, product.stock_changed) == (Action.UPDATE_PRICE, True, False)
    assert product.changed_fields == ("price",)


def test_price_and_stock_change_both_apply() -> None:
    listing = make_listing("A")
    product = decide(with_stock(with_price(listing, "12.00"), 9), mapped(listing), NOTHING_OWNED)
    assert (product.action, product.price_changed, product.stock_changed) == (Action.UPDATE_PRICE, True, True)


def test_stock_change_is_a_stock_update() -> None:
    listing = make_listing("A")
    product = decide(with_stock(listing, 0), mapped(listing), NOTHING_OWNED)
    assert product.action is Action.UPDATE_STOCK and product.changed_fields == ("stock",)


def test_content_change_subsumes_price() -> None:
    listing = make_listing("A")
    changed = with_price(dataclasses.replace(listing, title="New title"), "11.00")
    product = decide(changed, mapped(listing), NOTHING_OWNED)
    assert product.action is Action.UPDATE_CONTENT
    assert set(product.changed_fields) == {"title", "price"}


def test_owned_field_change_is_ignored_after_creation() -> None:
    owned = frozenset({"description", "images"})
    listing = make_listing("A")
    edited = dataclasses.replace(listing, description="<p>other</p>", images=listing.images[:1])
    assert decide(edited, mapped(listing, owned=owned), owned).action is Action.UNCHANGED
    # the same edit on a store that owns nothing is a content update
    assert decide(edited, mapped(listing), NOTHING_OWNED).action is Action.UPDATE_CONTENT


def test_owned_price_is_never_updated() -> None:
    owned = frozenset({"price"})
    listing = make_listing("A")
    assert decide(with_price(listing, "99.00"), mapped(listing, owned=owned), owned).action is Action.UNCHANGED


def test_unknown_owned_field_is_refused() -> None:
    with pytest.raises(UnknownOwnedFieldError, match="colour"):
        build_plan("s", [make_listing("A")], {}, owned_fields=["colour"])


def test_invalid_listing_is_never_pushed() -> None:
    listing = make_listing("A", valid=False)
    assert decide(listing, None, NOTHING_OWNED).action is Action.INVALID
    assert decide(listing, mapped(make_listing("A")), NOTHING_OWNED).action is Action.INVALID


@pytest.mark.parametrize(
    ("status", "has_ref", "expected"),
    [
        (MappingStatus.LISTED, True, Action.DELIST),
        (MappingStatus.ERROR, True, Action.DELIST),
        (MappingStatus.DELISTED, True, Action.UNCHANGED),
        (MappingStatus.PENDING, False, Action.UNCHANGED),
    ],
)
def test_delist_only_when_the_store_lists_it(status: str, has_ref: bool, expected: Action) -> None:
    listing = make_listing("A")
    mapping = mapped(listing, status=status, external_id="p-1" if has_ref else None)
    assert decide(make_listing("A", action="delist"), mapping, NOTHING_OWNED).action is expected


def test_delist_of_never_pushed_listing_is_unchanged() -> None:
    assert decide(make_listing("A", action="delist"), None, NOTHING_OWNED).action is Action.UNCHANGED


def test_delisted_product_back_in_catalog_is_relisted_by_full_update() -> None:
    listing = make_listing("A")
    product = decide(listing, mapped(listing, status=MappingStatus.DELISTED), NOTHING_OWNED)
    assert product.action is Action.UPDATE_CONTENT and "relist" in product.changed_fields


def test_plan_counts_and_field_changes() -> None:
    base = {s: make_listing(s) for s in ["A", "B", "C", "D", "E"]}
    mappings = {s: mapped(base[s]) for s in ["B", "C", "D"]}
    listings = [base["A"], with_price(base["B"], "1.00"), base["C"], make_listing("D", action="delist"),
                make_listing("E", valid=False)]
    plan = build_plan("s", listings, mappings)
    counts = plan.counts()
    assert (counts["create"], counts["update_price"], counts["unchanged"], counts["delist"], counts["invalid"]) == (
        1, 1, 1, 1, 1)
    assert plan.field_changes() == {"new": 1, "price": 1, "status": 1}
    assert [p.sku for p in plan.writes] == ["A", "B", "D"]


def test_skus_filter_keeps_only_those() -> None:
    plan = build_plan("s", [make_listing(s) for s in "ABCD"], {}, skus=["B", "D"])
    assert [p.sku for p in plan.products] == ["B", "D"]


def test_max_products_caps_writes_in_sku_order() -> None:
    listings = [make_listing(s) for s in "DCBA"]
    unchanged = make_listing("AA")
    plan = build_plan("s", [*listings, unchanged], {"AA": mapped(unchanged)}, max_products=2)
    assert [p.sku for p in plan.writes] == ["A", "B"]
    assert plan.skipped_by_limit == 2
    assert plan.counts()["unchanged"] == 1


def test_full_update_keeps_the_stores_owned_description() -> None:
    owned = frozenset({"description", "images"})
    last = make_listing("A")
    new = dataclasses.replace(make_listing("A", description="<p>catalog</p>", images=2), title="New")
    remote = RemoteProduct(ref=RemoteRef("p-1"), sku="A", title="Old", status="active", image_count=4,
                           variants=(), description="<p>store wrote this</p>")
    sent = with_owned_fields_from(new, owned, remote, last)
    assert sent.description == "<p>store wrote this</p>"
    assert sent.images == last.images
    assert sent.title == "New"


def test_a_stores_first_canary_is_one_clean_simple_product_and_one_with_variants() -> None:
    listings = [
        dataclasses.replace(make_listing("A"), reasons=("title_similarity_out_of_band: 0.64",)),  # valid, noted
        make_listing("B", variants=0, stock=0),  # simple, sold out
        make_listing("C", variants=0, images=0),  # simple, no image
        make_listing("D", valid=False),  # invalid
        make_listing("E", variants=3),  # the first clean one with variants
        make_listing("F", variants=0),  # the first clean simple one
        make_listing("G", variants=0),
    ]
    first = build_plan("s", listings, {}, max_products=2)
    assert [p.sku for p in first.writes] == ["F", "E"]
    assert [len(p.listing.variants) for p in first.writes] == [1, 3]
    # once the store holds products, the rollout widens in SKU order again
    pushed = {p.sku: mapped(p.listing) for p in first.writes}
    second = build_plan("s", listings, pushed, max_products=3)
    assert [p.sku for p in second.writes] == ["A", "B", "C"]
    # without a cap nothing is reordered
    assert [p.sku for p in build_plan("s", listings, {}).writes] == ["A", "B", "C", "E", "F", "G"]


def test_force_sends_unchanged_listed_products_in_full() -> None:
    same = make_listing("A")
    never_pushed = make_listing("B")
    delisted = make_listing("C", action="delist")
    mappings = {"A": mapped(same), "C": mapped(make_listing("C"), status=MappingStatus.DELISTED)}
    plan = build_plan("s", [same, never_pushed, delisted], mappings, force=True)
    actions = {p.sku: (p.action, p.changed_fields) for p in plan.products}
    assert actions["A"] == (Action.UPDATE_CONTENT, ("forced",))
    assert actions["B"][0] is Action.CREATE and actions["C"][0] is Action.UNCHANGED
    assert build_plan("s", [same], mappings).products[0].action is Action.UNCHANGED
