"""What a push must do for each product of one store, decided without calling anything.

The plan compares each listing with the store's mapping row (what was last pushed, by hash) and
picks the cheapest call that brings the store in step:

* ``create``         no product on the store yet (or a create whose outcome is unknown: ``recover``)
* ``update_content`` title, description, images, options... changed: the platform's full update,
                     which carries prices and stock too, so it subsumes the two below
* ``update_price``   only prices changed: the platform's price call
* ``update_stock``   only stock changed: the inventory call (price and stock may both apply)
* ``delist``         the catalog stopped selling it and the store still lists it
* ``unchanged``      nothing to send

Invalid listings are never pushed; they are counted.

Field ownership: ``StoreConfig.owned_fields`` names fields the store manages itself once the
product exists. The plan hashes content *without* those fields, so editing them in the catalog
never triggers an update; at creation the listing is sent whole. When some other content field
changes, the full update must still carry the owned fields (platforms overwrite what a full update
omits), so the engine fills them from the product as read back from the store, or else from the
listing as last pushed (see ``with_owned_fields_from``). ``price`` and ``stock`` may be owned too:
then the price or inventory calls are never made after creation.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.shapes import slugify
from sync_pipeline.platforms.base import RemoteProduct, RemoteRef


class Action(StrEnum):
    CREATE = "create"
    UPDATE_CONTENT = "update_content"
    UPDATE_PRICE = "update_price"
    UPDATE_STOCK = "update_stock"
    DELIST = "delist"
    UNCHANGED = "unchanged"
    INVALID = "invalid"  # never pushed


WRITE_ACTIONS = frozenset({Action.CREATE, Action.UPDATE_CONTENT, Action.UPDATE_PRICE, Action.UPDATE_STOCK,
                           Action.DELIST})

# Content fields a store may own, with the value that stands in for them in the content hash.
OWNABLE_CONTENT_FIELDS: dict[str, Any] = {
    "title": "",
    "description": "",
    "images": (),
    "category_id": None,
    "weight_kg": None,
}
OWNABLE_FIELDS = frozenset(OWNABLE_CONTENT_FIELDS) | {"price", "stock"}

# Fields compared for the dry run's "which fields change" report.
_DIFF_FIELDS = ("title", "description", "images", "category_id", "handle", "options", "weight_kg")


class MappingStatus(StrEnum):
    PENDING = "pending"  # a create was sent; its outcome is not confirmed yet
    LISTED = "listed"
    DELISTED = "delisted"
    ERROR = "error"


class UnknownOwnedFieldError(ValueError):
    """The stores file names an owned field the push does not know."""


@dataclass(frozen=True)
class StoreMapping:
    """One ``store_mappings`` row: where a SKU lives on the store and what was last pushed."""

    sku: str
    status: str
    external_id: str | None = None
    external_variant_ids: Mapping[str, str] = field(default_factory=dict)
    content_hash: str | None = None
    price_hash: str | None = None
    stock_hash: str | None = None
    payload_hash: str | None = None
    last_payload: Mapping[str, Any] | None = None

    @property
    def ref(self) -> RemoteRef | None:
        if not self.external_id:
            return None
        return RemoteRef(self.external_id, dict(self.external_variant_ids))

    def last_listing(self) -> Listing | None:
        return Listing.from_json(dict(self.last_payload)) if self.last_payload else None


@dataclass(frozen=True)
class PushedHashes:
    """The hashes a mapping row keeps once a listing is on the store (content without owned fields)."""

    content_hash: str
    price_hash: str
    stock_hash: str
    payload_hash: str


@dataclass(frozen=True)
class PlannedProduct:
    sku: str
    action: Action
    listing: Listing
    mapping: StoreMapping | None
    price_changed: bool = False  # for update_price: stock may need its own call too
    stock_changed: bool = False
    recover: bool = False  # a create whose earlier outcome is unknown: look the SKU up first
    changed_fields: tuple[str, ...] = ()
    adopt: RemoteProduct | None = None  # a create that takes over this merchant product (snapshot kept)

    @property
    def writes(self) -> bool:
        return self.action in WRITE_ACTIONS

    @property
    def ref(self) -> RemoteRef | None:
        return self.mapping.ref if self.mapping else None


@dataclass(frozen=True)
class PushPlan:
    store_key: str
    products: tuple[PlannedProduct, ...]
    skipped_by_limit: int = 0  # writes left for a later run because of max_products

    def counts(self) -> dict[str, int]:
        counted = Counter(p.action.value for p in self.products)
        return {a.value: counted.get(a.value, 0) for a in Action}

    @property
    def writes(self) -> tuple[PlannedProduct, ...]:
        return tuple(p for p in self.products if p.writes)

    def field_changes(self) -> dict[str, int]:
        """How many products change each field: the dry run's answer to "what would change"."""
        counted: Counter[str] = Counter()
        for product in self.products:
            counted.update(product.changed_fields)
        return dict(sorted(counted.items()))


