"""The Review sheet's blocks as rows of cells, in the workbook's language.

Each block is a title row, a header row and its lines, followed by a blank row; every block
function returns ``(rows, formats)`` (a number format per cell, None for text). Numbers are
rounded for the sheet (`workbook_templates.cells.cell`); a ratio with no value is blank.
Headers of the Plan's kind (``"leads p"``, ``"cpa purchases %rr"``) are translated by parts
(`localized_header`); the rest through the workbook's `Translator`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from addin.actions.split_flag_texts import has_flag
from addin.actions.texts import signed
from addin.actions.variance_texts import notes_text
from planning.brief import BriefLine
from planning.funnel import Funnel
from planning.review import ChannelReview, Surprise, leads_stage
from planning.review_dims import OTHER, DimReview, DimRow
from planning.variance import Decomposition, waterfall
from sheets_sync.i18n import Translator
from sheets_sync.i18n.formats import localized_format
from sheets_sync.i18n.header_words import localized_header
from workbook_templates.attribution_sheet import verdict_text
from workbook_templates.cells import cell
from workbook_templates.review_sheet import BRIEF_HEADERS, BRIEF_TITLE
from workbook_templates.styles import (
    FMT_COST,
    FMT_COUNT,
    FMT_MONEY,
    FMT_PCT,
    FMT_SIGNED_PCT,
)

Rows = list[list[Any]]
Formats = list[list[str | None]]


@dataclass(frozen=True)
class Recommendation:
    """One channel's line for Month+1: the split's proposal and the attribution's verdict code
    (`planning.attribution_report`; shown through `verdict_text`)."""

    channel: str
    current: float
    proposed: float
    expected: float
    flags: str
    verdict: str = ""
    attributed_spend: float = math.nan


def fmt(fmt_text: str | None, t: Translator) -> str | None:
    """A number format in the workbook's language (Russian: the locale tag)."""
    return None if fmt_text is None else localized_format(fmt_text, t.lang)


def _cells(
    values: Sequence[Any], formats: Sequence[str | None], t: Translator
) -> tuple[list[Any], list[str | None]]:
    return [cell(v) if isinstance(v, float) else v for v in values], [fmt(f, t) for f in formats]


def _block(
    title: str, headers: Sequence[str], lines: Sequence[tuple[list[Any], list[str | None]]]
) -> tuple[Rows, Formats]:
    rows: Rows = [[title], list(headers)]
    formats: Formats = [[None], [None] * len(headers)]
    for values, f in lines:
        rows.append(values)
        formats.append(f)
    rows.append([])
    formats.append([])
    return rows, formats


def _n(v: float) -> float | None:
    return v if isinstance(v, int | float) and math.isfinite(v) else None


# --------------------------------------------------------------------------- achieved vs missed


def kpi_headers(funnel: Funnel, kind: str, t: Translator) -> list[str]:
    """The achieved table's headers: per KPI plan, actual (`kind`: f or rr) and % of plan."""
    lead, out = leads_stage(funnel), funnel.names[-1]
    names = ("spend", lead, f"cpa {lead}", out, f"cpa {out}", "revenue", "romi")
    heads = ["channel"]
    for name in names:
        heads += [f"{name} p", f"{name} {kind}"]
        if name not in ("spend", "romi"):
            heads.append(f"{name} %{kind}")
    return [t(heads[0]), *(localized_header(h, t) for h in heads[1:]), t("status")]


_ORDER = (
    ("spend", FMT_MONEY, False),
    ("leads", FMT_COUNT, True),
    ("cpl", FMT_COST, True),
    ("outcome", FMT_COUNT, True),
    ("cpa", FMT_COST, True),
    ("revenue", FMT_MONEY, True),
    ("romi", FMT_PCT, False),
)


