"""Run config refused at launch: a run that could only fail on its config is never created.

Dagster's config schema says which keys and types a job takes, not which values (a range, a pair
of settings that go together, a store key that exists). Those rules live in plain modules and the
steps apply them; ``refused_at_launch`` applies the same rules earlier, as the job's
``ConfigMapping``. Dagster resolves a job's config mapping when it builds the run's execution plan,
which the webserver (or daemon) asks the code server for before it creates the run: a mapping that
refuses raises ``DagsterInvalidConfigError`` there, so a launch through GraphQL (the UI, the
``sync-pipeline`` command, any client) answers with the reason and no run exists. The steps keep
their own checks (a run started from Python, a catalog that changed while a run was queued).

The mapping's schema is the job's own: the checked ops' config fields are declared (the launchpad
still shows and validates them); everything else (other ops, ``execution``, ``resources``,
``loggers``) is passed through and validated by the job's full schema right after the mapping,
still before the run is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dagster import Config, ConfigMapping, DagsterInvalidConfigError, Field, OpDefinition, Permissive
from pydantic import ValidationError

PASSED_THROUGH = ("execution", "resources", "loggers")


class Rule:
    """One op's config as the step will see it (its ``Config`` class, so pydantic's own limits and
    defaults apply) and the step's rule over it, which raises ``ValueError`` naming the setting."""

    def __init__(self, op: OpDefinition, config_class: type[Config], check: Callable[[Any], None]) -> None:
        self.op, self.config_class, self.check = op, config_class, check

    def __call__(self, raw: Mapping[str, Any]) -> None:
        try:
            config = self.config_class(**raw)
        except ValidationError as exc:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
        self.check(config)


def refused_at_launch(job_name: str, rules: Mapping[str, Rule]) -> ConfigMapping:
    """A config mapping that refuses, at launch, config any of ``rules`` (op name -> its rule)
    refuses; the message names the job, op, field and reason."""
    op_fields = {name: Field({"config": rule.op.config_schema.as_field()}, is_required=_required(rule.op))
                 for name, rule in rules.items()}
    schema = {"ops": Field(Permissive(op_fields), is_required=any(f.is_required for f in op_fields.values())),
              **{key: Field(Permissive(), is_required=False) for key in PASSED_THROUGH}}

    def check(run_config: dict[str, Any]) -> dict[str, Any]:
        ops = run_config.get("ops") or {}
        for name, rule in rules.items():
            try:
                rule((ops.get(name) or {}).get("config") or {})
            except ValueError as exc:
                raise DagsterInvalidConfigError(
                    f"{job_name} refused before launch, nothing was started: ops.{name}.config: {exc}", [], run_config,
                ) from None
        # Empty pass-through sections are dropped: the job's own defaults (its executor's) apply.
        return {key: value for key, value in run_config.items() if value or key not in PASSED_THROUGH}

    return ConfigMapping(config_fn=check, config_schema=schema)


def _required(op: OpDefinition) -> bool:
    return bool(op.config_schema.as_field().is_required)
