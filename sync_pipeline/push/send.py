"""One product's calls to the store (run in the push's worker threads): create, update, delist,
price/stock, with the create's look-ups (a lost create, a merchant's product holding the handle)
and the recovery of a product deleted on the store. No DB writes here: the engine's main thread
records each ``Outcome``."""

from __future__ import annotations

from dataclasses import dataclass

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import (
    CallsStopped,
    ErrorClass,
    PlatformError,
    RemoteProduct,
    RemoteRef,
    StoreClient,
)
from sync_pipeline.push.plan import (
    OWNABLE_CONTENT_FIELDS,
    Action,
    MappingStatus,
    PlannedProduct,
    PushedHashes,
    with_owned_fields_from,
)
from sync_pipeline.push.synclog import SyncLog


@dataclass
class Outcome:
    product: PlannedProduct
    ref: RemoteRef | None = None
    status: MappingStatus | None = None
    sent: Listing | None = None
    error: BaseException | None = None
    attempts: int = 0
    recreated: bool = False
    not_sent: bool = False  # stopped before its first call (the store rejected the credentials)
    to_adopt: RemoteProduct | None = None  # a merchant product to snapshot before the create takes it
    hashes: PushedHashes | None = None  # computed already (a bulk load hashes each listing once)


def find_existing(client: StoreClient, listing: Listing) -> RemoteProduct | None:
    """The product an unconfirmed create may have left on the store.

    Platforms search different SKUs: Shopify and Shopee find a product by its parent SKU, while
    TikTok's search matches only its variants' seller SKUs (contract 4.5), so a configurable is
    looked up by its first variant's SKU when the parent SKU finds nothing."""
    found = client.find_by_sku(listing.sku)
    if found is not None:
        return found
    variant_skus = [v.sku for v in listing.variants if v.sku != listing.sku]
    if not variant_skus:
        return None
    found = client.find_by_sku(variant_skus[0])
    if found is not None and variant_skus[0] in {v.sku for v in found.variants}:
        return found
    return None


def holder_of_identity(client: StoreClient, listing: Listing) -> RemoteProduct | None:
    """What already holds the listing's identity on the store: None (free), our own product for
    this SKU (a create whose answer was lost), or a merchant product whose variant SKUs are the
    listing's (to adopt). Anything else raises ``HANDLE_TAKEN``: the create must not write over it."""
    existing = client.existing_for_create(listing)
    if existing is None:
        return None
    ours = {v.sku.strip() for v in listing.variants}
    theirs = {v.sku.strip() for v in existing.variants}
    if existing.created_by_pipeline:
        if existing.sku == listing.sku:
            return existing
        reason = f"the pipeline's product for SKU {existing.sku}"
    elif theirs == ours:
        return existing
    else:
        reason = (f"a product the pipeline did not create, whose variant SKUs ({', '.join(sorted(theirs)) or 'none'})"
                  f" are not the listing's ({', '.join(sorted(ours))})")
    raise PlatformError(
        ErrorClass.INVALID_PRODUCT,
        f"handle '{listing.handle}' is taken by product {existing.ref.product_id}, {reason}; nothing was written. "
        f"Pin another handle for {listing.sku} in the stores file (handles), or adopt that product "
        "(adopt_store_listings) if it is this one",
        platform_code="HANDLE_TAKEN",
    )


@dataclass(frozen=True)
class ProductSender:
    """Sends one planned product through the store's client, its calls logged by ``sync_log``."""

    sync_log: SyncLog
    owned: frozenset[str]

    def apply(self, client: StoreClient, product: PlannedProduct) -> Outcome:
        outcome = Outcome(product)
        with self.sync_log.serving(product.sku) as records:
            try:
                self.send(client, product, outcome)
            except Exception as exc:  # noqa: BLE001 - one product's failure never stops the run
                outcome.error = exc
                if isinstance(exc, PlatformError) and exc.error_class is ErrorClass.UNAUTHORIZED:
                    # At once, from this thread: every other worker's next call is refused
                    # before it is sent (real platforms lock out apps that keep trying).
                    self.sync_log.stop_calls("the store rejected the credentials earlier in this run")
        outcome.not_sent = isinstance(outcome.error, CallsStopped) and not records
        outcome.attempts = max((r.attempt for r in records), default=0)
        return outcome

    def send(self, client: StoreClient, product: PlannedProduct, outcome: Outcome) -> None:
        listing, ref = product.listing, product.ref
        if product.action is Action.CREATE:
            found = product.adopt or (find_existing(client, listing) if product.recover else None)
            if found is None:
                found = holder_of_identity(client, listing)
                if found is not None and not found.created_by_pipeline:
                    outcome.to_adopt = found  # snapshot first (main thread), then sent again
                    return
            outcome.ref = client.upsert(listing, found.ref if found else None)
            outcome.status, outcome.sent = MappingStatus.LISTED, listing
            return
        assert ref is not None, "only creates have no remote product"
        try:
            if product.action is Action.DELIST:
                client.delist(ref, listing)
                outcome.ref, outcome.status, outcome.sent = ref, MappingStatus.DELISTED, listing
                return
            if product.action is Action.UPDATE_CONTENT:
                to_send = self._with_owned_fields(client, product)
                outcome.ref = client.upsert(to_send, ref)
                outcome.status, outcome.sent = MappingStatus.LISTED, to_send
                return
            if product.price_changed:
                client.update_prices(ref, listing)
            if product.stock_changed:
                client.update_stock(ref, listing)
            outcome.ref, outcome.status, outcome.sent = ref, MappingStatus.LISTED, listing
        except PlatformError as exc:
            if exc.error_class is not ErrorClass.NOT_FOUND:
                raise
            self._after_not_found(client, product, outcome)

    def _after_not_found(self, client: StoreClient, product: PlannedProduct, outcome: Outcome) -> None:
        """The product was deleted on the store behind our back."""
        if product.action is Action.DELIST:
            outcome.ref, outcome.status, outcome.sent = product.ref, MappingStatus.DELISTED, product.listing
            return
        outcome.ref = client.upsert(product.listing, None)
        outcome.status, outcome.sent, outcome.recreated = MappingStatus.LISTED, product.listing, True

    def _with_owned_fields(self, client: StoreClient, product: PlannedProduct) -> Listing:
        owned_content = self.owned & set(OWNABLE_CONTENT_FIELDS)
        if not owned_content:
            return product.listing
        remote = client.read_product(product.ref) if owned_content & {"title", "description"} and product.ref else None
        last = product.mapping.last_listing() if product.mapping else None
        return with_owned_fields_from(product.listing, owned_content, remote, last)

