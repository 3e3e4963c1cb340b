"""The owner's commands of ``sync-pipeline`` (kept apart from ``cli.py`` so that each grows alone):

    sync-pipeline log MH01 [--since 2h]            # the sync log of a product (or --store KEY)
    sync-pipeline dead-letters [--store KEY]       # what still fails: class, attempts, last error
    sync-pipeline rollback shopify-us RUN_ID       # undo one push run on one store
    sync-pipeline push shopify-us --max-products 2 # the staged rollout: 2, then 10, then 50
    sync-pipeline push all --watch                 # live progress bars, then a summary per store
    sync-pipeline manual-sync --skus MH01 --stores shopify-us --force

``log`` and ``dead-letters`` read the app DB (``SYNC_DB_URL``) like ``status SKU``; the others
start runs through the webserver. Every one takes ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from sync_pipeline.names import STORE_PUSH, STORE_SYNC_JOB
from sync_pipeline.remote import RemotePipeline

ROLLBACK_JOB = "rollback_push"
EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND = 0, 2, 4

Started = Callable[[argparse.Namespace, RemotePipeline, dict[str, str]], int]
Connect = Callable[[argparse.Namespace], RemotePipeline]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """``--json`` after the command too (``sync-pipeline log MH01 --json``); SUPPRESS keeps the
    top-level ``sync-pipeline --json log MH01`` working."""
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON instead of text")


def add_owner_commands(commands: Any, add_wait_flags: Callable[[argparse.ArgumentParser], None],
                       connect: Connect, started: Started) -> None:
    log = commands.add_parser("log", help="the sync log (every store call) of a product or a store")
    log.add_argument("sku", nargs="?", help="a SKU (or use --store)")
    log.add_argument("--store", help="a store key: that store's calls (with a SKU: that SKU's on that store)")
    log.add_argument("--since", help="only calls since: a duration (30m, 2h, 7d) or an ISO time")
    log.add_argument("--limit", type=int, default=50, help="at most this many lines, the latest (default 50)")
    add_json_flag(log)
    log.set_defaults(handler=_log)

    letters = commands.add_parser("dead-letters", help="products whose push still fails after the retries")
    letters.add_argument("--store", help="one store's dead letters only")
    add_json_flag(letters)
    letters.set_defaults(handler=_dead_letters)

    rollback = commands.add_parser("rollback", help="undo one push run on one store (the rollback_push job)")
    rollback.add_argument("store", help="a store key")
    rollback.add_argument("run_id", help="the run id of the push to undo (`sync-pipeline push` prints it)")
    add_wait_flags(rollback)
    add_json_flag(rollback)
    rollback.set_defaults(handler=lambda args: _rollback(args, connect, started))


def add_watch_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--watch", action="store_true",
                        help="live progress bars until the run(s) finished, then a summary; exit as the worst run")


def watch_runs(args: argparse.Namespace, pipeline: RemotePipeline, runs: dict[str, str]) -> int:
    from sync_pipeline.cli_watch import watch

    code = watch(pipeline, runs, timeout=args.timeout)
    if args.json:
        for run_id in runs.values():
            print(json.dumps(pipeline.status(run_id).as_dict(), default=str))
    return code


def add_push_flags(push: argparse.ArgumentParser) -> None:
    add_watch_flag(push)
    push.add_argument("--max-products", type=int, default=None,
                      help="staged rollout: at most this many creates/updates/delists (2, then 10, then 50)")
    push.add_argument("--skus", default=None, help="comma-separated SKUs: push only these")
    add_json_flag(push)


def add_manual_sync_flags(manual: argparse.ArgumentParser) -> None:
    manual.add_argument("--force", action="store_true",
                        help="send the products in full even when nothing changed (after an edit on the store)")
    add_json_flag(manual)


def push_run_config(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``store_sync`` run config for ``push``'s flags (None: the store's defaults)."""
    settings: dict[str, Any] = {}
    if getattr(args, "max_products", None) is not None:
        if args.max_products < 0:
            raise ValueError("--max-products must be 0 or more")
        settings["max_products"] = args.max_products
    if getattr(args, "skus", None) is not None:
        settings["skus"] = [s.strip() for s in args.skus.split(",") if s.strip()]
        if not settings["skus"]:  # an empty list would push the whole store
            raise ValueError("--skus names no SKU (leave it out to push every product)")
    return {"ops": {STORE_PUSH: {"config": settings}}} if settings else None


