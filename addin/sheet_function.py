"""What a spreadsheet function is: `SheetFunction`, its arguments and how cells are coerced.

Each spreadsheet function is described once (`SheetFunction`: name, plain Python callable,
arguments, one-line help, result shape) in `addin.functions`; `addin.registry` gathers them with
the buttons, and the Excel UDF module, `funnelplan functions`, the function server and the
generated clients are built from it.

Cells and ranges
----------------
A function receives what the spreadsheet gives: a single cell's value, or a range as a list of
rows (``[[1], [2], [3]]``; a plain Python list is taken as a column). `SheetFunction.call`
unwraps and checks each argument by its kind:

- ``number``, ``date``, ``text``, ``bool``: one cell (a 1x1 range is unwrapped). A blank
  optional argument takes its default; a blank required one is ``#N/A``.
- ``numbers``, ``dates``: a cell or a whole range, flattened row by row into a list of cells
  (`Cells`): a float (a date), ``None`` for a blank, or an error value for a cell that is not
  usable (text or a boolean: ``#VALUE!``; an infinity: ``#NUM!``; an error value in the input
  is kept as it is). Functions that work row by row are *vectorised*: one call per range,
  returning a column with one result per row; ranges must have the same number of cells, a
  single cell is repeated for every row. With single cells only, the result is a single value.
- ``table``: a range as a list of rows, kept as given.

Errors (never a traceback in a cell)
------------------------------------
A bad row gives that row an error value (`ERRORS`): a blank ``#N/A``, text ``#VALUE!``, a zero
denominator ``#DIV/0!``, a number outside what the formula allows (a negative budget, an
unreachable target) ``#NUM!``; an error value in a row propagates. A problem with the whole call
(ranges of different sizes, an unknown method, a missing argument) gives one error value for the
call. The reason, a short sentence, is not lost: `SheetFunction.evaluate` returns it with the
value (`Evaluation`), and `SheetFunction.call` logs it (logger ``funnelplan.functions``, level
INFO) and returns the value alone. Table results (`FUNNEL_PLAN`, `OPTIMIZE_SPLIT`) whose planning
fails for a reason the user must read (e.g. the minimum spends exceed the budget) return the
sentence itself in a 1x1 table, since a lone ``#NUM!`` atop a spill range explains nothing.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import math
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from planning.errors import InputError, PlanningError

__all__ = [
    "DIV0",
    "ERRORS",
    "NA",
    "NUM",
    "VALUE",
    "Arg",
    "ArgKind",
    "CellError",
    "Cells",
    "Evaluation",
    "SheetFunction",
    "is_error",
]

log = logging.getLogger("funnelplan.functions")

ArgKind = Literal["number", "numbers", "dates", "date", "text", "table", "bool"]
ResultKind = Literal["scalar", "column", "table"]

VALUE, DIV0, NA, NUM = "#VALUE!", "#DIV/0!", "#N/A", "#NUM!"
ERRORS: tuple[str, ...] = (VALUE, DIV0, NA, NUM)
"""The error values a function returns, as strings (the Excel surface shows them as errors)."""

_INPUT_ERRORS = frozenset(
    (*ERRORS, "#REF!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!")
)
"""Error values a cell may hold: one in an input propagates to the result unchanged."""

_EXCEL_EPOCH = dt.date(1899, 12, 30)

_T = TypeVar("_T")


def is_error(value: Any) -> bool:
    """True for a spreadsheet error value (``"#N/A"``, ``"#DIV/0!"``, ...)."""
    return isinstance(value, str) and value.strip().upper() in _INPUT_ERRORS


class CellError(Exception):
    """A whole call's error: the error value to show and the reason, a short sentence."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --------------------------------------------------------------------------- reasons


_reasons: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "funnelplan_reasons", default=None
)


def note(reason: str) -> None:
    """Record why a row got an error value (the first reason of a call is reported)."""
    reasons = _reasons.get()
    if reasons is not None and len(reasons) < 20:
        reasons.append(reason)


# --------------------------------------------------------------------------- cell coercion


def _number_cell(value: Any, name: str, row: int | None) -> float | str | None:
    """A cell as a finite float, None (blank) or an error value (the reason noted)."""
    where = f"`{name}`" if row is None else f"row {row} of `{name}`"
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        if is_error(value):
            return value.strip().upper()
        note(f"{where}: {value!r} is text, not a number")
        return VALUE
    if isinstance(value, bool) or not isinstance(value, Real):
        note(f"{where}: {value!r} is not a number")
        return VALUE
    x = float(value)
    if math.isnan(x):
        return None
    if math.isinf(x):
        note(f"{where}: {value!r} is not a finite number")
        return NUM
    return x


