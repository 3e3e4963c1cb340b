"""TikTok Shop images: only URIs from Upload Image are accepted (4.5; real-stores 1.2, 12052722).

Each catalog image is downloaded and uploaded once per client and use case (MAIN_IMAGE,
ATTRIBUTE_IMAGE, SIZE_CHART_IMAGE, CERTIFICATION_IMAGE: TikTok checks each use case's own size
rules), then its URI is reused. The upload is app-level: it never carries ``shop_cipher``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sync_pipeline.platforms.tiktok.wire import Wire

IMAGES = "/product/202309/images/upload"


class ImageUploader:
    def __init__(self, wire: Wire, image_source: Callable[[str], bytes] | None = None) -> None:
        self._wire = wire
        self._image_source = image_source or wire.transport.download
        self._uris: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def uri(self, url: str, use_case: str) -> str:
        """The TikTok URI of ``url`` for ``use_case``, uploading it the first time."""
        with self._lock:
            cached = self._uris.get((url, use_case))
        if cached is not None:
            return cached
        content = self._image_source(url)
        name = url.rsplit("/", 1)[-1] or "image"
        files = {"data": (name, content), "use_case": (None, use_case)}
        uri = str(self._wire.call("POST", IMAGES, "image.upload", files=files)["uri"])
        with self._lock:
            self._uris[(url, use_case)] = uri
        return uri
