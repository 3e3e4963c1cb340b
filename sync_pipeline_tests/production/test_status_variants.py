"""Children a configurable is sold without (bad in Magento) are shown with their reason by the
product report (``product_status``'s CSV) and by ``sync-pipeline status SKU``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from sync_pipeline import cli
from sync_pipeline.catalog import jobs
from sync_pipeline.catalog.load import load_staged
from sync_pipeline.catalog.staging import stage_chunk
from sync_pipeline.catalog.tables import catalog_variants
from sync_pipeline.db import create_all, make_engine
from sync_pipeline.status.report import product_states, write_csv
from sync_pipeline.stores import load_stores
from sync_pipeline_tests.catalog.builders import child, configurable, simple


@pytest.fixture
def app(app_db_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("SYNC_DB_URL", app_db_url)
    engine = make_engine(app_db_url)
    create_all(engine)
    shirt = configurable(50, (child(51, "Blue", "M"), child(52, "Red", "M", price=None, problem="no price"),
                              child(53, "Red", "L", is_enabled=False, problem="disabled")))
    job_id = jobs.create_job(engine, {"resume_from_last": True, "limit": None})
    jobs.start_job(engine, job_id)
    with engine.begin() as conn:
        stage_chunk(conn, job_id, [shirt, simple(60)], [], [])
    jobs.mark_staged(engine, job_id, {"last_processed_source_id": 60})
    assert load_staged(engine) is not None
    yield engine
    engine.dispose()


def test_the_report_names_each_child_left_out_with_its_reason(app: sa.Engine) -> None:
    with app.connect() as conn:
        problems = dict(conn.execute(sa.select(catalog_variants.c.sku, catalog_variants.c.problem)
                                     .where(catalog_variants.c.parent_sku == "SKU-50")).tuples().all())
    assert problems == {"SKU-51": None, "SKU-52": "no price", "SKU-53": "disabled"}
    stores = load_stores().stores
    shirt, plain = product_states(app, stores, ["SKU-50", "SKU-60"])
    assert shirt.variants_left_out == (("SKU-52", "no price"), ("SKU-53", "disabled"))
    assert plain.variants_left_out == ()
    out = io.StringIO()
    write_csv([shirt, plain], [s.key for s in stores], out)
    rows = {row["sku"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["SKU-50"]["variants_left_out"] == "SKU-52 (no price); SKU-53 (disabled)"
    assert rows["SKU-60"]["variants_left_out"] == ""


def test_the_status_command_shows_the_children_left_out(app: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "SKU-50"]) == 0
    out = capsys.readouterr().out
    assert "variants left out (Magento cannot sell them): SKU-52 (no price); SKU-53 (disabled)" in out
    assert cli.main(["status", "SKU-60"]) == 0
    assert "variants left out" not in capsys.readouterr().out
    assert cli.main(["--json", "status", "SKU-50"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["variants_left_out"] == [["SKU-52", "no price"], ["SKU-53", "disabled"]]
