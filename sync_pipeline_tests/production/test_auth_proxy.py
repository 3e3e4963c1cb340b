"""Only the owner can launch: the real nginx (deploy/proxy/nginx-dagster.conf) in front of real
webservers, one full and one read-only, with TLS from a certificate made here and basic-auth users.

nginx runs in the foreground as a child of the test, on free loopback ports with a temp prefix, and is
killed at the end. Without nginx the test is skipped locally and fails in CI (``.ci/run`` installs it).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from sync_pipeline_tests.bounds import CALL_BOUND_S
from sync_pipeline_tests.conftest import IN_CI
from sync_pipeline_tests.production.harness import BIN, ROOT, Deployment, deployment, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dagster_processes")]

PROXY = ROOT / "deploy" / "proxy"
OWNER, OWNER_PASSWORD = "owner", "correct horse battery staple 17"
WATCHER, WATCHER_PASSWORD = "watcher", "only-looking-42"
TOKEN = "tok_" + "5f" * 24

# A launch of the import job, as the UI or any script would send it.
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on UnauthorizedError { message } }
}
"""
LAUNCH_PARAMS = {"params": {"selector": {"repositoryLocationName": "sync_pipeline",
                                         "repositoryName": "__repository__", "jobName": "magento_import"},
                            "runConfigData": {}}}
RUN_IDS = "{ runsOrError { __typename ... on Runs { results { runId tags { key value } } } } }"


def _require(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found:
        return found
    message = f"{program} is not installed (apt-get install nginx-light openssl)"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it (.ci/run installs it)", pytrace=False)
    pytest.skip(message)


@dataclass
class Proxy:
    owners_url: str
    watchers_url: str
    ca_file: Path
    root: Path

    def log(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.root.glob("*.log")))


def _render(text: str, replacements: dict[str, str]) -> str:
    # Every value the test swaps must be in the deployed file: if the file changes shape, this fails
    # instead of quietly testing some other configuration.
    for old, new in replacements.items():
        assert old in text, f"deploy/proxy/nginx-dagster.conf no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def _htpasswd(openssl: str, user: str, password: str) -> str:
    # SHA-512 crypt, read from stdin so the password never appears in a process list.
    hashed = subprocess.run([openssl, "passwd", "-6", "-stdin"], input=password, capture_output=True,
                            text=True, check=True).stdout.strip()
    return f"{user}:{hashed}\n"


