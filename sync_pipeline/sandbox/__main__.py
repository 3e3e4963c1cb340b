"""Run the sandbox stores: ``python -m sync_pipeline.sandbox --port 8765 --state .data/sandbox.db``.

With ``--stores-file`` every store of that file whose endpoint is this sandbox is provisioned at
start, with the credential values from the environment variables the file names.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sync_pipeline.sandbox.app import (
    ALL_PLATFORMS,
    build_sandbox,
    installed_platforms,
    provision_from_stores_file,
)
from sync_pipeline.sandbox.core import SandboxServer


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sync_pipeline.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", default=".data/sandbox.db", help="SQLite file holding the sandbox stores")
    parser.add_argument("--stores-file", default=None, help="provision the stores of this stores file")
    parser.add_argument(
        "--platform",
        action="append",
        choices=ALL_PLATFORMS,
        help="serve only these platforms (repeatable; default: every installed emulator)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    platforms = tuple(args.platform) if args.platform else installed_platforms()
    sandbox = build_sandbox(args.state, platforms)
    server = SandboxServer(sandbox, host=args.host, port=args.port)
    if args.stores_file:
        for outcome in provision_from_stores_file(sandbox, args.stores_file, base_url=server.url):
            if outcome.skipped_because:
                print(f"skipped {outcome.store_key}: {outcome.skipped_because}", file=sys.stderr)
    print(f"sandbox serving {', '.join(platforms)} on {server.url} (state: {args.state})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
