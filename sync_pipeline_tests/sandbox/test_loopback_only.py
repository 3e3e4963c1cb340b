"""The sandbox has no login on its admin API, so it listens on loopback only unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_pipeline.sandbox.__main__ import main, parse_args
from sync_pipeline.sandbox.app import build_sandbox
from sync_pipeline.sandbox.core import SandboxServer, is_loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("", False), ("::", False), ("10.1.2.3", False), ("192.0.2.10", False),
])
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_server_refuses_every_interface_unless_allowed(tmp_path: Path) -> None:
    sandbox = build_sandbox(tmp_path / "sandbox.db")
    with pytest.raises(ValueError, match="loopback only"):
        SandboxServer(sandbox, host="0.0.0.0")
    with SandboxServer(sandbox) as server:  # the default: loopback
        assert server.url.startswith("http://127.0.0.1:")


def test_the_command_refuses_another_address_before_touching_any_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "sandbox.db"
    assert main(["--host", "0.0.0.0", "--port", "0", "--state", str(state)]) == 2
    err = capsys.readouterr().err
    assert "--allow-non-loopback" in err and err.count("\n") == 1
    assert not state.exists()
    assert parse_args(["--host", "0.0.0.0", "--allow-non-loopback"]).allow_non_loopback is True
    assert parse_args([]).host == "127.0.0.1" and parse_args([]).allow_non_loopback is False
