"""Progress notes every 1,000 products or 5 seconds, whichever comes first."""

from __future__ import annotations

from sync_pipeline.catalog.progress import ImportMetrics, Progress, ProgressReporter
from sync_pipeline.magento.records import RejectedRow


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reports_every_thousand_products_and_every_five_seconds() -> None:
    clock = FakeClock()
    notes: list[Progress] = []
    reporter = ProgressReporter("load", notes.append, clock=clock)
    metrics = ImportMetrics()
    reporter.advance(500, metrics)
    assert notes == []
    reporter.advance(500, metrics)
    assert [n.done for n in notes] == [1000]
    clock.now = 5.5
    reporter.advance(10, metrics)
    assert [n.done for n in notes] == [1000, 1010]
    assert "load: 1010 products" in notes[-1].describe()


def test_metrics_keep_the_first_twenty_rejections_and_round_trip() -> None:
    metrics = ImportMetrics(total_found=30)
    for n in range(25):
        metrics.reject(RejectedRow(n, f"S{n}", "no price"))
    data = metrics.as_json()
    assert data["errors_count"] == 25 and data["skipped"] == 0  # bad rows are errors, not skipped ones
    assert len(data["skipped_rows"]) == 20
    again = ImportMetrics.from_json(data | {"extra": "ignored"})
    assert again == metrics
