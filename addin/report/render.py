"""The report as HTML (Jinja2) and as PDF (WeasyPrint).

WeasyPrint, not Chromium's ``--print-to-pdf``: it is a pip package (installed with funnelplan,
no browser or system package to add, nothing spawned), it honours CSS paged media (``@page
size: A4 landscape``, page breaks) exactly, and the same HTML gives the same PDF on every
machine. The charts are embedded in the HTML as PNG data URIs, so the HTML file stands alone
and the PDF carries them as images.
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path

import jinja2
from babel.dates import format_date

from addin.actions.texts import number, signed
from addin.report.charts import channels_chart, waterfall_chart
from addin.report.content import KpiRow, ReportContent
from addin.report.template import PAGE
from sheets_sync.i18n import Translator

#: The count KPIs charted plan vs actual by channel.
CHART_KPIS = ("spend", "leads", "outcome")


def month_title(c: ReportContent) -> str:
    """``November 2026`` / ``Ноябрь 2026`` (the stand-alone month name, capitalised)."""
    text = format_date(c.month, "LLLL yyyy", locale=c.lang)
    return text[:1].upper() + text[1:]


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def render_html(c: ReportContent, t: Translator) -> str:
    """The whole report as one self-contained HTML page."""

    def num(v: float, key: str) -> str:
        if not math.isfinite(v):
            return "—"
        if key == "romi":
            return number(v * 100, t) + " %"
        if key == "count":  # a fact's count: whole unless it is not
            return number(v, t, 0 if float(v).is_integer() else 1)
        digits = 0 if key in ("spend", "leads", "revenue", "cpl", "cpa") and abs(v) >= 100 else 1
        return number(v, t, digits)

    def share(v: float) -> str:
        return "—" if not math.isfinite(v) else number(v * 100, t) + " %"

    def pct(k: KpiRow) -> str:
        if k.key == "romi":  # a difference in points
            return "—" if not math.isfinite(k.pct) else signed(k.pct * 100, t) + " " + t("p.p.")
        return share(k.pct)

    def change(v: float) -> str:
        return "—" if not math.isfinite(v) else signed(v * 100, t) + " %"

    def mark(achieved: bool | None) -> str:
        return "" if achieved is None else ("good" if achieved else "bad")

    actual = t("run-rate") if c.basis == "rr" else t("fact")
    waterfall = (
        waterfall_chart(c.bars, t("{metric}: plan → {actual}", metric=c.outcome, actual=actual), t)
        if c.bars
        else b""
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(PAGE).render(
        c=c,
        t=t,
        title=month_title(c),
        actual_label=actual,
        basis_note=t(
            "Results against plan ({actual}), currency {currency}",
            actual=actual,
            currency=c.currency,
        ),
        channels_png=_b64(
            channels_chart(c.channels, CHART_KPIS, t("plan"), actual) if c.channels else b""
        ),
        waterfall_png=_b64(waterfall) if waterfall else "",
        num=num,
        pct=pct,
        share=share,
        change=change,
        mark=mark,
    )


def write_report(c: ReportContent, t: Translator, out: Path) -> Path:
    """`out` as ``.html`` (the page) or ``.pdf`` (printed by WeasyPrint); other suffixes raise.

    The folder is created when missing. The file is written beside `out` under a temporary name
    and moved over it once complete, so a crash never leaves half a report (nor spoils an old
    one) at `out`."""
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise ValueError(f"--out must end in .pdf or .html, not {out.suffix!r}")
    html = render_html(c, t)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    try:
        if suffix == ".html":
            part.write_text(html, encoding="utf-8")
        else:
            import weasyprint  # slow to import: only for a PDF

            weasyprint.HTML(string=html).write_pdf(part)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return out
