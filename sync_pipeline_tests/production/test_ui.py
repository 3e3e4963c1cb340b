"""The web UI as a person sees it: headless Chromium on the asset pages after a real run.

A webserver and daemon serve the demo catalog; the graph is materialized through the GraphQL API
(magento_import, then store_sync for two stores); Chromium renders the pages with networking features
off, and the test reads the rendered DOM and saves screenshots under test-artifacts/.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from sync_pipeline.remote import RemotePipeline
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.conftest import IN_CI
from sync_pipeline_tests.production.harness import LIVENESS_S, ROOT, Deployment, deployment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dagster_processes")]

ARTIFACTS = ROOT / "test-artifacts"
STORES = ("shopify-us", "tiktok-us")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000", "--virtual-time-budget=15000"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def _render(chromium: str, profile: Path, url: str, screenshot: Path) -> str:
    """The page's text after rendering, and a screenshot of it."""
    base = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    subprocess.run([*base, f"--screenshot={screenshot}", url], capture_output=True, timeout=LIVENESS_S, check=True)
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=LIVENESS_S, check=True).stdout
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", dom, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(text))


def _figure(text: str, label: str) -> int:
    match = re.search(rf"\b{label} (\d+)\b", text)
    assert match, f"'{label}' with a number is not on the page"
    return int(match.group(1))


def _materialize(deploy: Deployment) -> dict[str, dict[str, int]]:
    pipeline = RemotePipeline.connect("127.0.0.1", deploy.port, in_process=True)
    # The import alone (catalog_sync would push every store itself): the push pages then show store_sync's creates.
    assert pipeline.wait(pipeline.start_import(limit=1000), timeout=LIVENESS_S).state == "completed"
    runs = pipeline.start_push_all(STORES)
    finals = pipeline.wait_all(list(runs.values()), timeout=LIVENESS_S)
    assert [f.state for f in finals] == ["completed"] * len(STORES)
    assert pipeline.wait(pipeline.start_job("product_status_report"), timeout=LIVENESS_S).state == "completed"
    return {f.partition or "": f.metrics[f"store_push/{f.partition}"] for f in finals}


def test_asset_pages_show_push_metadata_and_check_results(tmp_path: Path) -> None:
    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path / "chromium-profile"
    with deployment(tmp_path / "deploy", ROOT / "dagster.embedded.yaml", products=40) as deploy:
        pushed = _materialize(deploy)
        # The first visit from a loopback origin opens a community sign-up dialog; mark it seen.
        requests.post(f"{deploy.url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=CALL_BOUND_S)

        graph = _render(chromium, profile, f"{deploy.url}/asset-groups", ARTIFACTS / "ui-asset-graph.png")
        for group in ("catalog", "listings", "push"):
            assert group in graph

        for store in STORES:
            page = _render(chromium, profile, f"{deploy.url}/assets/store_push?view=partitions&partition={store}",
                           ARTIFACTS / f"ui-store-push-{store}.png")
            assert store in page and "Materialized" in page
            for label in ("created", "updated", "unchanged", "errors"):
                assert _figure(page, label) == pushed[store][label], (store, label)
            assert pushed[store]["created"] > 0

        checks = _render(chromium, profile, f"{deploy.url}/assets/store_push?view=checks",
                         ARTIFACTS / "ui-store-push-checks.png")
        for name in ("store_push_has_external_ids", "store_push_error_share", "store_push_spot_check"):
            assert name in checks
        assert "Succeeded" in checks and "Failed" not in checks

        listing_checks = _render(chromium, profile, f"{deploy.url}/assets/platform_listings?view=checks",
                                 ARTIFACTS / "ui-platform-listings-checks.png")
        for name in ("listing_prices_match_rule", "listing_within_platform_limits", "listing_category_mapped"):
            assert name in listing_checks
        status = _render(chromium, profile, f"{deploy.url}/assets/product_status",
                         ARTIFACTS / "ui-product-status.png")
        for text in ("product_list", "products_per_store", "synced", "not synced", "shopify-us state", "shopify-us price"):
            assert text in status, text
    for shot in ARTIFACTS.glob("ui-*.png"):
        assert shot.stat().st_size > 20_000, f"{shot} looks blank"
    assert os.path.exists(ARTIFACTS / "ui-store-push-shopify-us.png")
