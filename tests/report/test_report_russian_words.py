"""The client report in Russian has no English left (issue 15): rendered on the Russian demo
(`run_demo(lang="ru")`: Optimize Split and Attribution have run, so the recommendations and
the attribution verdicts are there), read back with pdftotext, and every Latin word on the
pages must be a channel's name, the client's or one of the metrics' Latin names the team uses."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require
from demo_cache import run_demo

from addin.cli.main import main
from addin.report.content import report_content
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook

pytestmark = pytest.mark.slow

RU = translator("ru")
#: What a Russian report printed in English before (issue 15's review), each a regex.
KNOWN_LEFTOVERS = (
    r"cannibalising",
    r"assist channel",
    r"under-credited",
    r"last[- ]click",
    r"journeys",
    r"\bPlan\b",
    r"\bFact\b",
    r"\bSpend\b",
    r"Not comparable",
    r"Mix across channels",
    r"(raise|cut|keep) the budget",
    r"\bmax\b",
    r"\b(achieved|missed|partly)\b",
    r"run-rate",
    r"\bTotal\b",
    r"Cost per|Revenue per",
    r"\bwaterfall\b",
    r"\([+-]?\d+\.\d\)",  # a driver's effect with a decimal point: "(+9.9)"
    r"\d,\d{3}\b",  # English thousands: "1,535,000"
)
#: Latin words a Russian page may show: the metrics' Latin names and the currency.
LATIN_OK = {"CPA", "CPL", "CPC", "CR", "ROMI", "ROAS", "RUB", "UTM", "LMDI"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("report-ru"), lang="ru").workbook


@pytest.fixture(scope="module")
def pages(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    found = all(shutil.which(t) for t in ("pdftotext",))
    require("poppler-utils", found, "apt-get install poppler-utils")
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    run = CliRunner().invoke(main, ["report", str(demo), "--out", str(out), "--client", "Acme"])
    assert run.exit_code == 0, run.output
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Рекомендации на следующий месяц" in text  # the pages are there
    return text


def test_no_known_english_leftover_in_the_russian_pdf(pages: str) -> None:
    found = {p: re.findall(p, pages, re.IGNORECASE) for p in KNOWN_LEFTOVERS}
    assert {p: hits for p, hits in found.items() if hits} == {}


def test_every_latin_word_is_a_name_or_a_metric(demo: Path, pages: str) -> None:
    content = report_content(XlsxWorkbook(demo), RU, "Acme")
    names = {w for c in content.channels for w in re.findall(r"[A-Za-z]+", c.channel)}
    words = set(re.findall(r"[A-Za-z][A-Za-z-]*", pages))
    assert words - names - LATIN_OK - {"Acme"} == set()
    # the verdicts are there, in Russian
    assert "каннибализирует" in pages or "ассистирующий канал" in pages


def test_the_charts_texts_are_russian(demo: Path) -> None:
    """The waterfall's bars (the chart's only words besides its translated title) and the
    drivers: Cyrillic or a Latin metric name, effects with a decimal comma."""
    content = report_content(XlsxWorkbook(demo), RU, "Acme")
    assert content.bars
    for bar in content.bars:
        latin = set(re.findall(r"[A-Za-z]+", bar.label))
        assert latin <= LATIN_OK, bar.label
    drivers = [p.driver for p in (*content.top, *content.under) if p.driver]
    assert drivers and all(not re.search(r"\d\.\d", d) for d in drivers), drivers