@contextmanager
def nginx_proxy(root: Path, webserver_port: int, read_only_port: int) -> Iterator[Proxy]:
    nginx, openssl = _require("nginx"), _require("openssl")
    conf = root / "dagster"
    conf.mkdir(parents=True)
    cert, key = root / "proxy.pem", root / "proxy.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    (conf / "owners.htpasswd").write_text(_htpasswd(openssl, OWNER, OWNER_PASSWORD))
    # Owners may watch too: the read-only door must refuse their launches as well.
    (conf / "watchers.htpasswd").write_text(_htpasswd(openssl, WATCHER, WATCHER_PASSWORD)
                                            + _htpasswd(openssl, OWNER, OWNER_PASSWORD))
    (conf / "owner-tokens.map").write_text(f'"Bearer {TOKEN}" off;\n')
    shutil.copy(PROXY / "proxy-headers.conf", conf / "proxy-headers.conf")
    http_port, owners_port, watchers_port = free_port(), free_port(), free_port()
    site = _render((PROXY / "nginx-dagster.conf").read_text(), {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{owners_port} ssl;",
        "listen [::]:443 ssl;": "",
        "listen 8443 ssl;": f"listen 127.0.0.1:{watchers_port} ssl;",
        "listen [::]:8443 ssl;": "",
        "/etc/ssl/certs/dagster.example.com.pem": str(cert),
        "/etc/ssl/private/dagster.example.com.key": str(key),
        "/etc/nginx/dagster/": f"{conf}/",
        "proxy_pass http://127.0.0.1:3000;": f"proxy_pass http://127.0.0.1:{webserver_port};",
        "proxy_pass http://127.0.0.1:3001;": f"proxy_pass http://127.0.0.1:{read_only_port};",
    })
    (root / "dagster-site.conf").write_text(site)
    temp = {name: root / "temp" / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True)
    # The wrapper Debian's /etc/nginx/nginx.conf would be; `user` only matters when run as root (CI),
    # where the workers would otherwise drop to an account that cannot read this temp directory.
    (root / "nginx.conf").write_text(f"""
user {getpass.getuser()};
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {root}/dagster-site.conf;
}}
""")
    argv = [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    proxy = Proxy(f"https://127.0.0.1:{owners_port}", f"https://127.0.0.1:{watchers_port}", cert, root)
    try:
        wait_until(lambda: _listening(process, owners_port) and _listening(process, watchers_port), 300,
                   "nginx to listen")
        yield proxy
    except BaseException:
        print(proxy.log())
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _listening(process: subprocess.Popen[bytes], port: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"nginx exited with {process.returncode}")
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _cli(deploy: Deployment, url: str, *args: str, env: dict[str, str] | None = None,
         ca_file: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in deploy.env.items() if not k.startswith("SYNC_DAGSTER_")}
    environment.update(env or {})
    if ca_file is not None:
        environment["SYNC_DAGSTER_CA_BUNDLE"] = str(ca_file)
    return subprocess.run([str(BIN / "sync-pipeline"), "--url", url, "--in-process", *args], capture_output=True,
                          text=True, timeout=timeout, env=environment, cwd=ROOT)


def _graphql(url: str, query: str, variables: dict[str, Any] | None = None, **options: Any) -> requests.Response:
    return requests.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=CALL_BOUND_S,
                         **options)


def _run_ids(deploy: Deployment) -> list[str]:
    """Runs launched by someone, read from the webserver itself on loopback, behind the proxy's back.
    Runs the daemon's own sensors request (product_status after an import or a push) are not launches."""
    runs = _graphql(deploy.url, RUN_IDS).json()["data"]["runsOrError"]["results"]
    return [run["runId"] for run in runs
            if not any(tag["key"].startswith(("dagster/sensor_name", "dagster/schedule_name", "dagster/auto_materialize",
                                              "dagster/from_automation_condition"))
                       for tag in run["tags"])]


def _no_secret(result: subprocess.CompletedProcess[str]) -> None:
    for secret in (OWNER_PASSWORD, WATCHER_PASSWORD, TOKEN):
        assert secret not in result.stdout + result.stderr


