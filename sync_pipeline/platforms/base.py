"""The one interface the push uses to talk to any store, and the error classes it sees.

Each platform has one client (``<platform>/client.py``: shopify, shopee, tiktok) implementing
``StoreClient``. Clients take a ``Listing`` and encode it into the platform's wire format; they
never see the catalog or the app DB, except through ``TokenStore`` for refreshed tokens.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sync_pipeline.listings.model import Listing
from sync_pipeline.listings.rules import StoreRules


class ErrorClass(StrEnum):
    INVALID_PRODUCT = "INVALID_PRODUCT"  # the store rejected the content: fix the data, do not retry
    RATE_LIMITED = "RATE_LIMITED"  # retried with backoff; surfaces only when retries ran out
    NETWORK_ERROR = "NETWORK_ERROR"  # timeouts, dropped connections, 5xx, malformed responses
    UNAUTHORIZED = "UNAUTHORIZED"  # bad or expired credentials that a refresh could not fix
    NOT_FOUND = "NOT_FOUND"  # the remote product is gone (deleted behind our back)


RETRYABLE = frozenset({ErrorClass.RATE_LIMITED, ErrorClass.NETWORK_ERROR})


class PlatformError(Exception):
    """A classified failure. ``platform_code``/``message`` are the platform's own words; never secrets."""

    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        platform_code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{error_class}: {message}" + (f" [{platform_code}]" if platform_code else ""))
        self.error_class = error_class
        self.message = message
        self.platform_code = platform_code
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.error_class in RETRYABLE


@dataclass(frozen=True)
class RemoteRef:
    """Where a listing lives on a store: the product id and each variant SKU's id."""

    product_id: str
    variant_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteVariant:
    sku: str
    price: Decimal | None
    compare_at_price: Decimal | None
    stock_qty: int | None
    options: dict[str, str] = field(default_factory=dict)
    variant_id: str | None = None


@dataclass(frozen=True)
class RemoteProduct:
    """A product as read back from a store, in the same terms as a Listing, for checks and rollback."""

    ref: RemoteRef
    sku: str
    title: str
    status: str  # active | delisted | pending (in review) | other platform words
    image_count: int
    variants: tuple[RemoteVariant, ...]
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the platform's own response, secrets-free
    created_by_pipeline: bool = False  # it carries the pipeline's own marker (e.g. a Shopify tag)
    handle: str | None = None  # where the platform has one
    visible: bool | None = None  # shoppers can see it (active and on the store's channels); None: unknown


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call, for the sync log. Bodies are already redacted by the client."""

    operation: str
    attempt: int
    outcome: str  # ok | error
    latency_ms: float
    http_status: int | None = None
    error_class: str | None = None
    platform_code: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    # True: not a new call but the verdict on the thread's last call, found in its body (a
    # THROTTLED or an error envelope in an HTTP 200); the log keeps one row per call.
    amends: bool = False


class CallObserver(Protocol):
    def __call__(self, record: CallRecord) -> None: ...


class CallsStopped(PlatformError):
    """Not sent: the run stopped calling the store (it rejected the credentials). No HTTP call."""

    def __init__(self, reason: str) -> None:
        super().__init__(ErrorClass.UNAUTHORIZED, f"not sent: {reason}")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: float | None = None  # unix seconds
    refresh_expires_at: float | None = None


class TokenStore(Protocol):
    """Durable home of refreshed tokens. ``save`` must be committed before the new token is used:
    a refresh token is single-use, so losing the new pair would lock the store out."""

    def load(self, store_key: str) -> TokenPair | None: ...

    def save(self, store_key: str, pair: TokenPair) -> None: ...


class StoreClient(abc.ABC):
    """What the push, its checks and rollback need from a store. Thread-safe: one client per store
    is shared by the push's worker threads, and its rate limiter is shared with it."""

    platform: str
    # Whether one variant SKU may be sold in two products of one store (a Magento child shared by
    # two configurables). False: the listings put it under its first parent only, with a note.
    sku_in_several_products: ClassVar[bool] = False
    # Whether the store publishes catalog rules (required attributes, brands, channels) through
    # look-up APIs. Where it does, no listing may be pushed before they were read at least once.
    publishes_catalog_rules: ClassVar[bool] = False

    @abc.abstractmethod
    def find_by_sku(self, sku: str) -> RemoteProduct | None:
        """The product whose parent SKU is ``sku``, or None. Used after an unknown outcome."""

    @abc.abstractmethod
    def upsert(self, listing: Listing, ref: RemoteRef | None) -> RemoteRef:
        """Create the product, or fully update it when ``ref`` is known. Idempotent: a retry after a
        lost response must not create a second product."""

    @abc.abstractmethod
    def update_prices(self, ref: RemoteRef, listing: Listing) -> None:
        """Only prices (and compare-at prices) of every variant."""

    @abc.abstractmethod
    def update_stock(self, ref: RemoteRef, listing: Listing) -> None:
        """Only stock quantities of every variant."""

    @abc.abstractmethod
    def delist(self, ref: RemoteRef, listing: Listing) -> None:
        """Stop selling: unpublish/deactivate and set stock to 0. The product stays on the store."""

    @abc.abstractmethod
    def read_product(self, ref: RemoteRef) -> RemoteProduct | None:
        """Read back for spot-checks, drift detection and rollback; None when it is gone."""

    @abc.abstractmethod
    def delete_product(self, ref: RemoteRef) -> None:
        """Remove a product this pipeline created (rollback of a create)."""

    def existing_for_create(self, listing: Listing) -> RemoteProduct | None:
        """A product already on the store that creating ``listing`` would write over, or None.

        Only platforms whose create is an upsert on a merchant-visible key (Shopify's handle) can
        take over a product that way; elsewhere a create always makes a new product."""
        return None

    def store_products(self) -> Iterator[RemoteProduct]:
        """Every product on the store (any status but deleted), read only: what adopting existing
        listings matches against the catalog."""
        raise NotImplementedError(f"{self.platform}: listing the store's products is not supported")

    def restorable(self, remote: RemoteProduct) -> RemoteProduct:
        """``remote`` with whatever else ``restore`` needs that a plain read leaves out."""
        return remote

    def restore(self, ref: RemoteRef, state: RemoteProduct) -> None:
        """Put back a product as it was read from the store (``state.raw``) before the pipeline
        first wrote over it: the rollback of an adopted product. Platforms that can adopt implement it."""
        raise NotImplementedError(f"{self.platform}: restoring a product's store state is not supported")

    def read_catalog_rules(self, category_ids: Sequence[str]) -> StoreRules | None:
        """What listings in these categories need, read from the store's look-up APIs; None when the
        platform publishes no such rules."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
