"""``make demo``: the whole pipeline on the embedded default, from a fresh clone.

1. generates a demo Magento catalog into SQLite (once; ``MAGENTO_DB_URL`` points elsewhere if set),
2. starts the sandbox stores on loopback (or uses the one ``make sandbox`` already runs),
3. runs the import of ``catalog_sync`` (its two catalog assets) and then ``store_sync`` for every
   store in the stores file, recorded in
   the Dagster instance under ``$DAGSTER_HOME`` so the web UI (``make ui``) shows the runs,
4. prints a per-store table. Run it twice: the second push reports every product unchanged.

The credentials set here are sandbox-only values for the demo stores file; a real store's
secrets come from the environment and are never written into any file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from sync_pipeline.names import (
    CATALOG_PRODUCTS,
    CATALOG_SYNC_JOB,
    MAGENTO_PRODUCTS,
    STORE_PUSH,
    STORE_RULES_REFRESH_JOB,
    STORE_SYNC_JOB,
)
from sync_pipeline.push.engine import PushProgress

DEMO_PRODUCTS = 400
DEMO_SEED = 7
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))
# The demo prints its own summary; every run's full log stays in the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

# Sandbox-only credentials for sync_pipeline/stores_demo.yaml (the sandbox is provisioned with them).
DEMO_CREDENTIALS = {
    "DEMO_SHOPIFY_US_TOKEN": "shpat_demo_us_sandbox",
    "DEMO_SHOPIFY_EU_TOKEN": "shpat_demo_eu_sandbox",
    "DEMO_SHOPEE_PARTNER_ID": "2000001",
    "DEMO_SHOPEE_PARTNER_KEY": "demo-shopee-partner-key-sandbox",
    "DEMO_SHOPEE_SG_ACCESS_TOKEN": "demo-shopee-sg-access-sandbox",
    "DEMO_SHOPEE_SG_REFRESH_TOKEN": "demo-shopee-sg-refresh-sandbox",
    "DEMO_TIKTOK_APP_KEY": "demo_app_key",
    "DEMO_TIKTOK_APP_SECRET": "demo-tiktok-app-secret-sandbox",
    "DEMO_TIKTOK_US_ACCESS_TOKEN": "demo-tiktok-us-access-sandbox",
    "DEMO_TIKTOK_US_REFRESH_TOKEN": "demo-tiktok-us-refresh-sandbox",
}


def use_demo_settings() -> None:
    """Sandbox credentials, and product images served by the sandbox (the demo catalog's own
    image host does not exist, and Shopee and TikTok only list images they could download)."""
    for name, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("MAGENTO_DB_URL"):
        os.environ.setdefault(
            "MAGENTO_MEDIA_BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox/media/catalog/product"
        )


@dataclass
class StoreOutcome:
    """One store's demo run: the push's own figures, and how the run went as a whole."""

    progress: PushProgress
    seconds: float = 0.0
    ok: bool = True
    message: str = ""


def ensure_demo_catalog() -> str:
    """The Magento DB the demo reads: the configured one, or a generated SQLite catalog."""
    from sync_pipeline.db import default_magento_db_url, make_engine
    from sync_pipeline.magento.generator import generate_catalog

    url = os.environ.get("MAGENTO_DB_URL") or default_magento_db_url()
    if os.environ.get("MAGENTO_DB_URL"):
        return url
    path = Path(url.removeprefix("sqlite:///"))
    if not path.exists():
        print(f"Generating a demo Magento catalog ({DEMO_PRODUCTS} products) in {path} ...")
        engine = make_engine(url)
        try:
            generate_catalog(engine, products=DEMO_PRODUCTS, seed=DEMO_SEED, dirty=True, msi=True)
        finally:
            engine.dispose()
    return url


def sandbox_running(url: str) -> bool:
    try:
        return requests.get(f"{url}/_sandbox/calls/shopify/none", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def start_sandbox() -> object | None:
    """Serve the sandbox stores in this process unless one already listens on the port."""
    from sync_pipeline.sandbox.app import build_sandbox, provision_from_stores_file
    from sync_pipeline.sandbox.core import SandboxServer
    from sync_pipeline.stores import stores_file_path

    url = f"http://127.0.0.1:{SANDBOX_PORT}"
    if sandbox_running(url):
        print(f"Using the sandbox stores already running at {url}")
        return None
    sandbox = build_sandbox(Path(".data") / "sandbox.db")
    provision_from_stores_file(sandbox, stores_file_path())
    server = SandboxServer(sandbox, port=SANDBOX_PORT).start()
    print(f"Sandbox stores (Shopify, Shopee, TikTok Shop) listening at {server.url}")
    return server


def run_pipeline() -> tuple[bool, list[StoreOutcome]]:
    from dagster import AssetKey, DagsterInstance

    from sync_pipeline.definitions import defs
    from sync_pipeline.stores import load_stores

    instance = DagsterInstance.get()
    print(f"Importing the Magento catalog ({CATALOG_SYNC_JOB}) ...")
    # The import's two assets only: the stores are then pushed one by one below, to time each.
    catalog = defs.resolve_job_def(CATALOG_SYNC_JOB).execute_in_process(
        instance=instance, run_config=QUIET, raise_on_error=False,
        asset_selection=[AssetKey(MAGENTO_PRODUCTS), AssetKey(CATALOG_PRODUCTS)],
    )
    if not catalog.success:
        print(f"{CATALOG_SYNC_JOB} failed; see the run in the UI (make ui)")
        return False, []
    for mat in catalog.asset_materializations_for_node(CATALOG_PRODUCTS):
        md = {k: v.value for k, v in mat.metadata.items()}
        print(f"  catalog: found {md.get('total_found')}, inserted {md.get('inserted')}, "
              f"updated {md.get('updated')}, unchanged {md.get('unchanged')}, skipped {md.get('skipped')}, "
              f"bad rows {md.get('errors_count')}")
    rules_job = defs.resolve_job_def(STORE_RULES_REFRESH_JOB)
    for key in [store.key for store in load_stores().stores]:
        # The store's own rules first (the daily schedule's job): listings are checked against them.
        if not rules_job.execute_in_process(instance=instance, partition_key=key, run_config=QUIET,
                                            raise_on_error=False).success:
            print(f"  {key}: the store's rules could not be read; see the run in the UI")
    outcomes = []
    job = defs.resolve_job_def(STORE_SYNC_JOB)
    for key in [store.key for store in load_stores().stores]:
        started = time.monotonic()
        result = job.execute_in_process(
            instance=instance, partition_key=key, run_config=QUIET, raise_on_error=False
        )
        outcome = StoreOutcome(PushProgress(key), seconds=time.monotonic() - started, ok=result.success)
        for mat in result.asset_materializations_for_node(STORE_PUSH):
            md = {k: v.value for k, v in mat.metadata.items()}
            for name in ("created", "updated", "delisted", "unchanged", "errors"):
                value = md.get(name)
                if isinstance(value, int):
                    setattr(outcome.progress, name, value)
        if not result.success:
            failures = [e.message for e in result.all_events if e.is_failure]
            outcome.message = (failures[0] if failures else "failed")[:120]
        outcomes.append(outcome)
    return all(o.ok for o in outcomes), outcomes


def print_table(outcomes: list[StoreOutcome]) -> None:
    head = f"{'store':<14}{'created':>9}{'updated':>9}{'delisted':>10}{'unchanged':>11}{'errors':>8}{'time':>9}"
    print("\n" + head + "\n" + "-" * len(head))
    for o in outcomes:
        p = o.progress
        line = (f"{p.store_key:<14}{p.created:>9}{p.updated:>9}{p.delisted:>10}{p.unchanged:>11}"
                f"{p.errors:>8}{o.seconds:>8.1f}s")
        print(line + ("" if o.ok else f"  FAILED: {o.message}"))


def serve_ui() -> int:
    """``make ui``: the Dagster web UI on the demo, with the sandbox stores running beside it.

    ``dagster dev`` runs in DAGSTER_HOME: started in the project folder it would warn that the
    production ``dagster.yaml`` there is not used (true, and nothing a newcomer should act on), so
    the data folder is made absolute first. Ctrl-C reaches the whole process group; TERM (a
    service manager, ``kill``) is passed on to ``dagster dev``, which stops its webserver, daemon
    and code servers, and then the sandbox stops: nothing is left holding port 3000."""
    os.environ.setdefault("SYNC_DATA_DIR", str(Path(".data").resolve()))
    home = Path(os.environ["DAGSTER_HOME"])
    server = start_sandbox()
    # `dagster dev` advertises `dg dev`, which needs the dg project layout; this project keeps its
    # top-level workspace.yaml and dagster.yaml, so the hint is noise here.
    env = {**os.environ, "PYTHONWARNINGS": ",".join(filter(None, [
        os.environ.get("PYTHONWARNINGS"), "ignore:Function `dev_command` is superseded"]))}
    child = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(Path("workspace.yaml").resolve()),
         "-h", "127.0.0.1", "-p", os.environ.get("UI_PORT", "3000")], cwd=home, env=env)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # the child got the same Ctrl-C: let it finish shutting down
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve()))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    use_demo_settings()
    ensure_demo_catalog()
    if "--ui" in args:
        return serve_ui()
    server = start_sandbox()
    try:
        ok, outcomes = run_pipeline()
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    print_table(outcomes)
    print("\nOpen the dashboard with `make ui` (http://127.0.0.1:3000); run `make demo` again to see a no-op push.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
