"""The push of one store: plan, then send only the creates, updates and delists, in parallel.

How a run stays safe when it is interrupted, retried or raced:

* **Guard.** A lock row per store (``guard.py``) keeps two pushes of one store from interleaving.
* **Write-ahead for creates.** Before a chunk of creates is sent, their mapping rows are marked
  ``pending`` in one transaction. A run killed after the store created a product but before the
  confirmation was written leaves ``pending``; the next run looks the SKU up (``find_by_sku``)
  and updates the product it finds instead of creating a second one. Within a run, a lost answer
  is covered by the client's idempotent upsert.
* **Confirmations in small batches.** Mapping rows of confirmed products are written at least
  every ``flush_every`` products or ``flush_seconds``; a lost confirmation of an update only means
  the next run repeats an idempotent update.
* **Rollback snapshots.** Before an update or delist is sent, the listing as last pushed (kept on
  the mapping row) is saved with the run id, in the same transaction as the chunk's pending marks.
  The snapshot is the last pushed state rather than a fresh read, which would double the calls:
  store-side edits of non-owned fields are therefore not restored by a rollback.
* **A create never takes over a product the pipeline did not make.** Where a create is an upsert
  on a merchant-visible key (Shopify's handle), the client is asked first what holds that key
  (``existing_for_create``). Our own product (a create whose answer was lost) is updated; a
  merchant's product is adopted only when its variant SKUs are exactly the listing's: its state
  as read is saved as the rollback snapshot (action ``adopt``) before anything is written, then
  the create updates it. Anything else fails that product with ``HANDLE_TAKEN`` and a reason.
* **Failures stay per product.** A product whose client retries ran out on a retryable error
  (throttling, network) is sent again later in the same run, a few rounds at most; one that
  still fails goes to the dead-letter table and the run carries on; success clears its dead letter. Only rejected
  credentials stop the store's run early (every further call would fail the same way).

Pacing is the client's: its limiter is shared by all worker threads, so the pool only needs
enough threads to keep the limiter's budget busy (``workers_for``).

Owned fields: a full update fills the store-owned title/description from a read-back of the
product (one extra read call per content update, only for stores that own such fields); other
owned content fields (images...) are sent as last pushed, as the generic read-back does not carry
them. Owned ``price``/``stock`` stop the price/stock calls; a full update still carries the
listing's prices and stock.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from sqlalchemy import Engine

from sync_pipeline.db import utcnow
from sync_pipeline.platforms.base import ErrorClass, PlatformError, RemoteRef, StoreClient
from sync_pipeline.push import bulk, ledger
from sync_pipeline.push.guard import StorePushGuard
from sync_pipeline.push.ledger import Confirmed, Failed
from sync_pipeline.push.options import (
    DEAD_LETTER_CLASSES,
    DEFAULT_ERROR_THRESHOLD,
    DEFAULT_OPTIONS,
    MAX_FIRST_ERRORS,
    ClientFactory,
    ProgressCallback,
    PushOptions,
    PushProgress,
    PushReport,
    check_error_classes,
    workers_for,
)
from sync_pipeline.push.plan import (
    Action,
    MappingStatus,
    PlannedProduct,
    PushedHashes,
    PushPlan,
    build_plan,
    check_owned_fields,
    pushed_hashes,
)
from sync_pipeline.push.send import Outcome, ProductSender
from sync_pipeline.push.synclog import SyncLog, prune_sync_log
from sync_pipeline.stores import StoreConfig

# The options and report types live in options.py; importers of the engine still find them here.
__all__ = ["DEAD_LETTER_CLASSES", "DEFAULT_ERROR_THRESHOLD", "ClientFactory", "ProgressCallback", "PushOptions",
           "PushProgress", "PushReport", "check_error_classes", "push_store", "repush_dead_letters", "workers_for"]


def push_store(engine: Engine, store: StoreConfig, client_factory: ClientFactory, options: PushOptions = DEFAULT_OPTIONS,
               *, run_id: str | None = None, on_progress: ProgressCallback | None = None) -> PushReport:
    """Push one store's listings. Raises ``StorePushLocked`` when another push of it is running and
    ``MissingCredentialError`` when its credentials are not set; product failures never raise."""
    run_id = run_id or uuid.uuid4().hex
    owned = check_owned_fields(store.owned_fields)
    listings = ledger.load_listings(engine, store.key, options.skus)
    if options.dry_run:
        plan = build_plan(store.key, listings, ledger.load_mappings(engine, store.key), owned,
                          skus=options.skus, max_products=options.max_products, force=options.force)
        return _dry_run_report(engine, run_id, store, plan, options)
    guard = StorePushGuard(engine, store.key, run_id, options.stale_lock_after)
    with guard:
        # Planned under the guard: the mappings cannot move between planning and pushing.
        plan = build_plan(store.key, listings, ledger.load_mappings(engine, store.key), owned,
                          skus=options.skus, max_products=options.max_products, force=options.force)
        ledger.start_run(engine, run_id, store.key, options.kind, options.as_params())
        try:
            report = _PushRun(engine, store, plan, owned, options, run_id, guard, on_progress).execute(client_factory)
        except BaseException as exc:
            ledger.finish_run(engine, run_id, store.key, options.kind, "failed", {}, f"{type(exc).__name__}: {exc}")
            raise
        ledger.finish_run(engine, run_id, store.key, options.kind, "failed" if report.failed else "succeeded",
                          {**report.progress.as_dict(), "writes_planned": report.writes_planned},
                          report.failure_message() if report.failed else None)
    prune_sync_log(engine, options.sync_log_retention)
    return report


def repush_dead_letters(engine: Engine, store: StoreConfig, client_factory: ClientFactory, *,
                        skus: Sequence[str] | None = None, error_classes: Sequence[str] | None = None,
                        run_id: str | None = None, options: PushOptions = DEFAULT_OPTIONS,
                        on_progress: ProgressCallback | None = None) -> PushReport:
    """Push again the store's dead letters (all, or by SKU / error class) from their current
    listings; each that succeeds is cleared."""
    check_error_classes(error_classes or ())
    chosen = ledger.dead_letter_skus(engine, store.key, skus=skus, error_classes=error_classes)
    retry = PushOptions(**{**options.__dict__, "skus": tuple(chosen), "kind": "retry"})
    return push_store(engine, store, client_factory, retry, run_id=run_id, on_progress=on_progress)


def _dry_run_report(engine: Engine, run_id: str, store: StoreConfig, plan: PushPlan,
                    options: PushOptions) -> PushReport:
    progress = PushProgress(store.key, total=len(plan.products), unchanged=plan.counts()[Action.UNCHANGED],
                            invalid=plan.counts()[Action.INVALID])
    report = PushReport(run_id, store.key, True, plan.counts(), plan.field_changes(), progress,
                        writes_planned=len(plan.writes), skipped_by_limit=plan.skipped_by_limit,
                        error_threshold=options.error_threshold)
    ledger.start_run(engine, run_id, store.key, "dry_run", options.as_params())
    ledger.finish_run(engine, run_id, store.key, "dry_run", "succeeded",
                      {"plan": report.plan_counts, "fields": report.field_changes})
    return report


class _PushRun:
    """One execution of a plan; the main thread owns every DB write, workers only call the store."""

    def __init__(self, engine: Engine, store: StoreConfig, plan: PushPlan, owned: frozenset[str],
                 options: PushOptions, run_id: str, guard: StorePushGuard,
                 on_progress: ProgressCallback | None) -> None:
        self.engine, self.store, self.plan, self.owned = engine, store, plan, owned
        self.options, self.run_id, self.guard, self.on_progress = options, run_id, guard, on_progress
        counts = plan.counts()
        self.progress = PushProgress(store.key, total=len(plan.products), done=counts[Action.UNCHANGED]
                                     + counts[Action.INVALID], unchanged=counts[Action.UNCHANGED],
                                     invalid=counts[Action.INVALID])
        self.sync_log = SyncLog(engine, run_id, store.key)
        self.sender = ProductSender(self.sync_log, owned)
        self.started = time.monotonic()
        self._confirmed: list[Confirmed] = []
        self._created: list[PlannedProduct] = []
        self._created_refs: dict[str, RemoteRef] = {}
        self._failed: list[Failed] = []
        self._not_created: list[str] = []
        self._stale: list[str] = []  # confirmed, but to be sent again by the next push (bulk loads)
        self.bulk_loader: bulk.BulkLoader | None = None
        self._unflushed = 0
        self._last_flush = self._last_progress = time.monotonic()
        self._reported_done = -1
        self._requeued: dict[str, int] = {}
        self._attempts: dict[str, int] = {}  # sends of each product so far, across requeue rounds
        self.aborted: str | None = None

    def execute(self, client_factory: ClientFactory) -> PushReport:
        writes = list(self.plan.writes)
        self._report_progress(force=True)
        if writes:
            client = client_factory(self.sync_log)
            try:
                writes = self._bulk_first(client, writes)
                self._run_pool(client, writes)
            finally:
                client.close()
                self._flush()
        self.progress.elapsed_s = time.monotonic() - self.started
        self.progress.calls = self.sync_log.calls
        self._report_progress(force=True)
        return PushReport(self.run_id, self.store.key, False, self.plan.counts(), self.plan.field_changes(),
                          self.progress, writes_planned=len(writes), skipped_by_limit=self.plan.skipped_by_limit,
                          aborted=self.aborted, error_threshold=self.options.error_threshold)

    # -- bulk loads (push/bulk.py) ----------------------------------------------------------------------

    def _bulk_first(self, client: StoreClient, writes: list[PlannedProduct]) -> list[PlannedProduct]:
        """Finish what a killed run left in bulk, then send the creates in bulk when enough are
        due; returns the writes left for the per-call pool."""
        loader = bulk.BulkLoader.for_client(self.engine, self.store, client, self.run_id, self.sync_log, self)
        if loader is None:
            return writes
        self.bulk_loader = loader
        handled, never_ran = loader.resume({p.sku: p for p in writes})
        fresh = bulk.never_ran_pending(self.engine, self.store.key, never_ran) if never_ran else set()
        left = [dataclasses.replace(p, recover=False) if p.sku in fresh else p
                for p in writes if p.sku not in handled]
        creates = bulk.bulk_creates(self.store, left)
        if creates and not self.aborted:
            loader.load(creates)
            chosen = {p.sku for p in creates}
            left = [p for p in left if p.sku not in chosen]
        self._flush()
        self._bulk_timings()
        return left

    def bulk_confirmed(self, product: PlannedProduct, ref: RemoteRef, sent_as_planned: bool,
                       hashes: PushedHashes | None = None) -> None:
        outcome = Outcome(product, ref=ref, status=MappingStatus.LISTED, sent=product.listing, attempts=1,
                          hashes=hashes)
        self._record(outcome)
        if not sent_as_planned:  # the listing changed since the killed run sent it: the next push sends it
            self._stale.append(product.sku)

    def bulk_failed(self, product: PlannedProduct, error: PlatformError) -> None:
        self._record(Outcome(product, error=error, attempts=1))

    def bulk_unpublished(self, product: PlannedProduct | None, sku: str, error: PlatformError) -> None:
        """Made but not published: a dead letter, and the mapping's hashes cleared so that the
        next push sends the product again (its update publishes where missing)."""
        self._stale.append(sku)
        if product is not None:
            self.progress.errors += 1
            self._failed.append(ledger.Failed.from_error(product, error, 1))
            self._note_error(product, error)

    def bulk_flush(self) -> None:
        self._flush()
        self._report_progress()

    def bulk_progress(self, done: int, total: int) -> None:
        self.progress.bulk_done, self.progress.bulk_total = done, total
        self._bulk_timings()
        self._report_progress(force=True)

    def _bulk_timings(self) -> None:
        if self.bulk_loader is not None:
            t, p = self.bulk_loader.timings, self.progress
            p.bulk_pipeline_s, p.bulk_pipeline_cpu_s, p.bulk_waiting_s = t.own_s, t.own_cpu_s, t.waiting_s

    def bulk_note(self, message: str) -> None:
        if len(self.progress.first_errors) < MAX_FIRST_ERRORS:
            self.progress.first_errors.append(message)

    def _note_error(self, product: PlannedProduct, error: PlatformError) -> None:
        if len(self.progress.first_errors) < MAX_FIRST_ERRORS:
            code = f" [{error.platform_code}]" if error.platform_code else ""
            self.progress.first_errors.append(f"{product.sku} ({product.action.value}): {error.error_class}"
                                              f"{code} {error.message}")

    # -- the pool ------------------------------------------------------------------------------------

    def _run_pool(self, client: StoreClient, writes: list[PlannedProduct]) -> None:
        workers = self.options.workers or workers_for(self.store)
        queue = list(reversed(writes))
        later: list[tuple[float, PlannedProduct]] = []  # retryable failures, sent again when due
        in_flight: dict[Future[Outcome], PlannedProduct] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"push-{self.store.key}") as pool:
            while ((queue or later) and not self.aborted) or in_flight:
                now = time.monotonic()
                queue += [product for due, product in later if due <= now]
                later = [(due, product) for due, product in later if due > now]
                if queue and not self.aborted and len(in_flight) < 2 * workers:
                    chunk = [queue.pop() for _ in range(min(self.options.chunk_size, len(queue)))]
                    self._prepare(chunk)
                    for product in chunk:
                        in_flight[pool.submit(self.sender.apply, client, product)] = product
                finished, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    del in_flight[future]
                    outcome = future.result()
                    if outcome.not_sent:
                        continue  # like the rest of the queue after a credentials refusal: untouched
                    sku = outcome.product.sku
                    self._attempts[sku] = self._attempts.get(sku, 0) + outcome.attempts
                    if outcome.to_adopt is not None:
                        adopting = dataclasses.replace(outcome.product, adopt=outcome.to_adopt)
                        self._keep_store_state(adopting)
                        in_flight[pool.submit(self.sender.apply, client, adopting)] = adopting
                        continue
                    again = self._to_send_again(outcome)
                    if again is None:
                        self._record(outcome)
                    else:
                        later.append(again)
                self._maybe_flush()
                self._report_progress()

    def _to_send_again(self, outcome: Outcome) -> tuple[float, PlannedProduct] | None:
        """A product whose client retries ran out on a retryable error (a throttling storm, a
        network blip) goes to the back of the run, up to ``requeue_retryable`` times, before it
        becomes a dead letter. A create whose answer was lost may exist: it is looked up first."""
        error, product = outcome.error, outcome.product
        if not isinstance(error, PlatformError) or not error.retryable or self.aborted:
            return None
        rounds = self._requeued.get(product.sku, 0)
        if rounds >= self.options.requeue_retryable:
            return None
        self._requeued[product.sku] = rounds + 1
        lost_answer = error.error_class is ErrorClass.NETWORK_ERROR and product.action is Action.CREATE
        again = dataclasses.replace(product, recover=True) if lost_answer else product
        return time.monotonic() + self.options.requeue_delay_s * (rounds + 1), again

    def _keep_store_state(self, product: PlannedProduct) -> None:
        """The merchant's product as read, committed before the create writes over it."""
        assert product.adopt is not None
        with self.engine.begin() as conn:
            ledger.write_adoption_snapshots(conn, self.store.key, self.run_id, {product.sku: product.adopt})

    def _prepare(self, chunk: list[PlannedProduct]) -> None:
        """Write-ahead for a chunk, in one transaction: pending creates and rollback snapshots."""
        creates = [p.sku for p in chunk if p.action is Action.CREATE]
        changes = [p for p in chunk if p.action is not Action.CREATE]
        with self.engine.begin() as conn:
            ledger.mark_pending(conn, self.store.key, creates, self.run_id)
            ledger.write_snapshots(conn, self.store.key, self.run_id, changes)

    # -- one product (worker thread) --------------------------------------------------------------------

    # -- bookkeeping (main thread) ------------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        product = outcome.product
        self.progress.done += 1
        if outcome.error is not None:
            self._record_failure(outcome)
            return
        assert outcome.status is not None and outcome.sent is not None
        hashes = outcome.hashes or pushed_hashes(product.listing, self.owned)
        self._confirmed.append(Confirmed(product.sku, outcome.ref, outcome.status, hashes, outcome.sent.to_json(),
                                         utcnow()))
        if product.adopt is not None:
            self.progress.adopted += 1  # its snapshot (the merchant's state) is already kept
        elif product.action is Action.CREATE or outcome.recreated:
            self.progress.created += 1
            if outcome.ref is not None:
                self._created.append(product)
                self._created_refs[product.sku] = outcome.ref
        elif product.action is Action.DELIST:
            self.progress.delisted += 1
        else:
            self.progress.updated += 1
        self._unflushed += 1

    def _record_failure(self, outcome: Outcome) -> None:
        assert outcome.error is not None
        product, error = outcome.product, outcome.error
        self.progress.errors += 1
        failed = Failed.from_error(product, error, self._attempts.get(product.sku, outcome.attempts))
        self._failed.append(failed)
        if len(self.progress.first_errors) < MAX_FIRST_ERRORS:
            code = f" [{failed.platform_code}]" if failed.platform_code else ""
            self.progress.first_errors.append(f"{product.sku} ({product.action.value}): {failed.error_class}"
                                              f"{code} {failed.message}")
        if product.action is Action.CREATE and isinstance(error, PlatformError) and error.error_class in {
                ErrorClass.INVALID_PRODUCT, ErrorClass.UNAUTHORIZED}:
            self._not_created.append(product.sku)  # the store refused it: nothing exists to look up
        if isinstance(error, PlatformError) and error.error_class is ErrorClass.UNAUTHORIZED and not self.aborted:
            self.aborted = f"the store rejected the credentials ({error.message}); no further product was sent"
        self._unflushed += 1

    def _maybe_flush(self) -> None:
        now = time.monotonic()
        if self._unflushed >= self.options.flush_every or (self._unflushed and now - self._last_flush
                                                             >= self.options.flush_seconds):
            self._flush()

    def _flush(self) -> None:
        confirmed, failed = self._confirmed, self._failed
        created, created_refs, not_created = self._created, self._created_refs, self._not_created
        self._confirmed, self._failed, self._created, self._created_refs, self._not_created = [], [], [], {}, []
        stale, self._stale = self._stale, []
        with self.engine.begin() as conn:
            ledger.write_confirmed(conn, self.store.key, self.run_id, confirmed)
            ledger.write_snapshots(conn, self.store.key, self.run_id, created, created_refs)
            ledger.write_dead_letters(conn, self.store.key, self.run_id, failed)
            ledger.clear_dead_letters(conn, self.store.key, [c.sku for c in confirmed])
            ledger.mark_failed(conn, self.store.key, not_created)
            ledger.clear_pushed_hashes(conn, self.store.key, stale)
        self.sync_log.flush()
        self.guard.heartbeat()
        self._unflushed = 0
        self._last_flush = time.monotonic()

    def _report_progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        due = (self.progress.done - max(self._reported_done, 0) >= self.options.progress_every
               or now - self._last_progress >= self.options.progress_seconds)
        if force or due:
            self.progress.calls = self.sync_log.calls
            self.progress.elapsed_s = now - self.started
            self._reported_done = self.progress.done
            self._last_progress = now
            self.on_progress(self.progress)
