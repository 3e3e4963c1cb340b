"""Shopify sandbox: ``productCreateMedia`` (deprecated in 2026-07 for productSet/productUpdate, still served),
``fileCreate`` and ``node(id:)``.

Answers as recorded from a live shop by airhorns/shopify-draft-proxy
(``2025-01/products/product-media-validation-branches.json``):

* an unknown product: ``media: null``, ``product: null`` and the error twice, in ``userErrors``
  ``{field: [productId], message: "Product does not exist"}`` and in ``mediaUserErrors`` with code
  ``PRODUCT_DOES_NOT_EXIST``;
* an ``originalSource`` that is not an http(s) URL: ``[media, i, originalSource]`` "Image URL is
  invalid" (``INVALID`` in ``mediaUserErrors``); the other media of the call are still created;
* a ``mediaContentType`` outside the enum (e.g. ``FILE``) is an ``INVALID_VARIABLE`` answer
  (schema validation);
* ``fileCreate`` (the same draft-proxy's file captures and its replay of them): an ``originalSource``
  that is not an http(s) URL is ``[files, i, originalSource]`` "File URL is invalid", code
  ``INVALID_IMAGE_SOURCE_URL`` when it has a URI scheme (``ftp://...``) else ``INVALID``; a
  ``filename`` whose extension differs from the source's is ``[files, i, filename]`` "Provided filename
  extension must match original source." ``MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE``; any error
  creates nothing (``files: []``); over 250 inputs is ``MAX_INPUT_SIZE_EXCEEDED``. Without
  ``contentType`` an image extension makes a ``MediaImage``, anything else a ``GenericFile``. A file is
  ``UPLOADED`` in the answer, ``PROCESSING`` until ``media_processing_seconds`` have passed, then ``READY``
  (read it back with ``node(id:)``);
* no per-product media cap is enforced here (no recorded answer for it was found; productSet's
  250-file input limit stands);
* created media are ``UPLOADED`` in the answer, ``PROCESSING`` on later reads until
  ``media_processing_seconds`` of sandbox time have passed, then ``READY`` (views.media_view).
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import rules, views
from sync_pipeline.sandbox.shopify.base import ResolverBase

MAX_FILES_A_CALL = 250
_IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "webp", "heic", "avif"})
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class MediaResolvers(ResolverBase):
    def productCreateMedia(  # noqa: N802
        self, _info: GraphQLResolveInfo, productId: str, media: list[dict[str, Any]]  # noqa: N803
    ) -> dict[str, Any]:
        errors: list[dict[str, Any]] = []
        with self.state.transaction() as conn:
            found = self.catalog.locked_product(conn, productId)
            if found is None:
                missing = {"field": ["productId"], "message": "Product does not exist"}
                return {"media": None, "product": None, "userErrors": [missing],
                        "mediaUserErrors": [dict(missing, code="PRODUCT_DOES_NOT_EXIST")]}  # fmt: skip
            valid = []
            for i, given in enumerate(media):
                source = given.get("originalSource") or ""
                if not source.startswith(("http://", "https://")):
                    errors.append({"field": ["media", str(i), "originalSource"], "message": "Image URL is invalid",
                                   "code": "INVALID"})  # fmt: skip
                    continue
                valid.append(given)
            added = rules.build_media(self.catalog, conn, valid, [], cat.UserErrors(), ("media",))
            updated = found
            if added:
                updated = dict(found, media=[*found["media"], *added], updatedAt=cat.now_iso())
                self.catalog.save(conn, updated, found)
        return {
            "media": [views.media_view(m, self.at) for m in added],
            "product": self._view(updated),
            "userErrors": [{k: v for k, v in e.items() if k != "code"} for e in errors],
            "mediaUserErrors": errors,
        }

    def fileCreate(self, _info: GraphQLResolveInfo, files: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N802
        if len(files) > MAX_FILES_A_CALL:
            raise cat.InputTooLarge(len(files), MAX_FILES_A_CALL, ["fileCreate", "files"])
        errors = [e for i, given in enumerate(files) if (e := _file_error(given, i)) is not None]
        if errors:
            return {"files": [], "userErrors": errors}
        made = []
        with self.state.transaction() as conn:
            for given in files:
                record = self._file_record(conn, given)
                self.catalog.put_file(conn, record)
                made.append(record)
        return {"files": [file_view(f, self.at) for f in made], "userErrors": []}

    def _file_record(self, conn: Any, given: dict[str, Any]) -> dict[str, Any]:
        source = given["originalSource"]
        kind = given.get("contentType") or ("IMAGE" if _extension(given.get("filename") or source) in _IMAGE_EXTENSIONS
                                            else "FILE")  # fmt: skip
        stamp = cat.now_iso()
        if kind == "IMAGE":
            [record] = rules.build_media(self.catalog, conn, [{"originalSource": source, "alt": given.get("alt")}], [],
                                         cat.UserErrors())  # fmt: skip
            return dict(record, createdAt=stamp, updatedAt=stamp)
        return {"__typename": "GenericFile", "id": self.catalog.new_id(conn, "GenericFile"),
                "alt": given.get("alt") or "", "url": source, "mimeType": None, "status": "READY",
                "uploadedBy": self.catalog.request_token, "readyAt": self.catalog.now + self.catalog.media_seconds,
                "createdAt": stamp, "updatedAt": stamp}  # fmt: skip

    def node(self, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
        """Products, variants, files and product media by id (other node types read as null here)."""
        stored = self.catalog.file(id)
        if stored is not None:
            return file_view(stored, self.at)
        for product in self.catalog.products():
            if product["id"] == id:
                return self._view(product)
            for variant in product["variants"]:
                if variant["id"] == id:
                    return dict(views.variant_view(variant, product, self.at), __typename="ProductVariant")
            for media in product["media"]:
                if media["id"] == id:
                    return file_view(media, self.at)
        return None


def file_view(record: dict[str, Any], at: views.Moment) -> dict[str, Any]:
    """A file as ``File`` reads it: ``fileStatus`` follows the media lifecycle (views.media_view)."""
    return views.media_view(record, at)


def _extension(name: str) -> str:
    tail = name.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def _file_error(given: dict[str, Any], index: int) -> dict[str, Any] | None:
    source = given.get("originalSource") or ""
    if not source.startswith(("http://", "https://")):
        code = "INVALID_IMAGE_SOURCE_URL" if _SCHEME.match(source) else "INVALID"
        return {"field": ["files", str(index), "originalSource"], "message": "File URL is invalid", "code": code}
    if given.get("filename") and _extension(given["filename"]) != _extension(source):
        return {"field": ["files", str(index), "filename"], "message": "Provided filename extension must match "
                "original source.", "code": "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE"}  # fmt: skip
    return None
