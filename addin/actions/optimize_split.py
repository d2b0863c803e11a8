"""Optimize Split: propose the budget split across channels; nothing in the Plan changes.

- `optimize_split` reads the channels and their current spend (the Plan's `spend p`, summed per
  channel), the inputs typed on the Optimize Split sheet (bounds, locks, CPA caps, values, the
  max change of channels without bounds), resolves them once into a `SplitRequest`
  (`split_request`), reads the daily history (the Daily sheet and the Daily History sheet),
  fits a response curve per channel (`planning.curves`), proposes the split
  (`planning.split.propose`) and writes it to the Optimize Split sheet and the curves to the
  Curves sheet. Nothing in the Plan changes.
- Apply Split (`addin.actions.apply_split`) copies the proposal into the Plan's `spend p`
  cells; Undo Split (`addin.actions.undo_split`) restores them.

Amounts on the sheets are for the month (the Plan's units); the curves are per day, so a
monthly amount ``x`` is ``x / days`` a day and a daily response ``y`` is ``y * days`` a month.
The split itself is `planning.split.propose`, shared with the CSV mode and the `OPTIMIZE_SPLIT`
formula (same defaults, same answer).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from addin.actions.apply_split import CONVERSION, plan_numbers
from addin.actions.base import Action, ActionContext
from addin.actions.split_flag_texts import flags_text, history_text, word
from addin.actions.texts import ENGLISH, number, signed, texts_of
from planning.curves import ChannelFit, FitOptions, fit_history
from planning.errors import InputError
from planning.funnel import Funnel
from planning.split import (
    DEFAULT_CHANGE,
    DEFAULT_OBJECTIVE,
    DEFAULT_STEP,
    ChannelInputs,
    ChannelProposal,
    Proposal,
    SplitRequest,
    plan_cpa_fit,
    propose,
)
from planning.split_counts import ChannelTarget, split_counts
from planning.split_flags import flag
from sheets_sync.i18n import Translator
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.attribution_sheet import read_factors
from workbook_templates.cells import cell, sheet_value
from workbook_templates.curves_sheet import curve_slots, write_curves
from workbook_templates.daily_history_sheet import read_daily_history
from workbook_templates.daily_sheet import read_daily
from workbook_templates.optimize_split_sheet import (
    SplitSheet,
    channel_inputs,
    ensure_sheets,
    info_counts,
    info_inputs,
    info_max_change,
    read_split_sheet,
    write_info,
    write_split_table,
)
from workbook_templates.plan_sheet import read_plan
from workbook_templates.settings_sheet import read_funnel, read_settings

# --- reading the workbook ------------------------------------------------------------------


@dataclass
class PlanChannels:
    """The Plan's channels (first appearance order) with their summed monthly plan numbers."""

    names: list[str]
    spend: dict[str, float]
    leads: dict[str, float]
    revenue: dict[str, float]


def plan_channels(plan: pd.DataFrame) -> PlanChannels:
    names: list[str] = []
    sums: dict[str, dict[str, float]] = {"spend": {}, CONVERSION: {}, "revenue": {}}
    for i, raw in enumerate(plan["channel"]):
        if raw is None or str(raw).strip() == "":
            continue
        name = str(raw).strip()
        if name not in names:
            names.append(name)
        for metric, acc in sums.items():
            header = L.abs_header(metric, "p")
            v = float(plan[header].iloc[i]) if header in plan else math.nan
            acc[name] = acc.get(name, 0.0) + (0.0 if math.isnan(v) else v)
    return PlanChannels(names, sums["spend"], sums[CONVERSION], sums["revenue"])


