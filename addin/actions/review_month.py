"""The Review Month button: the month's results against plan, explained, and the brief for Month+1.

It reads the Plan (plan and the actual: the run-rate until the month is over, then the fact, or
what the Review sheet's `compare with` says), last month (the History sheet's facts per line,
else the Daily History sheet's spend and leads of the month before), Optimize Split's proposal
(the sheet's when it has one, else the split computed in memory, not written) and the
Attribution sheet's verdicts when it has them, and writes the Review sheet: achieved vs missed
by channel, the variance per channel and in total (`planning.variance`, the waterfall's data),
top performers, underperformers and surprises by the sheet's rule, recommendations and the
Brief (`planning.brief`) that New Month plans the next month to. Nothing else changes; one save.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.actions.base import Action, ActionContext, ActionError
from addin.actions.button_config import known_config
from addin.actions.review_dims import DimReviews, dimension_reviews
from addin.actions.review_rows import (
    Recommendation,
    achieved_block,
    brief_block,
    dimension_block,
    dimension_note_block,
    performers_block,
    recommendations_block,
    surprises_block,
    variance_rows,
)
from addin.actions.texts import day, texts_of
from planning.brief import BriefLine, SplitChannel, brief_lines
from planning.funnel import Funnel
from planning.review import (
    ChannelReview,
    ReviewRules,
    leads_stage,
    performers,
    review_channels,
    surprises,
)
from planning.variance import Decomposition, PlanFact, decompose, decompose_cpa
from planning.variance_total import decompose_total, decompose_total_cpa, total_line
from sheets_sync.cells import is_blank
from sheets_sync.i18n import Translator
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates import layout as L
from workbook_templates.attribution_sheet import (
    ATTRIBUTION,
    CHANNEL_SLOTS,
    HEADERS,
    LEADS_TITLE_ROW,
    verdict_code,
)
from workbook_templates.daily_history_sheet import read_daily_history
from workbook_templates.optimize_split_sheet import read_split_sheet
from workbook_templates.plan_sheet import read_plan
from workbook_templates.review_sheet import (
    REVIEW,
    read_rules,
    write_blocks,
    write_channels,
    write_variance,
)
from workbook_templates.settings_sheet import read_funnel, read_settings

TOTAL = "Total"
BRIEF_RULE = (
    "Rule: budget = Optimize Split's proposal (else this month's plan); leads = this month's "
    "actual CPL at that budget, corrected by the split's curve for diminishing returns "
    "(expected ÷ now over proposed ÷ current); {outcome} = those leads × this month's actual "
    "{outcome} per lead. New Month plans next month to this block; delete it to copy this month."
)


def actual_kind(compare: str, plan: pd.DataFrame, month: dt.date, as_of: dt.date | None) -> str:
    """``f`` or ``rr``: what the review compares with the plan (module docstring); ``rr`` only
    when the Plan has run-rate numbers."""
    if compare == "fact":
        return "f"
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    if compare == "auto" and (as_of is None or as_of >= last):
        return "f"
    has_rr = "spend rr" in plan and plan["spend rr"].notna().any()
    return "rr" if has_rr else "f"


def plan_lines(plan: pd.DataFrame, funnel: Funnel, kind: str) -> list[PlanFact]:
    """Each Plan line as plan vs actual (`kind`), labelled by its channel."""
    lines = []
    for _, row in plan.iterrows():
        channel = str(row["channel"] or "").strip()
        if not channel:
            continue

        def side(k: str, row: pd.Series = row) -> dict[str, float | None]:
            out: dict[str, float | None] = {}
            for m in funnel.metrics:
                v = row.get(L.abs_header(m, k))
                out[m] = None if v is None or pd.isna(v) else float(v)
            return out

        lines.append(PlanFact(channel, side("p"), side(kind)))
    return lines


def last_month(wb: WorkbookTarget, funnel: Funnel, month: dt.date) -> dict[str, dict[str, float]]:
    """Last month per channel (and Total): the History sheet's facts per line summed, else the
    Daily History's spend and leads of the month before; {} when neither is there."""
    names = wb.sheet_names()
    out: dict[str, dict[str, float]] = {}
    if L.HISTORY in names:
        table = wb.read_table(L.HISTORY, header_row=3, stop_labels=(L.TOTAL_LABEL,))
        for record in table.records():
            channel = str(record.get("channel") or "").strip()
            if not channel:
                continue
            for m in funnel.metrics:
                v = record.get(L.abs_header(m, "f"))
                if isinstance(v, int | float) and not isinstance(v, bool):
                    for key in (channel, TOTAL):
                        out.setdefault(key, {})
                        out[key][m] = out[key].get(m, 0.0) + float(v)
        return out
    lead = leads_stage(funnel)
    daily = read_daily_history(wb, month, lead)
    if daily is None or daily.empty:
        return out
    start = (month - dt.timedelta(days=1)).replace(day=1)
    days = pd.to_datetime(daily["date"]).dt.date
    before = daily[(days >= start) & (days < month)]
    for name, group in before.groupby("channel"):
        sums = {"spend": float(group["spend"].sum()), lead: float(group[lead].sum())}
        out[str(name).strip()] = sums
        for k, v in sums.items():
            out.setdefault(TOTAL, {})
            out[TOTAL][k] = out[TOTAL].get(k, 0.0) + v
    return out


