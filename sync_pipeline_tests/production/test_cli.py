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


def test_owner_command_run_configs() -> None:
    from sync_pipeline import cli_owner

    args = cli._parser().parse_args(["push", "shopify-us", "--max-products", "2", "--skus", "A, B"])
    assert cli_owner.push_run_config(args) == {"ops": {"store_push": {"config": {"max_products": 2, "skus": ["A", "B"]}}}}
    assert cli_owner.push_run_config(cli._parser().parse_args(["push", "all"])) is None  # the stores' defaults
    assert cli_owner.rollback_run_config("tiktok-us", "r-1") == {
        "ops": {"rollback_push_run": {"config": {"store": "tiktok-us", "run_id": "r-1"}}}}
    forced = cli_owner.with_force(manual_sync_run_config(["A"], stores=["shopify-us"]), True)
    assert forced["ops"]["manual_sync_push"]["config"]["force"] is True
    assert "force" not in cli_owner.with_force(manual_sync_run_config(["A"], stores=["x"]), False)["ops"][
        "manual_sync_push"]["config"]


def test_owner_commands_refuse_bad_input_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    port = str(_closed_port())
    assert cli.main(["--port", port, "push", "shopify-us", "--max-products", "-1"]) == 2
    assert "--max-products" in capsys.readouterr().err
    assert cli.main(["--port", port, "push", "shopify-us", "--skus", " , "]) == 2  # not a push of everything
    assert "--skus names no SKU" in capsys.readouterr().err
    assert cli.main(["--port", port, "rollback", "no-such-store", "0" * 8]) == 2
    assert "no store with key 'no-such-store'" in capsys.readouterr().err
    assert cli.main(["--port", port, "rollback", "shopify-us", "some-run"]) == 2
    assert "did not answer" in capsys.readouterr().err  # the store is known: the webserver is asked


def test_watch_summary_names_every_store_with_its_figures() -> None:
    import io

    from rich.console import Console

    from sync_pipeline.cli_watch import Watched, summary_table
    from sync_pipeline.remote import RunStatus
    from sync_pipeline.run_figures import FigureReader

    watched = []
    for n, store in enumerate(("shopify-us", "shopify-eu", "shopee-sg", "tiktok-us")):
        w = Watched(store, f"{n}1234567-aaaa-bbbb-cccc-dddddddddddd", FigureReader(None, "x"))  # type: ignore[arg-type]
        w.reader.figures[f"store_push/{store}"] = {"done": 10, "total": 45, "created": 10}  # mid-run observation
        w.status = RunStatus(run_id=w.run_id, job="store_sync", state="failed" if n == 3 else "completed",
                             dagster_status="SUCCESS", metrics={f"store_push/{store}": {
                                 "created": 45 - n, "updated": 0, "delisted": 0, "unchanged": 0, "errors": n}})
        watched.append(w)
    console = Console(file=io.StringIO(), width=80)
    console.print(summary_table(watched))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    header = next(line.split() for line in lines if "created" in line)
    assert header == ["run", "state", "created", "updated", "delisted", "unchanged", "errors"]
    assert "tiktok-us 31234567-aaaa-bbbb-cccc-dddddddddddd" in " ".join(" ".join(lines).split())
    rows = {line.split()[0]: line.split() for line in lines if line.split() and line.split()[0].count("-") == 1}
    assert set(rows) == {"shopify-us", "shopify-eu", "shopee-sg", "tiktok-us"}
    assert rows["tiktok-us"][1:3] == ["failed", "42"] and rows["tiktok-us"][6] == "3"  # final figures win
