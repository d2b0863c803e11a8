"""`funnelplan report`: the client report on a small finished month, in English and Russian.

The PDF is opened with poppler (pdfinfo, pdftotext, pdfimages) and a page is rendered
(pdftoppm) and looked at as a picture against a coarse layout: the Executive table's text at the
top, the plan-vs-fact chart's two bar colours below it. Under CI=true a missing tool fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import require
from PIL import Image

from addin.cli.main import main
from addin.report.charts import ACTUAL_COLOUR, PLAN_COLOUR
from addin.report.content import report_content
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

LINES = pd.DataFrame(
    {
        "channel": ["Search", "Meta"],
        "campaign": ["brand", ""],
        "spend p": [100_000.0, 50_000.0],
        "leads p": [100.0, 60.0],
        "purchases p": [5.0, 2.0],
        "spend f": [90_000.0, 60_000.0],
        "leads f": [120.0, 40.0],
        "purchases f": [6.0, 1.0],
    }
)


def _book(tmp_path: Path, lang: str) -> Path:
    spec = PlanWorkbookSpec(
        month=dt.date(2026, 11, 1), lines=LINES, as_of=dt.date(2026, 11, 30), lang=lang
    )
    return save_atomic(build_plan_workbook(spec), tmp_path / f"plan_{lang}.xlsx")


def _poppler() -> None:
    found = all(shutil.which(t) for t in ("pdfinfo", "pdftotext", "pdfimages", "pdftoppm"))
    require("poppler-utils", found, "apt-get install poppler-utils")


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _report(book: Path, out: Path, *extra: str) -> None:
    run = CliRunner().invoke(main, ["report", str(book), "--out", str(out), *extra])
    assert run.exit_code == 0, run.output
    assert out.stat().st_size > 0


def test_the_numbers_by_hand(tmp_path: Path) -> None:
    """Total: spend 150000 vs 150000; leads 100+60 = 160 vs 120+40 = 160; CPL 150000/160 =
    937.5 both; purchases 5+2 = 7 vs 6+1 = 7; CPA 150000/7 = 21428.57 both (ratios of the sums).
    Search: purchases 6/5 = 120 %, CPA plan/fact = 20000/15000 = 133 %; Meta: 1/2 = 50 %."""
    t = translator("en")
    c = report_content(XlsxWorkbook(_book(tmp_path, "en")), t, "Acme")
    total = {k.key: k for k in c.total}
    assert (total["spend"].plan, total["spend"].actual) == (150_000.0, 150_000.0)
    assert total["cpl"].plan == pytest.approx(937.5) and total["cpl"].actual == pytest.approx(937.5)
    assert total["cpa"].actual == pytest.approx(150_000 / 7)
    assert [k.key for k in c.total] == [
        "spend",
        "leads",
        "cpl",
        "outcome",
        "cpa",
        "revenue",
        "romi",
    ]
    assert math.isnan(total["revenue"].plan)  # no revenue in this plan: shown as a dash
    by = {ch.channel: {k.key: k for k in ch.kpis} for ch in c.channels}
    assert by["Search"]["outcome"].pct == pytest.approx(1.2)
    assert by["Search"]["cpa"].pct == pytest.approx(20_000 / 15_000)
    assert by["Meta"]["outcome"].pct == pytest.approx(0.5)
    assert [p.channel for p in c.top] == ["Search"] and [p.channel for p in c.under] == ["Meta"]
    assert c.basis == "f" and c.client == "Acme" and c.month == dt.date(2026, 11, 1)
    # the waterfall runs from the plan (7) to the fact (7)
    assert c.bars[0].kind == "start" and c.bars[0].value == pytest.approx(7.0)
    assert c.bars[-1].kind == "end" and c.bars[-1].value == pytest.approx(7.0)
    assert c.advice == ()  # no Optimize Split proposal on the sheet: none is shown


def test_the_pdf_opens_with_its_pages_text_and_charts(tmp_path: Path) -> None:
    _poppler()
    book = _book(tmp_path, "en")
    before = hashlib.sha256(book.read_bytes()).hexdigest()
    pdf = tmp_path / "report.pdf"
    _report(book, pdf, "--client", "Acme Dental")
    info = _run("pdfinfo", str(pdf))
    assert "Pages:           4" in info
    assert "841.89 x 595.276" in info  # A4 landscape, in points
    text = _run("pdftotext", "-layout", str(pdf), "-")
    for expected in ("Acme Dental", "November 2026", "Search", "Meta", "Key numbers", "CPA"):
        assert expected in text
    images = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    assert len(images) >= 2  # the plan-vs-fact chart and the waterfall, embedded
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before  # the workbook is not written


def test_russian_report_is_russian(tmp_path: Path) -> None:
    _poppler()
    pdf = tmp_path / "report.pdf"
    _report(_book(tmp_path, "ru"), pdf)  # the workbook's language by default
    text = _run("pdftotext", "-layout", str(pdf), "-")
    for expected in ("Ноябрь 2026", "Ключевые показатели", "покупки", "% плана", "Search"):
        assert expected in text
    assert "Key numbers" not in text
    en = tmp_path / "en.pdf"
    _report(_book(tmp_path, "ru"), en, "--lang", "en")
    assert "November 2026" in _run("pdftotext", str(en), "-")


def _near(pixels: np.ndarray, colour: str, tol: int = 40) -> np.ndarray:
    """Which pixels (an H×W×3 array) are within `tol` of `colour` in every channel."""
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.all(np.abs(pixels.astype(int) - want) <= tol, axis=-1)


def test_a_rendered_page_matches_the_layout(tmp_path: Path) -> None:
    """Page 2 at 40 dpi: not blank; the top quarter (title, table) has dark text and none of the
    chart's colours; the lower part has both bar colours (the plan-vs-fact chart)."""
    _poppler()
    pdf = tmp_path / "report.pdf"
    _report(_book(tmp_path, "en"), pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    page = np.asarray(Image.open(next(tmp_path.glob("p-*2.png"))).convert("RGB"))
    h, w, _ = page.shape
    assert w > h  # landscape
    assert (page.sum(axis=-1) < 600).mean() > 0.03  # not blank
    head, chart = page[: h // 4], page[int(h * 0.35) :]
    assert (head.sum(axis=-1) < 300).sum() > 50  # the title's and the table's text
    assert not _near(head, ACTUAL_COLOUR, 20).any()  # no chart up there
    assert _near(chart, PLAN_COLOUR).sum() > 100  # the plan bars
    assert _near(chart, ACTUAL_COLOUR).sum() > 100  # the fact bars


def test_html_stands_alone_and_a_wrong_suffix_is_refused(tmp_path: Path) -> None:
    book = _book(tmp_path, "ru")
    html = tmp_path / "report.html"
    _report(book, html)
    page = html.read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and page.count("data:image/png;base64,") == 2
    assert "Ноябрь 2026" in page
    run = CliRunner().invoke(main, ["report", str(book), "--out", str(tmp_path / "r.docx")])
    assert run.exit_code != 0 and ".pdf or .html" in run.output


def test_romi_is_shown_in_points(tmp_path: Path) -> None:
    """Revenue added. Search: ROMI plan (500000 − 100000)/100000 = 400 %, fact (600000 − 90000)/
    90000 = 566.67 %: +167 points. Total: revenue 700000 both, spend 150000 both: 366.67 % both,
    +0 points. In Russian: «п. п.» and the minus of Meta: (200000 − 50000)/50000 = 300 % vs
    (100000 − 60000)/60000 = 66.67 %: −233 points."""
    lines = LINES.assign(**{"revenue p": [500_000.0, 200_000.0], "revenue f": [600_000.0, 1e5]})
    spec = PlanWorkbookSpec(
        month=dt.date(2026, 11, 1), lines=lines, as_of=dt.date(2026, 11, 30), lang="ru"
    )
    book = save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")
    c = report_content(XlsxWorkbook(book), translator("ru"), "Acme")
    by = {ch.channel: {k.key: k for k in ch.kpis} for ch in c.channels}
    assert by["Search"]["romi"].pct == pytest.approx(510_000 / 90_000 - 4.0)
    html = tmp_path / "r.html"
    _report(book, html)
    page = html.read_text(encoding="utf-8")
    assert "+167 п. п." in page and "-233 п. п." in page and "+0 п. п." in page


def test_the_folder_is_made_and_a_failed_render_keeps_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = _book(tmp_path, "en")
    out = tmp_path / "meeting" / "december" / "report.html"
    _report(book, out)  # the folders did not exist
    before = out.read_bytes()

    import addin.report.render as render

    def broken(*_args: object) -> None:
        raise OSError("disk full")  # the new file written, failing when moved over the old one

    monkeypatch.setattr(render.os, "replace", broken)
    run = CliRunner().invoke(main, ["report", str(book), "--out", str(out)])
    assert run.exit_code != 0
    assert out.read_bytes() == before  # the old report is untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no .part left