def _date_cell(value: Any, name: str, row: int | None) -> dt.date | str | None:
    """A cell as a date (a date, a datetime, an Excel serial number or ISO text), None or an
    error value."""
    where = f"`{name}`" if row is None else f"row {row} of `{name}`"
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if is_error(value):
            return value.strip().upper()
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            note(f"{where}: {value!r} is not a date (use a date cell or 2026-11-17)")
            return VALUE
    if isinstance(value, Real) and not isinstance(value, bool):
        x = float(value)
        if math.isnan(x):
            return None
        if math.isfinite(x) and 1 <= x < 2958466:  # Excel's serial days 1900-01-01..9999-12-31
            return _EXCEL_EPOCH + dt.timedelta(days=int(x))
        note(f"{where}: {value!r} is not a date serial number")
        return NUM
    note(f"{where}: {value!r} is not a date")
    return VALUE


def _plain_list(value: Any) -> Any:
    """An array or a Series (a DataFrame...) as nested lists; anything else as it is."""
    if hasattr(value, "to_numpy") and not isinstance(value, str):
        return value.to_numpy().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _flatten(value: Any) -> list[Any]:
    """A cell or a range (rows of cells, a flat list, an array, a Series) as a list of cells."""
    value = _plain_list(value)
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return [value]
    out: list[Any] = []
    for item in value:
        if isinstance(item, list | tuple | np.ndarray):
            out.extend(_flatten(list(item)))
        else:
            out.append(item)
    return out


def _single(value: Any, name: str) -> Any:
    """A scalar argument: a 1x1 range unwrapped; a larger range is a whole-call #VALUE!."""
    cells = _flatten(value)
    if len(cells) != 1:
        raise CellError(VALUE, f"`{name}` must be a single cell, got a range of {len(cells)} cells")
    return cells[0]


class Cells(list[Any]):
    """The cells of a ``numbers`` or ``dates`` argument, flattened; `name` for messages."""

    name: str = ""

    @classmethod
    def of(cls, items: Iterable[Any], name: str) -> Cells:
        cells = cls(items)
        cells.name = name
        return cells


def _cells(value: Any, name: str, parse: Callable[[Any, str, int | None], Any]) -> Cells:
    """A ``numbers`` or ``dates`` argument: each cell as `parse` reads it (rows numbered from 1
    in its messages, unless the argument is a single cell)."""
    if isinstance(value, Cells):
        return value
    cells = _flatten(value)
    single = len(cells) == 1
    return Cells.of((parse(v, name, None if single else i + 1) for i, v in enumerate(cells)), name)


_PLAIN_NUMBER = frozenset((float, int))


def plain_numbers(value: Any) -> list[float | int] | None:
    """A range's cells when every one is a plain Python ``float`` or ``int`` (not a bool, not a
    numpy scalar), as `as_numbers` would flatten a flat list or a one-row range; else None.

    The batched formulas' fast path (`addin.formulas.runrate`): such a range coerces to itself
    (a finite float per cell), so a block of them becomes one numpy array without a per-cell
    check; anything else (a column, text, a blank, a bool, a NaN or an infinity, which the
    caller tests on the array) takes the per-cell path, which says why.
    """
    if type(value) is not list or not value:
        return None
    if len(value) == 1 and type(value[0]) is list:
        value = value[0]
        if not value:
            return None
    if set(map(type, value)) <= _PLAIN_NUMBER:
        return value
    return None


def as_numbers(value: Any, name: str) -> Cells:
    """A ``numbers`` argument: each cell a float, None (blank) or an error value."""
    return _cells(value, name, _number_cell)


def as_dates(value: Any, name: str) -> Cells:
    """A ``dates`` argument: each cell a date, None (blank) or an error value."""
    return _cells(value, name, _date_cell)


def _scalar(cell: _T | str | None, name: str) -> _T:
    """A ``number`` or ``date`` argument's parsed cell; a blank or an error value is a
    whole-call error."""
    if cell is None:
        raise CellError(NA, f"`{name}` is blank")
    if isinstance(cell, str):
        raise CellError(cell, first_reason() or f"`{name}` is an error value {cell}")
    return cell


def as_number(value: Any, name: str) -> float:
    """A ``number`` argument (a blank or bad cell is a whole-call error)."""
    return _scalar(_number_cell(_single(value, name), name, None), name)


def as_date(value: Any, name: str) -> dt.date:
    """A ``date`` argument."""
    return _scalar(_date_cell(_single(value, name), name, None), name)