def achieved_block(
    reviews: Sequence[ChannelReview], funnel: Funnel, kind: str, title: str, t: Translator
) -> tuple[Rows, Formats]:
    """Achieved vs missed by channel, the total last (its label translated)."""
    lines = []
    for r in reviews:
        values: list[Any] = [t(r.channel) if r.channel == "Total" else r.channel]
        formats: list[str | None] = [None]
        for key, number, with_pct in _ORDER:
            k = r.kpis[key]
            values += [_n(k.plan), _n(k.actual)]
            formats += [number, number]
            if with_pct:
                values.append(_n(k.pct))
                formats.append(FMT_PCT)
        values.append(t(r.status))
        formats.append(None)
        lines.append(_cells(values, formats, t))
    return _block(title, kpi_headers(funnel, kind, t), lines)


# --------------------------------------------------------------------------- performers, surprises


def kpi_label(key: str, funnel: Funnel, t: Translator) -> str:
    """A KPI key as the sheet names it (``outcome`` → the outcome stage's name)."""
    names = {"leads": leads_stage(funnel), "outcome": funnel.names[-1]}
    if key in names:
        return t(names[key])
    return {"cpl": "CPL", "cpa": "CPA", "romi": "ROMI"}.get(key) or t(key)


def main_driver(decomposition: Decomposition | None, t: Translator, worst: bool) -> str:
    """The part that moved the gap most the bad (`worst`) or the good way, with its effect."""
    if decomposition is None:
        return ""
    if not decomposition.parts:
        if decomposition.zero_at is None:
            return ""
        return t("not comparable: {stage} is 0", stage=t(decomposition.zero_at))
    parts = sorted(decomposition.parts, key=lambda p: p.effect, reverse=not worst)
    p = parts[0]
    if (p.effect < 0) != worst or p.effect == 0:
        return ""
    return f"{bar_label(p.label, t)} ({signed(p.effect, t, 1)})"


def performers_block(
    title: str,
    reviews: Sequence[ChannelReview],
    drivers: Mapping[str, Decomposition],
    funnel: Funnel,
    t: Translator,
    worst: bool,
) -> tuple[Rows, Formats]:
    """Top performers (`worst` false) or underperformers: outcome and CPA vs plan, driver."""
    out = funnel.names[-1]
    headers = [
        t("channel"),
        localized_header(f"{out} p", t),
        t("actual"),
        t("% of plan"),
        localized_header(f"cpa {out} p", t),
        t("actual"),
        t("main driver"),
    ]
    lines = []
    for r in reviews:
        o, c = r.kpis["outcome"], r.kpis["cpa"]
        values = [r.channel, _n(o.plan), _n(o.actual), _n(o.pct), _n(c.plan), _n(c.actual)]
        values.append(main_driver(drivers.get(r.channel), t, worst))
        formats = [None, FMT_COUNT, FMT_COUNT, FMT_PCT, FMT_COST, FMT_COST, None]
        lines.append(_cells(values, formats, t))
    if not lines:
        lines.append(([t("none")], [None]))
    return _block(title, headers, lines)


def surprises_block(
    found: Sequence[Surprise], funnel: Funnel, t: Translator
) -> tuple[Rows, Formats]:
    headers = [t("channel"), t("metric"), t("actual"), t("against"), t("reference")]
    headers += [t("change"), t("good or bad")]
    lines = []
    for s in found:
        number = FMT_COST if s.key in ("cpl", "cpa") else FMT_COUNT
        values = [s.channel, kpi_label(s.key, funnel, t), _n(s.actual), t(s.against)]
        values += [_n(s.reference), _n(s.change), t("good") if s.good else t("bad")]
        lines.append(_cells(values, [None, None, number, None, number, FMT_SIGNED_PCT, None], t))
    if not lines:
        lines.append(([t("none")], [None]))
    return _block(t("Surprises"), headers, lines)


# --------------------------------------------------------------------------- by city, by product

DIM_TITLES = {"city": "Results by city", "product": "Results by product"}
#: A row's status against last month (`planning.review_dims`) as the block says it.
DIM_STATUS = {
    "achieved": "not worse",
    "missed": "worse",
    "mixed": "mixed",
    "no last month": "no last month",
    "too few": "too few to judge",
}
_DIM_COLUMNS = (
    ("spend", FMT_MONEY),
    ("leads", FMT_COUNT),
    ("lead_share", FMT_PCT),
    ("outcome", FMT_COUNT),
    ("revenue", FMT_MONEY),
    ("revenue_share", FMT_PCT),
    ("cpl", FMT_COST),
    ("cpa", FMT_COST),
    ("romi", FMT_PCT),
)


