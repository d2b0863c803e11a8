"""The one exception family of `planning`.

Only the add-in edge turns these into what a user sees (a cell error value, a message box,
a CLI error line); here they carry the line, column and value that went wrong.
"""

from __future__ import annotations

from typing import Any


class PlanningError(Exception):
    """Base of every error raised by `planning`."""


class InputError(PlanningError, ValueError):
    """Bad input: names where it is (line, column) and the offending value.

    >>> str(InputError("is not a number", line="Meta / Retargeting", column="spend p", value="abc"))
    "line 'Meta / Retargeting', column `spend p`: value 'abc' is not a number"
    """

    def __init__(
        self,
        message: str,
        *,
        line: str | int | None = None,
        column: str | None = None,
        value: Any = None,
        has_value: bool | None = None,
    ) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.value = value
        parts: list[str] = []
        if line is not None:
            parts.append(f"line {line!r}" if isinstance(line, str) else f"line {line}")
        if column is not None:
            parts.append(f"column `{column}`")
        show_value = value is not None if has_value is None else has_value
        prefix = ", ".join(parts)
        body = f"value {value!r} {message}" if show_value else message
        super().__init__(f"{prefix}: {body}" if prefix else body)
