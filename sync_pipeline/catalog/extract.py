"""The extract half of an import (asset ``magento_products``): find what is due and stage it.

What is due, in this order, each product staged at most once:

1. **new products**: sellable products after the cursor (or after ``start_after_id``), up to the
   request's limit, straight from the reader's chunks; broken ones are staged as rejected rows;
2. **changed products**: ids at or below the cursor whose Magento ``updated_at`` moved since the
   last completed import (with an overlap, so clock skew and late commits cannot hide a change),
   re-read whether sellable or not, so price, title and status changes flow;
3. **reconciliation**: ``updated_at`` does not move on every stock change, so the stock and status
   of every catalog product and variant are compared with Magento's on every run (one set-based
   query per chunk); products that differ are re-read, products that vanished are staged as gone.

The catalog itself is not written here: ``catalog_products`` loads the staged rows. The extract
only reads the app DB (cursor, watermark, catalog state) and appends to the staging table, one
transaction per chunk, so memory stays flat however large the catalog grows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, select

from sync_pipeline.catalog.jobs import heartbeat, mark_staged, read_change_watermark, read_cursor
from sync_pipeline.catalog.progress import (
    PROGRESS_EVERY_PRODUCTS,
    ImportMetrics,
    ProgressCallback,
    ProgressReporter,
)
from sync_pipeline.catalog.request import ImportRequest
from sync_pipeline.catalog.staging import stage_chunk
from sync_pipeline.catalog.tables import catalog_products as products
from sync_pipeline.catalog.tables import catalog_variants as variants
from sync_pipeline.db import utcnow
from sync_pipeline.magento.records import SYNCED_TYPES, RejectedRow, SourceProduct

CHUNK_SIZE = 500
RECONCILE_CHUNKS_PER_PAGE = 4  # a reconcile page only holds small state tuples, not product records
CHANGE_OVERLAP = timedelta(minutes=5)
WATERMARK_KEY = "change_watermark"  # in the job's metrics until the job completes
PREVIEW_ROWS = 10
EPOCH = datetime(1970, 1, 1)  # no watermark yet: every product at or below the cursor is due


# Read-only members (properties), so frozen dataclasses such as the reader's records match.
class ProductChunk(Protocol):
    @property
    def products(self) -> list[SourceProduct]: ...
    @property
    def rejected(self) -> list[RejectedRow]: ...
    @property
    def last_source_id(self) -> int: ...
    @property
    def examined(self) -> int: ...


class StockStatus(Protocol):
    @property
    def enabled(self) -> bool: ...
    @property
    def in_stock(self) -> bool: ...
    @property
    def qty(self) -> int: ...


class CatalogSource(Protocol):
    """What the extract needs from the Magento reader (``sync_pipeline.magento.reader``)."""

    def max_source_id(self) -> int: ...

    def iter_products(self, *, after_id: int, limit: int | None,
                      chunk_size: int = ...) -> Iterable[ProductChunk]: ...

    def read_products(self, source_ids: Sequence[int]) -> Any: ...

    def changed_since(self, since: datetime, up_to_id: int) -> list[int]: ...

    # Mapping, not dict: a dict's value type is invariant, so dict[int, records.StockStatus] would not match.
    def stock_and_status(self, source_ids: Sequence[int]) -> Mapping[int, StockStatus]: ...


@dataclass(frozen=True)
class ExtractResult:
    job_id: int
    metrics: ImportMetrics
    new: int
    changed: int
    reconciled: int
    gone: int
    preview: list[SourceProduct]


def extract_due(
    app_engine: Engine,
    source: CatalogSource,
    request: ImportRequest,
    job_id: int,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    now: datetime | None = None,
    progress_every: int = PROGRESS_EVERY_PRODUCTS,
) -> ExtractResult:
    """Stage everything due for ``job_id`` (which must hold the guard) and hand it to the load."""
    started = now or utcnow()
    with app_engine.connect() as conn:
        cursor = read_cursor(conn)
        watermark = read_change_watermark(conn)
    start_after = cursor if request.resume_from_last else int(request.start_after_id or 0)
    run = _Extract(app_engine, source, job_id, chunk_size, ProgressReporter("extract", on_progress, every_products=progress_every))
    run.metrics.last_processed_source_id = start_after

    new = run.stage_new_products(start_after, request.limit)
    since = watermark - CHANGE_OVERLAP if watermark is not None else EPOCH
    changed = run.stage_changed(source.changed_since(since, cursor)) if cursor > 0 else 0
    reconciled = run.reconcile()

    run.metrics.elapsed_ms = run.reporter.elapsed_ms()
    run.reporter.finish(run.metrics)
    handover = run.metrics.as_json() | {WATERMARK_KEY: started.isoformat()}
    mark_staged(app_engine, job_id, handover)
    return ExtractResult(job_id, run.metrics, new, changed, reconciled, run.gone, run.preview)


class _Extract:
    def __init__(self, app_engine: Engine, source: CatalogSource, job_id: int, chunk_size: int,
                 reporter: ProgressReporter) -> None:
        self.app = app_engine
        self.source = source
        self.job_id = job_id
        self.chunk_size = chunk_size
        self.reporter = reporter
        self.metrics = ImportMetrics()
        self.staged: set[int] = set()
        self.preview: list[SourceProduct] = []
        self.gone = 0

    def stage_new_products(self, start_after: int, limit: int | None) -> int:
        """New products after ``start_after``; ``limit`` counts products found (sellable or rejected)."""
        upper_at_start = self.source.max_source_id() if limit is None else 0
        count = 0
        for chunk in self.source.iter_products(after_id=start_after, limit=None, chunk_size=self.chunk_size):
            found, rejected, last_id = chunk.products, chunk.rejected, chunk.last_source_id
            if limit is not None and count + len(found) + len(rejected) >= limit:
                found, rejected, last_id = _first_found(found, rejected, limit - count)
            self._stage(found, rejected)
            self.metrics.count_unsynced(getattr(chunk, "unsynced_types", {}))
            count += len(found) + len(rejected)
            self.metrics.last_processed_source_id = max(self.metrics.last_processed_source_id, last_id)
            if limit is not None and count >= limit:
                break
        if limit is None:
            # Everything up to the highest id seen at the start was examined, sellable or not.
            self.metrics.last_processed_source_id = max(self.metrics.last_processed_source_id, upper_at_start)
        return count

    def stage_changed(self, changed_ids: Iterable[int]) -> int:
        due = [i for i in changed_ids if i not in self.staged]
        count = 0
        for batch in _batches(due, self.chunk_size):
            known = self._catalog_skus(batch)

            def held_or_sellable(product: SourceProduct, known: dict[int, str] = known) -> bool:
                # A product the catalog never had only matters if it can be sold now.
                return product.source_id in known or product.is_sellable

            count += self._reread(batch, known, keep=held_or_sellable)
        return count

    def reconcile(self) -> int:
        count = 0
        for catalog_chunk in self._catalog_chunks():
            differing = self._differing(catalog_chunk)
            known = {source_id: state.sku for source_id, state in catalog_chunk.items()} if differing else {}
            for batch in _batches(differing, self.chunk_size):
                count += self._reread(batch, known, keep=lambda _p: True)
        return count

    # --- helpers ---------------------------------------------------------------------------

    def _reread(self, source_ids: list[int], known: dict[int, str], keep: Callable[[SourceProduct], bool]) -> int:
        found, rejected = _as_products_and_rejects(self.source.read_products(source_ids))
        # The reader answers an id it cannot find with a rejected row without SKU: that product is gone.
        rejected = [r for r in rejected if r.sku]
        seen = {p.source_id for p in found} | {r.source_id for r in rejected}
        wanted = [p for p in found if keep(p)]
        # A rejected re-read only matters for a product the catalog holds: the load deactivates it.
        rejected = [r for r in rejected if r.source_id in known]
        gone = [(i, known[i]) for i in source_ids if i not in seen and i in known]
        self.gone += len(gone)
        self._stage(wanted, rejected, gone)
        return len(wanted) + len(rejected) + len(gone)

    def _stage(self, found: Sequence[SourceProduct], rejected: Sequence[RejectedRow],
               gone: Sequence[tuple[int, str]] = ()) -> None:
        with self.app.begin() as conn:
            stage_chunk(conn, self.job_id, found, rejected, gone)
        heartbeat(self.app, self.job_id)
        self.staged.update(p.source_id for p in found)
        self.staged.update(r.source_id for r in rejected)
        self.staged.update(i for i, _ in gone)
        added = len(found) + len(rejected) + len(gone)
        self.metrics.total_found += added
        self.preview.extend(found[: max(0, PREVIEW_ROWS - len(self.preview))])
        self.reporter.advance(added, self.metrics)

    def _catalog_skus(self, source_ids: list[int]) -> dict[int, str]:
        with self.app.connect() as conn:
            rows = conn.execute(select(products.c.source_id, products.c.sku)
                                .where(products.c.source_id.in_(source_ids)))
            return {int(r.source_id): r.sku for r in rows}

    def _catalog_chunks(self) -> Iterator[dict[int, _CatalogState]]:
        """Catalog products not staged yet, with their variants' stock, keyset-paginated by source id.

        Pages are larger than the staging chunks: this side only holds small state tuples, and
        each page costs one catalog query for the products and one for their variants (a join
        over the same source-id range rather than a long IN list of SKUs).
        """
        after = -1
        while True:
            with self.app.connect() as conn:
                rows = conn.execute(
                    select(products.c.source_id, products.c.sku, products.c.type_id, products.c.stock_qty,
                           products.c.is_active)
                    .where(products.c.source_id > after)
                    .order_by(products.c.source_id)
                    .limit(self.chunk_size * RECONCILE_CHUNKS_PER_PAGE)
                ).tuples().all()
                if not rows:
                    return
                last = int(rows[-1][0])
                states = {
                    sku: _CatalogState(int(source_id), sku, type_id, int(stock), bool(active), [])
                    for source_id, sku, type_id, stock, active in rows if int(source_id) not in self.staged
                }
                if states:
                    self._add_variant_states(conn, states, after, last)
            after = last
            if states:
                yield {state.source_id: state for state in states.values()}

    @staticmethod
    def _add_variant_states(conn: Connection, states: dict[str, _CatalogState], after: int, last: int) -> None:
        """The variants of the page's configurables (source ids in ``(after, last]``)."""
        page_variants = (
            select(variants.c.parent_sku, variants.c.source_id, variants.c.stock_qty, variants.c.is_active)
            .join(products, products.c.sku == variants.c.parent_sku)
            .where(products.c.source_id > after, products.c.source_id <= last,
                   products.c.type_id == "configurable")
        )
        for parent_sku, source_id, stock, active in conn.execute(page_variants).tuples():
            parent = states.get(parent_sku)
            if parent is not None:
                parent.children.append((int(source_id), int(stock), bool(active)))

    def _differing(self, catalog_chunk: dict[int, _CatalogState]) -> list[int]:
        ids = set(catalog_chunk)
        for state in catalog_chunk.values():
            ids.update(child for child, _qty, _active in state.children)
        live = self.source.stock_and_status(sorted(ids))
        return [source_id for source_id, state in catalog_chunk.items() if _drifted(state, live)]


