"""`funnelplan review WORKBOOK`: the Review Month button from the command line."""

from __future__ import annotations

import math
from pathlib import Path

import click

from addin.actions.base import ActionContext
from addin.actions.button_config import known_config
from addin.actions.review_month import TOTAL, ReviewResult, review_month, run_button
from addin.cli.common import echo_json, user_errors
from planning.review_dims import OTHER, DimRow
from sheets_sync.workbooks.xlsx import XlsxWorkbook


def _number(v: float) -> float | None:
    return round(v, 4) if math.isfinite(v) else None


def _dim_row(r: DimRow) -> dict[str, object]:
    """A row by city or product: its value ("" for none; `other` when it sums the rest)."""
    return {
        "key": "" if r.key == OTHER else r.key,
        "other": r.key == OTHER,
        **{k: _number(v) for k, v in r.kpis.items()},
        "lead_share": _number(r.lead_share),
        "revenue_share": _number(r.revenue_share),
        **{f"{k} vs last month": _number(v) for k, v in r.change.items()},
        "status": r.status,
    }


def review_dict(result: ReviewResult) -> dict[str, object]:
    """The review as JSON: what was compared, per channel its status and KPIs, the Brief."""
    return {
        "compared_with": result.kind,
        "split": result.source,
        "channels": [
            {
                "channel": r.channel,
                "status": r.status,
                **{
                    f"{k} {kind}": _number(v)
                    for k, kpi in r.kpis.items()
                    for kind, v in (("p", kpi.plan), (result.kind, kpi.actual))
                },
            }
            for r in result.reviews
        ],
        "brief": [
            {
                "channel": b.channel,
                "budget": _number(b.budget),
                "leads": _number(b.leads),
                "outcome": _number(b.outcome),
                "cpl": _number(b.cpl),
                "cpa": _number(b.cpa),
                "basis": b.basis,
            }
            for b in result.brief
            if b.channel != TOTAL
        ],
        "by_dimension": {
            d.level: {"rows": [_dim_row(r) for r in d.rows], "total": _dim_row(d.total)}
            for d in result.dims.reviews
        },
    }


@click.command("review")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the review and the Brief as JSON.")
@user_errors
def review_cmd(workbook: Path, as_json: bool) -> None:
    """Review the month in WORKBOOK: the Review sheet (achieved vs missed, the variance
    explained, performers, surprises, recommendations) and the Brief New Month plans to."""
    if as_json:
        config = known_config(ActionContext.of_file(workbook))
        echo_json(review_dict(review_month(XlsxWorkbook(workbook), config=config)))
        return
    click.echo(run_button(ActionContext.of_file(workbook)))