def decompositions(
    lines: Sequence[PlanFact], funnel: Funnel
) -> dict[tuple[str, str], Decomposition]:
    """Per (channel or Total, metric code) the gap decomposed: the outcome, revenue, CPA."""
    groups: dict[str, list[PlanFact]] = {}
    for line in lines:
        groups.setdefault(line.label, []).append(line)
    channels = [total_line(g, funnel, c) for c, g in groups.items()]
    out_name = funnel.names[-1]
    result: dict[tuple[str, str], Decomposition] = {}
    if channels:
        result[(TOTAL, out_name)] = decompose_total(channels, funnel, label=TOTAL)
        result[(TOTAL, "revenue")] = decompose_total(
            channels, funnel, metric="revenue", label=TOTAL
        )
        result[(TOTAL, "CPA")] = decompose_total_cpa(channels, funnel, label=TOTAL)
    for pf in channels:
        result[(pf.label, out_name)] = decompose(pf, funnel)
        result[(pf.label, "revenue")] = decompose(pf, funnel, metric="revenue")
        result[(pf.label, "CPA")] = decompose_cpa(pf, funnel)
    return result


def split_proposal(wb: WorkbookTarget) -> tuple[dict[str, SplitChannel], dict[str, str], str]:
    """Optimize Split's proposal per channel and its flags, and where it came from: the sheet
    when it has a proposal, else the split computed now (in memory: the sheet is not written)."""
    if L.SPLIT in wb.sheet_names():
        sheet = read_split_sheet(wb)
        found: dict[str, SplitChannel] = {}
        flags: dict[str, str] = {}
        for channel, row in sheet.rows.items():
            values = [
                _number(row.get(h))
                for h in (L.SPLIT_CURRENT, L.SPLIT_PROPOSED, L.SPLIT_CONV_NOW, L.SPLIT_EXPECTED)
            ]
            if math.isfinite(values[1]):
                found[channel] = SplitChannel(*values)
                flags[channel] = str(row.get(L.SPLIT_FLAGS) or "")
        if found:
            return found, flags, "sheet"
    from addin.actions.review_split import propose_in_memory  # the curves' fit: slow, rare

    return propose_in_memory(wb)


def _number(v: Any) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    return math.nan


