"""Loading staged products into the catalog and the job's life, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.catalog import jobs
from sync_pipeline.catalog.load import load_staged, next_cursor
from sync_pipeline.catalog.progress import ImportMetrics
from sync_pipeline.catalog.staging import stage_chunk
from sync_pipeline.catalog.tables import (
    catalog_products,
    catalog_variants,
    magento_product_staging,
    product_import_jobs,
)
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.magento.records import RejectedRow, SourceProduct
from sync_pipeline_tests.catalog.builders import child, configurable, simple


@pytest.fixture
def app(app_db_url: str) -> sa.Engine:
    engine = make_engine(app_db_url)
    create_all(engine)
    yield engine
    engine.dispose()


def _staged_job(app: sa.Engine, products: list[SourceProduct], rejected: list[RejectedRow] = (),  # type: ignore[assignment]
                gone: list[tuple[int, str]] = (), last_id: int = 0, params: dict[str, Any] | None = None) -> int:  # type: ignore[assignment]
    job_id = jobs.create_job(app, params or {"resume_from_last": True, "limit": None})
    jobs.start_job(app, job_id)
    with app.begin() as conn:
        stage_chunk(conn, job_id, products, rejected, gone)
    metrics = ImportMetrics(total_found=len(products) + len(rejected) + len(gone), last_processed_source_id=last_id)
    jobs.mark_staged(app, job_id, metrics.as_json())
    return job_id


def _products(app: sa.Engine) -> dict[str, dict[str, Any]]:
    with app.connect() as conn:
        return {r["sku"]: dict(r) for r in conn.execute(sa.select(catalog_products)).mappings()}


def _variants(app: sa.Engine) -> dict[str, dict[str, Any]]:
    with app.connect() as conn:
        return {r["sku"]: dict(r) for r in conn.execute(sa.select(catalog_variants)).mappings()}


def test_load_writes_products_variants_and_completes_the_job(app: sa.Engine) -> None:
    shirt = configurable(10, (child(11, "Blue", "M"), child(12, "Red", "L", price=Decimal("27"))))
    job_id = _staged_job(app, [simple(1), shirt], last_id=12)
    result = load_staged(app, chunk_size=1)
    assert result is not None and result.job_id == job_id
    m = result.metrics
    assert (m.total_found, m.processed, m.inserted, m.updated, m.skipped, m.errors_count) == (2, 2, 2, 0, 0, 0)
    assert result.cursor == 12
    rows = _products(app)
    assert set(rows) == {"SKU-1", "SKU-10"}
    assert rows["SKU-10"]["price"] == Decimal("25")
    assert rows["SKU-1"]["images"] == [f"https://shop.test/media/1-{n}.jpg" for n in range(3)]
    variants = _variants(app)
    assert variants["SKU-12"]["options"] == {"color": "Red", "size": "L"}
    assert variants["SKU-12"]["price"] == Decimal("27")
    assert variants["SKU-1"]["parent_sku"] == "SKU-1"
    with app.connect() as conn:
        job = jobs.job_row(conn, job_id)
        assert job["status"] == "completed" and job["finished_at"] is not None
        assert job["metrics"]["inserted"] == 2 and job["metrics"]["last_processed_source_id"] == 12
        assert jobs.read_cursor(conn) == 12
        assert conn.execute(sa.select(sa.func.count()).select_from(magento_product_staging)).scalar_one() == 0
        assert jobs.running_job_id(conn) is None
    assert [p["sku"] for p in result.preview] == ["SKU-1", "SKU-10"]


def test_unchanged_products_are_not_rewritten_and_changes_are(app: sa.Engine) -> None:
    _staged_job(app, [simple(1), simple(2)], last_id=2)
    load_staged(app)
    before = _products(app)
    _staged_job(app, [simple(1), simple(2, price=Decimal("17.5"))], last_id=2)
    result = load_staged(app)
    assert result is not None
    m = result.metrics
    assert (m.inserted, m.updated, m.unchanged, m.skipped, m.errors_count) == (0, 1, 1, 0, 0)
    after = _products(app)
    assert after["SKU-1"]["updated_at"] == before["SKU-1"]["updated_at"]
    assert after["SKU-2"]["price"] == Decimal("17.5")
    assert after["SKU-2"]["id"] == before["SKU-2"]["id"]
    assert after["SKU-2"]["created_at"] == before["SKU-2"]["created_at"]


def test_bad_rows_are_skipped_with_reasons_and_existing_ones_deactivated(app: sa.Engine) -> None:
    _staged_job(app, [simple(1), simple(2)], last_id=2)
    load_staged(app)
    later = [simple(2, price=None), simple(3, title=""), simple(4)]
    extract_reject = [RejectedRow(5, "SKU-5", "negative quantity")]
    _staged_job(app, later, extract_reject, gone=[(1, "SKU-1")], last_id=5)
    result = load_staged(app)
    assert result is not None
    m = result.metrics
    assert (m.processed, m.inserted, m.updated, m.unchanged, m.skipped, m.errors_count) == (5, 1, 1, 0, 0, 3)
    assert {(r.sku, r.reason) for r in m.skipped_rows} == {
        ("SKU-2", "no price"), ("SKU-3", "empty title (name)"), ("SKU-5", "negative quantity")}
    rows = _products(app)
    assert rows["SKU-1"]["is_active"] is False  # vanished from Magento: kept, inactive
    assert rows["SKU-2"]["is_active"] is False  # cannot be stored as it is now: kept, inactive
    assert rows["SKU-4"]["is_active"] is True
    assert _variants(app)["SKU-2"]["is_active"] is False


def test_a_child_sold_on_its_own_too_is_both_a_product_and_a_variant(app: sa.Engine) -> None:
    """Magento lets a child be visible individually as well: it is its own product and a variant."""
    _staged_job(app, [configurable(10, (child(11, "Blue", "M"),))], last_id=11)
    load_staged(app)
    alone = replace(simple(11), sku="SKU-11")
    _staged_job(app, [alone, simple(21)], last_id=21)
    result = load_staged(app)
    assert result is not None
    assert (result.metrics.inserted, result.metrics.errors_count) == (2, 0)
    with app.connect() as conn:
        parents = sorted(conn.execute(sa.select(catalog_variants.c.parent_sku)
                                      .where(catalog_variants.c.sku == "SKU-11")).scalars())
    assert parents == ["SKU-10", "SKU-11"]


def test_a_child_of_two_configurables_is_a_variant_of_both(app: sa.Engine) -> None:
    shared = child(31, "Blue", "M")
    first = configurable(30, (shared, child(32, "Red", "M")))
    second = configurable(40, (shared, child(42, "Red", "L")))
    _staged_job(app, [first, second], last_id=42)
    result = load_staged(app)
    assert result is not None
    assert (result.metrics.inserted, result.metrics.errors_count) == (2, 0)
    with app.connect() as conn:
        rows = conn.execute(sa.select(catalog_variants.c.parent_sku, catalog_variants.c.is_active)
                            .where(catalog_variants.c.sku == "SKU-31").order_by(catalog_variants.c.parent_sku)).all()
    assert [tuple(r) for r in rows] == [("SKU-30", True), ("SKU-40", True)]
    # Loading the same again changes nothing (the (parent, SKU) key holds both rows).
    _staged_job(app, [first, second], last_id=42)
    again = load_staged(app)
    assert again is not None and (again.metrics.inserted, again.metrics.updated) == (0, 0)


def test_a_bad_child_is_left_out_and_reported_while_the_others_sell(app: sa.Engine) -> None:
    unpriced = child(52, "Red", "M", price=None, problem="no price")
    disabled = child(53, "Red", "L", is_enabled=False, problem="disabled")
    shirt = configurable(50, (child(51, "Blue", "M"), unpriced, disabled))
    _staged_job(app, [shirt], last_id=53)
    result = load_staged(app)
    assert result is not None
    assert (result.metrics.inserted, result.metrics.errors_count) == (1, 0)
    assert result.metrics.variants_skipped == 2
    assert result.metrics.skipped_variants == [
        {"parent_sku": "SKU-50", "sku": "SKU-52", "reason": "no price"},
        {"parent_sku": "SKU-50", "sku": "SKU-53", "reason": "disabled"}]
    variants = _variants(app)
    assert variants["SKU-51"]["is_active"] is True
    assert variants["SKU-52"]["is_active"] is False and variants["SKU-53"]["is_active"] is False
    assert _products(app)["SKU-50"]["is_active"] is True
    with app.connect() as conn:
        stored = conn.execute(sa.select(product_import_jobs.c.metrics)).scalars().all()[-1]
    assert stored["variants_skipped"] == 2 and stored["skipped_variants"][0]["reason"] == "no price"


def test_failure_mid_load_keeps_cursor_and_whole_chunks_only(app: sa.Engine) -> None:
    _staged_job(app, [simple(1)], last_id=1)
    load_staged(app)
    job_id = _staged_job(app, [simple(n) for n in range(2, 8)], last_id=7)
    calls = []

    def explode_after_first_chunk(progress: object) -> None:
        calls.append(progress)
        raise RuntimeError("app DB went away")

    with pytest.raises(RuntimeError, match="app DB went away"):
        load_staged(app, on_progress=explode_after_first_chunk, chunk_size=3, progress_every=3)
    with app.connect() as conn:
        job = jobs.job_row(conn, job_id)
        assert job["status"] == "failed"
        assert "RuntimeError: app DB went away" in job["error_message"]
        assert jobs.read_cursor(conn) == 1
        assert jobs.running_job_id(conn) is None
        assert conn.execute(sa.select(sa.func.count()).select_from(magento_product_staging)).scalar_one() == 0
    assert len(calls) == 1
    assert sorted(_products(app)) == ["SKU-1", "SKU-2", "SKU-3", "SKU-4"]  # exactly one chunk of three


def test_nothing_staged_means_nothing_to_load(app: sa.Engine) -> None:
    assert load_staged(app) is None


def test_second_import_is_refused_while_one_runs(app: sa.Engine) -> None:
    first = jobs.create_job(app, {}, run_id="run-a")
    jobs.start_job(app, first)
    second = jobs.create_job(app, {}, run_id="run-b")
    with pytest.raises(jobs.ImportAlreadyRunning, match=rf"job {first} \(Dagster run run-a\), extracting"):
        jobs.start_job(app, second)
    with app.connect() as conn:
        assert jobs.job_row(conn, second)["status"] == "failed"
        assert "already running" in jobs.job_row(conn, second)["error_message"]
        assert jobs.job_row(conn, first)["status"] == "running"


def test_a_silent_holder_is_taken_over_and_a_waiting_extract_superseded(app: sa.Engine) -> None:
    from datetime import timedelta

    first = jobs.create_job(app, {})
    jobs.start_job(app, first, now=jobs.utcnow() - timedelta(hours=2))
    second = jobs.create_job(app, {})
    jobs.start_job(app, second)
    with pytest.raises(jobs.ImportLockLost):
        jobs.heartbeat(app, first)
    jobs.mark_staged(app, second, {})
    third = jobs.create_job(app, {})
    jobs.start_job(app, third)
    with app.connect() as conn:
        assert jobs.job_row(conn, first)["error_message"].startswith("abandoned")
        assert jobs.job_row(conn, second)["error_message"].startswith("superseded")
        assert jobs.running_job_id(conn) == third
        statuses = dict(conn.execute(sa.select(product_import_jobs.c.id, product_import_jobs.c.status)).all())
    assert statuses == {first: "failed", second: "failed", third: "running"}


@pytest.mark.parametrize(
    ("current", "params", "last", "expected"),
    [
        (10, {"resume_from_last": True}, 25, 25),
        (10, {"resume_from_last": True}, 10, 10),
        (30, {"resume_from_last": False, "start_after_id": 5}, 20, 30),  # never backwards
        (10, {"resume_from_last": False, "start_after_id": 5}, 20, 20),
        (10, {"resume_from_last": False, "start_after_id": 50}, 80, 10),  # a gap stays unread
    ],
)
def test_next_cursor(current: int, params: dict[str, Any], last: int, expected: int) -> None:
    assert next_cursor(current, params, last) == expected


def test_two_imports_racing_for_the_guard_let_exactly_one_through(app_db_url: str) -> None:
    import threading

    engines = [make_engine(app_db_url) for _ in range(4)]
    create_all(engines[0])
    job_ids = [jobs.create_job(engines[0], {}) for _ in engines]
    barrier = threading.Barrier(len(engines))
    outcomes: dict[int, str] = {}

    def contend(engine: sa.Engine, job_id: int) -> None:
        barrier.wait()
        try:
            jobs.start_job(engine, job_id)
            outcomes[job_id] = "won"
        except jobs.ImportAlreadyRunning:
            outcomes[job_id] = "refused"

    threads = [threading.Thread(target=contend, args=pair) for pair in zip(engines, job_ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)  # a bound against hanging; the outcome, not the time, is asserted
    assert not any(thread.is_alive() for thread in threads), "a contender never got an answer"
    for engine in engines:
        engine.dispose()
    assert sorted(outcomes.values()) == ["refused"] * (len(engines) - 1) + ["won"]
    winner = next(job for job, outcome in outcomes.items() if outcome == "won")
    engine = make_engine(app_db_url)
    with engine.connect() as conn:
        assert jobs.running_job_id(conn) == winner
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mariadb", marks=pytest.mark.mariadb)])
def upgraded_db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The app DB for the upgrade test: SQLite and PostgreSQL (the supported app DBs), and MariaDB,
    whose branch of the upgrade exists for MySQL-family app DBs although the app is not run there."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sync.db'}"
    fixture = {"postgres": "postgres_url", "mariadb": "mariadb_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


def test_an_app_db_with_the_old_variant_key_is_upgraded(upgraded_db_url: str) -> None:
    """catalog_variants used to be unique by SKU alone, without ``problem``; create_all moves it to
    (parent, SKU) and adds the column, keeping rows."""
    engine = make_engine(upgraded_db_url)
    try:
        old = sa.MetaData()
        sa.Table("catalog_variants", old, *[c._copy() for c in catalog_variants.columns
                                            if c.name not in ("sku", "problem")],
                 sa.Column("sku", sa.String(64), unique=True))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS catalog_variants"))
        old.create_all(engine)
        row = {"sku": "KID", "parent_sku": "P1", "source_id": 2, "stock_qty": 1, "is_active": True, "options": {},
               "position": 0}
        with engine.begin() as conn:
            conn.execute(sa.insert(old.tables["catalog_variants"]), [row])
        create_all(engine)
        create_all(engine)  # a second call finds nothing to upgrade
        with engine.begin() as conn:
            conn.execute(sa.insert(catalog_variants), [dict(row, parent_sku="P2")])
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                conn.execute(sa.insert(catalog_variants), [dict(row, parent_sku="P2")])
            parents = sorted(conn.execute(sa.select(catalog_variants.c.parent_sku)).scalars())
            problems = set(conn.execute(sa.select(catalog_variants.c.problem)).scalars())
        assert parents == ["P1", "P2"] and problems == {None}
    finally:
        engine.dispose()
