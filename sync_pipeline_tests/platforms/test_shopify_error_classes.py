"""Shopify's top-level GraphQL error codes as the push's error classes (real-stores 3.3)."""

from __future__ import annotations

import pytest

from sync_pipeline.platforms.base import ErrorClass, PlatformError
from sync_pipeline.platforms.shopify.graphql import _error_class


@pytest.mark.parametrize(("codes", "expected"), [
    (["ACCESS_DENIED"], ErrorClass.UNAUTHORIZED),  # a missing scope: stop the store, never refresh
    (["INTERNAL_SERVER_ERROR"], ErrorClass.NETWORK_ERROR),  # Shopify's failure: retried
    (["MAX_COST_EXCEEDED"], ErrorClass.INVALID_PRODUCT),  # this client's defect: reported, not retried
    (["BAD_REQUEST"], ErrorClass.INVALID_PRODUCT),  # e.g. a missing @idempotent
    ([None], ErrorClass.INVALID_PRODUCT),
])
def test_codes_map_to_classes(codes: list[str | None], expected: ErrorClass) -> None:
    assert _error_class(codes) is expected


def test_only_shopifys_own_failure_is_retryable() -> None:
    retryable = {code for code in ("ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "MAX_COST_EXCEEDED", "BAD_REQUEST")
                 if PlatformError(_error_class([code]), "x").retryable}
    assert retryable == {"INTERNAL_SERVER_ERROR"}
