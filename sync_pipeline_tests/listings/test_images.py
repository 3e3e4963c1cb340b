"""The image reachability check against the real sandbox media host (HTTP on loopback).

Asserts on what the host served (its request counters), never on timing.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from dagster import AssetCheckSeverity, AssetSelection, materialize

from sync_pipeline.db import make_engine
from sync_pipeline.defs.listings import listing_images_reachable, platform_listings
from sync_pipeline.defs.resources import AppDatabase, StoresConfig
from sync_pipeline.listings.images import check_images
from sync_pipeline.sandbox.core import MISSING_MARKER
from sync_pipeline.stores import DEMO_STORES_FILE
from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.listings.catalog_rows import insert_catalog, product_row
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures

STORE = "shopee-sg"
NOW = datetime(2026, 12, 1, 9, 0)


def seed(db_url: str, media: str, names: dict[str, list[str]]) -> None:
    engine = make_engine(db_url)
    insert_catalog(engine, [product_row(sku, i + 1, images=[f"{media}/{n}" for n in files])
                            for i, (sku, files) in enumerate(names.items())])
    engine.dispose()
    result = materialize([platform_listings], partition_key=STORE, resources=resources(db_url))
    assert result.success


def resources(db_url: str) -> dict[str, Any]:
    return {"app_db": AppDatabase(url=db_url), "stores_config": StoresConfig(path=str(DEMO_STORES_FILE))}


def media_url(server: Any) -> str:
    return f"{server.url}/_sandbox/media/catalog/product"


def images(sku: str, count: int = 3) -> list[str]:
    return [f"{sku.lower()}/{i}.png" for i in range(count)]


def test_a_missing_image_fails_the_check_naming_sku_and_url(sqlite_app_db_url: str, sandbox_server: Any) -> None:  # noqa: F811
    media = media_url(sandbox_server)
    seed(sqlite_app_db_url, media, {"GOOD": images("GOOD"), "GONE": ["gone/0.png", f"gone/{MISSING_MARKER}1.png",
                                                                      "gone/2.png"]})
    result = materialize([platform_listings, listing_images_reachable],
                         selection=AssetSelection.checks(listing_images_reachable),
                         tags={"dagster/partition": STORE}, resources=resources(sqlite_app_db_url))
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == AssetCheckSeverity.WARN
    assert evaluation.metadata["failures"].value == 1
    assert f"GONE: {media}/gone/{MISSING_MARKER}1.png (HTTP 404)" in evaluation.metadata["examples"].value
    assert sandbox_server.sandbox.media.stats()["served"] == {"HEAD 200": 5, "HEAD 404": 1}

    # Marked missing through the admin API: the check names that one too, and asks again about
    # the 404 (failures are never cached as good) while the good ones stay cached.
    requests.post(f"{sandbox_server.url}/_sandbox/media-missing", json={"names": ["catalog/product/good/2.png"]},
                  timeout=CALL_BOUND_S).raise_for_status()
    engine = make_engine(sqlite_app_db_url)
    outcome = check_images(engine, STORE, fresh_for=timedelta(0))
    engine.dispose()
    assert [(sku, url.removeprefix(media)) for sku, url, _ in outcome.failures] == [
        ("GONE", f"/gone/{MISSING_MARKER}1.png"), ("GOOD", "/good/2.png")]


def test_an_unchanged_catalog_costs_no_transfer(sqlite_app_db_url: str, sandbox_server: Any) -> None:  # noqa: F811
    seed(sqlite_app_db_url, media_url(sandbox_server), {"A": images("A"), "B": images("B")})
    media = sandbox_server.sandbox.media
    engine = make_engine(sqlite_app_db_url)

    first = check_images(engine, STORE, now=NOW)
    assert first.passed and first.transferred == 6 and first.requests == 6
    assert media.stats()["served"] == {"HEAD 200": 6} and media.stats()["conditional"] == 0

    # Within the freshness window: no request at all.
    second = check_images(engine, STORE, now=NOW + timedelta(minutes=5), fresh_for=timedelta(hours=1))
    assert (second.cache_hits, second.requests) == (6, 0)
    assert media.stats()["requests"] == 6

    # Past it: only conditional requests, every one answered 304 (no body, no transfer).
    third = check_images(engine, STORE, now=NOW + timedelta(hours=2), fresh_for=timedelta(hours=1))
    assert third.passed and (third.requests, third.not_modified, third.transferred) == (6, 6, 0)
    assert media.stats()["served"] == {"HEAD 200": 6, "HEAD 304": 6} and media.stats()["conditional"] == 6
    engine.dispose()


class _PatientSession(requests.Session):
    """A held request waits for the test, not for the check's 10 s timeout: on a loaded machine the
    third worker can take longer than that to reach the host while the first is held."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = CALL_BOUND_S
        return super().request(*args, **kwargs)


def test_requests_open_at_once_never_exceed_the_workers(sqlite_app_db_url: str, sandbox_server: Any) -> None:  # noqa: F811
    seed(sqlite_app_db_url, media_url(sandbox_server), {f"P{i}": images(f"P{i}", 4) for i in range(5)})
    media = sandbox_server.sandbox.media
    engine = make_engine(sqlite_app_db_url)
    media.hold(True)  # every request waits at the host: the client's open requests pile up there
    outcome: list[Any] = []
    sessions: list[requests.Session] = []

    def session() -> requests.Session:  # real sessions, counted: one keep-alive pool per worker
        sessions.append(_PatientSession())
        return sessions[-1]

    worker = threading.Thread(target=lambda: outcome.append(check_images(engine, STORE, workers=3,
                                                                         session_factory=session)))
    worker.start()
    try:
        assert media.wait_in_flight(3, timeout=CALL_BOUND_S)  # bounds a hang only
        # Held with 3 open: a client that had more to send would have more open by now only if it
        # ignored its bound; it cannot send a 4th until one of the 3 is answered.
        assert media.in_flight == 3
    finally:
        media.hold(False)
        worker.join()
    engine.dispose()
    assert outcome[0].passed and outcome[0].requests == 20
    assert media.stats()["peak_in_flight"] == 3
    assert len(sessions) == 3


def test_an_unreachable_host_is_named_and_not_asked_per_image(sqlite_app_db_url: str) -> None:
    seed(sqlite_app_db_url, "http://127.0.0.1:9/media", {"X": images("X", 4), "Y": images("Y", 4)})
    engine = make_engine(sqlite_app_db_url)
    outcome = check_images(engine, STORE, workers=1)
    engine.dispose()
    assert not outcome.passed and len(outcome.failures) == 8
    assert outcome.requests == 1  # one worker: the first refusal marks the host down for the rest
    assert all("unreachable: ConnectionError" in problem for _, _, problem in outcome.failures)


def test_workers_must_be_positive(sqlite_app_db_url: str) -> None:
    with pytest.raises(ValueError, match="workers"):
        check_images(make_engine(sqlite_app_db_url), STORE, workers=0)
