"""The sandbox HTTP server: one loopback process serving every platform emulator.

Each emulator (``shopify.py``, ``shopee.py``, ``tiktok.py``) subclasses ``PlatformEmulator`` and
owns a URL prefix. The server applies per-store fault plans around the emulator's handler, and
serves an admin API under ``/_sandbox`` (create stores, set faults, read call counts, reset).

It is built on the standard library's threading HTTP server on purpose: faults such as "close the
connection after the write was committed" need control of the socket that frameworks hide.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import logging
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sync_pipeline.sandbox.faults import Fault, FaultPlan
from sync_pipeline.sandbox.state import SandboxState

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # without the emulator's prefix
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, or bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Routed:
    """What an emulator says about a request before it is handled: whose it is, what it does."""

    store: str | None  # None: the store is unknown (the emulator answers with its own error)
    operation: str
    is_write: bool


class SandboxClock:
    """Wall-clock time (``time.time()``) plus an offset that only tests move.

    Token lifetimes, audit delays and "wait before" rules read this clock, so a test reaches the
    far side of a deadline by ``advance`` instead of sleeping past it (a sleep races a loaded machine).
    With no offset, which is all normal use ever sees, it is the real clock.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the sandbox's time forward by ``seconds``; returns the new time."""
        if not seconds >= 0:  # also refuses NaN: time never runs backwards for the emulators
            raise ValueError(f"the sandbox clock only moves forward, not by {seconds!r} s")
        with self._lock:
            self._offset += seconds
        return self()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