def as_text(value: Any, name: str) -> str:
    """A ``text`` argument, stripped (a number is taken as its text)."""
    cell = _single(value, name)
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise CellError(NA, f"`{name}` is blank")
    if is_error(cell):
        raise CellError(str(cell).strip().upper(), f"`{name}` is an error value {cell}")
    if isinstance(cell, bool):
        raise CellError(VALUE, f"`{name}` must be text, got {cell!r}")
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def as_bool(value: Any, name: str) -> bool:
    """A ``bool`` argument: TRUE/FALSE, 1/0 or the texts true/false, yes/no."""
    cell = _single(value, name)
    if isinstance(cell, bool | np.bool_):
        return bool(cell)
    if isinstance(cell, Real) and float(cell) in (0.0, 1.0):
        return bool(cell)
    if isinstance(cell, str) and cell.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return cell.strip().lower() in ("true", "yes", "1")
    if is_error(cell):
        raise CellError(str(cell).strip().upper(), f"`{name}` is an error value {cell}")
    raise CellError(VALUE, f"`{name}` must be TRUE or FALSE, got {cell!r}")


def as_table(value: Any, name: str) -> list[list[Any]]:
    """A ``table`` argument as a list of rows (a cell is a 1x1 table, a flat list a column)."""
    value = _plain_list(value)
    if not isinstance(value, list | tuple):
        return [[value]]
    rows = [list(r) if isinstance(r, list | tuple) else [r] for r in value]
    if any(len(r) != len(rows[0]) for r in rows):
        raise CellError(VALUE, f"`{name}` must be a rectangular range")
    return rows


_COERCE: dict[str, Callable[[Any, str], Any]] = {
    "number": as_number,
    "numbers": as_numbers,
    "dates": as_dates,
    "date": as_date,
    "text": as_text,
    "table": as_table,
    "bool": as_bool,
}


def rows_of(*columns: Cells) -> tuple[int, bool]:
    """The number of rows of vectorised arguments and whether the call is a single row.

    Every argument has that many cells or one cell (repeated); else a whole-call #VALUE!.
    """
    sizes = {len(c) for c in columns}
    if 0 in sizes:
        empty = next(c for c in columns if not c)
        raise CellError(VALUE, f"`{empty.name}` is an empty range")
    n = max(sizes)
    bad = [c for c in columns if len(c) not in (1, n)]
    if bad:
        shown = ", ".join(f"`{c.name}` has {len(c)}" for c in columns)
        raise CellError(VALUE, f"the ranges have different sizes ({shown} cells)")
    return n, n == 1


def rowwise(fn: Callable[..., Any], *columns: Cells) -> Any:
    """Apply `fn` row by row over vectorised arguments (a single cell is repeated).

    A row where any argument is blank gives ``#N/A``; else a row where any argument is an
    error value gets that error (the first one); else ``fn(*floats)``, which returns a number
    or an error value. Returns a single value when every argument is a single cell, else a
    list (a column).
    """
    n, single = rows_of(*columns)
    out: list[Any] = []
    for i in range(n):
        row = [c[i] if len(c) > 1 else c[0] for c in columns]
        blank = next((c.name for c, v in zip(columns, row, strict=True) if v is None), None)
        if blank is not None:
            note(f"`{blank}` is blank" if single else f"row {i + 1} of `{blank}` is blank")
            out.append(NA)
            continue
        bad = next(
            ((c.name, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)), None
        )
        if bad is not None:
            where = f"`{bad[0]}`" if single else f"row {i + 1} of `{bad[0]}`"
            note(f"{where} is {bad[1]}")
            out.append(bad[1])
            continue
        out.append(fn(*row))
    return out[0] if single else out


def divide(numerator: float, denominator: float, what: str = "the denominator") -> float | str:
    """``numerator / denominator``, or ``#DIV/0!`` (noted) when the denominator is 0."""
    if denominator == 0:
        note(f"{what} is 0")
        return DIV0
    result = numerator / denominator
    return result if math.isfinite(result) else NUM


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Arg:
    """One argument of a spreadsheet function: name, kind, one-line help, optional default."""

    name: str
    kind: ArgKind
    help: str
    optional: bool = False
    default: Any = None


class Evaluation(NamedTuple):
    """A call's result and, when it is (or holds) an error value, the reason; else ``""``."""

    value: Any
    message: str


def first_reason(default: str = "", starting: str = "") -> str:
    """The first reason noted in the current call (starting with `starting`), else `default`."""
    reasons = [r for r in _reasons.get() or [] if r.startswith(starting)]
    return reasons[0] if reasons else default


def _has_error(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_error(v) for v in value)
    return is_error(value)


