"""No error values in normal states (issue 16): recalculated by LibreOffice, the demo, a fresh
next month and the demo with as-of on the month's last day show no #DIV/0!, #VALUE!, #N/A,
#REF! or #NAME? on any sheet; and `cells.quotient`, every sheet's division, is blank exactly when
its denominator is blank or 0 while a real error in its cells stays visible.

Before the change the same three workbooks showed 13, 70 and 236 #DIV/0! (Plan ratios over a
zero plan, the new month's Executive and Plan Total row, every pace cell on the last day).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from demo_cache import run_demo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.actions.new_month import new_month
from sheets_sync.libreoffice import recalculate
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.cells import quotient

pytestmark = pytest.mark.slow

ERRORS = ("#DIV/0!", "#VALUE!", "#N/A", "#REF!", "#NAME?")


def _errors(path: Path, out: Path) -> Counter[tuple[str, str, str]]:
    """Every error value of the recalculated workbook: (sheet, cell, error)."""
    wb = openpyxl.load_workbook(recalculate(path, out), data_only=True)
    found: Counter[tuple[str, str, str]] = Counter()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value in ERRORS:
                    found[(ws.title, c.coordinate, c.value)] += 1
    return found


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("calm")
    demo = run_demo(out / "demo", month="2026-11", as_of=dt.date(2026, 11, 17)).workbook
    nxt = new_month(XlsxWorkbook(demo), out / "next.xlsx").path
    last = run_demo(out / "last", month="2026-11", as_of=dt.date(2026, 11, 30)).workbook
    return {"demo": demo, "next month": nxt, "last day": last}


@pytest.mark.parametrize("name", ["demo", "next month", "last day"])
def test_no_error_value_on_any_sheet(books: dict[str, Path], name: str, tmp_path: Path) -> None:
    found = _errors(books[name], tmp_path)
    assert not found, f"{name}: {sorted(found)[:20]}"


def test_a_new_months_executive_shows_the_month_not_1899(
    books: dict[str, Path], tmp_path: Path
) -> None:
    ws = openpyxl.load_workbook(recalculate(books["next month"], tmp_path), data_only=True)[
        L.EXECUTIVE
    ]
    assert ws["A2"].value == "month"
    assert ws["B2"].value == dt.datetime(2026, 12, 1)  # the month, as-of is blank
    demo = openpyxl.load_workbook(recalculate(books["demo"], tmp_path / "d"), data_only=True)
    assert (demo[L.EXECUTIVE]["A2"].value, demo[L.EXECUTIVE]["B2"].value) == (
        "as of",
        dt.datetime(2026, 11, 17),
    )


def test_pace_is_blank_on_the_last_day_and_a_number_before(
    books: dict[str, Path], tmp_path: Path
) -> None:
    # On the 17th, 13 days are left: pace = (p - f) / 13 on the Total row.
    for name, days_left in (("demo", 13), ("last day", 0)):
        ws = openpyxl.load_workbook(recalculate(books[name], tmp_path / name), data_only=True)[
            L.PLAN
        ]
        headers = {str(c.value): c.column for c in ws[L.PLAN_HEADER_ROW] if c.value}
        total = next(
            r
            for r in range(L.PLAN_FIRST_ROW, ws.max_row + 1)
            if ws.cell(r, 1).value == L.TOTAL_LABEL
        )
        p, f, pace = (
            ws.cell(total, headers[L.abs_header("leads", k)]).value for k in ("p", "f", "pace")
        )
        if days_left:
            assert pace == pytest.approx((p - f) / days_left)
        else:
            assert pace in ("", None)


# --- quotient: known numbers, then the invariant over random cells -------------------------

#: Values a numerator or denominator cell may hold: numbers, 0, blank, text, a real error.
_CELL = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3)),
    st.sampled_from([None, 0, "x", "=1/0", "=NA()"]),
)


def _recalc_quotients(
    pairs: list[tuple[Any, Any]], tmp: Path, romi: bool = False
) -> list[tuple[Any, Any, Any]]:
    """Column A numerator, B denominator, C `quotient`; the recalculated A, B, C per row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, (n, d) in enumerate(pairs, start=1):
        ws.cell(r, 1, n)
        ws.cell(r, 2, d)
        ws.cell(r, 3, quotient(f"A{r}", f"B{r}", expr=f"(A{r}-B{r})/B{r}" if romi else None))
    src = tmp / "src"
    src.mkdir(parents=True, exist_ok=True)
    wb.save(src / "q.xlsx")
    out = openpyxl.load_workbook(recalculate(src / "q.xlsx", tmp / "out"), data_only=True).active
    assert out is not None
    return [tuple(out.cell(r, c).value for c in (1, 2, 3)) for r in range(1, len(pairs) + 1)]


def test_quotient_worked_by_hand(tmp_path: Path, soffice: str) -> None:
    assert quotient("D5", "E5", blank_if=['$A5=""']) == '=IF(OR($A5="",N(E5)=0),"",D5/E5)'
    assert quotient("D5", "E5") == '=IF(N(E5)=0,"",D5/E5)'
    got = _recalc_quotients(
        [(300_000, 240), (5, 0), (5, None), (None, 7), (5, "=1/0"), ("=NA()", 4)], tmp_path
    )
    assert got[0][2] == pytest.approx(1250)  # 300 000 / 240
    assert got[1][2] in ("", None)  # 5 / 0: blank, not #DIV/0!
    assert got[2][2] in ("", None)  # 5 / blank
    assert got[3][2] == 0  # blank / 7 = 0, as before (the Plan blanks a blank numerator itself)
    assert got[4][2] == "#DIV/0!"  # the denominator is a real error: it stays visible
    assert got[5][2] == "#N/A"
    romi = _recalc_quotients([(150, 100), (150, 0)], tmp_path / "romi", romi=True)
    assert romi[0][2] == pytest.approx(0.5) and romi[1][2] in ("", None)  # (150-100)/100


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=40))
def test_quotient_is_blank_exactly_over_a_zero_or_blank_denominator(
    pairs: list[tuple[Any, Any]], tmp_path_factory: pytest.TempPathFactory, soffice: str
) -> None:
    got = _recalc_quotients(pairs, tmp_path_factory.mktemp("q"))
    for (n, d), (_, d_val, q) in zip(pairs, got, strict=True):
        if d_val in ERRORS or (n in ("=1/0", "=NA()") and d_val not in (None, "", 0, "x")):
            assert q in ERRORS  # a real error is never hidden
        elif d_val in (None, "", 0, "x"):  # blank, zero or text (N() of text is 0)
            assert q in ("", None), (n, d, q)
        elif n == "x":
            assert q == "#VALUE!"
        else:
            assert q == pytest.approx((n or 0) / d_val, rel=1e-12), (n, d, q)