def read_history(
    wb: WorkbookTarget, month: Any, t: Translator = ENGLISH
) -> tuple[pd.DataFrame, str]:
    """Daily history per channel: the Daily sheet (the month so far) and the Daily History
    sheet (days before the month; rows dated in the month are left to the Daily sheet).

    Returns a frame ``date, channel, spend, conversions`` (conversions = leads) and a note
    for the user (days and dates) in `t`'s language (English by default, as the CLI says it).
    """
    funnel = read_funnel(wb)
    if CONVERSION not in funnel.metrics:
        raise InputError(f"the funnel has no `{CONVERSION}` stage: Optimize Split needs it")
    daily = read_daily(wb, funnel, month)
    frames = []
    if len(daily):
        if CONVERSION not in daily.columns or "spend" not in daily.columns:
            raise InputError(f"sheet `{L.DAILY}` needs the columns `spend` and `{CONVERSION}`")
        frames.append(daily[["date", "channel", "spend", CONVERSION]])
    before = read_daily_history(wb, month, CONVERSION)
    if before is not None:
        frames.append(before)
    if not frames:
        return pd.DataFrame(columns=["date", "channel", "spend", "conversions"]), t("no history")
    history = pd.concat(frames, ignore_index=True)
    if history.empty:
        return pd.DataFrame(columns=["date", "channel", "spend", "conversions"]), t("no history")
    named = history["channel"].map(lambda c: c is not None and str(c).strip() != "").astype(bool)
    history = history[named]
    history = history.assign(channel=history["channel"].map(lambda c: str(c).strip()))
    history = history.rename(columns={CONVERSION: "conversions"}).reset_index(drop=True)
    if history.empty:
        return history, t("no history")
    first, last = min(history["date"]), max(history["date"])
    days = history["date"].nunique()
    return history, history_text(int(days), first, last, t)


def attributed_history(
    wb: WorkbookTarget, history: pd.DataFrame, note: str, t: Translator = ENGLISH
) -> tuple[pd.DataFrame, str]:
    """The history's conversions times each channel's attribution factor (the chosen model's
    leads ÷ last click's, from the Attribution sheet): the curves then count the leads a
    channel really brings. Channels without a factor keep theirs (said in the note)."""
    factors = read_factors(wb)
    if not factors:
        raise InputError(
            "the objective `attributed` needs the Attribution sheet's factors: press "
            "Attribution first"
        )
    channels = sorted({str(c) for c in history["channel"]})
    missing = [c for c in channels if c not in factors]
    weight = history["channel"].map(lambda c: factors.get(str(c), 1.0)).astype(float)
    out = history.assign(conversions=history["conversions"].astype(float) * weight)
    note += t("; leads re-weighted by attribution")
    if missing:
        note += t(" (no factor, as last click: {channels})", channels=", ".join(missing))
    return out, note


def fit_channels(
    history: pd.DataFrame,
    plan: PlanChannels,
    specs: Mapping[str, ChannelInputs],
    days: int,
    options: FitOptions | None = None,
) -> tuple[dict[str, ChannelFit], dict[str, str]]:
    """A curve per Plan channel: fitted on its history; without history (or if it never
    spent) the Plan's CPA (`plan_cpa_fit`). Returns the fits and, for channels with neither,
    why they are kept at their current spend. A channel whose history cannot be fitted (all
    conversions 0) is an error unless it is locked."""
    fits: dict[str, ChannelFit] = {}
    kept: dict[str, str] = {}
    options = options or FitOptions()
    for channel in plan.names:
        rows = history[history["channel"] == channel]
        if len(rows) and float(rows["spend"].sum()) > 0:  # never spent: as if no history
            try:
                fits.update(fit_history(rows, options))
            except InputError as err:
                if not specs[channel].locked:
                    raise InputError(
                        f"{err}; or lock the channel on sheet `{L.SPLIT}` to keep its spend"
                    ) from err
                kept[channel] = flag("locked_no_curve", reason=err.reason)
            continue
        fit = plan_cpa_fit(channel, plan.spend[channel], plan.leads[channel], days)
        if fit is None:
            kept[channel] = flag("kept")
        else:
            fits[channel] = fit
    return fits, kept


# --- Optimize Split ------------------------------------------------------------------------


