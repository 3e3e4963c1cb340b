"""The ``sandbox_server`` fixture: a real sandbox HTTP server on a free loopback port.

One server per test process (starting and stopping a server per test would cost more than the
tests); every test gets it freshly reset: no stores, no documents, no faults, no call counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sync_pipeline.sandbox.app import build_sandbox, installed_platforms
from sync_pipeline.sandbox.core import Sandbox, SandboxServer
from sync_pipeline.sandbox.faults import FaultPlan


@dataclass
class RunningSandbox:
    server: SandboxServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def endpoint(self, platform: str, path: str = "") -> str:
        """The base URL a store's ``endpoint`` setting uses, e.g. ``endpoint("shopify", "demo-us")``."""
        prefix = self.sandbox.emulator(platform).prefix
        return f"{self.url}{prefix}" + (f"/{path.strip('/')}" if path else "")

    def provision(self, platform: str, store: str, config: dict[str, Any]) -> dict[str, Any]:
        return self.sandbox.emulator(platform).provision(store, config)

    def faults(self, platform: str, store: str, **plan: Any) -> FaultPlan:
        fault_plan = FaultPlan.from_json(plan)
        self.sandbox.set_faults(platform, store, fault_plan)
        return fault_plan

    def advance_clock(self, seconds: float) -> int:
        """Move the sandbox's time past a deadline (no sleeping); returns the new time for signing."""
        return int(self.sandbox.clock.advance(seconds))

    def now(self) -> int:
        """The sandbox's time, for request timestamps after ``advance_clock``."""
        return int(self.sandbox.clock())

    def calls(self, platform: str, store: str) -> dict[str, Any]:
        return self.sandbox.state.call_counts(platform, store)

    def docs(self, platform: str, store: str, kind: str) -> list[dict[str, Any]]:
        return self.sandbox.state.list(platform, store, kind)


@pytest.fixture(scope="session")
def _sandbox_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    # Every emulator present in this checkout; the platforms are built in parallel, so a module
    # that does not exist yet must not stop the others' tests.
    sandbox = build_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.db", installed_platforms())
    server = SandboxServer(sandbox).start()
    try:
        yield RunningSandbox(server)
    finally:
        server.stop()
        sandbox.state.close()


@pytest.fixture
def sandbox_server(_sandbox_session: RunningSandbox) -> RunningSandbox:
    _sandbox_session.sandbox.reset()
    return _sandbox_session
