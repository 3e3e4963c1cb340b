"""The deployment configs under deploy/ load, and keep the run queue of the repository's dagster.yaml.

Dagster validates the instance schema, run coordinator, PostgreSQL storage and the local executor
config against the real job; dagster-k8s (the ``deploy`` extra) validates the K8sRunLauncher and
k8s_job_executor configs with its own schemas; the Celery executor's settings are read back from
the executor and the workers' app (test_celery.py runs them). The Helm values are checked
structurally. deploy/README.md lists exactly which is which.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, execute_job, job, op, reconstructable
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_postgres import PostgresRunStorage

from sync_pipeline.defs.executors import in_process_by_default
from sync_pipeline_tests.production.harness import ROOT

DEPLOY = ROOT / "deploy"
MAIN = yaml.safe_load((ROOT / "dagster.yaml").read_text())
INSTANCES = [DEPLOY / "k8s" / "dagster.yaml", DEPLOY / "celery" / "dagster.yaml", ROOT / "dagster.yaml"]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_instance_files_pass_dagsters_instance_schema(path: Path, tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(path.read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_instance_files_keep_the_main_run_queue_storage_and_retries(path: Path) -> None:
    instance = _load(path)
    for section in ("run_coordinator", "run_retries", "storage"):
        assert instance[section] == MAIN[section], f"{path}: {section} differs from dagster.yaml"
    coordinator = instance["run_coordinator"]["config"]
    assert validate_config(QueuedRunCoordinator.config_type(), coordinator).success
    postgres = instance["storage"]["postgres"]
    assert validate_config(PostgresRunStorage.config_type(), postgres).success
    assert {lim["key"] for lim in coordinator["tag_concurrency_limits"]} == {"sync_pipeline/role", "dagster/partition"}


def test_the_embedded_instance_has_the_same_run_queue() -> None:
    embedded = _load(ROOT / "dagster.embedded.yaml")
    assert embedded["run_coordinator"] == MAIN["run_coordinator"]
    assert embedded["run_retries"] == MAIN["run_retries"]


def test_k8s_instance_passes_dagster_k8s_own_run_launcher_schema() -> None:
    launcher = _load(DEPLOY / "k8s" / "dagster.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    checked = validate_config(K8sRunLauncher.config_type(), launcher["config"])
    assert checked.success, [e.message for e in checked.errors or []]
    # The schema really judges: a misspelt key and a wrong type are refused.
    for bad in ({**launcher["config"], "job_namespaces": "dagster"}, {**launcher["config"], "env_secrets": "x"}):
        assert not validate_config(K8sRunLauncher.config_type(), bad).success


def test_celery_instance_uses_the_default_launcher_with_valid_config() -> None:
    launcher = _load(DEPLOY / "celery" / "dagster.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster.core.launcher", "DefaultRunLauncher")
    assert validate_config(DefaultRunLauncher.config_type(), launcher.get("config", {})).success


def test_celery_executor_and_workers_take_one_broker_and_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SYNC_EXECUTOR=celery: every job's executor reads broker and backend from the environment (no
    run config, so sensor- and schedule-started runs have them too), and the workers' app is built
    from the same values; test_celery.py runs both for real."""
    import importlib

    from dagster_celery.make_app import make_app

    import sync_pipeline.definitions
    from sync_pipeline.defs.executors import (
        BACKEND_ENV,
        BROKER_ENV,
        VISIBILITY_TIMEOUT_S,
        celery_app_args,
        celery_from_env,
    )

    monkeypatch.setenv("SYNC_EXECUTOR", "celery")
    monkeypatch.setenv(BROKER_ENV, "redis://127.0.0.1:6390/0")
    monkeypatch.setenv(BACKEND_ENV, "redis://127.0.0.1:6390/1")
    try:
        defs = importlib.reload(sync_pipeline.definitions).defs
    finally:
        monkeypatch.delenv("SYNC_EXECUTOR")
        importlib.reload(sync_pipeline.definitions)
    for name in ("catalog_sync", "store_sync", "magento_import", "manual_sync"):
        assert defs.resolve_job_def(name).executor_def.name == "celery_from_env", name
    resolved = defs.resolve_job_def("store_sync").executor_def.config_schema.resolve_config({})
    assert resolved.success, resolved.errors
    run_side = resolved.value["config"]  # type: ignore[index]
    assert (run_side["broker"], run_side["backend"]) == ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/1")
    worker = make_app(celery_app_args()).conf
    assert worker.broker_url == run_side["broker"] and worker.result_backend == run_side["backend"]
    for key, value in run_side["config_source"].items():
        assert worker[key] == value, key
    # A step is acknowledged when it ends: a busy worker takes no other, a dead one's step is sent again.
    assert worker.task_acks_late and worker.worker_prefetch_multiplier == 1 and worker.task_retry_on_worker_lost
    assert worker.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_S
    monkeypatch.delenv(BROKER_ENV)
    with pytest.raises(RuntimeError, match=BROKER_ENV):
        celery_from_env()


