"""``--watch``: live progress bars for runs started by ``sync-pipeline push`` and ``import``.

One bar per run (per store for ``push all``): done / total, created (or inserted), updated, errors,
rate and ETA, from the observations the run logs (``run_figures``). When every run finished, a
summary table per store; the exit status is the worst run's (0 completed, 1 failed, 3 timeout).
Bars and table come from ``rich``, which also degrades to plain lines when the output is not a
terminal (a CI log, a pipe).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sync_pipeline.names import CATALOG_PRODUCTS, MAGENTO_PRODUCTS, STORE_PUSH
from sync_pipeline.remote import RemotePipeline, RunStatus
from sync_pipeline.run_figures import FigureReader

EXIT_COMPLETED, EXIT_FAILED, EXIT_TIMEOUT = 0, 1, 3
SUMMARY_FIELDS = ("created", "inserted", "updated", "delisted", "unchanged", "skipped", "errors")


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f}/s" if speed else "-/s", style="progress.data.speed")


@dataclass
class Watched:
    name: str
    run_id: str
    reader: FigureReader
    status: RunStatus | None = None
    started: float = 0.0

    def figures(self) -> dict[str, Any]:
        """The run's main figures: the store's push, else the import's latest stage."""
        merged: dict[str, Any] = {}
        for key in (MAGENTO_PRODUCTS, CATALOG_PRODUCTS):
            merged.update(self.reader.figures.get(key, {}))
        for key, values in self.reader.figures.items():
            if key.startswith(f"{STORE_PUSH}/"):
                merged.update(values)
        if self.status is not None:  # final figures, once materialized
            for key, values in self.status.metrics.items():
                if key.startswith((f"{STORE_PUSH}/", CATALOG_PRODUCTS)):
                    merged.update({k: v for k, v in values.items() if isinstance(v, int | float)})
        return merged


def watch(pipeline: RemotePipeline, runs: Mapping[str, str], timeout: float = 900.0, poll: float = 1.0,
          console: Console | None = None) -> int:
    if console is None:
        console = Console(stderr=True)
        if not console.is_terminal:  # a log or a pipe: no terminal width to fit, keep names whole
            console.width = max(console.width, 120)
    watched = [Watched(name, run_id, FigureReader(pipeline, run_id)) for name, run_id in runs.items()]
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[counts]}"), RateColumn(), TimeRemainingColumn())
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console, transient=False, refresh_per_second=4) as progress:
        tasks = {w.run_id: progress.add_task(w.name, total=None, counts="queued") for w in watched}
        while True:
            for w in watched:
                if w.status is not None and w.status.finished:
                    continue
                w.reader.read()
                w.status = pipeline.status(w.run_id)
                _update(progress, tasks[w.run_id], w)
            if all(w.status is not None and w.status.finished for w in watched):
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(poll)
    console.print(summary_table(watched))
    if not all(w.status is not None and w.status.finished for w in watched):
        console.print(f"still running after {timeout:.0f}s; `sync-pipeline status RUN_ID` follows them")
        return EXIT_TIMEOUT
    return EXIT_FAILED if any(w.status is not None and w.status.state == "failed" for w in watched) else EXIT_COMPLETED


def _update(progress: Progress, task: Any, w: Watched) -> None:
    figures = w.figures()
    state = w.status.state if w.status else "queued"
    total = figures.get("total")
    done = figures.get("done", 0)
    if state == "completed" and total is None:
        total = done
    counts = ", ".join(f"{name} {figures[name]}" for name in ("created", "inserted", "updated", "errors")
                       if name in figures) or state
    progress.update(task, total=total, completed=done, counts=f"{counts} [{state}]")


def summary_table(watched: list[Watched]) -> Table:
    present = [f for f in SUMMARY_FIELDS if any(f in w.figures() for w in watched)]
    table = Table(title="summary", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", no_wrap=True, min_width=10)
    table.add_column("state", no_wrap=True, min_width=9)
    for name in present:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for w in watched:
        figures = w.figures()
        state = w.status.state if w.status else "queued"
        table.add_row(w.name, state, *[str(figures.get(name, "-")) for name in present])
    table.caption = "runs: " + ", ".join(f"{w.name} {w.run_id}" for w in watched)
    table.caption_justify = "left"
    return table