def _grid(fit: ChannelFit, cp: ChannelProposal, days: int) -> list[list[float]]:
    """The chart's points of a channel: monthly spend on a grid, conversions, band."""
    top = max(cp.current, cp.proposed)
    if math.isfinite(fit.max_observed_spend):
        top = max(top, fit.max_observed_spend * days)
    top *= 1.5
    if top <= 0:
        return []
    spend = np.linspace(0.0, top, L.CURVE_POINTS)
    per_day = spend / days
    conv = np.asarray(fit.curve.response(per_day)) * days
    low, high = fit.band(per_day)
    return [
        [float(s), float(c), float(lo) * days, float(hi) * days]
        for s, c, lo, hi in zip(spend, conv, np.asarray(low), np.asarray(high), strict=True)
    ]


@dataclass(frozen=True)
class SplitArguments:
    """What the caller of the button gave (``None``: not given; the sheet's, else the default):
    `objective`, `budget` (monthly), `step`, `max_change`."""

    objective: str | None = None
    budget: float | None = None
    step: float | None = None
    max_change: float | None = None


def channel_specs(sheet: SplitSheet, plan: PlanChannels) -> dict[str, ChannelInputs]:
    """Each Plan channel's inputs typed on the sheet; a channel with no value per conversion
    typed gets the Plan's revenue per lead when it plans both."""
    specs = channel_inputs(sheet, plan.names)
    for c, s in specs.items():
        if s.value is None and plan.leads[c] > 0 and plan.revenue[c] > 0:
            specs[c] = replace(s, value=plan.revenue[c] / plan.leads[c])
    return specs


def split_request(
    sheet: SplitSheet, plan: PlanChannels, days: int, given: SplitArguments
) -> SplitRequest:
    """The month's request, each setting resolved once: given as an argument, else typed on
    the sheet, else its default (`planning.split`; the budget: the Plan's total `spend p`; the
    step `DEFAULT_STEP` only on a sheet just added, a blank cell meaning no rounding)."""
    objective, budget, step = info_inputs(sheet)
    if given.budget is not None:
        budget = given.budget
    elif budget is None:
        budget = sum(plan.spend.values())
        if budget <= 0:
            raise InputError(
                f"the Plan's total `spend p` is 0: type a budget on sheet `{L.SPLIT}` or pass one"
            )
    if given.step is not None:
        step = given.step
    elif sheet.fresh:
        step = DEFAULT_STEP
    max_change = given.max_change
    if max_change is None:
        max_change = info_max_change(sheet)
    return SplitRequest(
        current={c: plan.spend[c] for c in plan.names},
        budget=budget,
        days=days,
        inputs=channel_specs(sheet, plan),
        objective=given.objective or objective or DEFAULT_OBJECTIVE,
        step=step,
        max_change=DEFAULT_CHANGE if max_change is None else max_change,
    )


def optimize_split(
    wb: WorkbookTarget,
    objective: str | None = None,
    budget: float | None = None,
    step: float | None = None,
    options: FitOptions | None = None,
    max_change: float | None = None,
) -> Proposal:
    """Propose the month's split and write it to the Optimize Split and Curves sheets.

    `objective`, `budget` (monthly), `step`, `max_change`: given here, else typed on the
    Optimize Split sheet, else the defaults (`split_request`). `max_change`: a channel with no
    min/max typed (and not locked) keeps within this share of its current spend either way
    (0.5: ±50%; 0: no such limit). Reads the Plan's channels and their current `spend p`, the
    sheet's per-channel inputs (kept as they are) and the daily history. Writes only the
    Optimize Split sheet (outputs and info block) and the Curves sheet.
    """
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan_frame = read_plan(wb, funnel)
    plan = plan_channels(plan_frame)
    if not plan.names:
        raise InputError(f"sheet `{L.PLAN}` has no lines with a channel: nothing to split")
    days = calendar.monthrange(settings.month.year, settings.month.month)[1]
    added = ensure_sheets(wb)
    sheet = read_split_sheet(wb, fresh=L.SPLIT in added)
    counts_mode = info_counts(sheet)
    given = SplitArguments(objective, budget, step, max_change)
    request = split_request(sheet, plan, days, given)
    history, note = read_history(wb, settings.month, texts_of(wb))
    if request.objective == "attributed":
        history, note = attributed_history(wb, history, note, texts_of(wb))
    fits, kept = fit_channels(history, plan, request.inputs, days, options)
    proposal = propose(request, fits, history=note)
    for cp in proposal.channels:
        if cp.channel in kept:
            cp.flags = [kept[cp.channel]]
    _write_proposal(wb, sheet, proposal, len(added) > 0)
    leads_after = promised_leads(plan_frame, funnel, proposal, counts_mode)
    write_info(wb, sheet, {L.SPLIT_LEADS_AFTER: sheet_value(leads_after)})
    wb.save()
    t = texts_of(wb)
    wb.notify(
        _summary(proposal, t)
        + t(
            "; see sheet `{sheet}`. Nothing in the Plan changed: Apply Split copies it and sets "
            "the counts ({mode}): the Plan will plan {leads} {conversion}.",
            sheet=t(L.SPLIT),
            mode=counts_mode,
            leads=number(leads_after, t),
            conversion=t(CONVERSION),
        )
    )
    if L.CURVES in added:
        wb.notify(
            t(
                "sheet `{sheet}` was added without a chart (a new template draws one)",
                sheet=t(L.CURVES),
            )
        )
    return proposal


