"""One place that turns a store of the stores file into its platform's client.

Client modules are imported only for the platform asked for, so a store on one platform never
depends on another platform's code.
"""

from __future__ import annotations

import importlib
from typing import Any

from sync_pipeline.platforms.base import CallObserver, StoreClient, TokenStore
from sync_pipeline.platforms.retry import RetryPolicy
from sync_pipeline.stores import Platform, StoreConfig

# platform -> (module, class); every platform's tokens may rotate, so every client takes the TokenStore
# (Shopify's only when its stores-file credentials say the token expires or is asked for).
CLIENTS: dict[Platform, tuple[str, str]] = {
    Platform.SHOPIFY: ("sync_pipeline.platforms.shopify.client", "ShopifyClient"),
    Platform.SHOPEE: ("sync_pipeline.platforms.shopee.client", "ShopeeClient"),
    Platform.TIKTOK: ("sync_pipeline.platforms.tiktok.client", "TikTokClient"),
}
_ROTATING_TOKENS = frozenset({Platform.SHOPEE, Platform.TIKTOK})
_OPTIONAL_TOKEN_STORE = frozenset({Platform.SHOPIFY})  # its client refuses expiring tokens without one


_DEFAULT_RETRY = RetryPolicy()


def client_class(platform: Platform) -> type[StoreClient]:
    """The client class of a platform, to ask what the platform allows without connecting."""
    module_name, class_name = CLIENTS[platform]
    found: type[StoreClient] = getattr(importlib.import_module(module_name), class_name)
    return found


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
    if store.platform in _ROTATING_TOKENS:
        if token_store is None:
            raise ValueError(f"store '{store.key}': a {store.platform} client needs a token store")
        kwargs["token_store"] = token_store
    elif store.platform in _OPTIONAL_TOKEN_STORE and token_store is not None:
        kwargs["token_store"] = token_store
    client: StoreClient = cls(store, **kwargs)
    return client
