"""Optimize Split's proposal computed in memory for Review Month, when the sheet has none.

The same request, history and curve fits as the Optimize Split button (`optimize_split`'s own
steps), but nothing is written: the review only reads the proposal.
"""

from __future__ import annotations

import calendar

from addin.actions.optimize_split import (
    SplitArguments,
    fit_channels,
    plan_channels,
    read_history,
    split_request,
)
from planning.brief import SplitChannel
from planning.split import propose
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.optimize_split_sheet import read_split_sheet
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings


def propose_in_memory(
    wb: WorkbookTarget,
) -> tuple[dict[str, SplitChannel], dict[str, str], str]:
    """(per channel the proposal, per channel its flags, ``"computed"``); empty when the Plan
    has no channel or no spend to split."""
    settings = read_settings(wb)
    _, frame = read_plan(wb, read_funnel(wb))
    plan = plan_channels(frame)
    if not plan.names or sum(plan.spend.values()) <= 0:
        return {}, {}, "none"
    days = calendar.monthrange(settings.month.year, settings.month.month)[1]
    sheet = read_split_sheet(wb, fresh=L.SPLIT not in wb.sheet_names())
    request = split_request(sheet, plan, days, SplitArguments(None, None, None, None))
    history, note = read_history(wb, settings.month)
    fits, _ = fit_channels(history, plan, request.inputs, days, None)
    proposal = propose(request, fits, history=note)
    found = {
        cp.channel: SplitChannel(cp.current, cp.proposed, cp.conversions_now, cp.expected)
        for cp in proposal.channels
    }
    return found, {cp.channel: "; ".join(cp.flags) for cp in proposal.channels}, "computed"
