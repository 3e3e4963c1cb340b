"""TikTok sandbox: image uploads (4.5 Upload Image) and the images a listing may name."""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from sync_pipeline.sandbox.core import Request, Response
from sync_pipeline.sandbox.tiktok.shop import (
    BAD_CONTENT_TYPE,
    FILE_TOO_BIG,
    IMAGE_USE_CASES,
    INVALID_PARAMETERS,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PX,
    MIN_IMAGE_PX,
    OK,
    PLATFORM,
    ApiError,
    TikTokBase,
    _Shop,
    envelope,
)


class TikTokMedia(TikTokBase):
    def _image_known(self, shop: _Shop, uri: Any, use_case: str) -> bool:
        """An uploaded image, uploaded for this use (4.5 Upload Image ``use_case``: a main image is
        not a size chart; the same file uploaded for two uses serves both)."""
        image = self.state.get(PLATFORM, shop.cipher, "images", uri) if isinstance(uri, str) else None
        return image is not None and use_case in image.get("use_cases", [image["use_case"]])

    def _upload_image(self, request: Request, shop: _Shop, _found: re.Match[str]) -> Response:
        if request.content_type != "multipart/form-data":
            raise ApiError(BAD_CONTENT_TYPE, "content-type must be multipart/form-data")
        fields = _multipart_fields(request)
        image = fields.get("data")
        if not image:
            raise ApiError(INVALID_PARAMETERS, "data (the image file) is required")
        if len(image) > MAX_IMAGE_BYTES:
            raise ApiError(FILE_TOO_BIG, "The image is larger than 10 MB")
        use_case = (fields.get("use_case") or b"MAIN_IMAGE").decode("utf-8", "replace")
        if use_case not in IMAGE_USE_CASES:
            raise ApiError(INVALID_PARAMETERS, f"use_case {use_case!r} is not supported")
        size = image_size(image)
        if size is None:
            raise ApiError(INVALID_PARAMETERS, "The image must be JPG, JPEG, PNG, WEBP, HEIC or BMP")
        width, height = size
        if width and not (MIN_IMAGE_PX <= width <= MAX_IMAGE_PX and MIN_IMAGE_PX <= height <= MAX_IMAGE_PX):
            raise ApiError(INVALID_PARAMETERS, "Image dimensions must be between 100 and 20000 px")
        uri = f"tos-sandbox-i-{shop.cipher}/{hashlib.sha256(image).hexdigest()[:32]}"
        data = {"uri": uri, "url": f"https://sandbox.invalid/{uri}", "width": width, "height": height,
                "use_case": use_case}
        with self.state.lock:
            before = self.state.get(PLATFORM, shop.cipher, "images", uri) or {}
            uses = sorted({*before.get("use_cases", []), use_case})
            self.state.put(PLATFORM, shop.cipher, "images", uri, {**data, "use_cases": uses})
        return envelope(OK, "Success", data)



def _multipart_fields(request: Request) -> dict[str, bytes]:
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + request.body)
    fields: dict[str, bytes] = {}
    if not message.is_multipart():
        raise ApiError(BAD_CONTENT_TYPE, "The multipart body cannot be read")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG; (0, 0) for the other accepted formats; None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data) or (0, 0)
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if is_webp or data[:2] == b"BM" or data[4:12] in (b"ftypheic", b"ftypmif1"):
        return 0, 0
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            width = int.from_bytes(data[index + 7 : index + 9], "big")
            return width, height
        index += 2 + length
    return None
