"""The morning's commands: `alerts` (check the rules, list incidents), `digest` (compose and
send the morning messages) and `morning` (the scheduled sync, then the digest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from addin.actions.check_alerts import frame_of, run_with_config, summary
from addin.actions.texts import texts_of
from addin.cli.common import echo_json, parse_datetime, user_errors
from addin.digest.markup import plain_text
from addin.digest.run import DigestRun, morning_sync, run_digest
from addin.digest.texts import LANGS
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.of_config import open_config_workbook
from sheets_sync.workbooks.xlsx import XlsxWorkbook

_NOW = click.option(
    "--now",
    callback=parse_datetime,
    help="The clock, YYYY-MM-DDTHH:MM (default: now in the digest's time zone).",
)


@click.command("alerts")
@click.argument("target", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_NOW
@click.option("--json", "as_json", is_flag=True, help="Print the firings and incidents as JSON.")
@user_errors
def alerts_cmd(target: Path, now: dt.datetime | None, as_json: bool) -> None:
    """Check the Alerts sheet's rules (the Alerts button). TARGET: a sync config (its fact
    store keeps the incident log) or a workbook .xlsx (no log: this run's firings only)."""
    now = now or dt.datetime.now().replace(microsecond=0)
    if target.suffix.lower() == ".toml":
        config = load_config(target)
        wb: WorkbookTarget = open_config_workbook(config)
        outcome = run_with_config(wb, config, now)
    else:
        wb = XlsxWorkbook(target)
        outcome = run_with_config(wb, None, now)
    if as_json:
        echo_json(
            {
                "as_of": outcome.inputs.as_of,
                "firings": [
                    {
                        "rule": f.rule.name,
                        "metric": f.rule.metric,
                        "where": f.where,
                        "value": f.value,
                        "threshold": f.limit,
                        "plan": f.plan,
                        "since": f.since,
                        "severity": f.rule.severity,
                    }
                    for f in outcome.evaluation.firings
                ],
                "skipped": list(outcome.evaluation.skipped),
                "incidents": frame_of(outcome.incidents).to_dict("records"),
            }
        )
        return
    click.echo(summary(outcome, texts_of(wb)))  # in the workbook's language
    for f in outcome.evaluation.firings:
        since = f" since {f.since:%Y-%m-%d}" if f.since else ""
        click.echo(
            f"  [{f.rule.severity}] {f.rule.name} · {f.where}: {f.value:,.4g} "
            f"(threshold {f.limit:,.4g}){since}"
        )


def _print_run(run: DigestRun) -> None:
    for m in run.messages:
        click.echo(f"── {m.key} ──")
        click.echo(plain_text(m.text))
        if m.chart_png:
            click.echo(f"(chart: {len(m.chart_png):,} bytes PNG)")
        click.echo("")
    if run.dry_run:
        click.echo("Dry run: nothing sent, nothing recorded.")
    for s in run.sent:
        error = f": {s.error}" if s.error else ""
        late = "" if s.day == run.day else f" (from {s.day:%Y-%m-%d})"
        click.echo(f"{s.destination} · {s.part}{late}: {s.status}{error}")


@click.command("digest")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--send", is_flag=True, help="Deliver to the [digest] destinations.")
@click.option("--dry-run", is_flag=True, help="Only print the messages (the default).")
@click.option("--lang", type=click.Choice(LANGS), help="Language (default: [digest] lang, ru).")
@click.option(
    "--chart-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the chart PNG here.",
)
@_NOW
@click.option("--json", "as_json", is_flag=True, help="Print the messages and deliveries as JSON.")
@user_errors
def digest_cmd(
    config: Path,
    send: bool,
    dry_run: bool,
    lang: str | None,
    chart_out: Path | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """The morning digest from CONFIG's workbook: the day's target leads and calls against
    the pace the plan needs, each channel's CPA and CPA2 against its KPI, and the new alerts.
    Prints them; with --send delivers them (once a day per destination; failed ones are
    retried on the next run)."""
    if send and dry_run:
        raise click.UsageError("--send and --dry-run exclude each other")
    run = run_digest(load_config(config), send=send, now=now, lang=lang)
    if chart_out is not None and run.messages and run.messages[0].chart_png:
        chart_out.write_bytes(run.messages[0].chart_png)
    if as_json:
        echo_json(
            {
                "day": run.day,
                "as_of": run.as_of,
                "dry_run": run.dry_run,
                "messages": [{"key": m.key, "text": m.text} for m in run.messages],
                "sent": [s.__dict__ for s in run.sent],
            }
        )
    else:
        _print_run(run)
    if any(s.status == "failed" for s in run.sent):
        raise SystemExit(3)


@click.command("morning")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--send/--dry-run", default=True, show_default=True, help="Deliver the digest.")
@click.option(
    "--only",
    type=click.Choice(["sync", "digest"]),
    help="Run one step (cron: the sync at 09:30, the digest at 10:00).",
)
@_NOW
@user_errors
def morning_cmd(config: Path, send: bool, only: str | None, now: dt.datetime | None) -> None:
    """The scheduled morning: Sync Facts from CONFIG (a failure becomes an alert in the
    digest), then the digest; what `serve --schedule` runs at the configured times."""
    cfg = load_config(config)
    if only != "digest":
        result = morning_sync(cfg, now)
        click.echo(
            "Sync: failed (see the alerts)" if result is None else f"Sync: as of {result.as_of}"
        )
        if only == "sync":
            if result is None:
                raise SystemExit(3)
            return
    run = run_digest(cfg, send=send, now=now)
    _print_run(run)
    if any(s.status == "failed" for s in run.sent):
        raise SystemExit(3)
