"""Shopify sandbox: ``productCreateMedia`` (deprecated in 2026-07 for productSet/productUpdate, still served).

Answers as recorded from a live shop by airhorns/shopify-draft-proxy
(``2025-01/products/product-media-validation-branches.json``):

* an unknown product: ``media: null``, ``product: null`` and the error twice, in ``userErrors``
  ``{field: [productId], message: "Product does not exist"}`` and in ``mediaUserErrors`` with code
  ``PRODUCT_DOES_NOT_EXIST``;
* an ``originalSource`` that is not an http(s) URL: ``[media, i, originalSource]`` "Image URL is
  invalid" (``INVALID`` in ``mediaUserErrors``); the other media of the call are still created;
* a ``mediaContentType`` outside the enum (e.g. ``FILE``) is an ``INVALID_VARIABLE`` answer
  (schema validation);
* no per-product media cap is enforced here (no recorded answer for it was found; productSet's
  250-file input limit stands);
* created media are ``UPLOADED`` in the answer, ``PROCESSING`` on later reads until
  ``media_processing_seconds`` of sandbox time have passed, then ``READY`` (views.media_view).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify import rules, views
from sync_pipeline.sandbox.shopify.base import ResolverBase


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
