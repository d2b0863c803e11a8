"""`funnelplan report WORKBOOK --out report.pdf|.html`: the client report (issue 15)."""

from __future__ import annotations

from pathlib import Path

import click

from addin.actions.base import ActionContext
from addin.actions.button_config import known_config
from addin.cli.common import user_errors
from sheets_sync.i18n import LANGUAGES, translator
from sheets_sync.workbooks.roles import language_of
from sheets_sync.workbooks.xlsx import XlsxWorkbook


@click.command("report")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The report's file: .pdf (A4 landscape pages) or .html (one self-contained page).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="The report's language (default: the workbook's).",
)
@click.option(
    "--client", default=None, help="The client's name on the title page (default: the file's name)."
)
@user_errors
def report_cmd(workbook: Path, out: Path, lang: str | None, client: str | None) -> None:
    """The month's report for the client from WORKBOOK: the Executive numbers, plan vs fact by
    channel, the variance waterfall, the review and the recommendations. The workbook is read,
    not changed."""
    if out.suffix.lower() not in (".pdf", ".html"):
        raise click.BadParameter("must end in .pdf or .html", param_hint="--out")
    from addin.report.content import report_content  # matplotlib, jinja2: not for --help
    from addin.report.render import write_report

    wb = XlsxWorkbook(workbook)
    t = translator(lang or language_of(wb))
    config = known_config(ActionContext.of_file(workbook))  # the results by city and product
    content = report_content(wb, t, client or workbook.stem, config)
    write_report(content, t, out)
    click.echo(str(out))
