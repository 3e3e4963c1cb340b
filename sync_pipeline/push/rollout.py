"""Staged rollout as a policy: a store that declares ``rollout: [2, 10, 50]`` in the stores file is
pushed 2 products, then 10, then 50, then everything - each step only after the previous one
finished with no error and its spot-check passed ("never sync everything at once").

The steps are read from the store's own push history (``push_runs``): every push under the policy
records the step it ran (``options.rollout_step``) and its spot-check's verdict (``counts.spot_check``),
so the next push knows where the store stands without any state of its own. A step that failed,
had errors or whose spot-check failed (or did not run) is repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from sync_pipeline.push import ledger
from sync_pipeline.push.tables import push_runs

SPOT_CHECK = "spot_check"  # key in push_runs.counts: "passed" | "failed"
HISTORY = 200  # latest push runs of a store looked at


@dataclass(frozen=True)
class RolloutStep:
    index: int  # 0-based; len(steps) once the rollout is complete
    steps: tuple[int, ...]
    reason: str

    @property
    def complete(self) -> bool:
        return self.index >= len(self.steps)

    @property
    def max_products(self) -> int | None:
        return None if self.complete else self.steps[self.index]

    def describe(self) -> str:
        if self.complete:
            return f"complete: every product (steps {list(self.steps)} done)"
        return f"step {self.index + 1} of {len(self.steps)}: at most {self.max_products} products ({self.reason})"


def next_step(engine: Engine, store_key: str, steps: Sequence[int]) -> RolloutStep:
    """Where the store's rollout stands for its next push."""
    steps = tuple(steps)
    last = _last_rollout_run(engine, store_key)
    if last is None:
        return RolloutStep(0, steps, "first push under the rollout policy")
    step = int(last["options"]["rollout_step"])
    if step >= len(steps):
        return RolloutStep(len(steps), steps, "rollout complete")
    counts = _json(last["counts"])
    problems = []
    if last["status"] != "succeeded":
        problems.append(f"the last run {last['status']}")
    if int(counts.get("errors", 0) or 0) > 0:
        problems.append(f"{counts['errors']} error(s)")
    if counts.get(SPOT_CHECK) != "passed":
        problems.append("spot-check " + ("failed" if counts.get(SPOT_CHECK) == "failed" else "not run"))
    if problems:
        return RolloutStep(step, steps, f"repeated: {', '.join(problems)}")
    return RolloutStep(step + 1, steps, f"step {step + 1} passed with 0 errors and its spot-check")


def record_spot_check(engine: Engine, run_id: str, store_key: str, passed: bool) -> None:
    """The spot-check's verdict on the push run it checked (the step's gate)."""
    table = push_runs
    with engine.begin() as conn:
        row = conn.execute(sa.select(table.c.id, table.c.counts).where(
            table.c.run_id == run_id, table.c.store_key == store_key, table.c.kind == "push")).first()
        if row is None:
            return  # a check run on its own (no push in this run): nothing to gate
        counts = {**_json(row.counts), SPOT_CHECK: "passed" if passed else "failed"}
        conn.execute(sa.update(table).where(table.c.id == row.id).values(counts=counts))


def _last_rollout_run(engine: Engine, store_key: str) -> dict[str, Any] | None:
    table = push_runs
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.status, table.c.options, table.c.counts)
                            .where(table.c.store_key == store_key, table.c.kind == "push")
                            .order_by(table.c.started_at.desc(), table.c.id.desc()).limit(HISTORY)).mappings()
        for row in rows:
            options = _json(row["options"])
            if options.get("rollout_step") is not None and not options.get("dry_run"):
                return {"status": row["status"], "options": options, "counts": row["counts"]}
    return None


def _json(value: Any) -> dict[str, Any]:
    return ledger._as_dict(value) if value is not None else {}
