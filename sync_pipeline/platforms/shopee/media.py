"""Shopee images: Shopee only takes uploaded files (contract 3.5), so each image URL is downloaded
and sent to ``media_space/upload_image`` once per client (ids cached per URL)."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sync_pipeline.platforms.base import ErrorClass, PlatformError
from sync_pipeline.platforms.shopee.api import Call, FormPart, ShopeeApi
from sync_pipeline.platforms.shopee.payloads import chunks

UPLOAD_IMAGE_PATH = "/api/v2/media_space/upload_image"
IMAGES_PER_UPLOAD = 8  # contract 3.5: "<9 per call"

ImageLoader = Callable[[str], bytes]


class ShopeeImages:
    """URL -> Shopee image id, uploading each URL once (thread-safe)."""

    def __init__(self, api: ShopeeApi, loader: ImageLoader | None = None) -> None:
        self.api = api
        self._loader = loader or api.transport.download
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def upload(self, urls: Sequence[str]) -> dict[str, str]:
        with self._lock:
            missing = [u for u in dict.fromkeys(urls) if u not in self._ids]
        for chunk in chunks(missing, IMAGES_PER_UPLOAD):
            files: list[FormPart] = [("image", (_file_name(url), self._loader(url), _mime(url))) for url in chunk]
            files.append(("scene", (None, "normal", None)))
            answer = self.api.call(Call("POST", UPLOAD_IMAGE_PATH, files=files, public=True))
            infos = image_infos(answer, chunk)
            with self._lock:
                self._ids.update({url: str(info["image_id"]) for url, info in zip(chunk, infos, strict=True)})
        with self._lock:
            return {url: self._ids[url] for url in urls}


def image_infos(answer: dict[str, Any], urls: Sequence[str]) -> list[dict[str, Any]]:
    """One ``image_info`` per uploaded file, in order (real-stores 2.3: ``image_info_list`` with a
    per-file ``error``, or - which one a single file fills is unverified - ``image_info`` alone)."""
    entries = answer.get("image_info_list")
    if not entries and answer.get("image_info") and len(urls) == 1:
        entries = [{"error": "", "image_info": answer["image_info"]}]
    entries = list(entries or [])
    for url, entry in zip(urls, entries, strict=False):
        if entry.get("error"):
            raise PlatformError(ErrorClass.INVALID_PRODUCT, f"upload_image refused {url}: {entry.get('message')}",
                                platform_code=str(entry["error"]))
    infos = [entry.get("image_info") or {} for entry in entries]
    if len(infos) != len(urls) or not all(info.get("image_id") for info in infos):
        raise PlatformError(ErrorClass.NETWORK_ERROR, "upload_image answered without an image id per file")
    return infos



def _file_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or "image.jpg"


def _mime(url: str) -> str:
    return mimetypes.guess_type(_file_name(url))[0] or "image/jpeg"