def promised_leads(plan: pd.DataFrame, funnel: Funnel, proposal: Proposal, mode: str) -> float:
    """The Plan's total `leads p` once Apply Split writes `proposal` with counts by `mode`:
    computed as Apply will (`planning.split_counts` over the amounts as the sheet holds them,
    rounded by `cell`), so the sheet's promise is what the Plan then shows."""
    targets = []
    for cp in proposal.channels:
        expected = cell(cp.expected)
        targets.append(
            ChannelTarget(
                cp.channel,
                float(cell(cp.proposed)),
                float(expected) if isinstance(expected, int | float) else math.nan,
            )
        )
    done = split_counts(plan_numbers(plan, funnel), targets, mode)
    return done.totals.get(CONVERSION, math.nan)


def _summary(proposal: Proposal, t: Translator) -> str:
    totals = proposal.totals
    return t(
        "Optimize Split: {expected} {conversion} expected at the proposal vs {now} at the "
        "current split ({uplift})",
        expected=number(totals.expected_conversions, t),
        conversion=t(CONVERSION),
        now=number(totals.conversions_now, t),
        uplift=signed(totals.uplift, t),
    )


def status_text(proposal: Proposal, t: Translator) -> str:
    """The info block's status line in the workbook's language (English: exactly
    ``Proposal.status()``): solved or not, how exactly, the rounding step. The whole
    ``ok: exact`` is one msgid (a lone "exact" would be the Mapping's match code)."""
    r = proposal.result
    methods = {"bisection": "exact", "grid-dp": "exact on a budget grid"}
    outcome = ("ok: " if r.success else "failed: ") + methods.get(r.method, r.method)
    text = t(outcome) if r.method in methods else outcome
    if proposal.step:
        text = t("{status}, steps of {step}", status=text, step=number(proposal.step, t))
    return text


