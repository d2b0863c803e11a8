"""The request and response bodies of the endpoints, and the JSON response they send."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr

Cell = StrictBool | StrictInt | StrictFloat | StrictStr | None
Range = list[list[Cell]]


class FunctionCall(BaseModel):
    """A call: the arguments in order (cells or ranges) and whether to call it per row."""

    args: list[Cell | Range] = Field(
        default_factory=list,
        description="Each argument a cell value or a range (a 2-D array, rows of cells).",
        max_length=32,
    )
    by_row: bool = Field(
        False,
        description=(
            "Call the function once per row of the ranges (a one-row range or a single value "
            "is used for every row); the result has one row per line."
        ),
    )


class FunctionResult(BaseModel):
    values: list[list[Any]] = Field(description="The result as rows of cells.")
    message: str = Field("", description="Why a cell holds an error value, if one does.")


class SheetActionResult(BaseModel):
    message: str = Field(description="What the button did, to show the user.")
    spreadsheet_id: str
    requests: int = Field(description="Sheets API requests the button made (retries counted).")
    workbook: str | None = Field(
        None, description="New Month: next month's workbook, a base64 .xlsx, to import."
    )
    filename: str | None = Field(None, description="New Month: the workbook's file name.")


def json_response(data: Any, started: float) -> Response:
    """A JSON response with a ``Server-Timing`` header (the computation, in ms, since
    `started`, a `time.perf_counter` value)."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), default=str)
    ms = (time.perf_counter() - started) * 1000
    headers = {"Server-Timing": f"compute;dur={ms:.1f}"}
    return Response(text, media_type="application/json", headers=headers)
