"""What the client report shows, gathered from the workbook as dataclasses.

The numbers are the Review Month button's (`addin.actions.review_month.review_month`, run with
``save=False``: the Review sheet is filled in memory only and the workbook file is not written),
so the report and the Review sheet never disagree: the KPIs (spend, leads, CPL, the outcome, CPA,
revenue, ROMI) per channel and in total, ratios recomputed from the summed absolutes; the total
waterfall of the outcome (`planning.variance.waterfall`); top and under performers by the sheet's
rule; the results by city and by product (`planning.review_dims`: no plan there, so facts to
as-of against last month's same days) when the sync config's fact store is given, compact: the
counts, their shares, the change and the status against last month (spend and its ratios are
left to the workbook: the demo's facts have no spend by city). Recommendations come from the
Optimize Split sheet's proposal only when the sheet has one (a proposal computed in memory is not
shown to a client); the report then says to run it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from addin.actions.review_dims import DimReviews
from addin.actions.review_month import (
    TOTAL,
    attribution_verdicts,
    dims_note,
    review_month,
    split_proposal,
)
from addin.actions.review_rows import (
    DIM_STATUS,
    DIM_TITLES,
    Recommendation,
    advice,
    bar_label,
    dim_label,
    kpi_label,
    main_driver,
)
from planning.review import KPIS, ChannelReview, performers
from planning.review_dims import DimRow
from planning.variance import waterfall
from sheets_sync.i18n import Translator
from sheets_sync.sync_config import SyncConfig
from sheets_sync.workbooks.interface import WorkbookTarget
from workbook_templates.attribution_sheet import verdict_text
from workbook_templates.review_sheet import read_rules
from workbook_templates.settings_sheet import read_funnel, read_settings

#: The order the Executive numbers are shown in (the brief's: spend, leads, CPL, outcome, CPA,
#: revenue, ROMI).
REPORT_KPIS = ("spend", "leads", "cpl", "outcome", "cpa", "revenue", "romi")


@dataclass(frozen=True)
class KpiRow:
    """One KPI: its label, plan, actual and % of plan (ROMI: the difference in points)."""

    key: str
    label: str
    plan: float
    actual: float
    pct: float
    achieved: bool | None


@dataclass(frozen=True)
class ChannelRow:
    """One channel's status and KPIs (`REPORT_KPIS` order)."""

    channel: str
    status: str
    kpis: tuple[KpiRow, ...]


@dataclass(frozen=True)
class WaterfallBar:
    """One bar of the total waterfall: label, kind (start/step/end), value, span."""

    label: str
    kind: str
    value: float
    before: float
    after: float


@dataclass(frozen=True)
class Performer:
    """A top or under performer: channel, outcome % of plan, its main driver in words."""

    channel: str
    pct: float
    driver: str


@dataclass(frozen=True)
class AdviceRow:
    """A recommendation: channel, current and proposed budget, the advice in words."""

    channel: str
    current: float
    proposed: float
    advice: str
    verdict: str


@dataclass(frozen=True)
class DimLine:
    """A city's or product's line: its label, leads, outcome, revenue, the shares of the
    month's leads and revenue, the change of leads and the outcome vs last month, the status
    in words and whether it is good (None: neither, as "mixed" or "too few to judge")."""

    label: str
    leads: float
    lead_share: float
    outcome: float
    revenue: float
    revenue_share: float
    leads_change: float
    outcome_change: float
    status: str
    achieved: bool | None


@dataclass(frozen=True)
class DimTable:
    """The results by city or by product: title, the level's name, lines, the total."""

    title: str
    level: str
    lines: tuple[DimLine, ...]
    total: DimLine


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows, in the report's language."""

    lang: str
    client: str
    month: dt.date
    currency: str
    basis: str  # "f" (fact) or "rr" (run-rate: the month is not over)
    outcome: str  # the outcome stage's name, translated
    total: tuple[KpiRow, ...]
    channels: tuple[ChannelRow, ...]
    bars: tuple[WaterfallBar, ...]
    top: tuple[Performer, ...]
    under: tuple[Performer, ...]
    advice: tuple[AdviceRow, ...]
    dims: tuple[DimTable, ...] = ()
    dims_note: str = ""


