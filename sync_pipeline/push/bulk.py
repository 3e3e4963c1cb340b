"""First loads through Shopify bulk mutations: many creates as one ``productSet`` bulk run.

When a Shopify store has more creates due than its ``settings.bulk_threshold`` (default 1,000; 0
turns bulk loads off), the push sends those creates as one bulk mutation instead of one call each:

1. **Intent.** One transaction writes the load (``push_bulk_loads``), its lines (line number ->
   SKU, ``push_bulk_lines``) and the creates' ``pending`` marks, before anything is staged.
2. The JSONL of ``productSet`` lines is uploaded to a staged target and ``bulkOperationRunMutation``
   starts; the operation id is committed at once, and only then is it polled (every
   ``settings.bulk_poll_seconds``, default 5). Progress is lines done / total.
3. The result JSONL is read line by line: a product made is confirmed (mapping, rollback snapshot),
   a line's failure becomes a dead letter, and each line is a row of the sync log.
4. The products made are published by a second bulk run of ``publishablePublish`` lines (a new
   product is invisible until then). A line that fails leaves a dead letter and the mapping's
   hashes cleared, so the next push sends the product again and publishes it on the way.

One bulk mutation per shop at a time (Shopify's rule): a run that finds another one running waits
for it. A run killed at any point resumes from the rows: a known operation id is polled (never a
second run of the same lines); an intent without an id asks Shopify for the shop's current bulk
mutation, takes it if it is not one of ours already handled and started after the intent, and
otherwise knows the lines never ran, so they are loaded again. Lines with no result (an operation
that FAILED part way) keep their ``pending`` marks: the next push looks those SKUs up before
creating them, as after any lost answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError, RemoteRef, StoreClient
from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.shopify.bulk import (
    BULK_PRODUCT_SET,
    BULK_PUBLISH,
    BulkInProgress,
    BulkStatus,
    ShopifyBulk,
)
from sync_pipeline.platforms.shopify.client import ShopifyClient
from sync_pipeline.push import ledger
from sync_pipeline.push.plan import (
    Action,
    MappingStatus,
    PlannedProduct,
    PushedHashes,
    check_owned_fields,
    pushed_hashes,
)
from sync_pipeline.push.synclog import SyncLog
from sync_pipeline.push.tables import push_bulk_lines, push_bulk_loads, store_mappings
from sync_pipeline.stores import StoreConfig

DEFAULT_THRESHOLD = 1000
DEFAULT_POLL_SECONDS = 5.0
# How far Shopify's clock may be behind ours when an unrecorded operation is matched to an intent.
CLOCK_SKEW = timedelta(minutes=5)
_LINES_CHUNK = 500


def bulk_threshold(store: StoreConfig) -> int:
    """Creates above this go as one bulk mutation; 0 turns bulk loads off for the store."""
    raw = store.settings.get("bulk_threshold", DEFAULT_THRESHOLD)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValueError(f"store '{store.key}': settings.bulk_threshold must be a whole number >= 0 "
                         f"(0 turns bulk loads off), not {raw!r}")
    return raw


def poll_seconds(store: StoreConfig) -> float:
    raw = store.settings.get("bulk_poll_seconds", DEFAULT_POLL_SECONDS)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise ValueError(f"store '{store.key}': settings.bulk_poll_seconds must be a number > 0, not {raw!r}")
    return float(raw)


def bulk_creates(store: StoreConfig, writes: Sequence[PlannedProduct]) -> list[PlannedProduct]:
    """The creates to send in bulk: none unless more than the threshold are due. A create whose
    earlier outcome is unknown (``recover``) or that adopts a merchant product needs its look-up
    first, so it stays on the per-call path."""
    if not platform_spec(store.platform).bulk_loads:
        return []
    threshold = bulk_threshold(store)
    creates = [p for p in writes if p.action is Action.CREATE and not p.recover and p.adopt is None]
    return creates if threshold and len(creates) > threshold else []


class BulkSink(Protocol):
    """The push run's bookkeeping, which the bulk load reports into."""

    def bulk_confirmed(self, product: PlannedProduct, ref: RemoteRef, sent_as_planned: bool,
                       hashes: PushedHashes | None = None) -> None: ...

    def bulk_failed(self, product: PlannedProduct, error: PlatformError) -> None: ...

    def bulk_unpublished(self, product: PlannedProduct | None, sku: str, error: PlatformError) -> None: ...

    def bulk_flush(self) -> None: ...

    def bulk_progress(self, done: int, total: int) -> None: ...

    def bulk_note(self, message: str) -> None: ...


