"""The Review Month button on the demo (English and Russian workbooks): what the Review sheet
shows, the waterfall's bars from plan to fact, New Month planning to the Brief, and the sheet
recalculated by LibreOffice without an error value (the chart's data following the channel
chosen in the drop-down)."""

from __future__ import annotations

import math
import shutil
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from demo_cache import run_demo

from addin.actions.new_month import new_month
from addin.actions.review_month import TOTAL, review_month
from addin.registry import ActionContext, dispatch
from sheets_sync.i18n import translator
from sheets_sync.libreoffice import recalculate
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.plan_sheet import read_plan
from workbook_templates.review_sheet import (
    BLOCKS_ROW,
    CHANNELS_COL,
    CHART_COL,
    MAX_BARS,
    REVIEW,
    SETTINGS_ROW,
    VAR_COL,
    VAR_HEADERS,
    read_brief,
)
from workbook_templates.settings_sheet import read_funnel

pytestmark = pytest.mark.slow
RU = translator("ru")
ERRORS = ("#DIV/0!", "#VALUE!", "#N/A", "#REF!", "#NAME?", "Err:502", "Err:504")


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("review")
    return {lang: run_demo(out / lang, lang=lang).workbook for lang in ("en", "ru")}


@pytest.fixture
def reviewed(demos: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """Fresh copies of the demos with Review Month pressed."""
    books = {}
    for lang, book in demos.items():
        copy = tmp_path / lang / book.name
        copy.parent.mkdir()
        shutil.copy(book, copy)
        dispatch("review_month", ActionContext.of_file(copy))
        books[lang] = copy
    return books


def _variance(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[RU(REVIEW) if RU(REVIEW) in _titles(path) else REVIEW]
    rows: list[dict[str, object]] = []
    for line in ws.iter_rows(
        min_row=SETTINGS_ROW + 1, min_col=VAR_COL, max_col=VAR_COL + len(VAR_HEADERS) - 1
    ):
        if line[0].value is None:
            break
        rows.append(dict(zip(VAR_HEADERS, (c.value for c in line), strict=True)))
    return rows


def _titles(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def test_the_button_reviews_the_demo_in_english(reviewed: dict[str, Path]) -> None:
    book = reviewed["en"]
    ws = openpyxl.load_workbook(book)[REVIEW]
    column_a = [ws.cell(row=r, column=1).value for r in range(BLOCKS_ROW, BLOCKS_ROW + 120)]
    for title in (
        "Achieved vs missed by channel (run-rate)",  # mid-month (as of the 17th): the run-rate
        "Top performers",
        "Underperformers",
        "Surprises",
        "Recommendations for next month",
        "Brief for next month",
    ):
        assert title in column_a
    # the achieved table's Total row is the Plan's sums (spend p and purchases rr)
    wb = XlsxWorkbook(book)
    _, plan = read_plan(wb, read_funnel(wb))
    header = BLOCKS_ROW + 1
    heads = [c.value for c in ws[header]]
    total_row = next(r for r in range(header, header + 20) if ws.cell(r, 1).value == "Total")
    got = {h: ws.cell(total_row, heads.index(h) + 1).value for h in ("spend p", "purchases rr")}
    assert got["spend p"] == pytest.approx(plan["spend p"].sum(), abs=0.01)
    assert got["purchases rr"] == pytest.approx(plan["purchases rr"].sum(), abs=0.01)
    # the drop-down's channels: Total, then the Plan's channels in order
    channels = [ws.cell(r, CHANNELS_COL).value for r in range(SETTINGS_ROW + 1, SETTINGS_ROW + 9)]
    assert channels == ["Total", *dict.fromkeys(plan["channel"])]


def test_the_waterfalls_bars_go_from_plan_to_fact(reviewed: dict[str, Path]) -> None:
    """Per channel and metric: plan + every step's effect = fact (to the sheet's 4 decimals),
    each step's bar spans its running total (base + its height), in the worse-than-plan series
    when it lowers purchases or revenue or raises the CPA, else in the better one."""
    groups: dict[tuple[object, object], list[dict[str, object]]] = defaultdict(list)
    for row in _variance(reviewed["en"]):
        groups[(row["channel"], row["metric"])].append(row)
    assert ("Total", "purchases") in groups and ("Meta Ads", "CPA") in groups
    assert len(groups) == 3 * 8  # Total and 7 channels x purchases, revenue, CPA
    for key, rows in groups.items():
        if rows[0]["#"] == 0:  # no gap to explain: its note says why
            assert rows[0]["note"], key
            continue
        plan, *steps, fact = rows
        assert plan["bar"] == "Plan" and fact["bar"] == "Fact"
        level = float(plan["effect"])  # type: ignore[arg-type]
        for step in steps:
            effect = float(step["effect"])  # type: ignore[arg-type]
            low = min(level, level + effect)
            assert step["base"] == pytest.approx(max(low, 0), abs=1e-3)
            worse, better = float(step["worse than plan"]), float(step["better than plan"])  # type: ignore[arg-type]
            assert worse + better == pytest.approx(abs(effect), abs=1e-3)
            # a rising CPA is worse than plan (red), rising purchases or revenue better (green)
            up_is_worse = key[1] == "CPA"
            assert (worse if (effect > 0) == up_is_worse else better) == pytest.approx(
                abs(effect), abs=1e-3
            ), (key, step["bar"])
            level += effect
        tolerance = 1e-4 * (len(steps) + 1) + 1e-9 * abs(level)
        assert level == pytest.approx(float(fact["effect"]), abs=tolerance), key  # type: ignore[arg-type]
        assert len(rows) <= MAX_BARS


def test_the_button_works_on_the_russian_demo(reviewed: dict[str, Path]) -> None:
    book = reviewed["ru"]
    assert RU(REVIEW) in _titles(book)
    ws = openpyxl.load_workbook(book)[RU(REVIEW)]
    column_a = [ws.cell(row=r, column=1).value for r in range(BLOCKS_ROW, BLOCKS_ROW + 120)]
    assert RU("Achieved vs missed by channel ({basis})", basis=RU("run-rate")) in column_a
    assert RU("Brief for next month") in column_a and "Итого" in column_a
    # the same numbers as the English workbook: the Brief read back by New Month's reader
    en, ru = read_brief(XlsxWorkbook(reviewed["en"])), read_brief(XlsxWorkbook(book))
    assert en is not None and ru is not None
    assert [(b.channel, round(b.budget), round(b.leads, 1)) for b in ru.lines] == [
        (b.channel, round(b.budget), round(b.leads, 1)) for b in en.lines
    ]
    # the waterfall's Total is the translated label the drop-down shows
    assert {r["channel"] for r in _variance(book)} >= {"Итого"}
    assert ws.cell(SETTINGS_ROW + 7, 2).value == "Итого"


def test_new_month_plans_to_the_brief(reviewed: dict[str, Path], tmp_path: Path) -> None:
    book = XlsxWorkbook(reviewed["en"])
    brief = read_brief(book)
    assert brief is not None and len(brief.lines) == 7
    result = new_month(book, tmp_path / "next.xlsx")
    assert result.brief == f"{REVIEW}!A{_brief_row(reviewed['en'])}"
    nxt = XlsxWorkbook(result.path)
    _, plan = read_plan(nxt, read_funnel(nxt))
    sums = plan.groupby("channel")[["spend p", "leads p", "purchases p"]].sum()
    for b in brief.lines:
        # each line rounded to 2 decimals: the channel's sum within a cent per line
        lines = int((plan["channel"] == b.channel).sum())
        assert sums.loc[b.channel, "spend p"] == pytest.approx(b.budget, abs=0.01 * lines)
        assert sums.loc[b.channel, "leads p"] == pytest.approx(b.leads, abs=0.01 * lines)
        assert sums.loc[b.channel, "purchases p"] == pytest.approx(b.outcome, abs=0.01 * lines)


def test_new_month_without_a_brief_carries_the_budgets(
    demos: dict[str, Path], tmp_path: Path
) -> None:
    book = XlsxWorkbook(demos["en"])  # not reviewed: the Review sheet has no Brief
    assert read_brief(book) is None
    result = new_month(book, tmp_path / "next.xlsx")
    assert result.brief is None
    _, before = read_plan(book, read_funnel(book))
    nxt = XlsxWorkbook(result.path)
    _, after = read_plan(nxt, read_funnel(nxt))
    assert list(after["spend p"]) == pytest.approx(list(before["spend p"]))


def _brief_row(path: Path) -> int:
    ws = openpyxl.load_workbook(path)[REVIEW]
    return next(
        r
        for r in range(BLOCKS_ROW, BLOCKS_ROW + 200)
        if ws.cell(r, 1).value == "Brief for next month"
    )


def test_review_json_has_the_brief(demos: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "plan.xlsx"
    shutil.copy(demos["en"], copy)
    result = review_month(XlsxWorkbook(copy))
    assert result.kind == "rr" and result.source == "sheet"
    total = result.review(TOTAL)
    channels = [r for r in result.reviews if r.channel != TOTAL]
    assert total.kpis["spend"].plan == pytest.approx(
        math.fsum(r.kpis["spend"].plan for r in channels)
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_libreoffice_shows_no_error_on_the_review_sheet(
    reviewed: dict[str, Path], lang: str, tmp_path: Path, soffice: str
) -> None:
    """Recalculated, the Review sheet has no error value; the chart's data are the Total's
    purchases bars, and after choosing a channel in the drop-down, that channel's."""
    book = reviewed[lang]
    name = RU(REVIEW) if lang == "ru" else REVIEW
    bars = [r for r in _variance(book) if r["metric"] == "purchases"]
    raw = openpyxl.load_workbook(book)
    raw[name].cell(SETTINGS_ROW + 7, 2).value = "Meta Ads"
    raw.save(tmp_path / "chosen.xlsx")
    for source, channel in (
        (book, RU(TOTAL) if lang == "ru" else TOTAL),
        (tmp_path / "chosen.xlsx", "Meta Ads"),
    ):
        out = tmp_path / f"out-{channel}"
        ws = openpyxl.load_workbook(recalculate(source, out), data_only=True)[name]
        errors = [c.coordinate for row in ws.iter_rows() for c in row if c.value in ERRORS]
        assert not errors, errors[:10]
        want = [r for r in bars if r["channel"] == channel]
        got = [
            (ws.cell(r, CHART_COL + 1).value, ws.cell(r, CHART_COL + 5).value)
            for r in range(SETTINGS_ROW + 1, SETTINGS_ROW + 1 + len(want))
        ]
        assert got[0] == (want[0]["bar"], pytest.approx(want[0]["plan / fact"]))
        assert [g[0] for g in got] == [w["bar"] for w in want]
        assert ws.cell(SETTINGS_ROW + 1 + len(want), CHART_COL + 1).value in (None, "")