def test_only_credentialed_owners_launch_runs_through_the_proxy(tmp_path: Path) -> None:
    _require("nginx")
    with deployment(tmp_path / "dagster", ROOT / "dagster.embedded.yaml", products=20) as deploy:
        read_only_port = deploy.start_webserver(free_port(), read_only=True)
        with nginx_proxy(tmp_path / "proxy", deploy.port, read_only_port) as proxy:
            owners, watchers, ca = proxy.owners_url, proxy.watchers_url, proxy.ca_file

            # No credentials, or wrong ones: the proxy answers 401 and the webserver never sees the launch.
            refused = _graphql(owners, LAUNCH, LAUNCH_PARAMS, verify=str(ca))
            assert refused.status_code == 401, refused.text
            assert refused.headers["WWW-Authenticate"].startswith("Basic")
            wrong = _graphql(owners, LAUNCH, LAUNCH_PARAMS, verify=str(ca), auth=(OWNER, "guess"))
            assert wrong.status_code == 401
            watcher_at_owners_door = _graphql(owners, LAUNCH, LAUNCH_PARAMS, verify=str(ca),
                                              auth=(WATCHER, WATCHER_PASSWORD))
            assert watcher_at_owners_door.status_code == 401
            bad_token = _graphql(owners, LAUNCH, LAUNCH_PARAMS, verify=str(ca),
                                 headers={"Authorization": "Bearer not-the-token"})
            assert bad_token.status_code == 401
            assert _run_ids(deploy) == []

            # The CLI without credentials: one line, exit 2, nothing launched.
            anonymous = _cli(deploy, owners, "push", "shopify-us", ca_file=ca)
            assert anonymous.returncode == 2, anonymous.stdout + anonymous.stderr
            assert anonymous.stderr.count("\n") == 1 and "HTTP 401" in anonymous.stderr
            assert "SYNC_DAGSTER_USER" in anonymous.stderr and "Traceback" not in anonymous.stderr
            wrong_cli = _cli(deploy, owners, "push", "shopify-us", ca_file=ca,
                             env={"SYNC_DAGSTER_USER": OWNER, "SYNC_DAGSTER_PASSWORD": "guess"})
            assert wrong_cli.returncode == 2 and "were refused" in wrong_cli.stderr
            assert "guess" not in wrong_cli.stdout + wrong_cli.stderr
            assert _run_ids(deploy) == []

            # TLS is verified: without the CA that signed the proxy's certificate, nothing is sent.
            untrusted = _cli(deploy, owners, "push", "shopify-us",
                             env={"SYNC_DAGSTER_USER": OWNER, "SYNC_DAGSTER_PASSWORD": OWNER_PASSWORD})
            assert untrusted.returncode == 2 and "not trusted" in untrusted.stderr, untrusted.stderr
            _no_secret(untrusted)

            # The owner's credentials: an import, then the push, launched through the proxy and waited for.
            owner_env = {"SYNC_DAGSTER_USER": OWNER, "SYNC_DAGSTER_PASSWORD": OWNER_PASSWORD}
            imported = _cli(deploy, owners, "--json", "import", "--limit", "20", "--wait", env=owner_env, ca_file=ca)
            assert imported.returncode == 0, imported.stdout + imported.stderr
            import_run = json.loads(imported.stdout.strip().splitlines()[-1])
            assert import_run["metrics"]["catalog_products"]["inserted"] > 0
            pushed = _cli(deploy, owners, "--json", "push", "shopify-us", "--wait", env=owner_env, ca_file=ca)
            assert pushed.returncode == 0, pushed.stdout + pushed.stderr
            final = json.loads(pushed.stdout.strip().splitlines()[-1])
            assert final["state"] == "completed" and final["partition"] == "shopify-us"
            assert final["metrics"]["store_push/shopify-us"]["created"] > 0
            launched = sorted([import_run["run_id"], final["run_id"]])
            assert sorted(_run_ids(deploy)) == launched
            _no_secret(imported)
            _no_secret(pushed)

            # A machine's bearer token works at the owners' door too.
            by_token = _cli(deploy, owners, "status", final["run_id"], env={"SYNC_DAGSTER_TOKEN": TOKEN},
                            ca_file=ca)
            assert by_token.returncode == 0 and "completed" in by_token.stdout, by_token.stderr
            _no_secret(by_token)

            # The watchers' door: a login is needed there too, then runs can be read but not launched.
            assert _graphql(watchers, RUN_IDS, verify=str(ca)).status_code == 401
            watcher_env = {"SYNC_DAGSTER_USER": WATCHER, "SYNC_DAGSTER_PASSWORD": WATCHER_PASSWORD}
            watched = _cli(deploy, watchers, "status", final["run_id"], env=watcher_env, ca_file=ca)
            assert watched.returncode == 0 and "completed" in watched.stdout, watched.stderr
            launch = _graphql(watchers, LAUNCH, LAUNCH_PARAMS, verify=str(ca), auth=(WATCHER, WATCHER_PASSWORD))
            assert launch.status_code == 200
            assert launch.json()["data"]["launchRun"]["__typename"] == "UnauthorizedError"
            # Even the owner's credentials launch nothing there.
            read_only_push = _cli(deploy, watchers, "push", "shopify-us", env=owner_env, ca_file=ca)
            assert read_only_push.returncode == 2, read_only_push.stdout + read_only_push.stderr
            assert read_only_push.stderr.count("\n") == 1 and "read-only" in read_only_push.stderr
            _no_secret(read_only_push)
            assert sorted(_run_ids(deploy)) == launched
