"""Assemble the sandbox: every platform emulator on one server, stores provisioned from a stores file.

Emulator modules are imported by platform name only when asked for, so one platform's emulator
can be developed (or be broken) without stopping the others from serving.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sync_pipeline.sandbox.core import PlatformEmulator, Sandbox
from sync_pipeline.sandbox.state import SandboxState
from sync_pipeline.stores import MissingCredentialError, StoreConfig, load_stores

log = logging.getLogger(__name__)

ALL_PLATFORMS = ("shopify", "shopee", "tiktok")

# platform -> (module, class) of its emulator
EMULATORS: dict[str, tuple[str, str]] = {
    "shopify": ("sync_pipeline.sandbox.shopify.emulator", "ShopifyEmulator"),
    "shopee": ("sync_pipeline.sandbox.shopee.emulator", "ShopeeEmulator"),
    "tiktok": ("sync_pipeline.sandbox.tiktok.emulator", "TikTokEmulator"),
}

# Emulators served beside a platform's own: TikTok's tokens come from a second host (auth_endpoint).
COMPANIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "tiktok": (("sync_pipeline.sandbox.tiktok.emulator", "TikTokAuthEmulator"),),
}

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def emulator_class(platform: str) -> type[PlatformEmulator]:
    try:
        module_name, class_name = EMULATORS[platform]
    except KeyError:
        raise ValueError(f"unknown platform '{platform}' (known: {', '.join(EMULATORS)})") from None
    cls: type[PlatformEmulator] = getattr(importlib.import_module(module_name), class_name)
    return cls


def installed_platforms() -> tuple[str, ...]:
    """Platforms whose emulator module exists in this checkout."""
    return tuple(p for p, (module, _cls) in EMULATORS.items() if importlib.util.find_spec(module) is not None)


def build_sandbox(state_path: Path | str, platforms: tuple[str, ...] | list[str] = ALL_PLATFORMS) -> Sandbox:
    """A sandbox with one emulator per named platform, sharing one state file."""
    state = SandboxState(state_path)
    emulators = [emulator_class(p)(state) for p in platforms]
    for platform in platforms:
        for module_name, class_name in COMPANIONS.get(platform, ()):
            companion: type[PlatformEmulator] = getattr(importlib.import_module(module_name), class_name)
            emulators.append(companion(state))
    return Sandbox(state, emulators)


@dataclass(frozen=True)
class ProvisionOutcome:
    store_key: str
    platform: str
    sandbox_store: str | None  # None when skipped
    skipped_because: str | None = None


def provision_from_stores_file(
    sandbox: Sandbox, stores_file: Path | str | None = None, base_url: str | None = None
) -> list[ProvisionOutcome]:
    """Provision every store of the stores file whose endpoint is this sandbox.

    A store is served by the sandbox when its endpoint is on a loopback host (and, with
    ``base_url``, on the same port) under the prefix of an emulator this sandbox runs.
    Credential values come from the environment variables the file names; a store whose variables
    are unset is skipped with a warning (its runs would fail anyway, with a clear error).
    """
    outcomes = []
    for store in load_stores(stores_file).stores:
        emulator = _serving_emulator(sandbox, store, base_url)
        if emulator is None:
            continue
        outcomes.append(_provision_one(emulator, store))
    return outcomes


def _serving_emulator(sandbox: Sandbox, store: StoreConfig, base_url: str | None) -> PlatformEmulator | None:
    endpoint = urlsplit(store.endpoint)
    if endpoint.hostname not in _LOOPBACK_HOSTS:
        return None
    if base_url is not None and endpoint.port != urlsplit(base_url).port:
        return None
    try:
        emulator = sandbox.emulator(str(store.platform))
    except KeyError:
        return None
    if endpoint.path == emulator.prefix or endpoint.path.startswith(emulator.prefix + "/"):
        return emulator
    return None


def _provision_one(emulator: PlatformEmulator, store: StoreConfig) -> ProvisionOutcome:
    try:
        credentials = {name: store.credential(name) for name in store.credentials}
    except MissingCredentialError as exc:
        log.warning("sandbox: not provisioning %s: %s", store.key, exc)
        return ProvisionOutcome(store.key, str(store.platform), None, str(exc))
    path = urlsplit(store.endpoint).path[len(emulator.prefix) :]
    rate_limit: dict[str, Any] = store.rate_limit.model_dump(exclude_none=True)
    sandbox_store, config = emulator.sandbox_store(path, dict(store.settings), credentials, rate_limit)
    emulator.provision(sandbox_store, config)
    log.info("sandbox: provisioned %s store '%s' for %s", emulator.platform, sandbox_store, store.key)
    return ProvisionOutcome(store.key, str(store.platform), sandbox_store)
