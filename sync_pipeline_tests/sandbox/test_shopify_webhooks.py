"""BULK_OPERATIONS_FINISH webhooks from the Shopify sandbox: subscription, delivery without polling, HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopify_bulk import _lines, _run, _stage
from sync_pipeline_tests.sandbox.test_shopify_sandbox import TOKEN, Shop

SUBSCRIBE = """mutation W($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri format } userErrors { field message } } }"""
SECRET = "shpss_test_webhook_secret"


class Receiver:
    """A loopback HTTP endpoint that records what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/bulk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.fixture
def shop(sandbox_server: RunningSandbox) -> Shop:
    sandbox_server.provision("shopify", "hook-shop", {"access_token": TOKEN, "bulk_lines_per_second": 1000,
                                                      "webhook_secret": SECRET})  # fmt: skip
    return Shop(sandbox_server, "hook-shop")


def subscribe(shop: Shop, uri: str) -> dict[str, Any]:
    status, body = shop.post(SUBSCRIBE, {"topic": "BULK_OPERATIONS_FINISH", "sub": {"uri": uri, "format": "JSON"}})
    assert status == 200, body
    return dict(body["data"]["webhookSubscriptionCreate"])


def test_a_finished_bulk_operation_is_posted_with_shopifys_hmac(
    shop: Shop, sandbox_server: RunningSandbox, receiver: Receiver
) -> None:
    made = subscribe(shop, receiver.url)
    assert made["userErrors"] == []
    assert made["webhookSubscription"]["topic"] == "BULK_OPERATIONS_FINISH"
    assert made["webhookSubscription"]["uri"] == receiver.url and made["webhookSubscription"]["format"] == "JSON"
    operation = _run(shop, _stage(shop, _lines(3)))["bulkOperation"]
    sandbox_server.advance_clock(10)  # enough sandbox time for every line; nobody polls from here on
    assert receiver.arrived.wait(60), "no webhook delivered"
    [(headers, body)] = receiver.received
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["x-shopify-hmac-sha256"] == expected
    assert headers["x-shopify-topic"] == "bulk_operations/finish"
    assert headers["x-shopify-shop-domain"] == "hook-shop.myshopify.com"
    payload = json.loads(body)
    assert payload["admin_graphql_api_id"] == operation["id"]
    assert payload["status"] == "completed" and payload["type"] == "mutation" and payload["error_code"] is None
    assert payload["created_at"] and payload["completed_at"]
    assert len(sandbox_server.docs("shopify", "hook-shop", "product")) == 3


@pytest.mark.parametrize(
    ("uri", "message"),
    [("", "Address can't be blank"), ("http://127.0.0.1:9/hooks", "Address for this topic has already been taken")],
)
def test_subscription_refusals(shop: Shop, uri: str, message: str) -> None:
    assert subscribe(shop, "http://127.0.0.1:9/hooks")["userErrors"] == []
    refused = subscribe(shop, uri)
    assert refused == {"webhookSubscription": None,
                       "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": message}]}  # fmt: skip