@dataclass
class _CatalogState:
    source_id: int
    sku: str
    type_id: str
    stock_qty: int
    is_active: bool
    children: list[tuple[int, int, bool]]  # (source id, stock, active) of a configurable's variants


def _drifted(state: _CatalogState, live: Mapping[int, StockStatus]) -> bool:
    """Whether Magento's stock or status no longer matches what the catalog holds for a product."""
    parent = live.get(state.source_id)
    if parent is None:
        return True  # vanished from Magento
    if state.type_id not in SYNCED_TYPES:
        # A type no longer synced (virtual, from before it was left out): re-read once, and the
        # load turns it inactive so the stores delist it.
        return state.is_active
    if state.type_id != "configurable":
        return _sellable(parent) != state.is_active or max(parent.qty, 0) != state.stock_qty
    for child_id, child_qty, child_active in state.children:
        child = live.get(child_id)
        if child is None:
            return True
        as_variant = _sellable(child) and getattr(child, "priced", True)  # unpriced children are not sold
        if (parent.enabled and as_variant) != child_active or max(child.qty, 0) != child_qty:
            return True
    expected = parent.enabled and any(_sellable_or_none(live.get(c)) for c, _q, _a in state.children)
    return expected != state.is_active


def _sellable(status: StockStatus) -> bool:
    """The import rule (enabled and in stock) on the reader's live state, derived, not restated.

    The stock half is defined once in Python, ``magento/catalog_sql.py: Stock.in_stock`` (unmanaged,
    or flagged in stock with a unit left or backorders taken), and the reader's ``in_stock`` is that
    property; ``magento/records.py: SourceProduct.is_sellable`` applies the same rule to the records.
    ``magento/reader.py: _in_stock`` / ``_sellable`` say it again in SQL on purpose: the candidates
    are filtered set-based in Magento's DB, over the whole catalog, instead of reading every product
    to judge it here. A change to the rule changes both; tests hold them together (test_reader: every
    product the SQL returns is sellable by the records' rule; test_import: an import takes exactly the
    generator's sellable products)."""
    return status.enabled and status.in_stock


def _sellable_or_none(status: StockStatus | None) -> bool:
    return status is not None and _sellable(status)


def _first_found(found: list[SourceProduct], rejected: list[RejectedRow],
                 wanted: int) -> tuple[list[SourceProduct], list[RejectedRow], int]:
    """The first ``wanted`` rows of a chunk by source id, and the id the cursor may move to."""
    every: list[SourceProduct | RejectedRow] = [*found, *rejected]
    rows = sorted(every, key=lambda row: row.source_id)[:wanted]
    kept_products = [row for row in rows if isinstance(row, SourceProduct)]
    kept_rejected = [row for row in rows if isinstance(row, RejectedRow)]
    return kept_products, kept_rejected, rows[-1].source_id if rows else 0


def _as_products_and_rejects(read: Any) -> tuple[list[SourceProduct], list[RejectedRow]]:
    """The reader's ``read_products`` answer as (products, rejected rows)."""
    if isinstance(read, tuple) and len(read) == 2:
        return list(read[0]), list(read[1])
    if hasattr(read, "products"):
        return list(read.products), list(getattr(read, "rejected", []))
    items = list(read)
    return ([i for i in items if isinstance(i, SourceProduct)],
            [i for i in items if isinstance(i, RejectedRow)])


def _batches(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
