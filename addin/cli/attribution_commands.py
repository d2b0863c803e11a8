"""`attribution`: which channels really bring the leads (the Attribution button)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from addin.actions.attribution import KINDS, attribution, journeys, summary
from addin.cli.common import echo_json, user_errors
from planning.attribution import MODELS, build_paths
from planning.attribution_report import AttributionReport, attribution_report
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.paths_export import read_paths_export
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.of_config import open_config_workbook
from workbook_templates.attribution_sheet import write_sources


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


def file_reports(
    path: Path,
    model: str | None,
    order: int | None,
    lookback: float | None,
    half_life: float | None,
) -> dict[str, AttributionReport | None]:
    """A journeys file on its own (no workbook, no spend): a touch's channel is its own, else
    its ``utm_source / utm_medium``; every conversion in the file counts."""
    result = read_paths_export(path, SourceOptions(source=path.stem))
    touches = result.touches
    utm = touches["utm_source"].fillna("") + " / " + touches["utm_medium"].fillna("")
    own = touches["channel"].fillna("").astype(str)
    touches = touches.assign(channel=own.where(own != "", utm.where(utm != " / ", "")))
    reports: dict[str, AttributionReport | None] = {}
    for kind, label in KINDS:
        mine = result.outcomes[result.outcomes["kind"] == kind].assign(conversions=1.0)
        if mine.empty:
            reports[label] = None
            continue
        paths, issues = build_paths(
            touches[["journey", "ts", "channel"]],
            mine[["journey", "ts", "conversions", "value"]],
            lookback_days=lookback or 30.0,
        )
        reports[label] = attribution_report(
            paths,
            issues,
            {},
            kind=kind,
            chosen=model or "markov",
            order=order or 1,
            half_life_days=half_life or 7.0,
        )
    return reports


@click.command("attribution")
@click.argument("target", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", type=click.Choice(MODELS), help="The chosen model (default: the sheet's).")
@click.option("--order", type=click.IntRange(1, 3), help="Markov order, 1-3.")
@click.option("--lookback", type=click.FloatRange(min=0, min_open=True), help="Lookback, days.")
@click.option("--half-life", type=click.FloatRange(min=0, min_open=True), help="Time decay, days.")
@click.option("--json", "as_json", is_flag=True, help="Print every model per channel as JSON.")
@user_errors
def attribution_cmd(
    target: Path,
    model: str | None,
    order: int | None,
    lookback: float | None,
    half_life: float | None,
    as_json: bool,
) -> None:
    """Attribution: every model side by side per channel, assists and removal effects.
    TARGET: a sync config (its sources of kind `paths`; the true CPA with the Daily sheet's
    spend, written to the workbook's Attribution sheet), or one journeys file (a visits or
    CRM-history export; printed only)."""
    if target.suffix.lower() != ".toml":
        reports = file_reports(target, model, order, lookback, half_life)
    else:
        cfg = load_config(target)
        touches, outcomes, inputs = journeys(cfg)
        wb = open_config_workbook(cfg)
        reports = attribution(
            wb,
            touches,
            outcomes,
            save=False,
            model=model,
            order=order,
            lookback_days=lookback,
            half_life_days=half_life,
        )
        write_sources(wb, inputs)
        wb.save()
    if as_json:
        echo_json({kind: report_dict(r) for kind, r in reports.items()})
        return
    click.echo(summary(reports, sheet=target.suffix.lower() == ".toml"))
    leads = reports.get("leads")
    if leads is not None:
        for c in leads.channels:
            click.echo(
                f"  {c.channel:<16} {leads.chosen} {c.conversions.get(leads.chosen, 0):8.1f}  "
                f"last click {c.conversions.get('last_touch', 0):8.1f}  "
                f"removal {c.removal_effect:6.1%}  {c.verdict}"
            )
