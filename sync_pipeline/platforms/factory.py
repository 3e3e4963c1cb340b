"""One place that turns a store of the stores file into its platform's client.

Client modules are imported only for the platform asked for, so a store on one platform never
depends on another platform's code.
"""

from __future__ import annotations

from typing import Any

from sync_pipeline.platforms.base import CallObserver, StoreClient, TokenStore
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.platforms.spec import Platform
from sync_pipeline.stores import StoreConfig

_DEFAULT_RETRY = RetryPolicy()


def client_class(platform: Platform) -> type[StoreClient]:
    """The client class of a platform, to ask what the platform allows without connecting."""
    return platform_spec(platform).client_class()


def build_client(
    store: StoreConfig,
    token_store: TokenStore | None,
    observer: CallObserver | None = None,
    retry: RetryPolicy = _DEFAULT_RETRY,
) -> StoreClient:
    """The client for ``store``: ``Client(store, observer=, retry=)``, plus ``token_store=`` where
    tokens rotate (a refreshed pair must be saved before use, so those clients cannot run without)."""
    cls: Any = client_class(store.platform)  # each client's own constructor, not the abstract one
    kwargs: dict[str, Any] = {"observer": observer, "retry": retry}
    needs = platform_spec(store.platform).token_store
    if needs == "required" and token_store is None:
        raise ValueError(f"store '{store.key}': a {store.platform} client needs a token store")
    if token_store is not None:
        kwargs["token_store"] = token_store
    client: StoreClient = cls(store, **kwargs)
    return client