def _kpis(review: ChannelReview, labels: dict[str, str]) -> tuple[KpiRow, ...]:
    out = []
    for key in REPORT_KPIS:
        k = review.kpis[key]
        out.append(KpiRow(key, labels[key], k.plan, k.actual, k.pct, k.achieved))
    return tuple(out)


def _advice(wb: WorkbookTarget, reviews: Sequence[ChannelReview], t: Translator) -> list[AdviceRow]:
    """The Optimize Split sheet's proposal per channel, as advice; none without a proposal."""
    split, flags, source = split_proposal(wb)
    if source != "sheet":
        return []
    verdicts = attribution_verdicts(wb)
    rows = []
    for r in reviews:
        s = split.get(r.channel)
        if r.channel == TOTAL or s is None:
            continue
        verdict = verdicts.get(r.channel, ("", math.nan))[0]
        rec = Recommendation(r.channel, s.current, s.proposed, s.expected, flags[r.channel])
        rows.append(
            AdviceRow(r.channel, s.current, s.proposed, advice(rec, t), verdict_text(verdict, t))
        )
    return rows


def _dim_line(label: str, r: DimRow, t: Translator) -> DimLine:
    k = r.kpis
    return DimLine(
        label,
        k["leads"],
        r.lead_share,
        k["outcome"],
        k["revenue"],
        r.revenue_share,
        r.change["leads"],
        r.change["outcome"],
        t(DIM_STATUS[r.status]),
        {"achieved": True, "missed": False}.get(r.status),
    )


def _dims(dims: DimReviews, t: Translator) -> tuple[tuple[DimTable, ...], str]:
    """The tables by city and product and the line saying what they compare ((), "": none)."""
    if not dims.reviews:
        return (), ""
    note = dims_note(dims, t)
    tables = tuple(
        DimTable(
            t(DIM_TITLES[d.level]),
            t(d.level),
            tuple(_dim_line(dim_label(r, t), r, t) for r in d.rows),
            _dim_line(t("Total"), d.total, t),
        )
        for d in dims.reviews
    )
    return tables, note


def report_content(
    wb: WorkbookTarget, t: Translator, client: str, config: SyncConfig | None = None
) -> ReportContent:
    """The report's content from `wb` in `t`'s language (module docstring); `config`: the sync
    config whose fact store gives the results by city and product (None: not shown)."""
    settings = read_settings(wb)
    funnel = read_funnel(wb)
    result = review_month(wb, save=False, config=config)
    dims, dims_note = _dims(result.dims, t)
    labels = {key: kpi_label(key, funnel, t) for key in KPIS}
    total = result.review(TOTAL)
    outcome = funnel.names[-1]
    bars = waterfall(result.decomps[(TOTAL, outcome)]) if (TOTAL, outcome) in result.decomps else ()
    drivers = {c: d for (c, m), d in result.decomps.items() if m == outcome}
    _, rules = read_rules(wb)
    top, under = performers(result.reviews, rules, TOTAL)
    return ReportContent(
        lang=t.lang,
        client=client,
        month=settings.month,
        currency=settings.currency,
        basis=result.kind,
        outcome=t(outcome),
        total=_kpis(total, labels),
        channels=tuple(
            ChannelRow(r.channel, r.status, _kpis(r, labels))
            for r in result.reviews
            if r.channel != TOTAL
        ),
        bars=tuple(
            WaterfallBar(bar_label(b.label, t), b.kind, b.value, b.before, b.after) for b in bars
        ),
        top=tuple(
            Performer(
                r.channel, r.kpis["outcome"].pct, main_driver(drivers.get(r.channel), t, False)
            )
            for r in top
        ),
        under=tuple(
            Performer(
                r.channel, r.kpis["outcome"].pct, main_driver(drivers.get(r.channel), t, True)
            )
            for r in under
        ),
        advice=tuple(_advice(wb, result.reviews, t)),
        dims=dims,
        dims_note=dims_note,
    )
