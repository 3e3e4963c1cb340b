"""What a data check found, in one shape for every stage: the catalog's quality rules
(``catalog/quality.py``), the listings' audits (``listings/audit.py``) and the push's checks
(``push/verify.py``) all return a ``CheckOutcome``; ``defs/checks.py`` turns it into Dagster's
check result (the only place that does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES = 10  # examples ``fail`` keeps; the rest are only counted


@dataclass
class CheckOutcome:
    """How many items the check looked at, how many failed, a few failures spelled out (each
    naming its SKU) and the check's own figures. It passes when nothing failed."""

    checked: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failures == 0

    def fail(self, sku: str, problem: str) -> None:
        self.failures += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{sku}: {problem}")
