"""Where a Shopify sandbox product can be seen: sales-channel publications, access scopes, taxonomy.

* A product is visible to shoppers on a channel only when its status is ``ACTIVE`` **and** it is
  published on that channel's publication (real-stores 3.1). ``productSet`` never publishes, so a
  product stays invisible until ``publishablePublish``; the storefront's
  ``GET /shopify/<shop>/products.json`` lists only what the Online Store shows.
* Every root field needs its access scope (``write_publications`` for publishing, ...). A token
  without it gets Shopify's top-level ``ACCESS_DENIED`` error naming ``requiredAccess``, on HTTP 200
  (real-stores 3.3); provision ``scopes`` to take some away.
* ``taxonomy { categories(search:) }`` searches a small seeded part of the Standard Product
  Taxonomy; ``productSet`` refuses a ``category`` that is not one of its ids. The ids are the
  sandbox's own, in Shopify's format: a real store's ids are looked up by name, never copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ONLINE_STORE = "Online Store"
DEFAULT_PUBLICATIONS: tuple[tuple[str, str], ...] = (
    ("gid://shopify/Publication/1", ONLINE_STORE),
    ("gid://shopify/Publication/2", "Point of Sale"),
    ("gid://shopify/Publication/3", "Shop"),
)
ALL_SCOPES: tuple[str, ...] = (
    "read_products", "write_products", "read_inventory", "write_inventory", "read_publications",
    "write_publications",
)  # fmt: skip
ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"

# Root field -> the scope it needs. Taxonomy reads need none.
_REQUIRED_SCOPE = {
    "product": "read_products", "productByIdentifier": "read_products", "products": "read_products",
    "productVariants": "read_products", "productSet": "write_products", "productUpdate": "write_products",
    "productDelete": "write_products", "productVariantsBulkUpdate": "write_products", "tagsAdd": "write_products",
    "tagsRemove": "write_products", "inventorySetQuantities": "write_inventory",
    "publications": "read_publications", "publishablePublish": "write_publications",
    "publishableUnpublish": "write_publications",
}  # fmt: skip

# (id, full name): the demo stores file's categories and their parents.
TAXONOMY: tuple[tuple[str, str], ...] = (
    ("gid://shopify/TaxonomyCategory/aa", "Apparel & Accessories"),
    ("gid://shopify/TaxonomyCategory/aa-1", "Apparel & Accessories > Clothing"),
    ("gid://shopify/TaxonomyCategory/aa-1-13", "Apparel & Accessories > Clothing > Shirts & Tops"),
    ("gid://shopify/TaxonomyCategory/aa-1-12", "Apparel & Accessories > Clothing > Pants"),
    ("gid://shopify/TaxonomyCategory/aa-1-15", "Apparel & Accessories > Clothing > Skirts"),
    ("gid://shopify/TaxonomyCategory/aa-6", "Apparel & Accessories > Jewelry"),
    ("gid://shopify/TaxonomyCategory/aa-6-11", "Apparel & Accessories > Jewelry > Watches"),
    ("gid://shopify/TaxonomyCategory/lb", "Luggage & Bags"),
    ("gid://shopify/TaxonomyCategory/sg", "Sporting Goods"),
    ("gid://shopify/TaxonomyCategory/sg-4", "Sporting Goods > Exercise & Fitness"),
)
_TAXONOMY_BY_ID = dict(TAXONOMY)


def publications(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": pid, "name": name, "autoPublish": False} for pid, name in config["publications"]]


def missing_scopes(config: dict[str, Any], root_fields: Iterable[str]) -> list[tuple[str, str]]:
    """(field, scope) for each root field the store's token may not call."""
    granted = set(config.get("scopes") or ALL_SCOPES)
    return [
        (field, _REQUIRED_SCOPE[field])
        for field in root_fields
        if field in _REQUIRED_SCOPE and _REQUIRED_SCOPE[field] not in granted
    ]


def access_denied(field: str, scope: str, path_index: int = 0) -> dict[str, Any]:
    return {
        "message": f"Access denied for {field} field. Required access: `{scope}` access scope.",
        "locations": [],
        "path": [field],
        "extensions": {"code": "ACCESS_DENIED", "documentation": ACCESS_SCOPES_DOC,
                       "requiredAccess": f"`{scope}` access scope."},
    }  # fmt: skip


def category_view(category_id: str | None) -> dict[str, Any] | None:
    if category_id is None or category_id not in _TAXONOMY_BY_ID:
        return None
    full = _TAXONOMY_BY_ID[category_id]
    parts = full.split(" > ")
    parent = next((cid for cid, name in TAXONOMY if name == " > ".join(parts[:-1])), None)
    leaf = not any(name.startswith(full + " > ") for _, name in TAXONOMY)
    return {"id": category_id, "name": parts[-1], "fullName": full, "isLeaf": leaf, "level": len(parts),
            "parentId": parent}  # fmt: skip


def known_category(category_id: str) -> bool:
    return category_id in _TAXONOMY_BY_ID


def search_categories(
    search: str | None,
    children_of: str | None = None,
    siblings_of: str | None = None,
    descendants_of: str | None = None,
) -> list[dict[str, Any]]:
    words = (search or "").casefold().split()
    found = [cid for cid, full in TAXONOMY if all(w in full.casefold() for w in words)]
    views = [view for view in (category_view(cid) for cid in found) if view is not None]
    if children_of is not None:
        views = [v for v in views if v["parentId"] == children_of]
    if siblings_of is not None:
        parent = (category_view(siblings_of) or {"parentId": "-"})["parentId"]
        views = [v for v in views if v["parentId"] == parent and v["id"] != siblings_of]
    if descendants_of is not None:
        views = [v for v in views if v["id"] != descendants_of and v["id"].startswith(descendants_of + "-")]
    return views


def publication_view(config: dict[str, Any], publication_id: str) -> dict[str, Any] | None:
    return next((p for p in publications(config) if p["id"] == publication_id), None)


def resource_publications(
    config: dict[str, Any], product: dict[str, Any], only_published: bool = True
) -> list[dict[str, Any]]:
    """``onlyPublished`` defaults to true at Shopify; false lists every channel, published or not."""
    published = set(product.get("publications", []))
    return [
        {"isPublished": view["id"] in published, "publication": view, "publishDate": None}
        for view in publications(config)
        if view["id"] in published or not only_published
    ]


def visible_on(config: dict[str, Any], product: dict[str, Any], name: str = ONLINE_STORE) -> bool:
    ids = {pid for pid, pname in config["publications"] if pname == name}
    return product.get("status") == "ACTIVE" and bool(ids & set(product.get("publications", [])))