def _blank(value: Any) -> bool:
    cells = _flatten(value)
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


@dataclass(frozen=True)
class SheetFunction:
    """A spreadsheet function: `func` is plain Python over coerced arguments (see the module
    docstring); `call` takes what the spreadsheet gives and never raises."""

    name: str
    func: Callable[..., Any]
    args: tuple[Arg, ...]
    help: str
    result: ResultKind
    by_rows: Callable[[SheetFunction, Sequence[Sequence[Any]]], list[Evaluation]] | None = None
    """Optional batched evaluation of many calls at once (`evaluate_rows`): given the function
    and one argument list per row, one `Evaluation` per row, exactly what `evaluate` gives."""

    @property
    def signature(self) -> str:
        """``RUNRATE(values, as_of, [window], [method], [dates])``."""
        shown = [f"[{a.name}]" if a.optional else a.name for a in self.args]
        return f"{self.name}({', '.join(shown)})"

    def coerce(self, *values: Any) -> list[Any]:
        """The arguments as `func` takes them; raises `CellError` for a whole-call problem."""
        if len(values) > len(self.args):
            raise CellError(
                VALUE, f"{self.name} takes at most {len(self.args)} arguments, got {len(values)}"
            )
        out = []
        for i, arg in enumerate(self.args):
            value = values[i] if i < len(values) else None
            if _blank(value) and (arg.optional or len(_flatten(value)) == 1):
                if arg.optional:
                    out.append(arg.default)
                    continue
                raise CellError(NA, f"`{arg.name}` is blank or missing")
            out.append(_COERCE[arg.kind](value, arg.name))
        return out

    def evaluate(self, *values: Any) -> Evaluation:
        """The result and the reason of any error value in it (never raises)."""
        token = _reasons.set([])
        try:
            try:
                result = self.func(*self.coerce(*values))
            except CellError as error:
                return Evaluation(error.code, error.reason)
            except PlanningError as error:
                code = NUM if isinstance(error, InputError) else VALUE
                return Evaluation(self._failed(code, str(error)), str(error))
            except Exception as error:  # never a traceback in a cell
                log.debug("%s failed:\n%s", self.name, traceback.format_exc())
                reason = f"unexpected error: {type(error).__name__}: {error}"
                return Evaluation(VALUE, reason)
            message = first_reason() if _has_error(result) else ""
            return Evaluation(result, message)
        finally:
            _reasons.reset(token)

    def evaluate_rows(self, rows: Sequence[Sequence[Any]]) -> list[Evaluation]:
        """`evaluate` of each row's arguments, one `Evaluation` per row (never raises).

        Uses the function's `by_rows` hook when it has one (e.g. RUNRATE: one vectorised
        forecast for every line), which gives exactly the per-row results; should the hook
        itself fail, each row is evaluated on its own.
        """
        if self.by_rows is not None and rows:
            try:
                results = self.by_rows(self, rows)
            except Exception:
                log.debug("%s by_rows failed:\n%s", self.name, traceback.format_exc())
            else:
                if len(results) == len(rows):
                    return results
        return [self.evaluate(*row) for row in rows]

    def _failed(self, code: str, reason: str) -> Any:
        return [[reason]] if self.result == "table" else code

    def call(self, *values: Any) -> Any:
        """The result (a value, a column as a list, a table as rows) or an error value; the
        reason of an error is logged (logger ``funnelplan.functions``)."""
        value, message = self.evaluate(*values)
        if message:
            log.info("%s: %s", self.name, message)
        return value

    def call_cells(self, *values: Any) -> list[list[Any]]:
        """`call`'s result as rows of cells, what a spreadsheet range takes: a value is 1x1,
        a column one cell per row, a table as it is."""
        value = self.call(*values)
        if self.result == "table" and isinstance(value, list):
            return [list(r) for r in value]
        if isinstance(value, list):
            return [[v] for v in value]
        return [[value]]

    def describe(self) -> dict[str, Any]:
        """Name, signature, help, result and arguments as plain data (`funnelplan functions`)."""
        return {
            "name": self.name,
            "signature": self.signature,
            "help": self.help,
            "result": self.result,
            "args": [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "help": a.help,
                    "optional": a.optional,
                    "default": a.default,
                }
                for a in self.args
            ],
        }


def required_number(value: float | str | None, where: str) -> float:
    """A cell that must hold a number: a blank is ``#N/A`` and an error value passes through,
    each a whole-call error (`where` names the cell in the reason)."""
    if value is None:
        raise CellError(NA, f"{where} is blank")
    if isinstance(value, str):
        raise CellError(value, f"{where} is {value}, not a number")
    return value