def attribution_verdicts(wb: WorkbookTarget) -> dict[str, tuple[str, float]]:
    """Per channel the Attribution sheet's (leads) verdict code and proposed spend; {} without
    one. The sheet shows the verdict in its language; the code is read back from either."""
    if ATTRIBUTION not in wb.sheet_names():
        return {}
    cells = wb.read_cells(
        ATTRIBUTION, LEADS_TITLE_ROW + 2, 1, CHANNEL_SLOTS, len(HEADERS), formulas=False
    )
    verdict, spend = HEADERS.index("verdict"), HEADERS.index("proposed spend")
    out = {}
    for line in cells:
        if is_blank(line[0]):
            break
        out[str(line[0]).strip()] = (verdict_code(line[verdict]), _number(line[spend]))
    return out


def _recommendations(
    reviews: Sequence[ChannelReview],
    split: Mapping[str, SplitChannel],
    flags: Mapping[str, str],
    verdicts: Mapping[str, tuple[str, float]],
) -> list[Recommendation]:
    out = []
    for r in reviews:
        if r.channel == TOTAL:
            continue
        s = split.get(r.channel)
        verdict, spend = verdicts.get(r.channel, ("", math.nan))
        out.append(
            Recommendation(
                r.channel,
                s.current if s else math.nan,
                s.proposed if s else math.nan,
                s.expected if s else math.nan,
                flags.get(r.channel, ""),
                verdict,
                spend,
            )
        )
    return out