def _write_proposal(wb: WorkbookTarget, sheet: SplitSheet, proposal: Proposal, added: bool) -> None:
    say = texts_of(wb)
    outputs: dict[str, dict[str, Any]] = {}
    for cp in proposal.channels:
        outputs[cp.channel] = {
            L.SPLIT_CURRENT: cell(cp.current),
            L.SPLIT_PROPOSED: cell(cp.proposed),
            L.SPLIT_CONV_NOW: cell(cp.conversions_now),
            L.SPLIT_EXPECTED: cell(cp.expected),
            L.SPLIT_LOW: cell(cp.low),
            L.SPLIT_HIGH: cell(cp.high),
            L.SPLIT_MARGINAL_CPA: cell(cp.marginal_cpa),
            L.SPLIT_CONFIDENCE: word("confidence", cp.confidence, say),
            L.SPLIT_FLAGS: flags_text(cp.flags, say) or None,
        }
    names = [cp.channel for cp in proposal.channels]
    write_split_table(wb, sheet, names, outputs)
    t, s = proposal.totals, proposal.result
    write_info(
        wb,
        sheet,
        {
            "days": proposal.days,
            "budget used": cell(proposal.budget),
            "current spend": cell(t.current),
            "proposed spend": cell(t.proposed),
            "conversions now": cell(t.conversions_now),
            "expected conversions": cell(t.expected_conversions),
            "uplift": cell(t.uplift),
            "uplift %": cell(t.uplift_pct, 4),
            "value now": cell(t.value_now),
            "expected value": cell(t.value),
            "solver": say(
                "{method}, {n} iterations", method=word("solver", s.method, say), n=s.iterations
            ),
            "marginal return": cell(s.multiplier * 1000, 6),  # per 1,000 spent (readable)
            "status": status_text(proposal, texts_of(wb)),
            "history": proposal.history,
        },
    )
    slots = 0 if added else curve_slots(wb)
    markers: list[list[list[Any]]] = [[], []]
    curves: list[list[list[float]] | None] = []
    for cp in proposal.channels:
        markers[0].append([cp.current, cp.conversions_now, None, None])
        markers[1].append([cp.proposed, cp.expected, cp.low, cp.high])
        fit = proposal.fits.get(cp.channel)
        curves.append(None if fit is None else _grid(fit, cp, proposal.days))
    if curves and slots and len(curves) > slots:
        say = texts_of(wb)
        wb.notify(
            say("the curves chart shows the first {n} channels (the template's slots)", n=slots)
        )
    write_curves(wb, slots, markers, names, curves)


# --- New Month ------------------------------------------------------------------------------

HISTORY_KEEP_DAYS = 365
"""Days of channel history a new month's workbook keeps on its Daily History sheet."""


def carry_over(wb: WorkbookTarget) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """What next month's workbook needs for Optimize Split: its Daily History (this workbook's
    Daily History and Daily, channel by channel, the last `HISTORY_KEEP_DAYS` days; columns
    ``date, channel, spend, leads``) and the Optimize Split inputs typed here (``channel`` and
    the input columns; ``None`` without the sheet). For `PlanWorkbookSpec(daily_history=...,
    split_inputs=...)`."""
    settings = read_settings(wb)
    history, _ = read_history(wb, settings.month)
    columns = list(L.DAILY_HISTORY_HEADERS)
    if history.empty:
        days = pd.DataFrame(columns=columns)
    else:
        days = (
            history.groupby(["date", "channel"], sort=True)[["spend", "conversions"]]
            .sum()
            .reset_index()
            .rename(columns={"conversions": CONVERSION})
        )
        last = max(days["date"])
        days = days[days["date"] > last - dt.timedelta(days=HISTORY_KEEP_DAYS)]
        days = days[columns].reset_index(drop=True)
    inputs = None
    if L.SPLIT in wb.sheet_names():
        sheet = read_split_sheet(wb)
        inputs = pd.DataFrame(
            [
                {"channel": c, **{h: row.get(h) for h in L.SPLIT_INPUTS}}
                for c, row in sheet.rows.items()
            ],
            columns=["channel", *L.SPLIT_INPUTS],
        )
    return days, inputs


__all__ = [
    "Proposal",
    "carry_over",
    "optimize_split",
    "read_history",
]


def run_button(ctx: ActionContext) -> str:
    """The Optimize Split button."""
    proposal = optimize_split(ctx.workbook)
    t = texts_of(ctx.workbook)
    return (
        _summary(proposal, t)
        + ". "
        + t("Nothing in the Plan changed: Apply Split copies the proposal.")
    )


ACTION = Action(
    "optimize_split",
    "Optimize Split",
    "Propose the budget split across channels (sheets Optimize Split and Curves).",
    run_button,
    group="Budget Split",
    icon="ChartInsert",
    tip="Fit each channel's response curve and propose the budget split with the most purchases.",
)