def check_owned_fields(owned: Iterable[str]) -> frozenset[str]:
    fields = frozenset(owned)
    unknown = fields - OWNABLE_FIELDS
    if unknown:
        raise UnknownOwnedFieldError(
            f"owned_fields has unknown field(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(OWNABLE_FIELDS))}"
        )
    return fields


def pushed_hashes(listing: Listing, owned: frozenset[str]) -> PushedHashes:
    """The hashes to compare and store: content hashed with the owned fields blanked out."""
    content = _without_owned(listing, owned).content_hash()
    price, stock = listing.price_hash(), listing.stock_hash()
    return PushedHashes(content, price, stock, listing.payload_hash())


def with_owned_fields_from(listing: Listing, owned: frozenset[str], remote: RemoteProduct | None,
                           last_pushed: Listing | None) -> Listing:
    """The listing to send in a full update: owned fields keep the store's value.

    The read-back gives title and description; other owned fields come from the listing as last
    pushed (the store's own later edits of those are then overwritten: a platform limit of the
    generic read-back, named in the module docstring of the engine)."""
    changes: dict[str, Any] = {}
    for name in owned & set(OWNABLE_CONTENT_FIELDS):
        if remote is not None and name == "title" and remote.title:
            changes[name] = remote.title
        elif remote is not None and name == "description" and remote.description is not None:
            changes[name] = remote.description
        elif last_pushed is not None:
            changes[name] = getattr(last_pushed, name)
    return dataclasses.replace(listing, **changes) if changes else listing


def build_plan(store_key: str, listings: Iterable[Listing], mappings: Mapping[str, StoreMapping],
               owned_fields: Iterable[str] = (), *, skus: Sequence[str] | None = None,
               max_products: int | None = None, force: bool = False) -> PushPlan:
    """Decide per SKU. ``skus`` keeps only those; ``max_products`` caps the writes (staged rollout),
    in SKU order so that 2, then 10, then 50 grow the same prefix - except a store's very first
    canary, which is one simple product and one with variants (see ``canaries_first``).
    ``force`` sends every listed product in full even when its hashes say nothing changed (after
    an edit made on the store)."""
    owned = check_owned_fields(owned_fields)
    wanted = set(skus) if skus is not None else None
    products = [
        decide(listing, mappings.get(listing.sku), owned)
        for listing in sorted(listings, key=lambda item: item.sku)
        if wanted is None or listing.sku in wanted
    ]
    if force:
        products = [_forced(product) for product in products]
    skipped = 0
    if max_products is not None:
        if max_products < 0:
            raise ValueError("max_products must be 0 or more")
        if not any(m.ref is not None for m in mappings.values()):
            products = canaries_first(products)
        kept: list[PlannedProduct] = []
        writes = 0
        for product in products:
            if product.writes:
                if writes >= max_products:
                    skipped += 1
                    continue
                writes += 1
            kept.append(product)
        products = kept
    return PushPlan(store_key, tuple(products), skipped_by_limit=skipped)


def canaries_first(products: Sequence[PlannedProduct]) -> list[PlannedProduct]:
    """A store's first canary, as the pilot plan asks: one simple product and one with variants,
    both clean (valid with no reason noted, priced, in stock, with an image), ahead of the SKU
    order, so that ``max_products: 2`` tries both shapes on the store before anything else."""
    creates = [p for p in products if p.action == Action.CREATE and _canary_ready(p.listing)]
    ranked = sorted(creates, key=lambda p: _repair_signs(p.listing))  # stable: SKU order within a rank
    simple = next((p for p in ranked if len(p.listing.variants) <= 1), None)
    varied = next((p for p in ranked if len(p.listing.variants) > 1), None)
    chosen = [p for p in (simple, varied) if p is not None]
    return chosen + [p for p in products if not any(p is c for c in chosen)]


