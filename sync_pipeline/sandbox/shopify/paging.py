"""Shopify's connection arguments (``first``/``after``, ``last``/``before``, ``reverse``, ``sortKey``).

Rules as Shopify documents them for the Admin API (shopify.dev/docs/api/usage/pagination-graphql):
one of ``first`` or ``last`` is required, at most 250 nodes a page, ``reverse`` flips the sort
order before paging, cursors are opaque and only valid for the sort they came from.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

MAX_PAGE = 250


def cursor(position: int, sort: str = "") -> str:
    return base64.b64encode(f"cursor:{position}:{sort}".encode()).decode()


def _position(value: str, sort: str) -> int:
    try:
        _, position, given_sort = base64.b64decode(value).decode().split(":", 2)
        if given_sort != sort:
            raise ValueError(given_sort)
        return int(position)
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}) from None


def connection(
    items: list[Any],
    view: Callable[[Any], Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    sort: str = "",
    **_: Any,
) -> dict[str, Any]:
    """One page of ``items`` (already in the sort order) as ``{nodes, edges, pageInfo}``."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, size in (("first", first), ("last", last)):
        if size is not None and size > MAX_PAGE:
            raise GraphQLError(
                f"The connection can request at most {MAX_PAGE} items ({name}: {size})",
                extensions={"code": "BAD_REQUEST"},
            )
    ordered = list(reversed(items)) if reverse else list(items)
    sort_id = f"{sort}:{'r' if reverse else ''}"
    start, end = 0, len(ordered)
    if after:
        start = _position(after, sort_id) + 1
    if before:
        end = min(_position(before, sort_id), end)
    if first is not None:
        end = min(end, start + max(first, 0))
    if last is not None:
        start = max(start, end - max(last, 0))
    page = ordered[start:end]
    nodes = [view(item) for item in page]
    return {
        "nodes": nodes,
        "edges": [{"cursor": cursor(start + i, sort_id), "node": n} for i, n in enumerate(nodes)],
        "pageInfo": {
            "hasNextPage": end < len(ordered),
            "hasPreviousPage": start > 0,
            "startCursor": cursor(start, sort_id) if page else None,
            "endCursor": cursor(end - 1, sort_id) if page else None,
        },
    }
