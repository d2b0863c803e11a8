"""New Month's use of the Review sheet's Brief: next month's lines set to its budgets and KPIs.

When the workbook's Review sheet has a Brief (`workbook_templates.review_sheet.read_brief`), the
lines New Month planned from this month (`new_month.plan_next_line`) are set to it per channel
by `planning.brief.apply_brief`: the channel's budget split over its lines by their planned
budgets, the counts scaled to the brief's leads and outcome. Without a Brief nothing changes
(New Month then plans from this month as before).
"""

from __future__ import annotations

from typing import Any

from planning.brief import apply_brief
from planning.funnel import Funnel
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.review_sheet import read_brief


def apply_brief_targets(
    wb: WorkbookTarget, lines: list[dict[str, Any]], funnel: Funnel
) -> str | None:
    """Set `lines` (records with ``channel``, ``campaign`` and ``"<metric> p"`` values) to the
    Brief in place, rounded as New Month rounds; returns where the Brief was (None: no Brief)."""
    brief = read_brief(wb)
    if brief is None:
        return None
    metrics = funnel.metrics
    counts = []
    for line in lines:
        values = {m: line[L.abs_header(m, "p")] for m in metrics if L.abs_header(m, "p") in line}
        counts.append((str(line["channel"]).strip(), values))
    for line, new in zip(lines, apply_brief(counts, brief.lines, funnel), strict=True):
        for m, v in new.items():
            line[L.abs_header(m, "p")] = round(v, 2)
    return brief.where
