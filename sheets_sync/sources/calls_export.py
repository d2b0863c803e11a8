"""Call-tracking exports (one row per call) -> daily ``calls_all`` and ``calls`` facts.

Columns (English | Russian, case-insensitive): Call ID | ID звонка, Date time | Date | Дата и
время | Дата (a datetime), utm_source | Источник, utm_medium | Канал, utm_campaign | Кампания,
Duration | Длительность (seconds, mm:ss or hh:mm:ss), Target | Целевой (Да/Нет, Yes/No, 1/0,
true/false). Facts, basis ``"event"``, dated by the call's day: ``calls_all`` counts every
call, ``calls`` the target ones (what the plan counts).

Decisions:

* a blank Target cell means "not a target call"; an unreadable one (``"maybe"``) quarantines
  the row; without a Target column, ``min_duration`` (seconds) decides, else only
  ``calls_all`` is produced (with a warning);
* the call's date and time are required: blank or unreadable -> quarantine;
* Call ID is the natural key: a repeated ID is a duplicate, the LAST row is kept; rows with a
  blank ID are all kept (counted in a warning); quarantined rows take no part in
  de-duplication;
* the duration is only parsed when it decides the target (``min_duration`` without a Target
  column); then an unreadable duration quarantines the row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sheets_sync.facts import ReadResult
from sheets_sync.sources.cell_values import parse_durations, parse_flags
from sheets_sync.sources.column_map import (
    DIMENSION_ALIASES,
    UTM_ALIASES,
    ColumnMap,
    SourceOptions,
)
from sheets_sync.sources.fact_frames import (
    concat_quarantine,
    date_window,
    dimension_keys,
    field_columns,
    flag_dates,
    last_duplicates,
    long_facts,
    quarantine_cells,
    stripped_codes,
    tally,
    text_column,
)
from sheets_sync.sources.textfile import Bools, Floats, SheetRows, read_grid

__all__ = ["CALLS_MAP", "looks_like_calls", "read_calls_export"]

CALLS_MAP = ColumnMap(
    "calls",
    {
        "id": ("Call ID", "ID звонка", "Идентификатор звонка", "ID", "Id"),
        "date": (
            "Date time",
            "Datetime",
            "Call time",
            "Дата и время",
            "Дата звонка",
            "Время звонка",
            "Date",
            "Дата",
        ),
        **UTM_ALIASES,
        **DIMENSION_ALIASES,
        "duration": ("Duration", "Длительность", "Длительность разговора", "Talk time"),
        "target": ("Target", "Целевой", "Целевой звонок", "Is target"),
    },
    utm_source="",
    utm_medium="",
    required=("date",),
)
"""The calls columns; a configured map (``SourceOptions.column_map``) uses the same fields."""


def looks_like_calls(headers: list[str], cmap: ColumnMap = CALLS_MAP) -> bool:
    """A calls header: a date plus a target or duration column or a call-specific id."""
    found = cmap.resolve(headers)
    if "date" not in found:
        return False
    if "target" in found or "duration" in found:
        return True
    return "id" in found and found["id"].strip().casefold() not in ("id",)


def read_calls_export(
    path: Path | str | SheetRows, options: SourceOptions, *, min_duration: float | None = None
) -> ReadResult:
    """Read one call-tracking export (a file or a sheet's `SheetRows`) into daily
    ``calls_all`` / ``calls`` facts."""
    cmap = options.column_map or CALLS_MAP
    grid = read_grid(path, lambda cells: looks_like_calls(cells, cmap), what="calls export")
    columns = field_columns(grid, cmap)
    frame = grid.frame
    n = len(frame)
    source = options.source
    info = grid.info(source, "calls", cmap.name)
    parts: list[pd.DataFrame] = []
    bad: Bools = np.zeros(n, dtype=bool)

    dates, undated = flag_dates(grid, source, columns["date"], info, parts)
    bad |= undated

    target: Bools | None = None
    if "target" in columns:
        flag, wrong, _ = parse_flags(frame[columns["target"]])
        parts.append(
            quarantine_cells(grid, source, wrong, columns["target"], "is not yes/no (Да/Нет)")
        )
        bad |= wrong
        target = flag
    elif min_duration is not None and "duration" in columns:
        seconds, wrong, blank = parse_durations(frame[columns["duration"]])
        parts.append(
            quarantine_cells(grid, source, wrong, columns["duration"], "is not a duration")
        )
        bad |= wrong
        target = ~blank & (np.nan_to_num(seconds, nan=0.0) >= min_duration)
    else:
        info.warnings.append("no Target column: only calls_all (every call) is counted")

    duplicate = np.zeros(n, dtype=bool)
    if "id" in columns:
        codes = np.asarray(stripped_codes(frame[columns["id"]]).codes)
        duplicate = last_duplicates(codes, bad)
        blank_ids = int((~bad & (codes < 0)).sum())
        if blank_ids:
            info.warnings.append(f"{blank_ids} call(s) without an ID kept as they are")
    keep = ~bad & ~duplicate

    metrics: dict[str, Floats] = {"calls_all": np.ones(n, dtype=np.float64)}
    if target is not None:
        metrics["calls"] = target.astype(np.float64)
    keys = {
        key: text_column(frame, columns.get(key), n)
        for key in ("utm_source", "utm_medium", "utm_campaign")
    }
    keys.update(dimension_keys(frame, columns, n))  # city, product, utm_term, utm_content
    facts = long_facts(
        dates.values[keep],
        source,
        {k: v[keep] for k, v in keys.items()},
        {m: v[keep] for m, v in metrics.items()},
        "event",
        aggregate=True,
    )
    facts = facts[facts["value"] != 0].reset_index(drop=True)
    tally(info, metrics, bad, duplicate)
    date_window(info, facts)
    if keep.any():
        info.latest = pd.Timestamp(dates.values[keep].max()).to_pydatetime()
    return ReadResult(facts=facts, quarantine=concat_quarantine(parts), info=info)
