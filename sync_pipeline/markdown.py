"""Markdown for the reports the Dagster UI shows (asset and check metadata): tables and lists,
written once so every report escapes its cells alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, width: int | None = None) -> str:
    """A markdown table. A column named with a trailing ``:`` (``"calls:"``) is right-aligned, as
    figures are; a cell is shown as text with ``|`` escaped and line breaks flattened (and cut to
    ``width`` characters when given); None is an empty cell."""
    names = [c.removesuffix(":") for c in columns]
    lines = ["| " + " | ".join(names) + " |",
             "| " + " | ".join("---:" if c.endswith(":") else "---" for c in columns) + " |"]
    lines += ["| " + " | ".join(cell(value, width) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def records(rows: Sequence[Mapping[str, object]], empty: str, *, width: int | None = None) -> str:
    """A table of dict rows, its columns the first row's keys; ``empty`` when there is no row."""
    if not rows:
        return empty
    columns = list(rows[0])
    return table(columns, ([row.get(c) for c in columns] for row in rows), width=width)


def cell(value: object, width: int | None = None) -> str:
    text = "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
    return text if width is None else text[:width]


def bullets(items: Iterable[object], empty: str = "none") -> str:
    """One ``- item`` line each, or ``empty`` when there is none."""
    return "\n".join(f"- {item}" for item in items) or empty