@dataclass
class BulkTimings:
    """Where a bulk load's time went: the pipeline's own work against waiting for Shopify."""

    build_s: float = 0.0  # encoding the JSONL lines and writing the intent
    results_s: float = 0.0  # reading result lines, writing mappings, dead letters, sync log
    waiting_s: float = 0.0  # staging, starting, polling: Shopify's time
    own_cpu_s: float = 0.0  # CPU of the pushing thread in the two own phases (load-independent, unlike wall)
    lines: int = 0

    @property
    def own_s(self) -> float:
        return self.build_s + self.results_s

    @contextmanager
    def own(self, phase: str) -> Iterator[None]:
        """Times one of the pipeline's own phases (``build`` or ``results``), wall and CPU."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            setattr(self, f"{phase}_s", getattr(self, f"{phase}_s") + time.perf_counter() - wall)
            self.own_cpu_s += time.thread_time() - cpu


class BulkLoader:
    """Bulk loads of one store within one push run."""

    def __init__(self, engine: Engine, store: StoreConfig, client: ShopifyClient, run_id: str,
                 sync_log: SyncLog, sink: BulkSink, sleep: Any = time.sleep) -> None:
        self.engine, self.store, self.run_id, self.sync_log, self.sink = engine, store, run_id, sync_log, sink
        self.bulk = ShopifyBulk(client)
        self.poll = poll_seconds(store)
        self.sleep = sleep
        self.timings = BulkTimings()
        self.owned = check_owned_fields(store.owned_fields)
        # Each listing of a new load is hashed once: the intent's payload hash and the mapping's hashes.
        self._hashes: dict[str, PushedHashes] = {}

    @staticmethod
    def for_client(engine: Engine, store: StoreConfig, client: StoreClient, run_id: str, sync_log: SyncLog,
                   sink: BulkSink) -> BulkLoader | None:
        if not platform_spec(store.platform).bulk_loads or not isinstance(client, ShopifyClient):
            return None
        return BulkLoader(engine, store, client, run_id, sync_log, sink)

    # -- resuming what a killed run left -----------------------------------------------------------

    def resume(self, planned: dict[str, PlannedProduct]) -> tuple[set[str], set[str]]:
        """Finish the store's unfinished loads. Returns the SKUs they covered (done with here) and
        the SKUs of loads that never ran (safe to create without a look-up)."""
        handled: set[str] = set()
        never_ran: set[str] = set()
        for load in self._unfinished():
            skus = self._line_skus(load["id"])
            if load["phase"] == "product_set":
                operation = load["product_set_op"] or self._adopt_unrecorded(load)
                if operation is None:
                    self._set(load["id"], phase="abandoned")
                    never_ran.update(skus.values())
                    continue
                if not load["product_set_op"]:
                    self._set(load["id"], product_set_op=operation)
                handled.update(skus.values())
                self._finish_product_set(load["id"], operation, skus, planned)
            else:
                handled.update(skus.values())
            self._publish(load["id"], load["publish_op"] if load["phase"] == "publish" else None, planned)
        return handled, never_ran

    def _adopt_unrecorded(self, load: Any) -> str | None:
        """The operation a killed run may have started without recording its id."""
        current = self.bulk.current()
        if current is None or current.id in self._known_operations():
            return None
        if current.status in ("CREATED", "RUNNING"):
            return current.id  # only this pipeline runs bulk mutations on the store, under its guard
        started = _parse_time(current.created_at)
        return current.id if started is not None and started >= load["phase_started_at"] - CLOCK_SKEW else None

    # -- a new load ------------------------------------------------------------------------------------

    def load(self, creates: Sequence[PlannedProduct]) -> None:
        with self.timings.own("build"):
            lines: list[str] = []
            chosen: list[PlannedProduct] = []
            for product in creates:
                try:
                    lines.append(self.bulk.product_set_line(product.listing))
                except PlatformError as exc:  # e.g. a category not in Shopify's taxonomy
                    self.sink.bulk_failed(product, exc)
                    continue
                chosen.append(product)
                self._hashes[product.sku] = pushed_hashes(product.listing, self.owned)
            if not chosen:
                return
            load_id = self._write_intent(chosen)
            jsonl = ("\n".join(lines) + "\n").encode()
            self.timings.lines += len(chosen)
        operation = self._start(BULK_PRODUCT_SET, jsonl, f"product-set-{load_id}.jsonl", f"sync-{load_id}")
        self._set(load_id, product_set_op=operation)
        skus = {i: p.sku for i, p in enumerate(chosen)}
        self._finish_product_set(load_id, operation, skus, {p.sku: p for p in chosen}, fresh=True)
        self._hashes.clear()  # the lines that failed
        self._publish(load_id, None, {p.sku: p for p in chosen})

    def _write_intent(self, chosen: Sequence[PlannedProduct]) -> int:
        now = utcnow()
        with self.engine.begin() as conn:
            key = conn.execute(sa.insert(push_bulk_loads).values(
                store_key=self.store.key, run_id=self.run_id, phase="product_set", total=len(chosen), done=0,
                phase_started_at=now, updated_at=now)).inserted_primary_key
            assert key is not None
            load_id = int(key[0])
            rows = [{"load_id": load_id, "line_no": i, "sku": p.sku, "payload_hash": self._hashes[p.sku].payload_hash}
                    for i, p in enumerate(chosen)]
            for start in range(0, len(rows), _LINES_CHUNK):
                conn.execute(sa.insert(push_bulk_lines), rows[start:start + _LINES_CHUNK])
            ledger.mark_pending(conn, self.store.key, [p.sku for p in chosen], self.run_id)
        return load_id

    def _start(self, mutation: str, jsonl: bytes, filename: str, identifier: str) -> str:
        """Stage and start; when another bulk mutation runs on the shop, wait for it first."""
        started = time.perf_counter()
        path = self.bulk.stage(jsonl, filename)
        while True:
            try:
                status = self.bulk.start(mutation, path, identifier)
                break
            except BulkInProgress as busy:
                self.sink.bulk_note(f"waiting for bulk operation {busy.running_id} already running on the shop")
                if busy.running_id:
                    self._wait(busy.running_id, 0)
                else:
                    self.sleep(self.poll)
        self.timings.waiting_s += time.perf_counter() - started
        return status.id

    def _wait(self, operation: str, total: int) -> BulkStatus:
        started = time.perf_counter()
        while True:
            status = self.bulk.status(operation)
            if status is None:
                raise PlatformError(ErrorClass.NOT_FOUND, f"bulk operation {operation} is unknown to the store")
            if total:
                self.sink.bulk_progress(min(status.object_count, total), total)
            self.sink.bulk_flush()  # also the guard's heartbeat: a long poll must not look dead
            if status.finished:
                self.timings.waiting_s += time.perf_counter() - started
                return status
            self.sleep(self.poll)

    # -- phases ------------------------------------------------------------------------------------

    def _finish_product_set(self, load_id: int, operation: str, skus: dict[int, str],
                            planned: dict[str, PlannedProduct], fresh: bool = False) -> None:
        """Read the run's results into mappings and dead letters. ``fresh``: the lines were built
        from these very listings in this run; otherwise each listing is compared with what was sent."""
        status = self._wait(operation, len(skus))
        with self.timings.own("results"):
            url = status.url or status.partial_url
            if status.status != "COMPLETED":
                self.sink.bulk_note(f"bulk operation {operation} ended {status.status} ({status.error_code}); "
                                    "lines without a result stay pending and are looked up by the next push")
            sent_hashes = {} if fresh else self._sent_hashes(load_id)
            for count, (text, line) in enumerate(self.bulk.results(url) if url else (), start=1):
                if count % _LINES_CHUNK == 0:
                    self.sink.bulk_flush()  # confirmations written in batches, never all held to the end
                number = int(line["__lineNumber"])
                sku = skus.get(number)
                if sku is None:
                    continue
                outcome = ShopifyBulk.product_set_outcome(line)
                self._log_line("bulk:productSet", sku, text, outcome if isinstance(outcome, PlatformError) else None)
                product = planned.get(sku)
                if isinstance(outcome, RemoteRef):
                    if product is not None:
                        hashes = self._hashes.pop(sku, None) if fresh else None
                        as_planned = fresh or sent_hashes.get(number) == product.listing.payload_hash()
                        self.sink.bulk_confirmed(product, outcome, as_planned, hashes)
                    else:  # its listing is gone since: still ours, so the mapping is kept
                        self._confirm_unplanned(sku, outcome)
                elif product is not None:
                    self.sink.bulk_failed(product, outcome)
            self.sink.bulk_flush()  # the mappings (with the products made) first, then the phase moves on
            self._set(load_id, phase="publish", done=status.object_count, phase_started_at=utcnow())

    def _publish(self, load_id: int, operation: str | None, planned: dict[str, PlannedProduct]) -> None:
        # The products the first run made are the load's SKUs whose mapping now names a product.
        lines, mappings = push_bulk_lines, store_mappings
        with self.timings.own("build"), self.engine.connect() as conn:
            made = [(r.line_no, r.sku, r.external_id) for r in conn.execute(
                sa.select(lines.c.line_no, lines.c.sku, mappings.c.external_id)
                .join(mappings, sa.and_(mappings.c.sku == lines.c.sku, mappings.c.store_key == self.store.key))
                .where(lines.c.load_id == load_id).where(mappings.c.external_id.is_not(None))
                .order_by(lines.c.line_no))]
        if not made:
            self._set(load_id, phase="done")
            return
        if operation is None:
            # A repeated publish is harmless (publishing a published product changes nothing), so
            # an intent without an id is simply run again.
            with self.timings.own("build"):
                jsonl = "".join(self.bulk.publish_line(product_id) + "\n" for _, _, product_id in made).encode()
            operation = self._start(BULK_PUBLISH, jsonl, f"publish-{load_id}.jsonl", f"sync-publish-{load_id}")
            self._set(load_id, publish_op=operation)
        status = self._wait(operation, 0)
        with self.timings.own("results"):
            by_line = {i: sku for i, (_, sku, _) in enumerate(made)}
            answered: set[int] = set()
            url = status.url or status.partial_url
            for text, line in self.bulk.results(url) if url else ():
                number = int(line["__lineNumber"])
                answered.add(number)
                sku = by_line.get(number)
                error = ShopifyBulk.publish_outcome(line)
                if sku is not None and error is not None:
                    self._log_line("bulk:publishablePublish", sku, text, error)
                    self.sink.bulk_unpublished(planned.get(sku), sku, error)
            for number, sku in by_line.items():
                if number not in answered:
                    self.sink.bulk_unpublished(planned.get(sku), sku, PlatformError(
                        ErrorClass.NETWORK_ERROR, f"bulk publish ended {status.status} before this line"))
            self.sink.bulk_flush()
            self._set(load_id, phase="done")

    # -- rows --------------------------------------------------------------------------------------

    def _confirm_unplanned(self, sku: str, ref: RemoteRef) -> None:
        with self.engine.begin() as conn:
            ledger.write_confirmed(conn, self.store.key, self.run_id, [ledger.Confirmed(
                sku, ref, MappingStatus.LISTED, None, None, utcnow())])

    def _log_line(self, operation: str, sku: str, text: str, error: PlatformError | None) -> None:
        """The line's sync-log row; its body is the result line as Shopify wrote it (not re-encoded)."""
        with self.sync_log.serving(sku):
            self.sync_log(CallRecord(operation=operation, attempt=1, outcome="error" if error else "ok",
                                     latency_ms=0.0, error_class=str(error.error_class) if error else None,
                                     platform_code=error.platform_code if error else None, response_body=text))

    def _unfinished(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(push_bulk_loads).where(push_bulk_loads.c.store_key == self.store.key)
                                     .where(push_bulk_loads.c.phase.in_(["product_set", "publish"]))
                                     .order_by(push_bulk_loads.c.id)).mappings())

    def _known_operations(self) -> set[str]:
        table = push_bulk_loads
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.product_set_op, table.c.publish_op)
                                .where(table.c.store_key == self.store.key))
            return {op for row in rows for op in row if op}

    def _line_skus(self, load_id: int) -> dict[int, str]:
        with self.engine.connect() as conn:
            return {r.line_no: r.sku for r in conn.execute(
                sa.select(push_bulk_lines.c.line_no, push_bulk_lines.c.sku).where(push_bulk_lines.c.load_id == load_id))}

    def _sent_hashes(self, load_id: int) -> dict[int, str]:
        with self.engine.connect() as conn:
            return {r.line_no: r.payload_hash for r in conn.execute(
                sa.select(push_bulk_lines.c.line_no, push_bulk_lines.c.payload_hash)
                .where(push_bulk_lines.c.load_id == load_id))}

    def _set(self, load_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(push_bulk_loads).where(push_bulk_loads.c.id == load_id)
                         .values(**values, updated_at=utcnow()))


def never_ran_pending(engine: Engine, store_key: str, skus: set[str]) -> set[str]:
    """Of ``skus``, those whose mapping is still a pending create with no product (safe to create)."""
    table = store_mappings
    found: set[str] = set()
    ordered = sorted(skus)
    with engine.connect() as conn:
        for start in range(0, len(ordered), _LINES_CHUNK):
            chunk = ordered[start:start + _LINES_CHUNK]
            found.update(conn.execute(sa.select(table.c.sku).where(table.c.store_key == store_key)
                                      .where(table.c.sku.in_(chunk)).where(table.c.external_id.is_(None))
                                      .where(table.c.status == MappingStatus.PENDING.value)).scalars())
    return found


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None
