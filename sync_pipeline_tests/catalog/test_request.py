"""Import settings: the manual job's defaults and limits, and the clear errors for bad settings."""

from __future__ import annotations

import pytest

from sync_pipeline.catalog.request import ImportRequest, InvalidImportRequest


def test_manual_defaults_to_a_page_of_100_after_the_cursor() -> None:
    request = ImportRequest.from_settings(manual=True)
    assert (request.limit, request.resume_from_last, request.start_after_id) == (100, True, None)


def test_graph_materialization_reads_everything_due() -> None:
    assert ImportRequest.from_settings(manual=False).limit is None
    assert ImportRequest.everything_due().as_params()["mode"] == "everything_due"


def test_explicit_start_point() -> None:
    request = ImportRequest.from_settings(limit=1000, resume_from_last=False, start_after_id=0, manual=True)
    assert request.as_params() == {"limit": 1000, "resume_from_last": False, "start_after_id": 0, "mode": "manual"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"limit": 1001}, "limit: Input should be less than or equal to 1000"),
        ({"resume_from_last": False}, "start_after_id is required when resume_from_last is false"),
        ({"start_after_id": 5}, "start_after_id is only used when resume_from_last is false"),
        ({"resume_from_last": False, "start_after_id": -1}, "start_after_id: Input should be greater than or equal to 0"),
    ],
)
def test_bad_settings_are_refused_clearly(settings: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidImportRequest) as raised:
        ImportRequest.from_settings(**settings, manual=True)  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert str(raised.value).startswith("invalid import settings: ")
