"""``GET /functions`` (the registry's functions and buttons) and ``POST /functions/{name}``
(one call, or one per row of the ranges with ``"by_row": true``)."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from addin.registry import ACTIONS, FUNCTIONS, SheetFunction
from addin.server.errors import ERRORS, ApiError
from addin.server.limits import check_call, check_cells, run_in_thread
from addin.server.models import FunctionCall, FunctionResult, json_response
from addin.server.state import Signed, State

router = APIRouter()


def _cell_out(value: Any) -> Any:
    """A result cell as JSON: non-finite numbers are #NUM!, dates ISO text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "#NUM!"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows(value: Any, result: str) -> list[list[Any]]:
    """A function's value as rows of cells (as `SheetFunction.call_cells`)."""
    if result == "table" and isinstance(value, list):
        return [[_cell_out(c) for c in (r if isinstance(r, list) else [r])] for r in value]
    if isinstance(value, list):
        return [[_cell_out(v)] for v in value]
    return [[_cell_out(value)]]


def _per_row(args: list[Any]) -> int:
    """The number of lines of a by-row call; 422 for mismatched or empty ranges."""
    sizes = {len(a) for a in args if isinstance(a, list) and len(a) != 1}
    if len(sizes) > 1:
        shown = ", ".join(
            f"argument {i + 1} has {len(a)} rows" for i, a in enumerate(args) if isinstance(a, list)
        )
        raise ApiError(
            422, "invalid_request", f"the ranges have different numbers of rows ({shown})"
        )
    n = sizes.pop() if sizes else 1
    for i, a in enumerate(args):
        if isinstance(a, list) and not a:
            raise ApiError(422, "invalid_request", f"argument {i + 1} is an empty range")
    return n


@router.get("/functions", tags=["functions"], responses=ERRORS)
def list_functions(key: Signed) -> dict[str, Any]:
    """Every spreadsheet function and button action of the registry."""
    return {
        "functions": [
            json.loads(json.dumps(f.describe(), default=str)) for f in FUNCTIONS.values()
        ],
        "actions": [{"id": a.id, "label": a.label, "help": a.help} for a in ACTIONS.values()],
    }


@router.post(
    "/functions/{name}",
    tags=["functions"],
    response_model=FunctionResult,
    responses=ERRORS,
)
def call_function(name: str, call: FunctionCall, key: Signed, state: State) -> Response:
    """Call a function on cells and whole ranges; error values come back as strings. A call
    over the caps (cells, stages, channels) is refused, one past the time limit is stopped
    (`limits`)."""
    started = time.perf_counter()
    settings = state.settings
    check_cells(list(call.args), settings)
    fn = FUNCTIONS.get(name.upper())
    if fn is None:
        raise ApiError(404, "unknown_function", f"no function {name!r} (see GET /functions)")
    if len(call.args) > len(fn.args):
        raise ApiError(
            422,
            "invalid_request",
            f"{fn.name} takes at most {len(fn.args)} arguments, got {len(call.args)}",
        )
    check_call([a.name for a in fn.args], list(call.args), call.by_row, settings)
    body = run_in_thread(lambda: _evaluate(fn, call), settings.time_limit)
    return json_response(body, started)


def _evaluate(fn: SheetFunction, call: FunctionCall) -> dict[str, Any]:
    """The answer's body: the values as rows of cells and the first reason of an error."""
    if not call.by_row:
        value, message = fn.evaluate(*call.args)
        return {"values": _rows(value, fn.result), "message": message}
    args = list(call.args)
    n = _per_row(args)
    rows: list[list[Any]] = []
    first = ""
    per_row = [
        [([a[i]] if len(a) > 1 else a) if isinstance(a, list) else a for a in args]
        for i in range(n)
    ]
    # one evaluation per row; RUNRATE and RUNRATE_COST batch them (`SheetFunction.by_rows`)
    for i, (value, message) in enumerate(fn.evaluate_rows(per_row)):
        cells = _rows(value, fn.result)
        rows.append([c for r in cells for c in r])
        if message and not first:
            first = f"row {i + 1}: {message}" if n > 1 else message
    return {"values": rows, "message": first}
