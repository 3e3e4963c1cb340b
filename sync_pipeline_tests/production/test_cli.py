"""The CLI and remote helper without a server: input checks, state names, an unreachable webserver."""

from __future__ import annotations

import socket

import pytest
from dagster import DagsterRunStatus

from sync_pipeline import cli
from sync_pipeline.remote import STATES, manual_sync_run_config, status_name


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_dagster_run_status_has_one_of_the_four_seed_states() -> None:
    assert {status_name(s) for s in DagsterRunStatus} == {"queued", "running", "completed", "failed"}
    assert set(STATES) == set(DagsterRunStatus)
    assert (status_name(DagsterRunStatus.QUEUED), status_name(DagsterRunStatus.STARTED),
            status_name(DagsterRunStatus.SUCCESS), status_name(DagsterRunStatus.CANCELED)) == (
        "queued", "running", "completed", "failed")


def test_manual_sync_config_names_skus_and_either_stores_or_platforms() -> None:
    assert manual_sync_run_config(["A", "B"], stores=["shopify-us"]) == {
        "ops": {"manual_sync_push": {"config": {"skus": ["A", "B"], "stores": ["shopify-us"]}}}}
    assert manual_sync_run_config(["A"], platforms=["tiktok"])["ops"]["manual_sync_push"]["config"]["platforms"] == [
        "tiktok"]
    with pytest.raises(ValueError, match="SKU"):
        manual_sync_run_config([], stores=["x"])
    with pytest.raises(ValueError, match="either"):
        manual_sync_run_config(["A"])


def test_an_unreachable_webserver_is_a_short_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--port", str(_closed_port()), "push", "shopify-us"]) == 2
    err = capsys.readouterr().err
    assert "did not answer" in err and "query" not in err


def test_no_resume_without_a_start_id_is_refused_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--port", str(_closed_port()), "import", "--no-resume"]) == 2
    assert "--start-after-id" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "reason"), [
    (["import", "--limit", "1001"], "less than or equal to 1000"),
    (["import", "--limit", "0"], "greater than or equal to 1"),
    (["import", "--start-after-id", "5"], "--start-after-id needs --no-resume"),
    (["import", "--no-resume", "--start-after-id", "-1"], "start_after_id"),
])
def test_import_settings_the_job_would_refuse_exit_2_before_any_call(
        argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A closed port: reaching the webserver would print "did not answer" instead of the reason.
    assert cli.main(["--port", str(_closed_port()), *argv]) == 2
    err = capsys.readouterr().err
    assert reason in err and "did not answer" not in err
