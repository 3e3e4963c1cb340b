"""Are a store's listing images reachable? HEAD requests, a few at a time, cached by URL.

A URL answered 2xx within ``fresh_for`` is not asked again; an older one is asked conditionally
(If-None-Match / If-Modified-Since with the validators the host sent), so a run where nothing
changed costs no image transfer: a cache hit or a 304. Failures (404, 5xx, no connection) are
never cached as good: the next run asks again, so a fixed image clears the check.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.checks import MAX_EXAMPLES
from sync_pipeline.db import utcnow
from sync_pipeline.listings.audit import stored_listings
from sync_pipeline.listings.tables import image_url_checks

DEFAULT_WORKERS = 8
DEFAULT_FRESH_FOR = timedelta(hours=6)
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CachedAnswer:
    status: int
    etag: str | None
    last_modified: str | None
    checked_at: datetime


@dataclass(frozen=True)
class Probe:
    """One URL's answer: ``status`` 0 when no HTTP answer came (``error`` says why)."""

    url: str
    status: int
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    conditional: bool = False
    asked: bool = True  # False: not requested, its host refused a connection earlier in the run

    @property
    def reachable(self) -> bool:
        return 200 <= self.status < 300 or self.status == 304


@dataclass
class ImageCheckOutcome:
    listings: int = 0
    urls: int = 0
    cache_hits: int = 0
    requests: int = 0
    not_modified: int = 0
    transferred: int = 0  # answered 2xx, i.e. not confirmed by the cache's validators
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (sku, url, problem)

    @property
    def passed(self) -> bool:
        return not self.failures

    def examples(self, limit: int = MAX_EXAMPLES) -> list[str]:
        return [f"{sku}: {url} ({problem})" for sku, url, problem in self.failures[:limit]]


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def listing_image_urls(engine: Engine, store_key: str) -> dict[str, list[str]]:
    """Image URL -> the SKUs of the store's listed (not delisted) valid listings that carry it."""
    skus_by_url: dict[str, list[str]] = {}
    for chunk in stored_listings(engine, store_key):
        for listing in chunk:
            if listing.action != "list":
                continue
            for url in dict.fromkeys(listing.images):
                skus_by_url.setdefault(url, []).append(listing.sku)
    return skus_by_url


def load_cache(engine: Engine, urls: Iterable[str]) -> dict[str, CachedAnswer]:
    by_key = {url_key(u): u for u in urls}
    table = image_url_checks
    found: dict[str, CachedAnswer] = {}
    keys = sorted(by_key)
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            rows = conn.execute(sa.select(table).where(table.c.url_hash.in_(keys[start:start + 500]))).all()
            for row in rows:
                found[by_key[row.url_hash]] = CachedAnswer(row.status, row.etag, row.last_modified, row.checked_at)
    return found


def save_cache(engine: Engine, probes: Iterable[Probe], checked_at: datetime,
               previous: Mapping[str, CachedAnswer]) -> None:
    """Store each answer; a 304 keeps the validators it confirmed (a host may omit them on 304)."""
    rows = []
    for probe in probes:
        before = previous.get(probe.url)
        status = 200 if probe.status == 304 else probe.status
        etag = probe.etag or (before.etag if before and probe.status == 304 else None)
        modified = probe.last_modified or (before.last_modified if before and probe.status == 304 else None)
        rows.append({"url_hash": url_key(probe.url), "url": probe.url, "status": status,
                     "etag": etag, "last_modified": modified, "checked_at": checked_at})
    if not rows:
        return
    table = image_url_checks
    # Delete then insert in one transaction: portable across SQLite, PostgreSQL and MariaDB.
    with engine.begin() as conn:
        keys = [r["url_hash"] for r in rows]
        for start in range(0, len(keys), 500):
            conn.execute(table.delete().where(table.c.url_hash.in_(keys[start:start + 500])))
        conn.execute(table.insert(), rows)


def probe(session: requests.Session, url: str, cached: CachedAnswer | None,
          timeout: float = TIMEOUT_SECONDS) -> Probe:
    """HEAD ``url``, conditionally when the cache holds validators; GET (body not read) when the
    host refuses HEAD."""
    headers: dict[str, str] = {}
    if cached is not None and 200 <= cached.status < 300:
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
    try:
        response = session.head(url, headers=headers, timeout=timeout, allow_redirects=True)
        if response.status_code in (405, 501):
            with session.get(url, headers=headers, timeout=timeout, stream=True) as streamed:
                response = streamed
    except requests.RequestException as exc:
        return Probe(url, 0, error=type(exc).__name__, conditional=bool(headers))
    return Probe(url, response.status_code, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                 conditional=bool(headers))


def check_images(engine: Engine, store_key: str, *, workers: int = DEFAULT_WORKERS,
                 fresh_for: timedelta = DEFAULT_FRESH_FOR, now: datetime | None = None,
                 session_factory: Callable[[], requests.Session] = requests.Session) -> ImageCheckOutcome:
    """Every image of the store's listings answers 2xx (or 304): failures name SKU and URL."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    now = now or utcnow()
    skus_by_url = listing_image_urls(engine, store_key)
    outcome = ImageCheckOutcome(urls=len(skus_by_url),
                                listings=len({s for skus in skus_by_url.values() for s in skus}))
    cache = load_cache(engine, skus_by_url)
    to_ask = []
    for url in skus_by_url:
        cached = cache.get(url)
        if cached is not None and 200 <= cached.status < 300 and now - cached.checked_at < fresh_for:
            outcome.cache_hits += 1
        else:
            to_ask.append(url)
    probes = _probe_all(to_ask, cache, workers, session_factory)
    save_cache(engine, probes, now, cache)
    for answer in probes:
        outcome.requests += answer.asked
        if answer.status == 304:
            outcome.not_modified += 1
        elif 200 <= answer.status < 300:
            outcome.transferred += 1
        if not answer.reachable:
            problem = f"HTTP {answer.status}" if answer.status else f"unreachable: {answer.error}"
            outcome.failures += [(sku, answer.url, problem) for sku in skus_by_url[answer.url]]
    outcome.failures.sort()
    return outcome


def _probe_all(urls: list[str], cache: Mapping[str, CachedAnswer], workers: int,
               session_factory: Callable[[], requests.Session]) -> list[Probe]:
    """Probe with at most ``workers`` requests open, one session (connection pool) per worker
    thread. A host that cannot be reached at all is asked once per worker, not once per image."""
    down: set[str] = set()
    sessions: dict[int, requests.Session] = {}

    def one(url: str) -> Probe:
        host = urlsplit(url).netloc
        if host in down:
            return Probe(url, 0, error="ConnectionError (host down)", asked=False)
        session = sessions.get(threading.get_ident())
        if session is None:  # first URL of this worker thread: its own keep-alive pool
            session = sessions[threading.get_ident()] = session_factory()
        answer = probe(session, url, cache.get(url))
        if answer.status == 0 and answer.error == "ConnectionError":
            down.add(host)
        return answer

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-check") as pool:
            return list(pool.map(one, urls))
    finally:
        for session in sessions.values():
            session.close()
