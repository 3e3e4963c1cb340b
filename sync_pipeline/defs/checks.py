"""The one adapter from the stages' ``CheckOutcome`` (``sync_pipeline/checks.py``) to Dagster's
``AssetCheckResult``. Each family of checks keeps the metadata keys it has always shown (users and
tests read them), named by its ``CheckLabels``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

from sync_pipeline import markdown
from sync_pipeline.checks import CheckOutcome


@dataclass(frozen=True)
class CheckLabels:
    """The metadata keys of a family of checks; None leaves that entry out."""

    checked: str | None = "checked"
    failures: str | None = "failures"  # the count
    examples: str | None = "examples"
    inline_skus: bool = False  # examples are bare SKUs, shown on one line as code


LISTING_AUDIT = CheckLabels()
CATALOG_RULE = CheckLabels(checked=None, failures="violations", examples="sample_skus", inline_skus=True)
PUSH_CHECK = CheckLabels(failures=None, examples="failures")  # the failures spelled out, then the figures
FIGURES_ONLY = CheckLabels(checked=None, failures=None, examples=None)


def check_result(outcome: CheckOutcome, severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
                 labels: CheckLabels = LISTING_AUDIT, *, check_name: str | None = None) -> AssetCheckResult:
    metadata: dict[str, Any] = {}
    if labels.checked is not None:
        metadata[labels.checked] = MetadataValue.int(outcome.checked)
    if labels.failures is not None:
        metadata[labels.failures] = MetadataValue.int(outcome.failures)
    if labels.examples is not None:
        shown = (", ".join(f"`{sku}`" for sku in outcome.examples) or "none" if labels.inline_skus
                 else markdown.bullets(outcome.examples))
        metadata[labels.examples] = MetadataValue.md(shown)
    metadata.update({key: figure(value) for key, value in outcome.figures.items()})
    return AssetCheckResult(check_name=check_name, passed=outcome.passed, severity=severity, metadata=metadata)


def figure(value: object) -> Any:
    """A check's figure as metadata: floats and ints as numbers, markdown as markdown, the rest as text."""
    if isinstance(value, MetadataValue):
        return value
    if isinstance(value, bool):
        return MetadataValue.bool(value)
    if isinstance(value, float):
        return MetadataValue.float(value)
    if isinstance(value, int):
        return MetadataValue.int(value)
    return MetadataValue.text(str(value))
