"""An ad export's own total row: found (even where the platform writes it as a data row),
parsed, and checked against the rows.

`split_summary`
    Meta Ads writes a summary row FIRST, with a blank campaign and the sums of the rows; other
    exports may put one last, or label it in the campaign cell ("Total", "Итого", "Всего").
    `textfile` only recognises a label in the first cells, so such a row came through as data
    and was quarantined as "campaign is blank" (quarantined spend = the file's spend, the
    file's total doubled). A first or last row is taken for the file's total when its
    campaign is blank or such a label AND its spend equals the sum of the other rows' spend
    within rounding (`rounding`); it then moves to `Grid.totals` like an "Итого" row. A
    blank-campaign row that does not add up is an ordinary bad row and stays quarantined.
`totals_row`
    The totals row parsed like the rows (a blank cell is no claim: left out), and its line.
`total_flags`
    The file's own total checked against what the rows hold: a difference beyond rounding is a
    flag (`FileInfo.flags`) naming the file, the total's line and both numbers as written in
    the file, which makes the sync not ok. What "the rows" are is not fixed by the platforms:
    a total may count every row (accepted + quarantined + repeated), or have been made before
    a repeated day was appended or without a row the reader refuses; the total agrees when it
    matches any of those readings, so only a total that no reading of the rows explains
    (Итого 10,000 over rows of 7,000) is flagged. The flag's second number is every row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sheets_sync.facts import FileInfo
from sheets_sync.sources.cell_values import parse_numbers
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.textfile import Grid

__all__ = ["rounding", "split_summary", "total_flags", "totals_row"]

_LABEL = re.compile(r"^(?:итого|всего|итог|total|grand\s+total|totals?)\b", re.IGNORECASE)


def rounding(rows: int) -> float:
    """How far a total may be from the sum of `rows` rounded values (file units): half a cent
    per row plus a cent (each row rounded to cents, the total rounded once)."""
    return 0.01 + 0.005 * max(rows, 0)


def _text(cell: object) -> str:
    if isinstance(cell, str):
        return cell
    return "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)


def _is_label(cell: str) -> bool:
    text = cell.strip()
    return not text or _LABEL.match(text) is not None


def split_summary(grid: Grid, columns: Mapping[str, str]) -> Grid:
    """`grid` with a summary data row (first or last; see the module notes) moved to its
    totals; `grid` itself when there is none."""
    frame = grid.frame
    n = len(frame)
    if n < 2:
        return grid
    campaign = frame[columns["campaign"]].to_numpy(dtype=object)
    candidates = [i for i in dict.fromkeys((0, n - 1)) if _is_label(_text(campaign[i]))]
    if not candidates:
        return grid
    spend, _, _ = parse_numbers(frame[columns["spend"]], grid.decimal)
    for i in candidates:
        others = np.delete(spend, i)
        total = float(np.nansum(others))
        if np.isfinite(spend[i]) and total > 0 and abs(spend[i] - total) <= rounding(n - 1):
            return _moved(grid, i)
    return grid


def _moved(grid: Grid, i: int) -> Grid:
    keep = np.ones(len(grid.frame), dtype=bool)
    keep[i] = False
    row = grid.frame.iloc[[i]]
    grid.totals = (
        row.reset_index(drop=True)
        if grid.totals.empty
        else pd.concat([row, grid.totals], ignore_index=True)
    )
    grid.totals_lines = np.concatenate([grid.lines[[i]], grid.totals_lines])
    grid.frame = grid.frame.loc[keep].reset_index(drop=True)
    grid.lines = grid.lines[keep]
    return grid


def totals_row(
    grid: Grid,
    columns: Mapping[str, str],
    metrics: Mapping[str, str],
    options: SourceOptions,
    warnings: list[str],
) -> tuple[dict[str, float] | None, int]:
    """The file's totals row per metric (times the source's money factor; blank cells left
    out) and its line (0 when none). Of several, the "… account" one, else the first."""
    if grid.totals.empty:
        return None, 0
    labels = [" ".join(str(v) for v in row if v).casefold() for row in grid.totals.to_numpy()]
    choice = next((i for i, label in enumerate(labels) if "account" in label), 0)
    row = grid.totals.iloc[[choice]]
    out: dict[str, float] = {}
    for fieldname, metric in metrics.items():
        if fieldname in columns:
            values, _, blank = parse_numbers(row[columns[fieldname]], grid.decimal)
            if not blank[0] and np.isfinite(values[0]):
                out[metric] = float(values[0]) * options.money_factor(metric)
    if len(grid.totals) > 1:
        grid_label = re.sub(r"\s+", " ", labels[choice])
        warnings.append(f"{len(grid.totals)} totals rows; compared with {grid_label!r}")
    return out, int(grid.totals_lines[choice])


def total_flags(info: FileInfo, line: int, options: SourceOptions) -> list[str]:
    """One flag when the file's own total disagrees with its rows beyond `rounding`: the
    file, the total's line and, per metric off, the total and the rows' sum as written."""
    own = info.file_totals_row
    if not own:
        return []
    rows = info.rows_ok + info.rows_quarantined + info.duplicates
    off: list[str] = []
    for metric, claimed in own.items():
        factor = options.money_factor(metric) or 1.0
        accepted = info.totals.get(metric, 0.0)
        quarantined = info.quarantined_totals.get(metric, 0.0)
        repeated = info.duplicate_totals.get(metric, 0.0)
        readings = (accepted, accepted + repeated, accepted + quarantined)
        held = accepted + quarantined + repeated
        if all(abs(claimed - r) / factor > rounding(rows) for r in (*readings, held)):
            off.append(f"{metric} {claimed / factor:,.2f} vs {held / factor:,.2f}")
    if not off:
        return []
    return [
        f"{info.path}: the file's total row (line {line}) disagrees with its rows "
        f"(total vs rows: {'; '.join(off)})"
    ]
