"""What an import is asked to do: a manual page of new products, or everything that is due.

The manual import (the ``magento_import`` job a person launches) reads at most ``limit`` new
products, 100 unless told otherwise and never more than 1,000, starting after the saved cursor or
after an explicit ``start_after_id``. Materializing the assets from the graph, a schedule or the
demo asks for everything that is due, with no limit, read in chunks.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MANUAL_DEFAULT_LIMIT = 100
MANUAL_MAX_LIMIT = 1000


class InvalidImportRequest(ValueError):
    """The import's settings cannot be honoured; the message says which one and why."""


class ImportRequest(BaseModel):
    """Validated settings of one import. ``limit=None`` means every new product that is due."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int | None = Field(default=MANUAL_DEFAULT_LIMIT, ge=1, le=MANUAL_MAX_LIMIT)
    resume_from_last: bool = True
    start_after_id: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _start_point_is_unambiguous(self) -> ImportRequest:
        if not self.resume_from_last and self.start_after_id is None:
            raise ValueError("start_after_id is required when resume_from_last is false")
        if self.resume_from_last and self.start_after_id is not None:
            raise ValueError(
                "start_after_id is only used when resume_from_last is false; "
                "set resume_from_last to false to start after a given source id"
            )
        return self

    @classmethod
    def from_settings(
        cls,
        limit: int | None = None,
        resume_from_last: bool = True,
        start_after_id: int | None = None,
        *,
        manual: bool,
    ) -> ImportRequest:
        """Validated settings; an unset limit means 100 for the manual job, everything otherwise."""
        if limit is None and manual:
            limit = MANUAL_DEFAULT_LIMIT
        try:
            return cls(limit=limit, resume_from_last=resume_from_last, start_after_id=start_after_id)
        except ValidationError as exc:
            raise InvalidImportRequest(_readable(exc)) from None

    @classmethod
    def everything_due(cls) -> ImportRequest:
        """Every new product after the cursor, plus changed ones and the stock/status reconciliation."""
        return cls(limit=None)

    def as_params(self) -> dict[str, Any]:
        """The job row's ``params``: what was asked, so a person can tell runs apart."""
        return {
            "limit": self.limit,
            "resume_from_last": self.resume_from_last,
            "start_after_id": self.start_after_id,
            "mode": "manual" if self.limit is not None else "everything_due",
        }


def _readable(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "import settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{field}: {message}" if error["loc"] else message)
    return "invalid import settings: " + "; ".join(problems)
