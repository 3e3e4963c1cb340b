"""The platforms the pipeline knows, each by its one spec (``platforms/<platform>/spec.py``).

Adding a platform: a member of ``Platform``, a folder with its client and spec, and a line here.
"""

from __future__ import annotations

from sync_pipeline.platforms.shopee.spec import SPEC as SHOPEE
from sync_pipeline.platforms.shopify.spec import SPEC as SHOPIFY
from sync_pipeline.platforms.spec import PlatformSpec
from sync_pipeline.platforms.tiktok.spec import SPEC as TIKTOK

PLATFORMS: dict[str, PlatformSpec] = {spec.platform: spec for spec in (SHOPIFY, SHOPEE, TIKTOK)}


def platform_spec(platform: str) -> PlatformSpec:
    """The spec of ``platform`` (a ``Platform`` or its name, as a ``Listing`` carries it)."""
    spec = PLATFORMS.get(platform)  # a Platform is its name: either finds it
    if spec is None:
        raise ValueError(f"unknown platform '{platform}' (known: {', '.join(PLATFORMS)})")
    return spec