def test_k8s_executor_run_config_passes_dagster_k8s_own_executor_schema() -> None:
    k8s = _load(DEPLOY / "k8s" / "run_config.k8s_job_executor.yaml")["execution"]["config"]
    schema = k8s_job_executor.config_field.config_type  # type: ignore[union-attr]
    checked = validate_config(schema, k8s)
    assert checked.success, [e.message for e in checked.errors or []]
    assert k8s["max_concurrent"] >= 1
    assert not validate_config(schema, {**k8s, "max_concurrent": "four"}).success


def test_jobs_run_their_steps_in_the_run_process_by_default() -> None:
    from dagster._core.execution.api import create_execution_plan

    from sync_pipeline.definitions import defs

    for name in ("catalog_sync", "store_sync", "magento_import", "manual_sync"):
        assert defs.resolve_job_def(name).executor_def is in_process_by_default, name
    job = defs.resolve_job_def("store_sync")
    tags = {"dagster/partition": job.partitions_def.get_partition_keys()[0]} if job.partitions_def else {}
    # Unset, the executor's config resolves to in_process; the CLI's --in-process config and a
    # per-run multiprocess config stay valid.
    assert job.executor_def.config_field.default_value == {"in_process": {}}  # type: ignore[union-attr]
    for execution in ({"in_process": {}}, {"multiprocess": {"max_concurrent": 2}}):
        create_execution_plan(job, run_config={"execution": {"config": execution}}, tags=tags)


@op
def _first_pid() -> int:
    return os.getpid()


@op
def _second_pid(first: int) -> list[int]:
    return [first, os.getpid()]


@job(executor_def=in_process_by_default)
def _pids() -> None:
    _second_pid(_first_pid())


@pytest.mark.parametrize("execution", [None, {"multiprocess": {"max_concurrent": 1}}], ids=["default", "multiprocess"])
def test_the_default_executor_runs_every_step_in_the_run_process(execution: dict[str, Any] | None) -> None:
    """Executed for real on a persistent instance: by default both steps share the run's process;
    asked for multiprocess, each step gets a process of its own."""
    run_config = {"execution": {"config": execution}} if execution else {}
    with DagsterInstance.local_temp() as instance, \
            execute_job(reconstructable(_pids), instance=instance, run_config=run_config) as result:
        assert result.success
        first, second = result.output_for_node("_second_pid")
    if execution is None:
        assert first == second == os.getpid()
    else:
        assert len({first, second, os.getpid()}) == 3


def test_an_unknown_executor_name_fails_at_load_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    from sync_pipeline.defs.executors import executor_from_env

    monkeypatch.setenv("SYNC_EXECUTOR", "threads")
    with pytest.raises(ValueError, match="in_process, multiprocess, celery"):
        executor_from_env()


