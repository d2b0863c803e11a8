"""Data validation on input cells, written once: a drop-down list, a whole number or a decimal
between bounds, a date; each refusing other input with a message that says what is expected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.worksheet.datavalidation import DataValidation


def _check(sqref: str, title: str, error: str, **kind: Any) -> DataValidation:
    return DataValidation(
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error=error,
        sqref=sqref,
        **kind,
    )


def choice(sqref: str, options: Sequence[str] | str, title: str, error: str = "") -> DataValidation:
    """A drop-down of `options` (a list, or a range such as ``$AN$1:$AN$20``)."""
    inline = not isinstance(options, str)
    source = '"' + ",".join(options) + '"' if inline else str(options)
    shown = ", ".join(options) if inline else "one from the list"
    return _check(sqref, title, error or f"must be {shown}", type="list", formula1=source)


def whole(sqref: str, low: int, high: int, title: str, error: str) -> DataValidation:
    return _check(
        sqref, title, error, type="whole", operator="between", formula1=str(low), formula2=str(high)
    )


def decimal(sqref: str, low: float, high: float, title: str, error: str) -> DataValidation:
    return _check(
        sqref,
        title,
        error,
        type="decimal",
        operator="between",
        formula1=f"{low:G}",
        formula2=f"{high:G}",
    )


def date(sqref: str, title: str, error: str = "a date") -> DataValidation:
    return _check(sqref, title, error, type="date", operator="greaterThan", formula1="1")


def at_least(sqref: str, low: float, title: str, error: str) -> DataValidation:
    """A number not below `low` (a blank stays allowed)."""
    return _check(
        sqref, title, error, type="decimal", operator="greaterThanOrEqual", formula1=f"{low:G}"
    )


def rule(sqref: str, formula: str, title: str, error: str) -> DataValidation:
    """A custom check: `formula` (over the range's first cell) must be TRUE."""
    return _check(sqref, title, error, type="custom", formula1=formula)
