"""What ``sync-pipeline`` sends and says when a proxy asks for a login, against a real HTTP server on
loopback that answers like an authenticating proxy (401 without the expected credentials, 403 for a
user it knows but does not allow). The full path through nginx and Dagster is test_auth_proxy.py."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync_pipeline import cli
from sync_pipeline.remote import Credentials, Endpoint, RemotePipeline

PASSWORD = "s3cret-pass-word"
TOKEN = "tok-0123456789abcdef"


class _Gate(BaseHTTPRequestHandler):
    seen: list[str | None]

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        given = self.headers.get("Authorization")
        self.seen.append(given)
        status = 403 if given == "Basic " + base64.b64encode(b"viewer:" + PASSWORD.encode()).decode() else 401
        body = b"<html>no</html>"
        self.send_response(status)
        self.send_header("WWW-Authenticate", 'Basic realm="Dagster owners"')
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gate() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []
    handler = type("Gate", (_Gate,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SYNC_DAGSTER_URL", "SYNC_DAGSTER_USER", "SYNC_DAGSTER_PASSWORD", "SYNC_DAGSTER_TOKEN",
                 "SYNC_DAGSTER_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_without_credentials_a_401_is_one_clear_line_and_exit_2(
    gate: tuple[str, list[str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen = gate
    assert cli.main(["--url", url, "push", "shopify-us"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err.startswith("refused:") and "HTTP 401" in err and "SYNC_DAGSTER_USER" in err
    assert seen and set(seen) == {None}


def test_basic_credentials_are_sent_and_never_printed(
    gate: tuple[str, list[str | None]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = gate
    monkeypatch.setenv("SYNC_DAGSTER_USER", "owner")
    monkeypatch.setenv("SYNC_DAGSTER_PASSWORD", PASSWORD)
    assert cli.main(["--url", url, "status", "0b7c3a52-3f0e-4a53-9d7a-2b51a5f6e001"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "HTTP 401" in err and "were refused" in err and PASSWORD not in err
    assert seen[-1] == "Basic " + base64.b64encode(f"owner:{PASSWORD}".encode()).decode()

    monkeypatch.setenv("SYNC_DAGSTER_USER", "viewer")  # known to the proxy, not allowed
    assert cli.main(["--url", url, "push", "shopify-us"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "HTTP 403" in err and "may not do this" in err and PASSWORD not in err


def test_a_bearer_token_is_sent_as_such(
    gate: tuple[str, list[str | None]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = gate
    monkeypatch.setenv("SYNC_DAGSTER_TOKEN", TOKEN)
    assert cli.main(["--url", url, "push", "shopify-us"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "SYNC_DAGSTER_TOKEN were refused" in err and TOKEN not in err
    assert seen[-1] == f"Bearer {TOKEN}"


def test_credentials_are_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="together"):
        Credentials.from_env({"SYNC_DAGSTER_USER": "owner"})
    with pytest.raises(ValueError, match="not both"):
        Credentials.from_env({"SYNC_DAGSTER_TOKEN": TOKEN, "SYNC_DAGSTER_USER": "o", "SYNC_DAGSTER_PASSWORD": "p"})
    assert Credentials.from_env({}) is None
    shown = repr(Credentials.from_env({"SYNC_DAGSTER_USER": "owner", "SYNC_DAGSTER_PASSWORD": PASSWORD}))
    assert PASSWORD not in shown and "owner" in shown
    assert TOKEN not in repr(Credentials(token=TOKEN))
    owner = Credentials(user="owner", password=PASSWORD)
    # Over plain HTTP a password would cross the network in clear: only loopback may do that.
    with pytest.raises(ValueError, match="https"):
        RemotePipeline.from_url("http://dagster.example.com", credentials=owner)
    with pytest.raises(ValueError, match="not in the URL") as refused:
        RemotePipeline.from_url(f"https://owner:{PASSWORD}@dagster.example.com")
    assert PASSWORD not in str(refused.value)
    with pytest.raises(ValueError, match="CA bundle"):
        RemotePipeline.from_url("https://dagster.example.com", ca_bundle="/nonexistent/ca.pem")


def test_a_url_gives_scheme_host_port_and_prefix() -> None:
    assert Endpoint.parse("https://dagster.example.com:8443/dagster/") == Endpoint(
        "dagster.example.com", 8443, True, "/dagster")
    assert Endpoint.parse("https://dagster.example.com").url == "https://dagster.example.com"
    assert Endpoint.parse("http://[::1]:3000").is_loopback
    with pytest.raises(ValueError, match="http"):
        Endpoint.parse("ftp://dagster.example.com")
