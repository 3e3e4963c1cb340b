"""What the Shopify client reads and changes beside the product itself: its publications, its
marker tag, the taxonomy category of a stores-file path and the media already on a product.

* Publications (real-stores 3.1): ``productSet`` leaves a new product unpublished, invisible to
  shoppers. Every ``productSet`` answer says where the product is published, and the client
  publishes it (``publishablePublish``) on the store's ``settings.publications`` (names, default
  "Online Store"; ids looked up once per client with the ``publications`` query) where it is
  missing. A token without ``write_publications`` (or ``read_publications``) gets
  ``ACCESS_DENIED``, which stops the store naming the scope.
* Category (real-stores 3.1): the store's ``category_map`` value is a Shopify taxonomy path (or a
  ``gid://shopify/TaxonomyCategory/...`` id) resolved once per client with ``taxonomy {
  categories(search:) }``.
* Media: the ids of the images this client put on a product, by the source digest at the end of
  their alt text (product_input.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync_pipeline.listings.model import Listing
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteRef
from sync_pipeline.platforms.shopify.documents import (
    MAX_PRODUCT_MEDIA,
    PRODUCT_MEDIA_READ,
    PRODUCT_MEDIA_SOURCES,
    PUBLICATIONS_READ,
    PUBLISH,
    TAXONOMY_SEARCH,
    cost_of_media_read,
)
from sync_pipeline.platforms.shopify.graphql import ShopifyGraphQL
from sync_pipeline.platforms.shopify.product_input import MEDIA_SOURCE_MARK, TAXONOMY_ID_PREFIX, source_key
from sync_pipeline.stores import StoreConfig

DEFAULT_PUBLICATION = "Online Store"


class ShopifyCatalog(ShopifyGraphQL):
    """Publications, tags, taxonomy and media look-ups; each is read once per client (a push run)."""

    def _setup(self, store: StoreConfig) -> None:
        super()._setup(store)
        self.publication_names = tuple(store.settings.get("publications") or (DEFAULT_PUBLICATION,))
        self._publication_ids: tuple[str, ...] | None = None
        self._categories: dict[str, str] = {}  # taxonomy path -> category id

    def _kept_media_ids(self, ref: RemoteRef, listing: Listing) -> dict[str, str]:
        """Source URL -> media id of the listing's images that this client already put on the product."""
        nodes = self._media_nodes(PRODUCT_MEDIA_READ, ref.product_id)
        if nodes is None:
            return {}  # gone: productSet with the handle creates it again, with new media
        by_key: dict[str, str] = {}
        for media in nodes:
            mark = MEDIA_SOURCE_MARK.search(media.get("alt") or "")
            if mark:
                by_key.setdefault(mark.group(1), media["id"])
        return {url: by_key[source_key(url)] for url in listing.images if source_key(url) in by_key}

    # ---- publications, tags, taxonomy ------------------------------------------------------

    def _target_publications(self) -> tuple[str, ...]:
        """Ids of the store's publications by name, read once per client (a push run)."""
        with self._lock:
            if self._publication_ids is not None:
                return self._publication_ids
        by_name: dict[str, str] = {}
        after = None
        while True:
            page = self._call("publications", PUBLICATIONS_READ, {"after": after}, 2 + 50 * 1)["publications"]
            by_name.update({node["name"]: node["id"] for node in page["nodes"]})
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        missing = [name for name in self.publication_names if name not in by_name]
        if missing:
            # A stores-file mistake that every product would hit: stop the store, saying what exists.
            raise PlatformError(
                ErrorClass.UNAUTHORIZED,
                f"store '{self.store.key}': no publication named {', '.join(map(repr, missing))} "
                f"(the store has: {', '.join(sorted(by_name)) or 'none'}); fix settings.publications",
                platform_code="PUBLICATION_NOT_FOUND",
            )
        ids = tuple(by_name[name] for name in self.publication_names)
        with self._lock:
            self._publication_ids = ids
        return ids

    def _publish_where_missing(self, product: dict[str, Any]) -> None:
        missing = [p for p in self._target_publications() if p not in published_ids(product)]
        if missing:
            self._publications_call(PUBLISH, "publishablePublish", product["id"], missing)

    def _publications_call(self, document: str, operation: str, product_id: str, publication_ids: list[str]) -> None:
        data = self._call(
            operation, document, {"id": product_id, "input": [{"publicationId": p} for p in publication_ids]}, 10
        )
        self._check_user_errors(operation, data[operation])

    def _change_tags(self, document: str, operation: str, product_id: str, tags: list[str]) -> None:
        data = self._call(operation, document, {"id": product_id, "tags": tags}, 10)
        self._check_user_errors(operation, data[operation])

    def _category_id(self, path: str) -> str:
        """The taxonomy category id of a stores-file category (a path, or already an id)."""
        if path.startswith(TAXONOMY_ID_PREFIX):
            return path
        with self._lock:
            known = self._categories.get(path)
        if known is not None:
            return known
        name = path.split(" > ")[-1]
        data = self._call("taxonomy", TAXONOMY_SEARCH, {"search": name}, 1 + 2 + 50)
        nodes = ((data.get("taxonomy") or {}).get("categories") or {}).get("nodes") or []
        found: str | None = next((str(n["id"]) for n in nodes if n["fullName"].casefold() == path.casefold()), None)
        if found is None:
            raise PlatformError(
                ErrorClass.INVALID_PRODUCT,
                f"category {path!r} is not in Shopify's product taxonomy (searching {name!r} found: "
                f"{'; '.join(n['fullName'] for n in nodes[:5]) or 'nothing'}); map it to a taxonomy path or id",
                platform_code="CATEGORY_NOT_FOUND",
            )
        with self._lock:
            self._categories[path] = found
        return found

    def _media_sources(self, product_id: str) -> list[dict[str, Any]]:
        return [
            {"url": m["image"]["url"], "alt": m.get("alt")}
            for m in self._media_nodes(PRODUCT_MEDIA_SOURCES, product_id) or []
            if (m.get("image") or {}).get("url")
        ]

    def _media_nodes(self, document: str, product_id: str) -> list[dict[str, Any]] | None:
        """The product's media as ``document`` selects them; None when the product is gone."""
        data = self._call(
            "product", document, {"id": product_id, "mediaCount": MAX_PRODUCT_MEDIA}, cost_of_media_read(MAX_PRODUCT_MEDIA)
        )
        product = data["product"]
        return None if product is None else list(product["media"]["nodes"])


def published_ids(product: Mapping[str, Any]) -> set[str]:
    nodes = (product.get("resourcePublicationsV2") or {}).get("nodes") or []
    return {n["publication"]["id"] for n in nodes if n.get("isPublished")}
