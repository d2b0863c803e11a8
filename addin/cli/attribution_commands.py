"""`attribution`: which channels really bring the leads (the Attribution button)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from addin.actions.attribution import attribution, journeys, summary
from addin.cli.common import echo_json, user_errors
from addin.digest.run import open_workbook
from planning.attribution import MODELS
from planning.attribution_report import AttributionReport
from sheets_sync.sync_config import load_config


def report_dict(report: AttributionReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "kind": report.kind,
        "model": report.chosen,
        "order": report.order,
        "conversions": report.conversions,
        "value": report.value,
        "conversion_rate": report.conversion_rate,
        "skipped": list(report.skipped_models),
        "issues": report.issues.__dict__,
        "channels": [
            {
                "channel": c.channel,
                "spend": c.spend,
                "conversions": c.conversions,
                "value": c.value,
                "true_cpa": c.true_cpa,
                "last_click_cpa": c.last_click_cpa,
                "closed": c.last_touch,
                "assisted": c.assisted,
                "assist_ratio": c.assist_ratio,
                "removal_effect": c.removal_effect,
                "verdict": c.verdict,
                "proposed_spend": c.proposed_spend,
                "factor": c.factor,
            }
            for c in report.channels
        ],
    }


@click.command("attribution")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", type=click.Choice(MODELS), help="The chosen model (default: the sheet's).")
@click.option("--order", type=click.IntRange(1, 3), help="Markov order, 1-3.")
@click.option("--lookback", type=click.FloatRange(min=0, min_open=True), help="Lookback, days.")
@click.option("--half-life", type=click.FloatRange(min=0, min_open=True), help="Time decay, days.")
@click.option("--json", "as_json", is_flag=True, help="Print every model per channel as JSON.")
@user_errors
def attribution_cmd(
    config: Path,
    model: str | None,
    order: int | None,
    lookback: float | None,
    half_life: float | None,
    as_json: bool,
) -> None:
    """Attribution from CONFIG's journeys (its sources of kind `paths`): every model side by
    side per channel, the true CPA, assists and removal effects, written to the workbook's
    Attribution sheet."""
    cfg = load_config(config)
    touches, outcomes = journeys(cfg)
    reports = attribution(
        open_workbook(cfg),
        touches,
        outcomes,
        model=model,
        order=order,
        lookback_days=lookback,
        half_life_days=half_life,
    )
    if as_json:
        echo_json({kind: report_dict(r) for kind, r in reports.items()})
        return
    click.echo(summary(reports))
    leads = reports.get("leads")
    if leads is not None:
        for c in leads.channels:
            click.echo(
                f"  {c.channel:<16} {leads.chosen} {c.conversions.get(leads.chosen, 0):8.1f}  "
                f"last click {c.conversions.get('last_touch', 0):8.1f}  "
                f"removal {c.removal_effect:6.1%}  {c.verdict}"
            )
