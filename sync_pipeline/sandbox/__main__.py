"""Run the sandbox stores: ``python -m sync_pipeline.sandbox --port 8765 --state .data/sandbox.db``.

With ``--stores-file`` every store of that file whose endpoint is this sandbox is provisioned at
start, with the credential values from the environment variables the file names.

It listens on loopback only: its ``/_sandbox`` admin API (create stores, read tokens, inject faults)
has no authentication. Another ``--host`` is refused unless ``--allow-non-loopback`` is given too.
The sandbox is for development and tests; it is never part of a production image (deploy/).
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
from sync_pipeline.sandbox.core import SandboxServer, is_loopback


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sync_pipeline.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--allow-non-loopback", action="store_true",
                        help="let --host be a non-loopback address: anyone who reaches it controls the sandbox")
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
    if not args.allow_non_loopback and not is_loopback(args.host):
        # Refused before the state file is opened or anything is provisioned.
        print(f"error: refusing to listen on {args.host!r}: the sandbox and its /_sandbox admin API have no "
              "authentication and listen on loopback only (add --allow-non-loopback to override)",
              file=sys.stderr)
        return 2
    platforms = tuple(args.platform) if args.platform else installed_platforms()
    sandbox = build_sandbox(args.state, platforms)
    server = SandboxServer(sandbox, host=args.host, port=args.port, allow_non_loopback=args.allow_non_loopback)
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
