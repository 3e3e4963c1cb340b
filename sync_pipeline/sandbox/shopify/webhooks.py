"""Shopify sandbox: ``webhookSubscriptionCreate`` and the delivery of ``BULK_OPERATIONS_FINISH``.

When a bulk operation of a shop with a subscription finishes (COMPLETED, FAILED, CANCELED), the
sandbox POSTs Shopify's payload to each subscribed ``uri``, as documented in
https://shopify.dev/docs/api/usage/bulk-operations/imports ("wait for the operation to finish":
subscribe to ``bulk_operations/finish``) and the webhook reference
https://shopify.dev/docs/apps/build/webhooks (headers, HMAC):

* body ``{"admin_graphql_api_id": <gid>, "completed_at": <iso>, "created_at": <iso>,
  "error_code": <lowercase code or null>, "status": "completed"|"failed"|"canceled",
  "type": "mutation"}``;
* headers ``X-Shopify-Topic: bulk_operations/finish``, ``X-Shopify-Hmac-Sha256`` (base64 of the
  HMAC-SHA256 of the raw body under the app's client secret), ``X-Shopify-Shop-Domain``,
  ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id``, ``X-Shopify-Triggered-At``.

The secret is the store's ``webhook_secret`` (provision config), else its ``client_secret``, else
``shpss_sandbox_<shop>``. A shop with a subscription has its running bulk operations stepped by a
short-lived background thread (the sandbox otherwise advances them when they are polled), so the
webhook comes without any polling. ``uri`` (or the deprecated ``callbackUrl``) is required: a blank
one answers ``[webhookSubscription, callbackUrl]`` "Address can't be blank" and a second
subscription of the same topic and address "Address for this topic has already been taken" (the
wording of Shopify's webhook address validation; no recorded GraphQL answer was found). Deliveries
go to loopback addresses only (127.0.0.1, localhost): the sandbox never calls out of the machine.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from graphql import GraphQLResolveInfo

from sync_pipeline.sandbox.shopify import catalog as cat
from sync_pipeline.sandbox.shopify.base import ResolverBase

TOPIC_HEADERS = {"BULK_OPERATIONS_FINISH": "bulk_operations/finish"}
DELIVERY_TIMEOUT_S = 10
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def secret_of(shop: str, config: dict[str, Any]) -> str:
    return str(config.get("webhook_secret") or config.get("client_secret") or f"shpss_sandbox_{shop}")


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookResolvers(ResolverBase):
    def webhookSubscriptionCreate(  # noqa: N802
        self, _info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]  # noqa: N803
    ) -> dict[str, Any]:
        given = webhookSubscription
        uri = str(given.get("uri") or given.get("callbackUrl") or "").strip()
        field = ["webhookSubscription", "callbackUrl"]
        if not uri:
            return {"webhookSubscription": None, "userErrors": [{"field": field, "message": "Address can't be blank"}]}
        stored = self.state.list("shopify", self.catalog.shop, "webhook")
        if any(s["topic"] == topic and s["uri"] == uri for s in stored):
            return {"webhookSubscription": None,
                    "userErrors": [{"field": field, "message": "Address for this topic has already been taken"}]}  # fmt: skip
        number = self.state.next_id("shopify:WebhookSubscription")
        stamp = cat.now_iso()
        subscription = {"id": cat.gid("WebhookSubscription", number), "topic": topic, "uri": uri,
                        "format": given.get("format") or "JSON", "includeFields": given.get("includeFields") or [],
                        "filter": given.get("filter"), "name": given.get("name"), "createdAt": stamp,
                        "updatedAt": stamp}  # fmt: skip
        self.state.put("shopify", self.catalog.shop, "webhook", str(number), subscription)
        return {"webhookSubscription": subscription, "userErrors": []}


def deliver_bulk_finish(
    subscriptions: list[dict[str, Any]], shop: str, config: dict[str, Any], operation: dict[str, Any]
) -> list[threading.Thread]:
    """POST the finished operation to every BULK_OPERATIONS_FINISH subscription, each in its own thread."""
    body = json.dumps({
        "admin_graphql_api_id": operation["id"],
        "completed_at": operation.get("completedAt"),
        "created_at": operation["createdAt"],
        "error_code": (operation.get("errorCode") or "").lower() or None,
        "status": str(operation["status"]).lower(),
        "type": "mutation",
    }).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": TOPIC_HEADERS["BULK_OPERATIONS_FINISH"],
        "X-Shopify-Hmac-Sha256": signature(secret_of(shop, config), body),
        "X-Shopify-Shop-Domain": f"{shop}.myshopify.com",
        "X-Shopify-API-Version": str((config.get("api_versions") or ["2026-07"])[-1]),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": str(operation.get("completedAt") or ""),
    }
    threads = []
    for subscription in subscriptions:
        if subscription["topic"] != "BULK_OPERATIONS_FINISH":
            continue
        one = dict(headers, **{"X-Shopify-Webhook-Id": str(uuid.uuid4())})
        thread = threading.Thread(target=_post, args=(subscription["uri"], body, one), daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _post(uri: str, body: bytes, headers: dict[str, str]) -> None:
    if urlsplit(uri).hostname not in LOOPBACK:
        return  # the sandbox never calls out of this machine
    # Shopify retries a failed delivery for 48 hours; the sandbox delivers once
    with contextlib.suppress(requests.RequestException):
        requests.post(uri, data=body, headers=headers, timeout=DELIVERY_TIMEOUT_S)


STEPPER_LIFETIME_S = 600.0  # a run the sandbox clock never lets finish must not keep a thread forever


def start_stepper(step: Callable[[], bool], pause_s: float = 0.2) -> threading.Thread:
    """Call ``step`` until it answers False (nothing left running): the bulk runs of subscribed shops."""

    def loop() -> None:
        stop = threading.Event()
        deadline = time.monotonic() + STEPPER_LIFETIME_S
        while step() and time.monotonic() < deadline:
            stop.wait(pause_s)

    thread = threading.Thread(target=loop, daemon=True, name="shopify-bulk-stepper")
    thread.start()
    return thread
