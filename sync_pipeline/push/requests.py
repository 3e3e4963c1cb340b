"""What a person asks of the push jobs (which stores, which SKUs, which run), checked before anything
is sent. Each rule raises ``RefusedRequest`` naming the setting and the reason; the Dagster layer
applies them twice: at launch (``defs/launch.py``: the run is never created) and at the start of
the step (a run started from Python, a stores file that changed while the run was queued).

Rules that need the app DB (SKUs the catalog lacks, a run that pushed nothing to the store) are
not here: they run at the start of the step, before any store is called.
"""

from __future__ import annotations

from collections.abc import Sequence

from sync_pipeline.names import STORE_PUSH
from sync_pipeline.push.options import check_error_classes
from sync_pipeline.stores import Platform, StoreConfig, StoresFile

PLATFORM_CHOICES = ("shopify", "shopee", "tiktok", "all")


class RefusedRequest(ValueError):
    """A request that could only fail; the message starts with the setting it is about."""


def choose_stores(stores: StoresFile, source: str, keys: Sequence[str], platforms: Sequence[str], *,
                  default_all: bool) -> list[StoreConfig]:
    """Stores named by key or by platform, sorted by key; unknown names are refused."""
    unknown_platforms = [p for p in platforms if p not in PLATFORM_CHOICES]
    if unknown_platforms:
        raise RefusedRequest(f"platforms: unknown platform(s) {', '.join(unknown_platforms)}; "
                             f"choose from {', '.join(PLATFORM_CHOICES)}")
    known = stores.keys()
    unknown_keys = [k for k in keys if k not in known]
    if unknown_keys:
        raise RefusedRequest(f"stores: {', '.join(repr(k) for k in unknown_keys)} not in {source} "
                             f"(known: {', '.join(known)})")
    chosen = {s.key: s for s in stores.stores
              if "all" in platforms or s.platform in {Platform(p) for p in platforms if p != "all"}}
    chosen.update({key: stores.by_key(key) for key in keys})
    if not chosen and default_all:
        chosen = {s.key: s for s in stores.stores}
    if not chosen:
        raise RefusedRequest("stores / platforms: choose stores (keys) or platforms (shopify, shopee, tiktok, all)")
    return [chosen[k] for k in sorted(chosen)]


def check_store(stores: StoresFile, source: str, key: str) -> StoreConfig:
    known = stores.keys()
    if key not in known:
        raise RefusedRequest(f"store: {key!r} is not in {source} (known: {', '.join(known)})")
    return stores.by_key(key)


def check_skus(skus: Sequence[str] | None, *, required: bool) -> None:
    """``required``: at least one; a blank SKU is always refused (it would match nothing)."""
    if required and not skus:
        raise RefusedRequest("skus: name at least one SKU")
    blank = [i for i, sku in enumerate(skus or ()) if not sku.strip()]
    if blank:
        raise RefusedRequest(f"skus: entry {blank[0] + 1} is blank")


def check_max_products(max_products: int | None, *, least: int = 1) -> None:
    """``least`` 0 where a push of no writes is asked for (``push --max-products 0``: the plan, logged)."""
    if max_products is not None and max_products < least:
        what = "a positive number" if least == 1 else f"{least} or more"
        raise RefusedRequest(f"max_products: {max_products} is not {what} (unset: no limit)")


def check_dead_letter_classes(error_classes: Sequence[str] | None) -> None:
    try:
        check_error_classes(error_classes or ())
    except ValueError as exc:
        raise RefusedRequest(f"error_classes: {exc}") from None


def check_run_id(run_id: str) -> None:
    """A rollback's run id; whether that run changed anything on the store is the step's question."""
    if not run_id.strip():
        raise RefusedRequest(f"run_id: the push run to undo is blank (see {STORE_PUSH} metadata push_run_id)")