def start_pushes(pipeline: RemotePipeline, stores: list[str], run_config: dict[str, Any] | None) -> dict[str, str]:
    """One ``store_sync`` run per store, each with the same flags."""
    if run_config is None:
        return pipeline.start_push_all(stores)
    return {store: pipeline.start_job(STORE_SYNC_JOB, run_config, partition=store) for store in stores}


def with_force(run_config: dict[str, Any], force: bool) -> dict[str, Any]:
    if force:
        run_config["ops"]["manual_sync_push"]["config"]["force"] = True
    return run_config


def rollback_run_config(store: str, run_id: str) -> dict[str, Any]:
    return {"ops": {"rollback_push_run": {"config": {"store": store, "run_id": run_id}}}}


# --- handlers ------------------------------------------------------------------------------------


def _rollback(args: argparse.Namespace, connect: Connect, started: Started) -> int:
    from sync_pipeline.stores import load_stores

    load_stores().by_key(args.store)  # an unknown store is refused before any call
    pipeline = connect(args)
    run_id = pipeline.start_job(ROLLBACK_JOB, rollback_run_config(args.store, args.run_id))
    return started(args, pipeline, {f"rollback {args.store}": run_id})


def _log(args: argparse.Namespace) -> int:
    from sync_pipeline.status.owner import parse_since, sync_log

    if args.sku is None and args.store is None:
        raise ValueError("give a SKU or --store KEY")
    if args.store is not None:
        _known_store(args.store)
    since = parse_since(args.since)
    with _app_engine() as engine:
        lines = sync_log(engine, sku=args.sku, store=args.store, since=since, limit=args.limit)
    if args.json:
        print(json.dumps([line.as_dict() for line in lines], default=str, indent=2))
    for line in lines if not args.json else ():
        print(line.text())
    if not lines:
        what = " ".join(filter(None, [args.sku and f"SKU {args.sku!r}", args.store and f"store {args.store!r}"]))
        print(f"no sync log lines for {what}" + (f" since {since:%Y-%m-%d %H:%M}" if since else ""), file=sys.stderr)
        return EXIT_NOT_FOUND
    return EXIT_OK


def _dead_letters(args: argparse.Namespace) -> int:
    from sync_pipeline.status.owner import dead_letters

    if args.store is not None:
        _known_store(args.store)
    with _app_engine() as engine:
        letters = dead_letters(engine, args.store)
    if args.json:
        print(json.dumps(letters, default=str, indent=2))
        return EXIT_OK
    if not letters:
        print("no dead letters" + (f" on {args.store}" if args.store else ""))
        return EXIT_OK
    head = f"{'store':<12} {'sku':<16} {'action':<15} {'class':<16} {'attempts':>8}  {'last failed':<19}  last error"
    print(head + "\n" + "-" * len(head))
    for letter in letters:
        last = letter["last_failed_at"]
        when = last.isoformat(sep=" ", timespec="seconds") if hasattr(last, "isoformat") else str(last)
        message = " ".join(str(letter["message"]).split())[:120]
        print(f"{letter['store_key']:<12} {letter['sku']:<16} {letter['action']:<15} {letter['error_class']:<16} "
              f"{letter['attempts']:>8}  {when:<19}  {message}")
    print(f"\n{len(letters)} dead letter(s); `sync-pipeline log SKU` shows each call")
    return EXIT_OK


def _known_store(key: str) -> None:
    from sync_pipeline.stores import load_stores

    load_stores().by_key(key)  # raises KeyError naming the store: exit 2


class _app_engine:  # noqa: N801 - used as a context manager like a function
    def __enter__(self) -> Any:
        from sync_pipeline.db import create_all, default_sync_db_url, make_engine

        self.engine = make_engine(os.environ.get("SYNC_DB_URL") or default_sync_db_url())
        create_all(self.engine)
        return self.engine

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()
