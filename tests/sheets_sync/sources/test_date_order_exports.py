"""Issue 17, item 5: a numeric date column's day/month order decided from all its values.

The files are built here from the description: a US export (m/d/yyyy, a day like 11/17 shows
the order), dotted and dashed month-first dates, and a column with both kinds of evidence.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import InputError
from sheets_sync.sources.ad_export import SourceOptions, read_ad_export
from sheets_sync.sources.cell_values import parse_dates

NOVEMBER = [dt.date(2026, 11, 1) + dt.timedelta(days=d) for d in range(17)]


def _google_csv(tmp_path: Path, dates: list[str]) -> Path:
    lines = ["Day,Campaign,Cost,Impr.,Clicks"]
    lines += [f"{d},brand,100.00,1000,10" for d in dates]
    path = tmp_path / "google_us.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", ["/", ".", "-"])
def test_month_first_file_is_read_month_first(tmp_path: Path, sep: str) -> None:
    # 11/1 .. 11/17: 11/13 .. 11/17 can only be month/day, so every row is November
    dates = [f"{d.month}{sep}{d.day}{sep}{d.year}" for d in NOVEMBER]
    result = read_ad_export(_google_csv(tmp_path, dates), SourceOptions("google"))
    assert result.info.date_from == dt.date(2026, 11, 1)
    assert result.info.date_to == dt.date(2026, 11, 17)
    assert len(result.quarantine) == 0
    spend = result.facts[result.facts["metric"] == "spend"]
    assert len(spend) == 17 and spend["value"].sum() == pytest.approx(1700.0)
    assert result.info.date_format.startswith("mm")


def test_both_orders_in_one_column_is_an_error_naming_column_and_lines(tmp_path: Path) -> None:
    # line 2: 17/11/2026 (day first only), line 4: 11/17/2026 (month first only)
    path = _google_csv(tmp_path, ["17/11/2026", "5/11/2026", "11/17/2026"])
    with pytest.raises(InputError) as caught:
        read_ad_export(path, SourceOptions("google"))
    message = str(caught.value)
    assert "google_us.csv" in message and "'Day'" in message
    assert "line 2" in message and "17/11/2026" in message
    assert "line 4" in message and "11/17/2026" in message
    assert "\n" not in message


def test_all_ambiguous_slash_column_takes_the_default_and_warns() -> None:
    parsed = parse_dates(pd.Series(["1/11/2026", "2/11/2026"]), what="Day")
    assert parsed.values[1] == np.datetime64("2026-11-02")
    assert parsed.format == "dd/mm/yyyy"
    assert any("Day" in w and "<= 12" in w for w in parsed.warnings)


def test_dotted_day_first_russian_dates_are_not_warned() -> None:
    parsed = parse_dates(pd.Series(["01.11.2026", "02.11.2026"]))
    assert parsed.format == "dd.mm.yyyy" and parsed.warnings == []


def test_dashed_day_first_keeps_its_year() -> None:
    # "-2026" used to be taken for a UTC offset, leaving "01-11" unreadable
    parsed = parse_dates(pd.Series(["01-11-2026", "17-11-2026"]))
    assert [pd.Timestamp(v).date() for v in parsed.values] == [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 17),
    ]


@given(
    st.lists(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), min_size=1, max_size=30),
    st.sampled_from(["/", ".", "-"]),
    st.booleans(),
)
def test_one_order_per_column_round_trips(days: list[dt.date], sep: str, us: bool) -> None:
    """Invariant: a column written in one order reads back exactly when some value proves the
    order, and as the day-first default (never a mix) when none does."""
    pattern = "{m}{s}{d}{s}{y}" if us else "{d}{s}{m}{s}{y}"
    cells = [pattern.format(d=x.day, m=x.month, y=x.year, s=sep) for x in days]
    parsed = parse_dates(pd.Series(cells))
    assert parsed.conflict is None and not parsed.bad.any()
    proven = any(x.day > 12 for x in days)
    got = [pd.Timestamp(v).date() for v in parsed.values]
    if proven or not us:
        assert got == days
    else:  # ambiguous: every value read day-first, i.e. day and month swapped
        assert got == [dt.date(x.year, x.day, x.month) for x in days]