def dim_headers(level: str, funnel: Funnel, t: Translator) -> list[str]:
    """The block's headers: the level, the KPIs with the shares, the changes, the status."""
    lead, out = t(leads_stage(funnel)), t(funnel.names[-1])
    heads = [t(level), t("spend"), lead, t("{metric}, share", metric=lead), out, t("revenue")]
    heads += [t("{metric}, share", metric=t("revenue")), "CPL", "CPA", "ROMI"]
    heads += [t("{metric} vs last month", metric=m) for m in (lead, out, t("revenue"))]
    return [*heads, t("vs last month")]


def dim_label(row: DimRow, t: Translator) -> str:
    """A row's first cell: its value, "(no value)" or "other (n)"."""
    if row.key == OTHER:
        return t("other ({n})", n=row.values)
    return row.key or t("(no value)")


def _dim_line(label: str, row: DimRow, t: Translator) -> tuple[list[Any], list[str | None]]:
    numbers = {**row.kpis, "lead_share": row.lead_share, "revenue_share": row.revenue_share}
    values: list[Any] = [label, *(_n(numbers[key]) for key, _ in _DIM_COLUMNS)]
    values += [_n(row.change[key]) for key in ("leads", "outcome", "revenue")]
    values.append(t(DIM_STATUS[row.status]))
    formats = [None, *(number for _, number in _DIM_COLUMNS), *[FMT_SIGNED_PCT] * 3, None]
    return _cells(values, formats, t)


def dimension_block(
    review: DimReview, funnel: Funnel, t: Translator, note: str
) -> tuple[Rows, Formats]:
    """Results by city or product (`planning.review_dims`): `note` under the title (what the
    facts are and the window compared), one row per value, the Total (the Plan's facts)."""
    lines = [_dim_line(dim_label(r, t), r, t) for r in review.rows]
    lines.append(_dim_line(t("Total"), review.total, t))
    rows, formats = _block(t(DIM_TITLES[review.level]), dim_headers(review.level, funnel, t), lines)
    rows.insert(1, [note])
    formats.insert(1, [None])
    return rows, formats


def dimension_note_block(level: str, note: str, t: Translator) -> tuple[Rows, Formats]:
    """The block's title and why it has no rows."""
    return [[t(DIM_TITLES[level])], [note], []], [[None], [None], []]


# --------------------------------------------------------------------------- recommendations


def advice(r: Recommendation, t: Translator) -> str:
    """raise / cut / keep the budget, by the proposal's change (±5 % is keep); the flags
    ``at max`` / ``at min`` read in either language (`has_flag`)."""
    if not (math.isfinite(r.current) and math.isfinite(r.proposed)):
        return t("no proposal: run Optimize Split")
    if r.current <= 0:
        return t("start: the split gives it budget") if r.proposed > 0 else t("keep at 0")
    change = r.proposed / r.current - 1
    if change >= 0.05:
        text = t("raise the budget")
        if has_flag(r.flags, "at_max"):
            text += t("; at its max: room to grow, raise the max to test more")
        return text
    if change <= -0.05:
        text = t("cut the budget")
        if has_flag(r.flags, "at_min"):
            text += t("; at its min: consider cutting the channel")
        return text
    return t("keep the budget")


def recommendations_block(
    recs: Sequence[Recommendation], funnel: Funnel, t: Translator, note: str
) -> tuple[Rows, Formats]:
    lead = leads_stage(funnel)
    headers = [
        t("channel"),
        t("current"),
        t("proposed"),
        t("Δ%"),
        t("expected {metric}", metric=t(lead)),
    ]
    headers += [t("recommendation"), t("attribution verdict"), t("proposed spend")]
    lines = []
    for r in recs:
        change = r.proposed / r.current - 1 if r.current > 0 else math.nan
        values = [r.channel, _n(r.current), _n(r.proposed), _n(change), _n(r.expected)]
        values += [advice(r, t), verdict_text(r.verdict, t), _n(r.attributed_spend)]
        number_formats = [None, FMT_MONEY, FMT_MONEY, FMT_SIGNED_PCT, FMT_COUNT, None, None]
        lines.append(_cells(values, [*number_formats, FMT_MONEY], t))
    rows, formats = _block(t("Recommendations for next month"), headers, lines)
    rows.insert(1, [note])
    formats.insert(1, [None])
    return rows, formats


