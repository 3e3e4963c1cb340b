"""Helpers for the TikTok sandbox and client tests: a shop config, signed raw calls, real PNG images
served over HTTP (TikTok takes only uploaded images, so the client must fetch listing images)."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from sync_pipeline.listings.model import CatalogDetails, Listing, ListingVariant, Package
from sync_pipeline.sandbox.tiktok.emulator import tiktok_sign
from sync_pipeline_tests.bounds import CALL_BOUND_S

APP_KEY = "sandbox-app-key"
APP_SECRET = "sandbox-app-secret-0123456789"
ACCESS_TOKEN = "TTP_sandbox-access-token-0001"
REFRESH_TOKEN = "TTP_sandbox-refresh-token-0001"
CIPHER = "test_us_cipher"
WAREHOUSE = "7000001"


def shop_config(**settings: Any) -> dict[str, Any]:
    return {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "warehouse_id": WAREHOUSE,
        "settings": {"qps": 1000, "audit_delay_seconds": 0.0, **settings},
    }


def png(width: int = 300, height: int = 300, shade: int = 0) -> bytes:
    """A real (solid grey) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + bytes([shade % 256]) * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class _ImageHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if not self.path.endswith(".png"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = png(shade=sum(self.path.encode()))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class ImageHost:
    url: str

    def image(self, name: str) -> str:
        return f"{self.url}/media/{name}.png"


@pytest.fixture(scope="session")
def image_host() -> Iterator[ImageHost]:
    """A real HTTP server handing out PNGs for any ``*.png`` path (404 otherwise)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ImageHost(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def signed_call(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    files: Any = None,
    query: dict[str, str] | None = None,
    token: str | None = ACCESS_TOKEN,
    secret: str = APP_SECRET,
    app_key: str = APP_KEY,
    cipher: str | None = CIPHER,
    timestamp: int | None = None,
) -> requests.Response:
    """One raw call to the TikTok sandbox, signed per 4.2 (``secret`` lets a test sign wrongly)."""
    import json

    params = {"app_key": app_key, "timestamp": str(timestamp if timestamp is not None else int(time.time()))}
    if cipher is not None:
        params["shop_cipher"] = cipher
    params.update(query or {})
    payload = json.dumps(body).encode() if body is not None else b""
    params["sign"] = tiktok_sign(secret, path, params, b"" if files is not None else payload)
    headers = {} if token is None else {"x-tts-access-token": token}
    if files is None:
        headers["content-type"] = "application/json"
    return requests.request(method, f"{base_url}/tiktok{path}", params=params, headers=headers,
                            data=payload if files is None else None, files=files, timeout=CALL_BOUND_S)


def listing(
    sku: str = "MH01",
    *,
    images: tuple[str, ...] = (),
    variants: int = 3,
    title: str = "Chaz Kangeroo Hoodie",
    price: str = "52.00",
    stock: int = 10,
    weight: str | None = "0.5",
    store_key: str = "tiktok-test",
) -> Listing:
    """A TikTok-shaped listing: ``variants`` sizes (or a simple product when 1)."""
    sizes = ("S", "M", "L", "XL", "XXL")
    if variants == 1:
        rows = (ListingVariant(sku, Decimal(price), None, stock, {}),)
        options: tuple[str, ...] = ()
    else:
        rows = tuple(
            ListingVariant(f"{sku}-{size}", Decimal(price), Decimal("60.00"), stock + i, {"Size": size})
            for i, size in enumerate(sizes[:variants])
        )
        options = ("Size",)
    return Listing(
        store_key=store_key,
        platform="tiktok",
        sku=sku,
        source_id=1,
        action="list",
        title=title,
        description="<p>Warm hoodie.</p>",
        price=Decimal(price),
        compare_at_price=None,
        currency="USD",
        stock_qty=sum(v.stock_qty for v in rows),
        images=images,
        category_id="601152",
        handle=sku.lower(),
        options=options,
        variants=rows,
        weight_kg=Decimal(weight) if weight is not None else None,
        # US shops need package dimensions (real-stores 1.2), in the weight's unit system.
        details=CatalogDetails(package=Package(Decimal(weight) if weight is not None else None, "KILOGRAM",
                                               Decimal(30), Decimal(20), Decimal(5), "CENTIMETER")),
    )
