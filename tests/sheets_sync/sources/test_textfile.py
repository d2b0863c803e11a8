"""Grid reading and cell parsing: encodings, delimiters, header rows, totals, numbers, dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import InputError
from sheets_sync.sources.cell_values import parse_dates, parse_durations, parse_flags, parse_numbers
from sheets_sync.sources.column_map import ColumnMap, SourceOptions
from sheets_sync.sources.textfile import read_grid

NBSP = "\u00a0"


def _header(cells: list[str]) -> bool:
    return "Date" in cells or "Дата" in cells


# --------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50 ₽", 1234.5),
        (f"1{NBSP}234,50", 1234.5),
        ("1\u202f234,5", 1234.5),
        ("$1,234.50", 1234.5),
        ("12.345,67", 12345.67),
        ("1 234 567", 1234567.0),
        ("3,0 руб.", 3.0),
        ("(12)", -12.0),
        ("12,5%", 0.125),
        ("−5", -5.0),
        ("1,2345", 1.2345),
        ("0", 0.0),
        ("1e3", 1000.0),
    ],
)
def test_parse_numbers_known_cells(text: str, expected: float) -> None:
    values, bad, blank = parse_numbers(pd.Series([text]))
    assert values[0] == pytest.approx(expected)
    assert not bad[0] and not blank[0]


@pytest.mark.parametrize("text", ["", "--", " -- ", "-", "—", "n/a", "н/д"])
def test_parse_numbers_blanks(text: str) -> None:
    values, bad, blank = parse_numbers(pd.Series([text, "5"]))
    assert np.isnan(values[0]) and blank[0] and not bad[0]
    assert values[1] == 5


@pytest.mark.parametrize("text", ["abc", "inf", "5-", "TRUE", "1,2,3.4.5x"])
def test_parse_numbers_bad_cells_are_marked_not_raised(text: str) -> None:
    values, bad, blank = parse_numbers(pd.Series(["7", text]))
    assert values[0] == 7
    assert np.isnan(values[1]) and bad[1] and not blank[1]


def test_lone_thousands_group_follows_the_file_convention() -> None:
    assert parse_numbers(pd.Series(["1,234"]), decimal=".")[0][0] == 1234.0
    assert parse_numbers(pd.Series(["1,234"]), decimal=",")[0][0] == pytest.approx(1.234)
    # a comma followed by 2 digits elsewhere in the column settles it: decimal comma
    assert parse_numbers(pd.Series(["1,234", "5,50"]), decimal=".")[0].tolist() == [1.234, 5.5]


def test_mixed_column_is_read_cell_by_cell() -> None:
    values = parse_numbers(pd.Series(["1,234.50", "1.234,50", "7,5"]))[0]
    assert values.tolist() == [1234.5, 1234.5, 7.5]


def _russian(value: float) -> str:
    whole, frac = f"{abs(value):,.2f}".split(".")
    return ("-" if value < 0 else "") + whole.replace(",", NBSP) + "," + frac


def _english(value: float) -> str:
    return f"{value:,.2f}"


money = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2))


@given(st.lists(money, min_size=1, max_size=30))
def test_russian_formatted_numbers_parse_back(values: list[float]) -> None:
    cells = [_russian(v) + " ₽" for v in values]
    parsed, bad, _ = parse_numbers(pd.Series(cells), decimal=",")
    assert not bad.any()
    np.testing.assert_allclose(parsed, values, rtol=0, atol=1e-9)


@given(st.lists(money, min_size=1, max_size=30))
def test_english_formatted_numbers_parse_back(values: list[float]) -> None:
    cells = ["$" + _english(v) for v in values]
    parsed, bad, _ = parse_numbers(pd.Series(cells), decimal=".")
    assert not bad.any()
    np.testing.assert_allclose(parsed, values, rtol=0, atol=1e-9)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30))
def test_space_grouped_integers_parse_back(values: list[int]) -> None:
    cells = [f"{v:,}".replace(",", " ") for v in values]
    parsed, bad, _ = parse_numbers(pd.Series(cells), decimal=",")
    assert not bad.any()
    assert parsed.tolist() == [float(v) for v in values]


# ----------------------------------------------------------------------------------- dates


def test_parse_dates_formats() -> None:
    result = parse_dates(pd.Series(["03.11.2026", "04.11.2026 10:15", "", "31.11.2026"]))
    assert result.format == "dd.mm.yyyy hh:mm"
    assert result.values[0] == np.datetime64("2026-11-03")
    assert result.values[1] == np.datetime64("2026-11-04T10:15")
    assert result.blank.tolist() == [False, False, True, False]
    assert result.bad.tolist() == [False, False, False, True]


def test_us_dates_only_when_the_file_proves_it() -> None:
    us = parse_dates(pd.Series(["11/03/2026", "11/23/2026"]))
    assert us.format == "mm/dd/yyyy"
    assert us.values[0] == np.datetime64("2026-11-03")
    ambiguous = parse_dates(pd.Series(["03/11/2026", "04/11/2026"]))
    assert ambiguous.format == "dd/mm/yyyy"
    assert ambiguous.values[0] == np.datetime64("2026-11-03")
    assert ambiguous.warnings


def test_iso_russian_month_names_and_english_dates() -> None:
    assert parse_dates(pd.Series(["2026-11-05T08:15:00"])).values[0] == np.datetime64(
        "2026-11-05T08:15"
    )
    assert parse_dates(pd.Series(["1 ноября 2026", "15 мая 2026"])).values.tolist() == [
        pd.Timestamp("2026-11-01").value,
        pd.Timestamp("2026-05-15").value,
    ]
    assert parse_dates(pd.Series(["Nov 1, 2026"])).values[0] == np.datetime64("2026-11-01")


@given(
    st.lists(
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
        min_size=1,
        max_size=20,
    )
)
def test_dd_mm_yyyy_round_trip(days: list[dt.date]) -> None:
    result = parse_dates(pd.Series([d.strftime("%d.%m.%Y") for d in days]))
    assert not result.bad.any()
    assert [pd.Timestamp(v).date() for v in result.values] == days


def test_durations_and_flags() -> None:
    seconds, bad, blank = parse_durations(pd.Series(["65", "1:05", "0:01:05", "", "x", "30 сек"]))
    assert seconds[[0, 1, 2, 5]].tolist() == [65, 65, 65, 30]
    assert bad.tolist() == [False, False, False, False, True, False]
    assert blank[3]
    flag, bad, _ = parse_flags(pd.Series(["Да", "нет", "Yes", "0", "", "maybe"]))
    assert flag.tolist() == [True, False, True, False, False, False]
    assert bad.tolist() == [False, False, False, False, False, True]


# ------------------------------------------------------------------------------------ grid


def test_grid_finds_the_header_below_report_lines_and_splits_totals(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(
        "Отчёт за ноябрь\n\nДата;Кампания;Расход\n01.11.2026;A;1\n\n02.11.2026;B;2\n"
        "Итого;;3\nОтчёт сформирован 05.11.2026\n".encode("cp1251")
    )
    grid = read_grid(path, _header)
    assert (grid.encoding, grid.delimiter, grid.header_line) == ("cp1251", ";", 3)
    assert grid.frame["Кампания"].tolist() == ["A", "B"]
    assert grid.lines.tolist() == [4, 6]
    assert grid.totals_lines.tolist() == [7]
    assert any("note below the table" in w for w in grid.warnings)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1251", ";"), ("utf-16", "\t")],
)
def test_grid_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    path = tmp_path / "r.csv"
    rows = ["Дата", "Кампания", "Клики"], ["01.11.2026", "Поиск", "5"]
    path.write_bytes("\n".join(delimiter.join(r) for r in rows).encode(encoding))
    grid = read_grid(path, _header)
    assert grid.encoding == encoding and grid.delimiter == delimiter
    assert grid.frame.iloc[0].tolist() == ["01.11.2026", "Поиск", "5"]


def test_quoted_line_breaks_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('Date,Note\n2026-11-01,"two\nlines"\n2026-11-02,x\n', encoding="utf-8")
    grid = read_grid(path, _header)
    assert grid.lines.tolist() == [2, 4]


def test_rows_with_extra_fields_are_kept_in_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("Date,Clicks\n2026-11-01,5\n2026-11-02,6,oops\n", encoding="utf-8")
    grid = read_grid(path, _header)
    assert grid.frame["extra 1"].tolist() == ["", "oops"]


def test_missing_empty_and_unrecognised_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_grid(tmp_path / "nope.csv", _header)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf \n")
    with pytest.raises(InputError, match="empty"):
        read_grid(empty, _header)
    odd = tmp_path / "odd.csv"
    odd.write_text("Foo;Bar;Baz\n1;2;3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"odd\.csv.*'Foo', 'Bar', 'Baz'"):
        read_grid(odd, _header)


# -------------------------------------------------------------------------- maps, options


def test_column_map_aliases_suffixes_and_regexes() -> None:
    cmap = ColumnMap.from_dict(
        "prog",
        {"date": "Day", "campaign": ["Line item", "Campaign"], "spend": "re:spend.*"},
        utm_source="dsp",
    )
    found = cmap.resolve(["DAY ", "Campaign (name)", "Spend, USD", "Clicks"])
    assert found == {"date": "DAY ", "campaign": "Campaign (name)", "spend": "Spend, USD"}
    assert cmap.utm_source == "dsp" and cmap.utm_medium == "cpc"
    assert ColumnMap.from_dict("x", {"date": "d", "campaign": "c", "traffic": "t"}).columns[
        "clicks"
    ] == ("t",)
    with pytest.raises(InputError, match="campaign"):
        ColumnMap.from_dict("bad", {"date": "Day"})
    with pytest.raises(InputError, match="regular expression"):
        ColumnMap.from_dict("bad", {"date": "Day", "campaign": "re:("})


def test_money_factor() -> None:
    options = SourceOptions("yd", rate=2.0, vat=0.2, vat_included=True)
    assert options.money_factor("spend") == pytest.approx(2 / 1.2)
    assert options.money_factor("revenue") == 2.0
    assert options.money_factor("traffic") == 1.0