def test_multiprocess_run_config_is_valid_for_the_real_store_sync_job(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from dagster import multi_or_in_process_executor
    from dagster._core.execution.api import create_execution_plan

    import sync_pipeline.definitions

    monkeypatch.setenv("SYNC_EXECUTOR", "multiprocess")
    try:
        defs = importlib.reload(sync_pipeline.definitions).defs
        job = defs.resolve_job_def("store_sync")
    finally:
        monkeypatch.delenv("SYNC_EXECUTOR")
        importlib.reload(sync_pipeline.definitions)
    assert job.executor_def is multi_or_in_process_executor
    run_config = _load(DEPLOY / "local" / "run_config.multiprocess.yaml")
    partition = job.partitions_def.get_partition_keys()[0] if job.partitions_def else None
    tags = {"dagster/partition": partition} if partition else {}
    plan = create_execution_plan(job, run_config=run_config, tags=tags)
    assert {step.key for step in plan.steps} >= {"platform_listings", "store_push"}
    bad = {"execution": {"config": {"multiprocess": {"max_concurrent": "four"}}}}
    with pytest.raises(Exception, match="max_concurrent"):
        create_execution_plan(job, run_config=bad)


def test_helm_values_match_the_instance() -> None:
    values = _load(DEPLOY / "k8s" / "values.yaml")
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["enabled"] and queue["type"] == "QueuedRunCoordinator"
    helm_queue = queue["config"]["queuedRunCoordinator"]
    main_queue = MAIN["run_coordinator"]["config"]
    assert helm_queue["maxConcurrentRuns"] == main_queue["max_concurrent_runs"]
    assert helm_queue["dequeueIntervalSeconds"] == main_queue["dequeue_interval_seconds"]
    assert helm_queue["tagConcurrencyLimits"] == main_queue["tag_concurrency_limits"]
    retries = values["dagsterDaemon"]["runRetries"]
    assert (retries["enabled"], retries["maxRetries"]) == (MAIN["run_retries"]["enabled"],
                                                           MAIN["run_retries"]["max_retries"])
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert set(values["runLauncher"]["config"]["k8sRunLauncher"]) <= {
        "envSecrets", "envConfigMaps", "envVars", "imagePullPolicy", "runK8sConfig", "jobNamespace",
        "loadInclusterConfig", "kubeconfigFile", "volumeMounts", "volumes", "labels", "resources",
        "schedulerName", "securityContext", "failPodOnRunFailure", "image"}
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    assert "postgresqlPassword" not in values["postgresql"]  # from the secret, never in the file


def test_helm_user_deployment_serves_the_project_module() -> None:
    import importlib

    values = _load(DEPLOY / "k8s" / "values.yaml")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert module == "sync_pipeline.definitions"
    assert importlib.import_module(module).defs is not None
    assert {"name": "sync-pipeline-env"} in deployment["envSecrets"]
    assert {"name": "SYNC_AUTOMATION", "value": "on"} in deployment["env"]


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_deploy_file_holds_a_secret_value(path: Path) -> None:
    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and any(w in key.lower() for w in ("password", "token", "secret_key", "partner_key")):
            assert node == "" or node.endswith("-secret"), f"{path}: {key} has a value"

    walk(_load(path))


# --- authentication in front of the webserver (deploy/proxy, the image, the Kubernetes doors) ---------

PROXY = DEPLOY / "proxy"


def _servers(conf: str) -> list[str]:
    """The text of each top-level ``server { ... }`` block of an nginx file (comments dropped)."""
    text = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    blocks, depth, start = [], 0, None
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0 and text[max(0, i - 10):i].strip().endswith("server"):
                start = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and start is not None:
                blocks.append(text[start:i])
                start = None
    return blocks


def _exec_start(unit: str) -> list[str]:
    (line,) = [ln for ln in (PROXY / "systemd" / unit).read_text().splitlines() if ln.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=").split()


def test_the_proxy_asks_for_a_login_over_tls_on_every_door_to_a_webserver() -> None:
    servers = _servers((PROXY / "nginx-dagster.conf").read_text())
    assert len(servers) == 3
    plain = [s for s in servers if "ssl" not in s]
    doors = [s for s in servers if "ssl" in s]
    # Plain HTTP carries nothing but a redirect to HTTPS.
    (redirect,) = plain
    assert "return 301 https://" in redirect and "proxy_pass" not in redirect
    upstreams = set()
    for door in doors:
        assert "auth_basic " in door and "auth_basic_user_file" in door and "auth_basic off" not in door
        assert "ssl_certificate " in door and "ssl_protocols       TLSv1.2 TLSv1.3;" in door
        (target,) = [ln.split()[1].rstrip(";") for ln in door.splitlines() if ln.strip().startswith("proxy_pass")]
        assert target.startswith("http://127.0.0.1:"), "a webserver must be reached on loopback only"
        upstreams.add(target.rsplit(":", 1)[1])
    # The owners' door leads to the full webserver, the watchers' door to the read-only one (systemd units).
    full, read_only = _exec_start("dagster-webserver.service"), _exec_start("dagster-webserver-read-only.service")
    assert "--read-only" not in full and "--read-only" in read_only
    for argv in (full, read_only):
        assert argv[argv.index("-h") + 1] == "127.0.0.1"
    assert upstreams == {full[full.index("-p") + 1], read_only[read_only.index("-p") + 1]}
    owners = next(d for d in doors if f"127.0.0.1:{full[full.index('-p') + 1]}" in d)
    watchers = next(d for d in doors if d is not owners)
    assert "owners.htpasswd" in owners and "watchers.htpasswd" in watchers
    # The password or token stays at the proxy.
    assert 'proxy_set_header Authorization "";' in (PROXY / "proxy-headers.conf").read_text()


def test_kubernetes_reaches_both_webservers_only_through_ingresses_with_a_login() -> None:
    values = _load(DEPLOY / "k8s" / "values.yaml")
    assert values["dagsterWebserver"]["service"]["type"] == "ClusterIP"
    assert values["dagsterWebserver"]["enableReadOnly"] is True
    assert values["ingress"]["enabled"] is False
    secrets = set()
    for name, service in (("owners", "dagster-dagster-webserver"), ("watchers", "dagster-dagster-webserver-read-only")):
        ingress = _load(DEPLOY / "k8s" / f"ingress-{name}.yaml")
        notes = ingress["metadata"]["annotations"]
        assert notes["nginx.ingress.kubernetes.io/auth-type"] == "basic"
        assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true" and ingress["spec"]["tls"]
        secrets.add(notes["nginx.ingress.kubernetes.io/auth-secret"])
        (rule,) = ingress["spec"]["rules"]
        assert rule["http"]["paths"][0]["backend"]["service"]["name"] == service
    assert len(secrets) == 2, "watchers must not share the owners' password file"


def test_the_production_image_leaves_the_sandbox_out() -> None:
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    ignored = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().split()
    assert "sync_pipeline/sandbox" in ignored and "sync_pipeline_tests" in ignored
    assert "test ! -e sync_pipeline/sandbox" in dockerfile
    assert "find_spec('sync_pipeline.sandbox') is not None" in dockerfile
    # Nothing under deploy/ starts the sandbox or points at it.
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.name != "Dockerfile.dockerignore":
            text = path.read_text()
            assert "-m sync_pipeline.sandbox" not in text and "make sandbox" not in text, path
            assert "stores_demo" not in text and ":8765" not in text, path


def test_the_code_location_loads_without_the_sandbox(tmp_path: Path) -> None:
    # What the image's build step checks, here without Docker: import the definitions with the
    # sandbox package made unimportable.
    import subprocess
    import sys

    blocker = (
        "import importlib.abc, sys\n"
        "class NoSandbox(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sync_pipeline.sandbox' or name.startswith('sync_pipeline.sandbox.'):\n"
        "            raise ImportError('the sandbox is not in the production image')\n"
        "sys.meta_path.insert(0, NoSandbox())\n"
        "import sync_pipeline.definitions as d\n"
        "assert d.defs is not None\n"
        "assert not any(m.startswith('sync_pipeline.sandbox') for m in sys.modules)\n"
        "print('loaded')\n"
    )
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0 and "loaded" in result.stdout, result.stderr[-3000:]
