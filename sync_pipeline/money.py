"""Decimal amounts read from anywhere (DB rows, JSON payloads, store settings): one parser.

A price, a weight or a fee can arrive as a Decimal (the DB driver), a string (JSON, the staging
table, YAML), an int, or a float (a driver or a JSON reader that returns floats). They all become
a Decimal the same way here, so the catalog, the listings and their stored payloads agree digit
for digit on what a value is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MONEY_SCALE = Decimal("0.0001")  # every money column of the app DB is Numeric(20, 4)


def to_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal; None (or an empty string) stays None.

    A float goes through its ``str`` (the digits Python prints for it, not its binary expansion:
    ``0.1`` -> ``Decimal("0.1")``). Raises ``decimal.InvalidOperation`` (an ``ArithmeticError``)
    for text that is not a number and ``TypeError`` for a value of another kind; callers that
    must survive a bad value catch those."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        return Decimal(str(value))
    raise TypeError(f"not a number: {type(value).__name__}")


def decimal_of(value: Any) -> Decimal:
    """``to_decimal`` for a value that must be there (a listing's price): None is an error."""
    number = to_decimal(value)
    if number is None:
        raise ValueError("a number is required")
    return number