def _canary_ready(listing: Listing) -> bool:
    return (listing.valid and not listing.reasons and bool(listing.images) and listing.stock_qty > 0
            and listing.price > 0)


def _repair_signs(listing: Listing) -> int:
    """0 for a product whose data reads consistently, more for signs of a repaired row: a handle
    made from the SKU (no URL key of its own), or a URL key naming words its title does not say
    (a key made from an entity-encoded or since-renamed name)."""
    sku_slug = slugify(listing.sku)
    if not listing.handle or listing.handle == sku_slug:
        return 2
    key_words = set(listing.handle.removesuffix(f"-{sku_slug}").split("-"))
    return 0 if key_words <= set(slugify(listing.title).split("-")) else 1


def _forced(product: PlannedProduct) -> PlannedProduct:
    if product.action != Action.UNCHANGED or product.listing.action != "list" or product.ref is None:
        return product
    return dataclasses.replace(product, action=Action.UPDATE_CONTENT, changed_fields=("forced",))


def decide(listing: Listing, mapping: StoreMapping | None, owned: frozenset[str]) -> PlannedProduct:
    if not listing.valid:
        return PlannedProduct(listing.sku, Action.INVALID, listing, mapping)
    if listing.action == "delist":
        return _decide_delist(listing, mapping)
    if mapping is None or mapping.ref is None:
        recover = mapping is not None and mapping.status == MappingStatus.PENDING
        return PlannedProduct(listing.sku, Action.CREATE, listing, mapping, recover=recover,
                              changed_fields=("new",))
    if mapping.status == MappingStatus.DELISTED:
        # Relisting goes through the full update, which makes the product active again.
        return PlannedProduct(listing.sku, Action.UPDATE_CONTENT, listing, mapping,
                              changed_fields=("relist", *_changed_fields(listing, mapping)))
    hashes = pushed_hashes(listing, owned)
    if hashes.content_hash != mapping.content_hash:
        return PlannedProduct(listing.sku, Action.UPDATE_CONTENT, listing, mapping,
                              changed_fields=_changed_fields(listing, mapping))
    price_changed = "price" not in owned and hashes.price_hash != mapping.price_hash
    stock_changed = "stock" not in owned and hashes.stock_hash != mapping.stock_hash
    if price_changed:
        return PlannedProduct(listing.sku, Action.UPDATE_PRICE, listing, mapping, price_changed=True,
                              stock_changed=stock_changed,
                              changed_fields=("price", "stock") if stock_changed else ("price",))
    if stock_changed:
        return PlannedProduct(listing.sku, Action.UPDATE_STOCK, listing, mapping, stock_changed=True,
                              changed_fields=("stock",))
    return PlannedProduct(listing.sku, Action.UNCHANGED, listing, mapping)


def _decide_delist(listing: Listing, mapping: StoreMapping | None) -> PlannedProduct:
    if mapping is None or mapping.ref is None or mapping.status == MappingStatus.DELISTED:
        return PlannedProduct(listing.sku, Action.UNCHANGED, listing, mapping)
    return PlannedProduct(listing.sku, Action.DELIST, listing, mapping, changed_fields=("status",))


def _changed_fields(listing: Listing, mapping: StoreMapping) -> tuple[str, ...]:
    last = mapping.last_listing()
    if last is None:
        return ("content",)
    changed = [name for name in _DIFF_FIELDS if getattr(listing, name) != getattr(last, name)]
    if [(v.sku, v.options, v.image) for v in listing.variants] != [(v.sku, v.options, v.image)
                                                                   for v in last.variants]:
        changed.append("variants")
    if listing.price_hash() != last.price_hash():
        changed.append("price")
    if listing.stock_hash() != last.stock_hash():
        changed.append("stock")
    return tuple(changed) or ("content",)


def _without_owned(listing: Listing, owned: frozenset[str]) -> Listing:
    blanks = {name: OWNABLE_CONTENT_FIELDS[name] for name in owned if name in OWNABLE_CONTENT_FIELDS}
    return dataclasses.replace(listing, **blanks) if blanks else listing
