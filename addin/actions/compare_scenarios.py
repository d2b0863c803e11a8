"""Compare Scenarios: the strategist's what-ifs, on the curves Optimize Split fits.

Reads the Plan (channels, their current `spend p`, purchases and revenue per lead), the daily
history (fitted per channel exactly as Optimize Split fits it), the Optimize Split sheet's
inputs (its proposal is recomputed, so it is always the second scenario) and the scenarios typed
on the Scenarios sheet (`workbook_templates.scenarios_sheet`). Evaluates every scenario with
`planning.scenario_plan` and writes, per scenario and channel, spend, leads and purchases with
their band, CPA, CAC, revenue, ROAS, ROMI, the Δ against the current plan, the best scenario
under the sheet's objective and the extrapolation flags. A scenario with bad input gets its
error in its status cell (naming the cell and the value); the others still compute. Nothing
outside the Scenarios sheet changes.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from addin.actions.base import Action, ActionContext
from addin.actions.optimize_split import (
    CONVERSION,
    PlanChannels,
    SplitArguments,
    fit_channels,
    plan_channels,
    read_history,
    split_request,
)
from addin.actions.split_flag_texts import flag_text, flags_text
from addin.actions.texts import number, texts_of
from planning.curves import ChannelFit
from planning.errors import InputError
from planning.scenario_plan import (
    OBJECTIVES,
    Economics,
    ScenarioOutcome,
    ScenarioSpec,
    best,
    outcomes,
    parse_change,
    parse_moves,
    resolve,
)
from planning.split import SplitRequest, propose
from sheets_sync.cells import finite_number
from sheets_sync.i18n import Translator
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.cells import sheet_value, to_number
from workbook_templates.optimize_split_sheet import read_split_sheet
from workbook_templates.plan_sheet import read_plan
from workbook_templates.scenarios_sheet import (
    CURRENT,
    PROPOSAL,
    ScenarioInputs,
    ScenarioRow,
    ensure_scenarios_sheet,
    read_scenarios,
    write_channel_columns,
    write_scenario_results,
)
from workbook_templates.settings_sheet import read_funnel, read_settings

__all__ = ["Comparison", "ScenarioBase", "compare_scenarios", "read_base", "row_spec"]


@dataclass(frozen=True)
class ScenarioBase:
    """What every scenario is measured against: the channels with a curve, their current
    (Plan) and proposed (Optimize Split) spends for the month, the fits, what a lead is worth
    below the curve, the month's days, and the channels left out (no curve) with why."""

    channels: tuple[str, ...]
    current: dict[str, float]
    proposal: dict[str, float]
    fits: dict[str, ChannelFit]
    economics: Economics
    days: int
    left_out: dict[str, str]


@dataclass(frozen=True)
class Comparison:
    """What Compare Scenarios computed: every scenario evaluated (the current plan and the
    proposal first), the best one's name, and the errors of the rows that could not compute
    (sheet row → message)."""

    results: tuple[ScenarioOutcome, ...]
    best: str | None
    objective: str
    errors: dict[int, str]


def _economics(plan: PlanChannels, frame: Any, last_stage: str) -> Economics:
    header = L.abs_header(last_stage, "p")
    purchases: dict[str, float] = {}
    if header in frame:
        for raw, v in zip(frame["channel"], frame[header], strict=True):
            name = str(raw).strip() if raw is not None else ""
            if name and isinstance(v, int | float) and math.isfinite(float(v)):
                purchases[name] = purchases.get(name, 0.0) + float(v)
    leads = plan.leads
    return Economics(
        purchases_per_lead={
            c: purchases[c] / leads[c] if leads[c] > 0 and c in purchases else math.nan
            for c in plan.names
        },
        value_per_lead={
            c: plan.revenue[c] / leads[c] if leads[c] > 0 and plan.revenue[c] > 0 else math.nan
            for c in plan.names
        },
    )


