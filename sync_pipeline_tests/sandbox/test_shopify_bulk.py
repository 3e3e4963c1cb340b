"""The Shopify sandbox's bulk mutations over HTTP: staged uploads, runs stepped by the sandbox clock,
per-line failures, FAILED runs and one bulk mutation per shop at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop

STAGE = """mutation U($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }"""
RUN = """mutation R($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) {
  bulkOperation { id status objectCount url } userErrors { field message code } } }"""
POLL = """query P($id: ID!) { bulkOperation(id: $id) { id status objectCount rootObjectCount url partialDataUrl errorCode type } }"""
CURRENT = """{ currentBulkOperation(type: MUTATION) { id status objectCount } }"""
LINE_MUTATION = """mutation L($input: ProductSetInput!) { productSet(input: $input) {
  product { id handle } userErrors { field message code } } }"""
RATE = 2.0  # lines per second of sandbox time: nothing moves unless the test advances the clock enough


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "bulk-shop", {"access_token": TOKEN, "bulk_lines_per_second": RATE})
    return Shop(sandbox_server, "bulk-shop")


def _stage(shop: Shop, lines: list[dict[str, Any]], method: str = "POST") -> str:
    status, body = shop.post(STAGE, {"input": [{"resource": "BULK_MUTATION_VARIABLES", "filename": "vars.jsonl",
                                                "mimeType": "text/jsonl", "httpMethod": method}]})
    assert status == 200 and not body["data"]["stagedUploadsCreate"]["userErrors"], body
    target = body["data"]["stagedUploadsCreate"]["stagedTargets"][0]
    params = {p["name"]: p["value"] for p in target["parameters"]}
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    if method == "POST":
        answer = requests.post(target["url"], data=params, files={"file": ("vars.jsonl", content)}, timeout=CALL_BOUND_S)
    else:
        answer = requests.put(target["url"], data=content, timeout=CALL_BOUND_S)
    assert answer.status_code == 201, answer.text
    return params["key"]


def _run(shop: Shop, path: str, mutation: str = LINE_MUTATION) -> dict[str, Any]:
    status, body = shop.post(RUN, {"m": mutation, "p": path})
    assert status == 200, body
    return dict(body["data"]["bulkOperationRunMutation"])


def _poll(shop: Shop, gid: str) -> dict[str, Any]:
    status, body = shop.post(POLL, {"id": gid})
    assert status == 200, body
    return dict(body["data"]["bulkOperation"])


def _lines(n: int, bad: set[int] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    return [{"input": {"title": ("x" * 300) if i in bad else f"Bulk Tee {i}", "handle": f"bulk-tee-{i}"}}
            for i in range(n)]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_run_steps_with_the_clock_and_reports_each_line(shop: Shop, sandbox_server: RunningSandbox,
                                                          method: str) -> None:
    path = _stage(shop, _lines(6, bad={4}), method)
    started = _run(shop, path)
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    gid = started["bulkOperation"]["id"]
    assert started["bulkOperation"]["objectCount"] == "0"

    sandbox_server.advance_clock(2 / RATE)  # two lines' worth of sandbox time
    polled = _poll(shop, gid)
    assert (polled["status"], polled["objectCount"], polled["url"], polled["type"]) == ("RUNNING", "2", None,
                                                                                        "MUTATION")
    assert len(sandbox_server.docs("shopify", "bulk-shop", "product")) == 2

    sandbox_server.advance_clock(10 / RATE)
    polled = _poll(shop, gid)
    assert (polled["status"], polled["objectCount"], polled["rootObjectCount"]) == ("COMPLETED", "6", "6")
    results = [json.loads(line) for line in requests.get(polled["url"], timeout=CALL_BOUND_S).text.splitlines()]
    assert [r["__lineNumber"] for r in results] == list(range(6))
    failed = results[4]["data"]["productSet"]
    assert failed["product"] is None and failed["userErrors"][0]["field"] == ["input", "title"]
    assert failed["userErrors"][0]["code"] == "INVALID_PRODUCT"
    made = [r["data"]["productSet"]["product"]["handle"] for i, r in enumerate(results) if i != 4]
    assert made == [f"bulk-tee-{i}" for i in (0, 1, 2, 3, 5)]
    assert len(sandbox_server.docs("shopify", "bulk-shop", "product")) == 5


def test_one_bulk_mutation_per_shop_at_a_time(shop: Shop, sandbox_server: RunningSandbox) -> None:
    first = _run(shop, _stage(shop, _lines(3)))["bulkOperation"]["id"]
    refused = _run(shop, _stage(shop, _lines(2)))
    assert refused["bulkOperation"] is None
    assert refused["userErrors"] == [{"field": None, "code": "OPERATION_IN_PROGRESS", "message":
                                      f"A bulk mutation operation for this app and shop is already in progress: {first}."}]
    status, body = shop.post(CURRENT)
    assert body["data"]["currentBulkOperation"]["id"] == first
    sandbox_server.advance_clock(3 / RATE)
    assert _poll(shop, first)["status"] == "COMPLETED"
    second = _run(shop, _stage(shop, _lines(2)))
    assert second["userErrors"] == [] and second["bulkOperation"]["id"] != first


def test_a_failed_run_keeps_its_partial_results(shop: Shop, sandbox_server: RunningSandbox) -> None:
    sandbox_server.sandbox.emulator("shopify").bulk.fail_after["bulk-shop"] = 2  # type: ignore[attr-defined]
    gid = _run(shop, _stage(shop, _lines(5)))["bulkOperation"]["id"]
    sandbox_server.advance_clock(5 / RATE)
    polled = _poll(shop, gid)
    assert (polled["status"], polled["errorCode"], polled["objectCount"], polled["url"]) == (
        "FAILED", "INTERNAL_SERVER_ERROR", "2", None)
    partial = requests.get(polled["partialDataUrl"], timeout=CALL_BOUND_S).text.splitlines()
    assert [json.loads(line)["__lineNumber"] for line in partial] == [0, 1]


def test_refusals_name_shopifys_codes(shop: Shop) -> None:
    assert _run(shop, "tmp/bulk-shop/bulk/nothing/vars.jsonl")["userErrors"][0]["code"] == "NO_SUCH_FILE"
    path = _stage(shop, _lines(1))
    assert _run(shop, path, "mutation { nope }")["userErrors"][0]["code"] == "INVALID_MUTATION"
    assert _run(shop, path, "query Q { products(first: 1) { nodes { id } } }")["userErrors"][0]["code"] == \
        "INVALID_MUTATION"
    status, body = shop.post(STAGE, {"input": [{"resource": "BULK_MUTATION_VARIABLES", "filename": "v.jsonl"}]})
    assert body.get("data") is None and "mimeType" in body["errors"][0]["message"], body  # mimeType is required
    # an upload outside the shop's own staging area is refused
    bad = requests.put(f"{shop.url.split('/bulk-shop/')[0]}/_staged-uploads/bulk-shop/tmp/other/x.jsonl",
                       data=b"{}\n", timeout=CALL_BOUND_S)
    assert bad.status_code == 403
