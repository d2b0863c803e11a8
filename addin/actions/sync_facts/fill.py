"""Step 4, fill: the plan month summed up to as-of per line into the Plan's ``"<metric> f"``
columns of the metrics some source provides (a line with no facts is left blank and listed),
in one block per contiguous run of columns, and the Daily sheet (owned whole: one row per day
and line)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from addin.actions.sync_facts.book import PlanBook
from addin.actions.sync_facts.map import Mapped
from sheets_sync.quality import SourceRead
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import line_name
from workbook_templates.daily_sheet import write_daily
from workbook_templates.fact_blocks import fact_cell

PROVIDES: dict[str, tuple[str, ...]] = {
    "ad": ("spend", "impressions", "traffic", "platform_leads"),
    "calls": ("calls", "calls_all"),
    "crm": ("leads", "pp", "negotiations", "purchases", "revenue"),
}
"""The metrics a source of each kind provides (SQL and Google Sheets sources: what they hold).
The Plan's ``f`` column of a provided metric is owned by the sync: 0 on a line with other
facts but none of this metric, blank on a line with no facts at all."""


@dataclass
class Filled:
    """What the fill step wrote."""

    metrics: list[str]
    """The Plan ``f`` columns written (metric names), in the funnel's order."""
    sums: dict[str, float]
    """Per metric written, the sum of its ``f`` cells."""
    lines: int
    lines_without_facts: list[str]
    daily: pd.DataFrame
    """The Daily rows written, as `read_daily` reads them (the refresh after the sync uses it)."""

    @property
    def daily_rows(self) -> int:
        return len(self.daily)

    @property
    def lines_filled(self) -> int:
        return self.lines - len(self.lines_without_facts)


def owned_metrics(
    config: SyncConfig, book: PlanBook, reads: Sequence[SourceRead], mapped: pd.DataFrame
) -> list[str]:
    """The metrics whose ``f`` column the sync writes: those the configured sources provide
    and the Plan has a column for, in the funnel's order."""
    provided: set[str] = set(mapped["metric"].unique()) if len(mapped) else set()
    for src in config.sources:
        provided.update(PROVIDES.get(src.kind, ()))
    for r in reads:
        provided.update(r.result.facts["metric"].unique())
    table = book.table
    return [m for m in book.funnel.metrics if m in provided and table.has(L.abs_header(m, "f"))]


def _runs(columns: Sequence[int]) -> list[list[int]]:
    """Sorted sheet columns grouped into contiguous runs."""
    runs: list[list[int]] = []
    for c in sorted(set(columns)):
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _fact_columns(
    book: PlanBook, per_line: pd.DataFrame, metrics: list[str]
) -> tuple[dict[int, list[Any]], dict[str, float]]:
    """Per sheet column, the ``f`` cells of the Plan's lines; per metric, their sum."""
    lines_with = set(per_line.index.tolist())
    columns: dict[int, list[Any]] = {}
    sums: dict[str, float] = {}
    for m in metrics:
        values: list[Any] = []
        for i in range(len(book.plan)):
            if i not in lines_with:
                values.append(None)
                continue
            v = float(per_line.at[i, m]) if m in per_line.columns else math.nan  # type: ignore[arg-type]
            values.append(fact_cell(m, 0.0 if math.isnan(v) else v))
        columns[book.table.column(L.abs_header(m, "f"))] = values
        sums[m] = float(sum(v for v in values if v is not None))
    return columns, sums


def fill_plan(
    wb: WorkbookTarget,
    config: SyncConfig,
    book: PlanBook,
    reads: Sequence[SourceRead],
    mapped: Mapped,
) -> Filled:
    """The fill step: the Plan's ``f`` columns and the Daily sheet from the filled facts."""
    metrics = owned_metrics(config, book, reads, mapped.facts)
    filled = mapped.facts[mapped.facts["status"] == "filled"]
    per_line = (
        filled.groupby(["line", "metric"])["value"].sum().unstack("metric")
        if len(filled)
        else pd.DataFrame()
    )
    lines_with = set(per_line.index.tolist())
    plan, n = book.plan, len(book.plan)
    missing = [
        line_name(plan["channel"].iloc[i], plan["campaign"].iloc[i])
        for i in range(n)
        if i not in lines_with
    ]
    columns, sums = _fact_columns(book, per_line, metrics)
    if n:
        for run in _runs(list(columns)):
            block = [[columns[c][i] for c in run] for i in range(n)]
            wb.write_block(L.PLAN, book.table.first_row, run[0], block)
    daily = write_daily(wb, filled, plan, metrics)
    return Filled(metrics, sums, n, missing, daily)