class PlatformEmulator:
    """Base for one platform's emulator. Subclasses implement routing, handling and fault shapes."""

    platform: str = ""
    prefix: str = ""  # e.g. "/shopify"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.clock: Callable[[], float] = time.time  # seconds since the epoch, as the platform sees them

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Read time from ``clock`` from now on (the sandbox's own, which tests can advance)."""
        self.clock = clock

    def route(self, request: Request) -> Routed:
        raise NotImplementedError

    def handle(self, request: Request, routed: Routed) -> Response:
        raise NotImplementedError

    def fault_response(self, fault: Fault, routed: Routed) -> Response:
        """The platform's own answer for a 5xx or a throttle."""
        raise NotImplementedError

    def provision(self, store: str, config: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a store from admin input; returns the stored config."""
        self.state.put_store(self.platform, store, config)
        return config

    def expire_tokens(self, store: str) -> None:
        """Fault 'token that expires now'. Platforms without expiring tokens ignore it."""

    def reset(self) -> None:
        """Forget in-memory state (rate buckets, caches) when the sandbox is reset."""

    def sandbox_store(
        self, endpoint_path: str, settings: dict[str, Any], credentials: dict[str, str], rate_limit: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The store id and ``provision`` config for a stores-file entry served by this sandbox.

        ``endpoint_path`` is the endpoint's path after this emulator's prefix (``/demo-us`` for
        ``.../shopify/demo-us``), ``credentials`` maps credential names to their values. The default
        takes the first path segment as the store id (else ``settings['sandbox_store']``) and hands
        everything over as ``{"credentials", "settings", "rate_limit"}``; emulators override it when
        their store id or config has another shape.
        """
        segment = endpoint_path.strip("/").split("/")[0]
        store = segment or str(settings.get("sandbox_store") or "")
        if not store:
            raise ValueError(f"{self.platform}: cannot tell the sandbox store id from the endpoint")
        return store, {"credentials": credentials, "settings": settings, "rate_limit": rate_limit}


class Sandbox:
    """All emulators plus fault plans, independent of the HTTP transport (easy to unit-test)."""

    def __init__(self, state: SandboxState, emulators: list[PlatformEmulator]) -> None:
        self.state = state
        self.emulators = sorted(emulators, key=lambda e: len(e.prefix), reverse=True)
        self._faults: dict[tuple[str, str], FaultPlan] = {}
        self.clock = SandboxClock()
        for emulator in self.emulators:
            emulator.use_clock(self.clock)
        self.media = MediaHost()

    def emulator(self, platform: str) -> PlatformEmulator:
        for e in self.emulators:
            if e.platform == platform:
                return e
        raise KeyError(platform)

    def set_faults(self, platform: str, store: str, plan: FaultPlan) -> None:
        self._faults[(platform, store)] = plan

    def faults(self, platform: str, store: str | None) -> FaultPlan | None:
        return None if store is None else self._faults.get((platform, store))

    def reset(self) -> None:
        self._faults.clear()
        self.clock.reset()
        self.media.reset()
        self.state.reset()
        for emulator in self.emulators:
            emulator.reset()


MISSING_MARKER = "__missing__"
_MEDIA_LAST_MODIFIED = "Mon, 02 Nov 2026 08:00:00 GMT"  # fixed: the placeholder bytes never change


class MediaHost:
    """The stand-in image host under ``/_sandbox/media``: a placeholder PNG per name, with the
    validators a real CDN sends (ETag, Last-Modified) and 304 for a matching conditional request.

    A name is missing (404) when it contains ``MISSING_MARKER`` or was marked missing through the
    admin API. It counts what it served, so tests can see that a no-op check costs no transfer, and
    can be held (requests wait until released) so tests can see how many requests a client has open.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.missing: set[str] = set()
        self.served: dict[str, int] = {}  # "GET 200", "HEAD 304", ...
        self.conditional = 0  # requests carrying If-None-Match or If-Modified-Since
        self.in_flight = 0
        self.peak_in_flight = 0
        self._held = False

    def reset(self) -> None:
        with self._lock:
            self.missing.clear()
            self.served.clear()
            self.conditional = 0
            self.peak_in_flight = 0
            self._held = False
            self._lock.notify_all()

    def hold(self, held: bool) -> None:
        with self._lock:
            self._held = held
            self._lock.notify_all()

    def wait_in_flight(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until ``count`` requests are open (tests; the timeout only guards against a hang)."""
        with self._lock:
            return self._lock.wait_for(lambda: self.in_flight >= count, timeout)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"served": dict(self.served), "requests": sum(self.served.values()),
                    "conditional": self.conditional, "peak_in_flight": self.peak_in_flight,
                    "missing": sorted(self.missing)}

    def serve(self, method: str, name: str, headers: dict[str, str]) -> Response:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._lock.notify_all()
            self._lock.wait_for(lambda: not self._held)
        try:
            response = self._answer(name, headers)
        finally:
            with self._lock:
                self.in_flight -= 1
                key = f"{method} {response.status}"
                self.served[key] = self.served.get(key, 0) + 1
                if "if-none-match" in headers or "if-modified-since" in headers:
                    self.conditional += 1
                self._lock.notify_all()
        return response

    def _answer(self, name: str, headers: dict[str, str]) -> Response:
        if MISSING_MARKER in name or name in self.missing:
            return Response(404, {"error": f"no media file {name}"})
        body = placeholder_png(name)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        validators = {"ETag": etag, "Last-Modified": _MEDIA_LAST_MODIFIED}
        match = headers.get("if-none-match")
        if match is not None:
            if etag in {tag.strip() for tag in match.split(",")} or match.strip() == "*":
                return Response(304, b"", validators)
        elif headers.get("if-modified-since") == _MEDIA_LAST_MODIFIED:
            return Response(304, b"", validators)
        return Response(200, body, {"Content-Type": "image/png", **validators})


class _Handler(BaseHTTPRequestHandler):
    server: _SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("sandbox: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802 - answers like GET, without the body
        self._dispatch()

    _head = False

    def _dispatch(self) -> None:
        self._head = self.command == "HEAD"  # one handler serves every request of a kept-alive connection
        sandbox = self.server.sandbox
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path.startswith("/_sandbox"):
            req = Request(self.command, parts.path[len("/_sandbox") :], query, headers, body)
            self._send(admin(sandbox, req))
            return
        for emulator in sandbox.emulators:
            if parts.path == emulator.prefix or parts.path.startswith(emulator.prefix + "/"):
                req = Request(self.command, parts.path[len(emulator.prefix) :], query, headers, body)
                self._serve(sandbox, emulator, req)
                return
        self._send(Response(404, {"error": f"no sandbox route for {parts.path}"}))

    def _serve(self, sandbox: Sandbox, emulator: PlatformEmulator, req: Request) -> None:
        try:
            routed = emulator.route(req)
        except Exception:  # an emulator bug must show up as a 500, never kill the server thread
            log.exception("sandbox route failed")
            self._send(Response(500, {"error": "sandbox route failed"}))
            return
        if routed.store is not None:
            sandbox.state.count_received(emulator.platform, routed.store)
        plan = sandbox.faults(emulator.platform, routed.store)
        if plan is not None and plan.latency_ms:
            time.sleep(plan.latency_ms / 1000)
        if plan is not None and (fault := plan.before(routed.is_write)) is not None:
            self._send(emulator.fault_response(fault, routed))
            return
        try:
            response = emulator.handle(req, routed)
        except Exception:
            log.exception("sandbox handler failed")
            response = Response(500, {"error": "sandbox handler failed"})
        if routed.store is not None and response.status != 401:
            sandbox.state.count_call(emulator.platform, routed.store, routed.operation, routed.is_write)
        after = plan.after(routed.is_write) if plan is not None else None
        if after is Fault.DROP_AFTER_COMMIT:
            self.close_connection = True
            self.connection.close()  # the write is committed; the client never hears
            return
        if after is Fault.MALFORMED_JSON:
            encoded = response.encode()
            response = Response(response.status, encoded[: max(1, len(encoded) // 2)], response.headers)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.encode()
        self.send_response(response.status)
        if "content-type" not in {k.lower() for k in response.headers}:
            self.send_header("Content-Type", "application/json")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not self._head:
            self.wfile.write(payload)


def admin(sandbox: Sandbox, req: Request) -> Response:
    """``/_sandbox`` admin API: stores, faults, call counts, clock, reset. Never part of a real platform."""
    parts = [p for p in req.path.split("/") if p]
    try:
        if req.method == "POST" and parts == ["reset"]:
            sandbox.reset()
            return Response(200, {"ok": True})
        if len(parts) == 3 and parts[0] == "stores":
            emulator = sandbox.emulator(parts[1])
            if req.method == "POST":
                return Response(200, emulator.provision(parts[2], req.json() or {}))
            found = sandbox.state.get_store(parts[1], parts[2])
            return Response(200 if found else 404, found or {"error": "no such store"})
        if len(parts) == 3 and parts[0] == "faults" and req.method == "POST":
            sandbox.set_faults(parts[1], parts[2], FaultPlan.from_json(req.json() or {}))
            return Response(200, {"ok": True})
        if len(parts) == 3 and parts[0] == "expire-tokens" and req.method == "POST":
            sandbox.emulator(parts[1]).expire_tokens(parts[2])
            return Response(200, {"ok": True})
        if parts == ["clock", "advance"] and req.method == "POST":
            # Tests (also those driving a sandbox in another process) pass a deadline without sleeping.
            seconds = float((req.json() or {}).get("seconds", 0))
            return Response(200, {"now": sandbox.clock.advance(seconds)})
        if len(parts) == 3 and parts[0] == "calls":
            return Response(200, sandbox.state.call_counts(parts[1], parts[2]))
        if len(parts) == 4 and parts[0] == "docs":
            return Response(200, sandbox.state.list(parts[1], parts[2], parts[3]))
        if len(parts) >= 2 and parts[0] == "media" and req.method in {"GET", "HEAD"}:
            # A stand-in media host: clients that must upload image files (Shopee, TikTok) can fetch
            # catalog images from here when MAGENTO_MEDIA_BASE_URL points at it.
            return sandbox.media.serve(req.method, "/".join(parts[1:]), req.headers)
        if parts == ["media-missing"] and req.method == "POST":
            sandbox.media.missing.update(str(n) for n in (req.json() or {}).get("names", []))
            return Response(200, {"ok": True})
        if parts == ["media-stats"] and req.method == "GET":
            return Response(200, sandbox.media.stats())
    except KeyError as exc:
        return Response(404, {"error": f"unknown platform {exc}"})
    except (ValueError, TypeError) as exc:
        return Response(400, {"error": str(exc)})
    return Response(404, {"error": f"no admin route {req.method} {req.path}"})


@functools.lru_cache(maxsize=256)
def placeholder_png(name: str) -> bytes:
    """A valid one-colour PNG whose colour depends on ``name``: stable bytes for a stable URL.

    400 px square: above the marketplaces' minimum image sizes (TikTok main images need 300 px),
    and still only a few hundred bytes, since one colour compresses to almost nothing.
    """
    red, green, blue = hashlib.sha256(name.encode()).digest()[:3]
    size = 400
    rows = b"".join(b"\x00" + bytes((red, green, blue)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address ("" and 0.0.0.0 are not)."""
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


class SandboxServer:
    """Start and stop the sandbox in a background thread (tests) or in the foreground (CLI).

    It listens on loopback only unless ``allow_non_loopback``: anyone who reaches the sandbox can
    create stores, read their tokens and inject faults through ``/_sandbox``, with no login at all.
    """

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0,
                 *, allow_non_loopback: bool = False) -> None:
        if not allow_non_loopback and not is_loopback(host):
            raise ValueError(
                f"the sandbox listens on loopback only, not on {host or 'every interface'!r}: its "
                "/_sandbox admin API has no authentication (allow it explicitly to override)"
            )
        self.sandbox = sandbox
        self._httpd = _SandboxHTTPServer((host, port), sandbox)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
