"""Both Dagster instance files: retries only for runs that died, run monitoring on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.embedded.yaml"])
def test_run_retries_skip_failures_a_retry_cannot_fix(name: str) -> None:
    retries = yaml.safe_load((ROOT / name).read_text())["run_retries"]
    assert retries["enabled"] is True and retries["retry_on_asset_or_op_failure"] is False


@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.embedded.yaml"])
def test_run_monitoring_is_on_and_the_file_passes_dagsters_schema(name: str, tmp_path: Path) -> None:
    from dagster._core.instance.config import dagster_instance_config

    (tmp_path / "dagster.yaml").write_text((ROOT / name).read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert monitoring["start_timeout_seconds"] > 0 and monitoring["cancel_timeout_seconds"] > 0
