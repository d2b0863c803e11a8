"""Customer-journey exports (a ``kind = "paths"`` source) -> touches and outcomes.

`read_paths_export(path, options, shape="auto")` reads one file (CSV in any encoding and
delimiter `textfile` handles, or XLSX) of one of two shapes, told or found by its header:

``"visits"``
    a web-analytics visits export, one row per visit (Yandex Metrica report or Logs API, GA4):
    `sheets_sync.sources.paths_visits`;
``"crm_history"``
    a CRM export listing each deal's touches in one cell ("yandex / cpc > vk / cpc > (direct) /
    (none)"): `sheets_sync.sources.paths_history`.

The third shape, a SQL query, is `sheets_sync.sources.paths_sql.read_paths_sql`. Each returns a
`PathsReadResult` (`sheets_sync.sources.paths_common`: the frames, the quarantine, the file's
`FileInfo`, the odd inputs counted). Messages of the `InputError` raised for a missing, empty
or unrecognised file name it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from planning.errors import InputError
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.paths_common import (
    OUTCOME_COLUMNS,
    TOUCH_COLUMNS,
    PathsReadResult,
)
from sheets_sync.sources.paths_history import looks_like_history, read_history
from sheets_sync.sources.paths_visits import looks_like_visits, read_visits
from sheets_sync.sources.textfile import SheetRows, read_grid

__all__ = [
    "FILE_SHAPES",
    "OUTCOME_COLUMNS",
    "TOUCH_COLUMNS",
    "PathsReadResult",
    "looks_like_paths",
    "read_paths_export",
    "shape_of",
]

FILE_SHAPES: tuple[str, ...] = ("visits", "crm_history", "auto")
"""What a paths source's ``shape`` may say (``auto``: found by the header)."""


def shape_of(headers: list[str]) -> str | None:
    """``"crm_history"`` (a deal id, created date and path column) or ``"visits"`` (a visitor
    id and a visit time) for a header row, else None."""
    if looks_like_history(headers):
        return "crm_history"
    if looks_like_visits(headers):
        return "visits"
    return None


def looks_like_paths(headers: list[str]) -> bool:
    return shape_of(headers) is not None


def read_paths_export(
    path: Path | str | SheetRows,
    options: SourceOptions,
    shape: str = "auto",
    now: dt.datetime | None = None,
) -> PathsReadResult:
    """Read one journeys file as `shape` (``"visits"``, ``"crm_history"``, or ``"auto"``: by
    its header). `now` (default: the clock) is what "in the future" is counted against."""
    if shape not in FILE_SHAPES:
        raise InputError(f"unknown journeys shape (expected {', '.join(FILE_SHAPES)})", value=shape)

    def is_header(cells: list[str]) -> bool:
        found = shape_of(cells)
        if shape == "visits":
            return looks_like_visits(cells)
        if shape == "crm_history":
            return found == "crm_history"
        return found is not None

    what = {"visits": "visits export", "crm_history": "CRM history export"}.get(
        shape, "journeys export (visits or CRM history)"
    )
    grid = read_grid(path, is_header, what=what)
    if shape == "visits" or (shape == "auto" and shape_of(grid.headers) == "visits"):
        return read_visits(grid, options, now)
    return read_history(grid, options, now)