def brief_block(
    brief: Sequence[BriefLine], funnel: Funnel, t: Translator, rule: str
) -> tuple[Rows, Formats]:
    """The Brief: its title (found by New Month), headers, one row per channel, the Total."""
    out = funnel.names[-1]
    headers = [t(h.format(outcome=out)) if h != "CPL" and h != "CPA" else h for h in BRIEF_HEADERS]
    headers[2] = t(leads_stage(funnel))
    lines = []
    for b in brief:
        values = [b.channel, _n(b.budget), _n(b.leads), _n(b.cpl), _n(b.outcome), _n(b.cpa)]
        values.append(t(b.basis))
        number_formats = [None, FMT_MONEY, FMT_COUNT, FMT_COST, FMT_COUNT, FMT_COST, None]
        lines.append(_cells(values, number_formats, t))
    budget = math.fsum(b.budget for b in brief)
    leads = math.fsum(b.leads for b in brief)
    outcome = math.fsum(b.outcome for b in brief)
    total = BriefLine("Total", budget, leads, outcome, "")
    values = [t("Total"), budget, leads, _n(total.cpl), outcome, _n(total.cpa)]
    lines.append(_cells(values, [None, FMT_MONEY, FMT_COUNT, FMT_COST, FMT_COUNT, FMT_COST], t))
    rows, formats = _block(t(BRIEF_TITLE), headers, lines)
    rows.append([rule])
    formats.append([None])
    return rows, formats


# --------------------------------------------------------------------------- the variance table

_CR = re.compile(r"^CR (.+) → (.+)$")
_PER = re.compile(r"^(Cost|Revenue) per (.+)$")


def bar_label(label: str, t: Translator) -> str:
    """A waterfall bar's label in the workbook's language (``CR Leads → Calls``)."""
    found = _CR.match(label)
    if found:
        return f"CR {t(found.group(1))} → {t(found.group(2))}"
    found = _PER.match(label)
    if found:
        return t(f"{found.group(1)} per {{stage}}", stage=t(found.group(2)))
    return t(label)


def lower_is_better(metric: str) -> bool:
    """Whether a decomposed metric is a cost (``cpa_<stage>``: an increase is bad)."""
    return metric.casefold().startswith("cpa")


def variance_rows(channel: str, metric: str, d: Decomposition, t: Translator) -> list[list[Any]]:
    """One decomposition's waterfall as variance-table rows (`review_sheet.VAR_HEADERS`):
    per bar its key ``channel|metric|#``, the effect (plan and fact for the end bars) and the
    chart's four series: base, worse than plan, better than plan, plan / fact (a step is worse
    when it lowers purchases or revenue, or raises the CPA: `lower_is_better`); a decomposition
    with no waterfall gets one row with its note."""
    note = notes_text(d.notes, t)
    lower = lower_is_better(d.metric)
    bars = waterfall(d, not_comparable_label="Not comparable")
    if not bars:
        empty: list[Any] = [None] * 5
        return [[f"{channel}|{metric}|0", channel, metric, 0, t("no gap"), *empty, note]]
    rows = []
    for i, b in enumerate(bars, start=1):
        if b.kind == "step":
            low = max(min(b.before, b.after), 0.0)
            good = -b.value if lower else b.value
            series = [low, max(-good, 0.0), max(good, 0.0), 0.0]
        else:
            series = [0.0, 0.0, 0.0, b.value]
        rows.append(
            [
                f"{channel}|{metric}|{i}",
                channel,
                metric,
                i,
                bar_label(b.label, t),
                cell(b.value, 4),
                *(cell(v, 4) for v in series),
                note if i == 1 else None,
            ]
        )
    return rows
