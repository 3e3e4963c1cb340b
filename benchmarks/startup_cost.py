"""What a run process spends on imports before its first step (issue 14): CPU and wall time.

    .venv/bin/python -m benchmarks.startup_cost [--samples 7] [--tree PATH ...]

Each sample is a fresh interpreter (as Dagster's run worker is) doing one of:

* ``python``: nothing (the interpreter's own start-up);
* ``dagster``: ``import dagster``;
* ``definitions``: ``import sync_pipeline.definitions`` (the code location: Dagster, the project's
  modules and what they import at load time);
* ``repository``: the same, then the repository built from ``defs`` as a run worker builds it.

CPU time (user + system, from the child's rusage) carries to another machine; wall time is the
machine's load. ``--tree`` points ``PYTHONPATH`` at another checkout of the project (e.g. an older
commit unpacked with ``git archive``; ``installed`` is this checkout); with several trees their
samples take turns, so two versions are measured side by side under the same load. The
modules that only some paths need (pandas for the owner's list) are listed as imported or not.
No figure is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    "python": "pass",
    "dagster": "import dagster",
    "definitions": "import sync_pipeline.definitions",
    "repository": "import sync_pipeline.definitions as d; d.defs.get_repository_def()",
}
HEAVY = ("pandas", "numpy", "rich", "cryptography")


def one(code: str, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=os.sep)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def heavy_imported(env: dict[str, str]) -> list[str]:
    probe = (f"import sys, sync_pipeline.definitions; "
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True,
                         cwd=os.sep)
    return out.stdout.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--tree", action="append",
                        help="checkout of the project to import instead of the installed one ('installed': this one)")
    args = parser.parse_args()
    envs: dict[str, dict[str, str]] = {}
    for tree in args.tree or ["installed"]:
        # Run from / so that the current directory (first on sys.path with -c) picks no checkout.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_")}
        if tree != "installed":
            env["PYTHONPATH"] = os.path.abspath(tree)
        envs[tree] = env
    print(f"load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for tree, env in envs.items():
        print(f"{tree}: heavy modules imported by the code location: {', '.join(heavy_imported(env)) or 'none'}")
    print(f"{'case':<12}{'tree':<24}{'cpu median':>12}{'cpu min':>10}{'wall median':>13}")
    for name, code in CASES.items():
        samples: dict[str, list[tuple[float, float]]] = {tree: [] for tree in envs}
        for _ in range(args.samples):
            for tree, env in envs.items():
                samples[tree].append(one(code, env))
        for tree, taken in samples.items():
            cpu, wall = [s[0] for s in taken], [s[1] for s in taken]
            print(f"{name:<12}{tree[-23:]:<24}{statistics.median(cpu):>11.2f}s{min(cpu):>9.2f}s"
                  f"{statistics.median(wall):>12.2f}s", flush=True)
    print(f"load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
