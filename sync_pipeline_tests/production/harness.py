"""A real Dagster deployment for tests: webserver and daemon processes on a temp ``DAGSTER_HOME``,
a generated Magento catalog, the app DB, and the sandbox stores, all on loopback.

Every process is killed in ``Deployment.stop`` (called from a ``finally``) and every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests

from sync_pipeline.db import make_engine
from sync_pipeline.demo import DEMO_CREDENTIALS
from sync_pipeline.magento.generator import generate_catalog
from sync_pipeline.sandbox.app import build_sandbox, provision_from_stores_file
from sync_pipeline.sandbox.core import SandboxServer
from sync_pipeline.stores import DEMO_STORES_FILE
from sync_pipeline_tests.bounds import CALL_BOUND_S

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
LOCATION_MODULE = "sync_pipeline.definitions"
# Upper bound of every wait for something to happen (a process to load, a run to finish): a bound
# against hanging, never a judgement of speed, so it is generous enough for a heavily loaded machine.
LIVENESS_S = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(every)


@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sandbox: SandboxServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_webserver(self, port: int | None = None, *, read_only: bool = False) -> int:
        """A webserver on ``port`` (the deployment's own unless given); returns its port."""
        port = port or self.port
        flags = ["--read-only"] if read_only else []
        self._spawn(f"webserver-{port}", [str(BIN / "dagster-webserver"), *flags, "-h", "127.0.0.1",
                                          "-p", str(port), "-w", str(self.root / "workspace.yaml")])
        wait_until(lambda: self._location_loaded(port), LIVENESS_S, "the webserver's code location to load", every=1.0)
        return port

    def start_daemon(self) -> None:
        self._spawn("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(self.root / "workspace.yaml")])

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(argv, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)

    def _location_loaded(self, port: int) -> bool:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"a Dagster process exited early:\n{self.logs()}")
        query = ("{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus "
                 "locationOrLoadError { __typename ... on PythonError { message } } } } } }")
        try:
            response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=CALL_BOUND_S)
        except requests.RequestException:
            return False
        if response.status_code != 200:
            return False
        entries = response.json()["data"]["workspaceOrError"].get("locationEntries") or []
        for entry in entries:
            loaded = entry["locationOrLoadError"]
            if loaded and loaded["__typename"] == "PythonError":
                raise RuntimeError(f"code location failed to load: {loaded['message']}")
        return bool(entries) and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"] for e in entries)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-6000:]}"
                         for p in sorted(self.root.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self.sandbox is not None:
            self.sandbox.stop()


def _stores_file(root: Path, sandbox_port: int) -> Path:
    text = DEMO_STORES_FILE.read_text().replace("127.0.0.1:8765", f"127.0.0.1:{sandbox_port}")
    path = root / "stores.yaml"
    path.write_text(text)
    return path


@contextmanager
def deployment(root: Path, instance_yaml: Path, *, products: int = 60, app_db_url: str | None = None,
               extra_env: Mapping[str, str] | None = None, daemon: bool = True) -> Iterator[Deployment]:
    """A webserver (and daemon) serving the project on a fresh instance, catalog and sandbox."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    # The instance file as shipped, but a run may take up to LIVENESS_S to start: run monitoring
    # fails a run that has not started within start_timeout_seconds (180 s), and on a heavily loaded
    # machine a run process can take longer than that to load the code. Dead runs are still noticed:
    # a run worker that died is found by the monitoring poll, not by this timeout.
    shipped = instance_yaml.read_text()
    (home / "dagster.yaml").write_text(re.sub(r"(start_timeout_seconds:) \d+", rf"\1 {int(LIVENESS_S)}", shipped))
    magento_url = f"sqlite:///{root / 'magento.db'}"
    engine = make_engine(magento_url)
    try:
        generate_catalog(engine, products=products, seed=11, today=date.today())
    finally:
        engine.dispose()
    (root / "workspace.yaml").write_text(
        f"load_from:\n  - python_module:\n      module_name: {LOCATION_MODULE}\n"
        f"      working_directory: {ROOT}\n      location_name: sync_pipeline\n"
    )
    sandbox_port = free_port()
    stores_file = _stores_file(root, sandbox_port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "SYNC_", "MAGENTO_"))}
    env.update(DEMO_CREDENTIALS)
    env.update({
        "DAGSTER_HOME": str(home), "MAGENTO_DB_URL": magento_url, "SYNC_STORES_FILE": str(stores_file),
        "SYNC_DB_URL": app_db_url or f"sqlite:///{root / 'sync.db'}", "SYNC_DATA_DIR": str(root / "data"),
        "PYTHONPATH": str(ROOT), "DAGSTER_DISABLE_TELEMETRY": "1",
        # Dagster gives up on a code-server call after 60 s by default (a run's launch, a sensor
        # tick): on a heavily loaded machine the code server's first load alone can take that long.
        **{f"DAGSTER_{kind}GRPC_TIMEOUT_SECONDS": str(int(LIVENESS_S))
           for kind in ("", "REPOSITORY_", "SCHEDULE_", "SENSOR_")},
        # A store call's 30 s ran out reading Shopee's rules from the sandbox at load ~55: in the test
        # deployments a call may take the liveness bound (a hung sandbox still fails the test).
        "SYNC_HTTP_TIMEOUT_SECONDS": str(int(LIVENESS_S)),
        # Shopee and TikTok download each image: the sandbox serves stand-in images for the catalog's paths.
        "MAGENTO_MEDIA_BASE_URL": f"http://127.0.0.1:{sandbox_port}/_sandbox/media/catalog/product",
    })
    env.update(extra_env or {})
    for name, value in DEMO_CREDENTIALS.items():  # provisioning reads them from this process's env
        os.environ.setdefault(name, value)
    sandbox = build_sandbox(root / "sandbox.db")
    provision_from_stores_file(sandbox, stores_file)
    server = SandboxServer(sandbox, port=sandbox_port).start()
    running = Deployment(root=root, env=env, port=free_port(), sandbox=server)
    try:
        running.start_webserver()
        if daemon:
            running.start_daemon()
        yield running
    except BaseException:
        print(running.logs())
        raise
    finally:
        running.stop()