def read_base(wb: WorkbookTarget) -> ScenarioBase:
    """The current plan, the Optimize Split proposal and the fits, as Optimize Split has them."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, frame = read_plan(wb, funnel)
    plan = plan_channels(frame)
    if not plan.names:
        raise InputError(f"sheet `{L.PLAN}` has no lines with a channel: nothing to compare")
    days = calendar.monthrange(settings.month.year, settings.month.month)[1]
    if L.SPLIT in wb.sheet_names():
        request = split_request(read_split_sheet(wb), plan, days, SplitArguments())
    else:
        request = SplitRequest(current=dict(plan.spend), budget=sum(plan.spend.values()), days=days)
    history, note = read_history(wb, settings.month)
    fits, kept = fit_channels(history, plan, request.inputs, days)
    proposal = propose(request, fits, history=note)
    channels = tuple(c for c in plan.names if c in fits)
    return ScenarioBase(
        channels=channels,
        current={c: plan.spend[c] for c in channels},
        proposal={cp.channel: cp.proposed for cp in proposal.channels if cp.channel in fits},
        fits={c: fits[c] for c in channels},
        economics=_economics(plan, frame, funnel.names[-1]),
        days=days,
        left_out=kept,
    )


def row_spec(row: ScenarioRow, channels: tuple[str, ...]) -> ScenarioSpec:
    """A typed row as a `ScenarioSpec` (errors name the cell and the value)."""
    name = str(sheet_value(row.name) or "").strip()
    where = row.ref("scenario")
    if not name:
        raise InputError("has no name: name the scenario", line=where, column="scenario")
    value = to_number(row.value_per_lead, row.ref("value per lead"), "value per lead")
    if not math.isnan(value) and value < 0:
        raise InputError(
            "must be >= 0",
            line=row.ref("value per lead"),
            column="value per lead",
            value=row.value_per_lead,
        )
    changes = {}
    for channel in channels:
        change = parse_change(row.channels.get(channel), row.ref(channel), channel)
        if change is not None:
            changes[channel] = change
    refs = {c: row.ref(c) for c in ("budget", "moves", "value per lead", *channels)}
    return ScenarioSpec(
        name=name,
        where=where,
        budget=parse_change(row.budget, row.ref("budget"), "budget"),
        channels=changes,
        moves=parse_moves(row.moves, row.ref("moves")),
        value_per_lead=None if math.isnan(value) else value,
        refs=refs,
    )


def _user_splits(
    inputs: ScenarioInputs, base: ScenarioBase
) -> tuple[dict[str, dict[str, float]], dict[str, float | None], dict[int, str]]:
    """The typed scenarios resolved into splits, their values per lead, and per row the error
    of those that could not be (the others still compute)."""
    splits: dict[str, dict[str, float]] = {}
    values: dict[str, float | None] = {}
    errors: dict[int, str] = {}
    for row in inputs.rows:
        try:
            spec = row_spec(row, base.channels)
            if spec.name in (CURRENT, PROPOSAL) or spec.name in splits:
                raise InputError(
                    "names a scenario already on the sheet: give each scenario its own name",
                    line=row.ref("scenario"),
                    column="scenario",
                    value=spec.name,
                )
            splits[spec.name] = resolve(base.current, spec)
            values[spec.name] = spec.value_per_lead
        except InputError as error:
            errors[row.row] = f"error: {error}"
    return splits, values, errors


def _objective(inputs: ScenarioInputs) -> tuple[str, float | None]:
    raw = sheet_value(inputs.objective)
    objective = str(raw).strip().lower() if raw not in (None, "") else "leads"
    if objective not in OBJECTIVES:
        raise InputError(
            f"must be one of {', '.join(OBJECTIVES)}",
            line=inputs.objective_ref,
            column="objective",
            value=inputs.objective,
        )
    floor = to_number(inputs.min_leads, inputs.min_leads_ref, "min leads")
    return objective, None if math.isnan(floor) else floor


def _result_rows(
    results: tuple[ScenarioOutcome, ...], winner: str | None, t: Translator
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for r in results:
        for o in (*r.channels, r.total):
            mark = "★ best" if o is r.total and r.name == winner else None
            numbers = (
                o.spend,
                o.leads,
                o.leads_low,
                o.leads_high,
                o.purchases,
                o.purchases_low,
                o.purchases_high,
                o.cpa,
                o.cac,
                o.revenue,
                o.roas,
                o.romi,
                o.delta_leads,
                o.delta_romi,
            )
            flags = flags_text(o.flags, t) or None
            rows.append([r.name, o.channel, *(sheet_value(v, 2) for v in numbers), mark, flags])
    return rows


def _statuses(
    inputs: ScenarioInputs, base: ScenarioBase, errors: Mapping[int, str], t: Translator
) -> dict[int, str]:
    """Each row's status in the workbook's language: computed (the fixed rows say which
    channels were left out and why, in the workbook's language), or the row's error."""
    left_out = "; ".join(f"{c}: {flag_text(why, t)}" for c, why in base.left_out.items())
    done = t("computed")
    fixed = t("computed (left out: {left_out})", left_out=left_out) if left_out else done
    statuses = {row.row: errors.get(row.row, done) for row in inputs.rows}
    statuses.update({r: fixed for r in inputs.fixed_rows})
    return statuses


def compare_scenarios(wb: WorkbookTarget) -> Comparison:
    """Evaluate every scenario of the Scenarios sheet and write the results there."""
    base = read_base(wb)
    ensure_scenarios_sheet(wb, base.channels)
    inputs = read_scenarios(wb)
    if tuple(inputs.channels) != base.channels:
        write_channel_columns(wb, base.channels)
        inputs = read_scenarios(wb)
    objective, min_leads = _objective(inputs)
    user, values, errors = _user_splits(inputs, base)
    splits = {CURRENT: base.current, PROPOSAL: base.proposal, **user}
    results = tuple(outcomes(base.fits, splits, base.economics, base.days, values))
    winner = best(results, objective, min_leads)
    write_scenario_results(
        wb,
        inputs,
        _statuses(inputs, base, errors, texts_of(wb)),
        _result_rows(results, winner, texts_of(wb)),
        [(r.name, r.total.leads, finite_number(r.total.romi)) for r in results],
        [(r.name, [(o.spend, o.leads) for o in r.channels]) for r in results],
    )
    wb.save()
    wb.notify(_message(results, winner, objective, errors, texts_of(wb)))
    return Comparison(results, winner, objective, dict(errors))


def _message(
    results: tuple[ScenarioOutcome, ...],
    winner: str | None,
    objective: str,
    errors: Mapping,
    t: Translator,
) -> str:
    text = t("Compare Scenarios: {n} scenarios compared", n=len(results))
    if winner is not None:
        total = next(r.total for r in results if r.name == winner)
        text += t(
            "; best by {objective}: {winner} ({count} {conversion})",
            objective=objective,
            winner=winner,
            count=number(total.leads, t),
            conversion=t(CONVERSION),
        )
    if errors:
        text += t("; {n} could not be computed (see their status)", n=len(errors))
    return text + t("; see sheet `{sheet}`.", sheet=t(L.SCENARIOS))


def run_button(ctx: ActionContext) -> str:
    """The Compare Scenarios button."""
    wb = ctx.workbook
    comparison = compare_scenarios(wb)
    t = texts_of(wb)
    return _message(comparison.results, comparison.best, comparison.objective, comparison.errors, t)


ACTION = Action(
    "compare_scenarios",
    "Compare Scenarios",
    "Evaluate the scenarios typed on the Scenarios sheet (the current plan and the Optimize "
    "Split proposal first) and mark the best.",
    run_button,
    group="Budget Split",
    icon="WhatIfAnalysisMenu",
    tip=(
        "Evaluate the what-if budgets typed on the Scenarios sheet (the current plan and the "
        "Optimize Split proposal first) and mark the best."
    ),
)
