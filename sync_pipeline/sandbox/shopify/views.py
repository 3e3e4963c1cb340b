"""Read views of the Shopify sandbox's products: dicts the GraphQL executor walks (callables take the
field's arguments), and the ``query`` search syntax of the product reads."""

from __future__ import annotations

import re
from typing import Any

from sync_pipeline.sandbox.shopify import fields, paging
from sync_pipeline.sandbox.shopify.catalog import gid_number, now_iso
from sync_pipeline.sandbox.shopify.sorting import sort_variants

# (now, request token): when a read happens and which request it belongs to; the default reads
# every medium as finished
Moment = tuple[float, "str | None"]
SETTLED: Moment = (float("inf"), None)


def product_view(product: dict[str, Any], at: Moment = SETTLED) -> dict[str, Any]:
    media = product["media"]
    view = {k: v for k, v in product.items() if k not in ("variants", "media", "options")}
    view.update(
        {
            "options": lambda _info, first=None: [
                _option_view(o, product) for o in product["options"][: first or None]
            ],
            "variants": lambda _info, sortKey="POSITION", **page: paging.connection(  # noqa: N803
                sort_variants(product["variants"], sortKey), lambda v: variant_view(v, product, at), sort=sortKey, **page
            ),
            "variantsCount": {"count": len(product["variants"]), "precision": "EXACT"},
            "media": lambda _info, sortKey="POSITION", query=None, **page: paging.connection(  # noqa: N803
                sorted(media, key=lambda m: int(gid_number(m["id"], "MediaImage") or 0)) if sortKey == "ID" else media,
                lambda m: media_view(m, at),
                sort=sortKey,
                **page,
            ),
            "mediaCount": {"count": len(media), "precision": "EXACT"},
            "featuredMedia": media_view(media[0], at) if media else None,
            **fields.product_fields(product),
        }
    )
    return view


def _option_view(option: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    used = {
        s["value"] for v in product["variants"] for s in v["selectedOptions"] if s["name"] == option["name"]
    }
    return {
        "id": option["id"],
        "name": option["name"],
        "position": option["position"],
        "values": [v["name"] for v in option["values"] if v["name"] in used],  # only values with variants
        "optionValues": [dict(v, hasVariants=v["name"] in used) for v in option["values"]],
    }


def variant_view(variant: dict[str, Any], product: dict[str, Any], at: Moment = SETTLED) -> dict[str, Any]:
    view = {k: v for k, v in variant.items() if k not in ("inventory", "mediaId")}
    view["inventoryQuantity"] = sum(variant["inventory"].values())
    view["product"] = lambda _info: product_view(product, at)
    # the variant's one image (mediaId), among the product's media
    chosen = [m for m in product.get("media", []) if m["id"] == variant.get("mediaId")]
    view["media"] = lambda _info, **page: paging.connection(chosen, lambda m: media_view(m, at), **page)
    view.update(fields.variant_fields(variant))
    return view


def media_view(media: dict[str, Any], at: Moment = SETTLED) -> dict[str, Any]:
    """UPLOADED in the answer of the request that sent it, PROCESSING until ``readyAt``, then its final
    status; the image is there once READY (Shopify's ``image`` is null before)."""
    now, token = at
    view = {k: v for k, v in media.items() if k not in ("originalSource", "uploadedBy", "readyAt")}
    if token is not None and media.get("uploadedBy") == token:
        view["status"] = "UPLOADED"
    elif now < float(media.get("readyAt") or 0):
        view["status"] = "PROCESSING"
    if view["status"] != "READY":
        view["image"] = None
    view["fileStatus"] = view["status"]  # MediaImage is a File too (fileCreate, media.py)
    view.setdefault("createdAt", now_iso())
    view.setdefault("updatedAt", view["createdAt"])
    return view


# ---- search syntax (products / productVariants ``query``) ----------------------------------

_TERM = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))|(\S+)')


def parse_search(query: str | None) -> list[tuple[str | None, str]]:
    """``sku:ABC handle:"x y" free text`` -> [("sku","ABC"), ("handle","x y"), (None,"free"), ...]."""
    terms: list[tuple[str | None, str]] = []
    for match in _TERM.finditer(query or ""):
        name, quoted, bare, free = match.groups()
        if name:
            terms.append((name.lower(), quoted if quoted is not None else bare))
        else:
            terms.append((None, free))
    return terms


def product_matches(product: dict[str, Any], terms: list[tuple[str | None, str]]) -> bool:
    for name, value in terms:
        if name == "sku" and not any(v.get("sku") == value for v in product["variants"]):
            return False
        if name == "handle" and product["handle"] != value:
            return False
        if name == "tag" and value not in product.get("tags", []):
            return False
        if name == "status" and product["status"].lower() != value.lower():
            return False
        if name == "id" and gid_number(product["id"], "Product") != value:
            return False
        if name in (None, "title") and value.lower() not in product["title"].lower():
            return False
    return True