def _variance_table(
    decomps: Mapping[tuple[str, str], Decomposition], t: Translator
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for (channel, metric), d in decomps.items():
        shown = t(TOTAL) if channel == TOTAL else channel
        rows += variance_rows(shown, metric, d, t)
    return rows


def review_month(
    wb: WorkbookTarget, save: bool = True, config: SyncConfig | None = None
) -> ReviewResult:
    """Review the month into the Review sheet (module docstring); returns what it found.
    `config`: the sync config whose fact store gives the results by city and product (None:
    those blocks say there is no store)."""
    if REVIEW not in wb.sheet_names():
        raise ActionError(
            f"This workbook has no `{REVIEW}` sheet: a workbook made by this version has one "
            "(funnelplan template or New Month)."
        )
    t = texts_of(wb)
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    _, plan = read_plan(wb, funnel)
    compare, rules = read_rules(wb)
    kind = actual_kind(compare, plan, settings.month, settings.as_of)
    lines = plan_lines(plan, funnel, kind)
    if not lines:
        raise ActionError(f"sheet `{L.PLAN}` has no lines with a channel: nothing to review")
    reviews = review_channels(lines, funnel, rules, last_month(wb, funnel, settings.month), TOTAL)
    decomps = decompositions(lines, funnel)
    split, flags, source = split_proposal(wb)
    brief = brief_lines(reviews, split, TOTAL)
    rows, formats = _blocks(wb, t, funnel, kind, rules, reviews, decomps, split, flags, source)
    rows_b, formats_b = brief_block(brief, funnel, t, t(BRIEF_RULE, outcome=t(funnel.names[-1])))
    dims = dimension_reviews(wb, config, plan, funnel, rules)
    rows_d, formats_d = _dimension_blocks(dims, funnel, t)
    write_blocks(wb, rows + rows_b + rows_d, formats + formats_b + formats_d)
    write_variance(wb, _variance_table(decomps, t))
    write_channels(wb, [t(TOTAL), *(r.channel for r in reviews if r.channel != TOTAL)])
    if save:
        wb.save()
    return ReviewResult(reviews, decomps, brief, kind, source, dims)


DIMS_NOTE = (
    "Facts to {as_of}: there is no plan by city or product. Against last month's facts "
    "{first} – {last}."
)
DIMS_NOTE_NO_LAST = (
    "Facts to {as_of}: there is no plan by city or product, and the fact store has no facts "
    "of last month to compare with."
)


def dims_note(dims: DimReviews, t: Translator) -> str:
    """The line under the tables by city and product: as of when, against which days of last
    month (the Review sheet and the client report say it alike)."""
    as_of = "-" if dims.as_of is None else day(dims.as_of, t)
    if dims.last_window is None:
        return t(DIMS_NOTE_NO_LAST, as_of=as_of)
    first, last = dims.last_window
    return t(DIMS_NOTE, as_of=as_of, first=day(first, t), last=day(last, t))


def _dimension_blocks(
    dims: DimReviews, funnel: Funnel, t: Translator
) -> tuple[list[list[Any]], list[list[str | None]]]:
    """The blocks by city and by product below the Brief (after a blank row)."""
    rows: list[list[Any]] = [[]]
    formats: list[list[str | None]] = [[]]
    if not dims.reviews:
        for level in ("city", "product"):
            r, f = dimension_note_block(level, t(dims.note), t)
            rows += r
            formats += f
        return rows, formats
    note = dims_note(dims, t)
    for review in dims.reviews:
        r, f = dimension_block(review, funnel, t, note)
        rows += r
        formats += f
    return rows, formats


def _blocks(
    wb: WorkbookTarget,
    t: Translator,
    funnel: Funnel,
    kind: str,
    rules: ReviewRules,
    reviews: Sequence[ChannelReview],
    decomps: Mapping[tuple[str, str], Decomposition],
    split: Mapping[str, SplitChannel],
    flags: Mapping[str, str],
    source: str,
) -> tuple[list[list[Any]], list[list[str | None]]]:
    """Every block above the Brief, in order."""
    basis = t("run-rate") if kind == "rr" else t("fact")
    drivers = {c: d for (c, m), d in decomps.items() if m == funnel.names[-1]}
    top, under = performers(reviews, rules, TOTAL)
    rows: list[list[Any]] = []
    formats: list[list[str | None]] = []
    note = (
        t("proposal from the Optimize Split sheet")
        if source == "sheet"
        else t("proposal computed now (Optimize Split not run; the sheet is unchanged)")
    )
    for r, f in (
        achieved_block(
            reviews, funnel, kind, t("Achieved vs missed by channel ({basis})", basis=basis), t
        ),
        performers_block(t("Top performers"), top, drivers, funnel, t, worst=False),
        performers_block(t("Underperformers"), under, drivers, funnel, t, worst=True),
        surprises_block(surprises(reviews, rules, TOTAL), funnel, t),
        recommendations_block(
            _recommendations(reviews, split, flags, attribution_verdicts(wb)), funnel, t, note
        ),
    ):
        rows += r
        formats += f
    return rows, formats


@dataclass(frozen=True)
class ReviewResult:
    """What Review Month found: the reviews (channels, then Total), the decompositions by
    (channel, metric), the brief, the actual's kind (f/rr) and where the proposal came from."""

    reviews: list[ChannelReview]
    decomps: dict[tuple[str, str], Decomposition]
    brief: list[BriefLine]
    kind: str
    source: str
    dims: DimReviews = field(default_factory=lambda: DimReviews(()))
    """The results by city and by product (`addin.actions.review_dims`)."""

    def review(self, channel: str) -> ChannelReview:
        return next(r for r in self.reviews if r.channel == channel)


def run_button(ctx: ActionContext) -> str:
    """The Review Month button."""
    wb = ctx.workbook
    result = review_month(wb, config=known_config(ctx))
    t = texts_of(wb)
    channels = [r for r in result.reviews if r.channel != TOTAL]
    achieved = sum(1 for r in channels if r.status == "achieved")
    return t(
        "Review Month: {achieved} of {n} channels achieved their plan; see sheet `{sheet}` "
        "(the Brief there is next month's targets for New Month).",
        achieved=achieved,
        n=len(channels),
        sheet=t(REVIEW),
    )


ACTION = Action(
    "review_month",
    "Review Month",
    "Review the month: achieved vs missed, the variance explained, the brief for next month.",
    run_button,
    group="Month",
    icon="ChartTrendline",
    tip="Plan vs fact by channel with the gap explained, performers and surprises, and the "
    "brief New Month plans next month to.",
)
