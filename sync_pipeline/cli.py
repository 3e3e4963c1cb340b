"""``sync-pipeline``: start and watch the pipeline's runs from a shell, through the Dagster webserver.

    sync-pipeline import --limit 500 --wait
    sync-pipeline import --no-resume --start-after-id 12000
    sync-pipeline push shopify-us          # or: push all; --watch for live progress bars
    sync-pipeline manual-sync --skus MH01,MH02 --stores shopify-us,tiktok-us
    sync-pipeline status RUN_ID            # queued / running / completed / failed, with metrics
    sync-pipeline wait RUN_ID --timeout 900
    sync-pipeline status SKU               # one product across every store (reads the app DB)
    sync-pipeline status --search "yoga"
    sync-pipeline log MH01 --since 2h      # and: dead-letters, rollback STORE RUN_ID (cli_owner.py)

The webserver is ``--host``/``--port`` (or ``SYNC_DAGSTER_HOST`` / ``SYNC_DAGSTER_PORT``; default
127.0.0.1:3000, where ``make ui`` serves), or ``--url`` (``SYNC_DAGSTER_URL``) for the authenticating
proxy in front of it in production, e.g. ``https://dagster.example.com``. Credentials come from the
environment only: ``SYNC_DAGSTER_USER`` + ``SYNC_DAGSTER_PASSWORD``, or ``SYNC_DAGSTER_TOKEN``; the CA
that signed the proxy's certificate from ``--ca-bundle`` (``SYNC_DAGSTER_CA_BUNDLE``). Exit status:
0 completed, 1 failed, 2 bad input, unreachable or refused (401/403, read-only webserver), 3 still
running when ``--timeout`` passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sync_pipeline import cli_owner
from sync_pipeline.catalog.request import ImportRequest
from sync_pipeline.names import MANUAL_IMPORT_JOB
from sync_pipeline.remote import (
    ENV_CA_BUNDLE,
    ENV_URL,
    Credentials,
    RemoteAuthError,
    RemoteError,
    RemotePipeline,
    RunStatus,
    manual_sync_run_config,
)

RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EXIT_COMPLETED, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except RemoteAuthError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RemoteError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TimeoutError as exc:
        print(f"timeout: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync-pipeline", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--host", default=os.environ.get("SYNC_DAGSTER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SYNC_DAGSTER_PORT", "3000")))
    parser.add_argument("--url", default=os.environ.get(ENV_URL) or None,
                        help=f"the webserver or its proxy, e.g. https://dagster.example.com (${ENV_URL}); "
                             "overrides --host/--port")
    parser.add_argument("--ca-bundle", default=os.environ.get(ENV_CA_BUNDLE) or None,
                        help=f"CA file that signed the proxy's TLS certificate (${ENV_CA_BUNDLE})")
    parser.add_argument("--location", default=None, help="code location name (found automatically)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--in-process", action="store_true",
                        help="run all steps of each started run in one process (faster for small runs)")
    commands = parser.add_subparsers(dest="command", required=True)

    imp = commands.add_parser("import", help=f"import new Magento products (the {MANUAL_IMPORT_JOB} job)")
    imp.add_argument("--limit", type=int, default=None, help="at most this many products (default 100, max 1000)")
    imp.add_argument("--no-resume", dest="resume_from_last", action="store_false",
                     help="ignore the saved cursor (then --start-after-id is required)")
    imp.add_argument("--start-after-id", type=int, default=None)
    _add_wait_flags(imp)
    cli_owner.add_watch_flag(imp)
    imp.set_defaults(handler=_import)

    push = commands.add_parser("push", help="build and push one store's listings, or every store's")
    push.add_argument("store", help="a store key from the stores file, or 'all'")
    _add_wait_flags(push)
    cli_owner.add_push_flags(push)
    push.set_defaults(handler=_push)

    manual = commands.add_parser("manual-sync", help="push chosen SKUs to chosen stores now")
    manual.add_argument("--skus", required=True, help="comma-separated SKUs")
    target = manual.add_mutually_exclusive_group(required=True)
    target.add_argument("--stores", help="comma-separated store keys")
    target.add_argument("--platforms", help="comma-separated platforms (shopify, shopee, tiktok)")
    _add_wait_flags(manual)
    cli_owner.add_manual_sync_flags(manual)
    manual.set_defaults(handler=_manual_sync)

    status = commands.add_parser("status", help="a run's state and metrics, or a product's state per store")
    status.add_argument("subject", nargs="?", help="a run id or a SKU")
    status.add_argument("--search", help="products whose SKU or title contains this text")
    status.add_argument("--limit", type=int, default=20, help="at most this many products for --search")
    cli_owner.add_json_flag(status)
    status.set_defaults(handler=_status)

    wait = commands.add_parser("wait", help="wait for a run to finish")
    wait.add_argument("run_id")
    wait.add_argument("--timeout", type=float, default=900.0)
    wait.set_defaults(handler=_wait)
    cli_owner.add_owner_commands(commands, _add_wait_flags, _pipeline, _started)
    return parser


def _add_wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="wait until the run(s) finished")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most")


def _pipeline(args: argparse.Namespace) -> RemotePipeline:
    options: dict[str, Any] = {"location": args.location, "in_process": args.in_process,
                               "credentials": Credentials.from_env(), "ca_bundle": args.ca_bundle}
    if args.url:
        return RemotePipeline.from_url(args.url, **options)
    return RemotePipeline.connect(args.host, args.port, **options)


# --- commands ------------------------------------------------------------------------------------


def _import(args: argparse.Namespace) -> int:
    if not args.resume_from_last and args.start_after_id is None:
        raise ValueError("--no-resume needs --start-after-id")
    if args.resume_from_last and args.start_after_id is not None:
        raise ValueError("--start-after-id needs --no-resume (otherwise the saved cursor is used)")
    # The job's own rules, checked before launching: a run that can only fail is never started.
    ImportRequest.from_settings(args.limit, args.resume_from_last, args.start_after_id, manual=True)
    pipeline = _pipeline(args)
    run_id = pipeline.start_import(args.limit, args.resume_from_last, args.start_after_id)
    return _started(args, pipeline, {"import": run_id})


def _push(args: argparse.Namespace) -> int:
    run_config = cli_owner.push_run_config(args)
    pipeline = _pipeline(args)
    if args.store == "all":
        from sync_pipeline.stores import load_stores

        runs = cli_owner.start_pushes(pipeline, load_stores().keys(), run_config)
    else:
        runs = cli_owner.start_pushes(pipeline, [args.store], run_config)
    return _started(args, pipeline, runs)


def _manual_sync(args: argparse.Namespace) -> int:
    skus = _split(args.skus)
    config = cli_owner.with_force(
        manual_sync_run_config(skus, stores=_split(args.stores), platforms=_split(args.platforms)), args.force)
    pipeline = _pipeline(args)
    return _started(args, pipeline, {"manual-sync": pipeline.start_manual_sync(config)})


def _status(args: argparse.Namespace) -> int:
    if args.search is not None or (args.subject and not RUN_ID.match(args.subject)):
        from sync_pipeline.status.cli import print_product_status

        code: int = print_product_status(sku=args.subject, search=args.search, limit=args.limit, as_json=args.json)
        return code
    if not args.subject:
        raise ValueError("give a run id, a SKU or --search TEXT")
    from sync_pipeline.run_figures import with_live_figures

    pipeline = _pipeline(args)
    current = with_live_figures(pipeline, pipeline.status(args.subject))
    _print_status(args, current)
    return _exit_code([current])


def _wait(args: argparse.Namespace) -> int:
    final = _pipeline(args).wait(args.run_id, timeout=args.timeout, on_change=_progress_printer(args))
    _print_status(args, final)
    return _exit_code([final])


# --- output --------------------------------------------------------------------------------------


def _started(args: argparse.Namespace, pipeline: RemotePipeline, runs: dict[str, str]) -> int:
    if getattr(args, "watch", False):
        return cli_owner.watch_runs(args, pipeline, runs)
    if not args.wait:
        if args.json:
            print(json.dumps(runs))
        else:
            for name, run_id in runs.items():
                print(f"{name}: {run_id}")
        return EXIT_COMPLETED
    finals = pipeline.wait_all(list(runs.values()), timeout=args.timeout)
    for final in finals:
        _print_status(args, final)
    return _exit_code(finals)


def _progress_printer(args: argparse.Namespace) -> Callable[[RunStatus], None] | None:
    if args.json:
        return None
    return lambda current: print(f"{current.run_id}: {current.state}", file=sys.stderr)


def _print_status(args: argparse.Namespace, current: RunStatus) -> None:
    if args.json:
        print(json.dumps(current.as_dict(), default=str))
        return
    where = f" [{current.partition}]" if current.partition else ""
    print(f"{current.run_id}  {current.job}{where}  {current.state} ({current.dagster_status})")
    for asset, values in current.metrics.items():
        figures = ", ".join(f"{k}={v}" for k, v in values.items() if _is_figure(v))
        print(f"  {asset}: {figures or 'no figures'}")


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exit_code(finals: Sequence[RunStatus]) -> int:
    return EXIT_FAILED if any(f.state == "failed" for f in finals) else EXIT_COMPLETED


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


if __name__ == "__main__":
    sys.exit(main())
