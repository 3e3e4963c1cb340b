"""The registry: every platform has one spec, and each spec names its own platform's client."""

from __future__ import annotations

import pytest

from sync_pipeline.platforms.registry import PLATFORMS, platform_spec
from sync_pipeline.platforms.spec import Platform


def test_every_platform_has_one_spec() -> None:
    assert sorted(PLATFORMS) == sorted(Platform)
    assert all(spec.platform == name for name, spec in PLATFORMS.items())


@pytest.mark.parametrize("platform", list(Platform))
def test_spec_names_its_own_client(platform: Platform) -> None:
    spec = platform_spec(platform.value)  # a Listing carries the name, a store the enum
    assert spec is platform_spec(platform)
    assert spec.client_class().platform == platform.value
    assert spec.client_module == f"sync_pipeline.platforms.{platform.value}.client"


def test_unknown_platform_is_named() -> None:
    with pytest.raises(ValueError, match="unknown platform 'etsy'"):
        platform_spec("etsy")
