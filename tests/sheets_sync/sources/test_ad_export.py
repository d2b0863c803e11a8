"""Ad-platform exports: the committed messy samples read to hand-worked numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planning.errors import InputError
from sheets_sync.facts import FACT_COLUMNS, QUARANTINE_COLUMNS
from sheets_sync.i18n import translator
from sheets_sync.quality_text import localize_line
from sheets_sync.sources.ad_export import BUILTIN_MAPS, detect_platform, read_ad_export
from sheets_sync.sources.column_map import ColumnMap, SourceOptions
from sheets_sync.sources.inspect_file import detect_kind, inspect, render

DATA = Path(__file__).resolve().parents[2] / "data" / "exports"


def _sum(facts: pd.DataFrame, metric: str, **keys: str) -> float:
    rows = facts[facts["metric"] == metric]
    for key, value in keys.items():
        rows = rows[rows[key].astype(str) == value]
    return float(rows["value"].sum())


def _reconciles(
    info_totals: dict[str, float], *parts: dict[str, float], own: dict[str, float] | None
) -> None:
    assert own is not None
    for metric, value in own.items():
        total = info_totals.get(metric, 0.0) + sum(p.get(metric, 0.0) for p in parts)
        assert total == pytest.approx(value), metric


def test_yandex_direct_cp1251_semicolon_nbsp_vat() -> None:
    result = read_ad_export(
        DATA / "yandex_direct_ru.csv", SourceOptions("yandex", vat=0.2, vat_included=True)
    )
    info = result.info
    assert (info.platform, info.encoding, info.delimiter) == ("yandex_direct", "cp1251", ";")
    assert (info.header_line, info.date_format) == (4, "dd.mm.yyyy")
    assert (info.rows_read, info.rows_ok, info.rows_quarantined, info.duplicates) == (7, 4, 2, 1)
    # accepted spend 2 400 + 1 350,50 + 2 200 + 2 800 (the repeated 03.11 row keeps the last)
    assert info.totals["spend"] == pytest.approx(8750.50 / 1.2)
    assert info.totals["impressions"] == 14100
    assert info.totals["traffic"] == 230
    assert info.totals["platform_leads"] == 9  # "--" is 0
    assert _sum(result.facts, "spend", utm_campaign="Поиск | Бренд") == pytest.approx(
        (2400 + 2200 + 2800) / 1.2
    )
    assert set(result.facts["utm_source"].astype(str)) == {"yandex"}
    assert set(result.facts["utm_medium"].astype(str)) == {"cpc"}
    q = result.quarantine
    assert list(q.columns) == list(QUARANTINE_COLUMNS)
    assert q[["line", "column", "value"]].values.tolist() == [
        [8, "Расход (руб.)", "abc"],
        [10, "Дата", "31.11.2026"],
    ]
    assert q["reason"].tolist() == ["is not a number", "is not a date (expected dd.mm.yyyy)"]
    assert set(q["file"]) == {str(DATA / "yandex_direct_ru.csv")}
    # the file's own Итого row = accepted + quarantined (readable) + duplicates
    assert info.file_totals_row == pytest.approx(
        {"spend": 11750.50 / 1.2, "impressions": 25300, "traffic": 345, "platform_leads": 14}
    )
    _reconciles(
        info.totals, info.quarantined_totals, info.duplicate_totals, own=info.file_totals_row
    )
    assert (info.date_from, info.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 3))
    assert info.latest == dt.datetime(2026, 11, 3, 23, 59, 59)


def test_google_ads_quoted_thousands_negative_spend_and_two_totals_rows() -> None:
    result = read_ad_export(DATA / "google_ads_en.csv", SourceOptions("google"))
    info = result.info
    assert (info.platform, info.header_line, info.date_format) == ("google_ads", 3, "yyyy-mm-dd")
    assert info.totals == pytest.approx(
        {"spend": 4622.0, "impressions": 7400, "traffic": 380, "platform_leads": 15.5}
    )
    assert result.quarantine[["line", "column", "reason"]].values.tolist() == [
        [7, "Cost", "spend is negative"]
    ]
    assert info.duplicates == 1 and info.duplicate_totals["spend"] == 1300
    assert info.file_totals_row == pytest.approx(
        {"spend": 5917.0, "impressions": 9600, "traffic": 491, "platform_leads": 21.5}
    )
    _reconciles(
        info.totals, info.quarantined_totals, info.duplicate_totals, own=info.file_totals_row
    )
    assert _sum(result.facts, "spend", utm_campaign="Search | Brand") == pytest.approx(3634.56)


def test_google_ads_utf16_tab() -> None:
    result = read_ad_export(DATA / "google_ads_utf16.csv", SourceOptions("google"))
    assert (result.info.encoding, result.info.delimiter) == ("utf-16", "\t")
    assert result.info.totals == pytest.approx(
        {"spend": 1500.5, "impressions": 15000, "traffic": 300, "platform_leads": 15}
    )


def test_vk_bom_quoted_decimal_commas_rouble_sign_blank_campaign() -> None:
    result = read_ad_export(DATA / "vk_ads_ru.csv", SourceOptions("vk"))
    info = result.info
    assert (info.platform, info.encoding, info.delimiter) == ("vk_ads", "utf-8-sig", ",")
    assert info.totals == pytest.approx(
        {"spend": 4100.0, "impressions": 86000, "traffic": 495, "platform_leads": 14}
    )
    assert result.quarantine[["line", "reason"]].values.tolist() == [[6, "campaign is blank"]]
    _reconciles(
        info.totals, info.quarantined_totals, info.duplicate_totals, own=info.file_totals_row
    )
    assert set(result.facts["utm_source"].astype(str)) == {"vk"}


def test_meta_us_dates_dollars_at_a_rate() -> None:
    result = read_ad_export(DATA / "meta_ads_en.csv", SourceOptions("meta", rate=90.0))
    info = result.info
    assert (info.platform, info.date_format) == ("meta_ads", "mm/dd/yyyy")
    assert info.totals["spend"] == pytest.approx(1350.0 * 90)
    assert info.totals["traffic"] == 565
    assert (info.date_from, info.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 14))
    assert result.quarantine[["line", "column", "value"]].values.tolist() == [
        [6, "Impressions", "abc"]
    ]
    assert info.file_totals_row is not None
    assert info.file_totals_row["spend"] == pytest.approx(1360.0 * 90)
    day = result.facts[(result.facts["date"] == "2026-11-13") & (result.facts["metric"] == "spend")]
    assert day["value"].tolist() == [pytest.approx(80.25 * 90)]


def test_meta_xlsx_with_report_rows_numbers_and_date_cells(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Meta Ads report"])
    sheet.append(["Reporting period: Nov 1 - Nov 2, 2026"])
    sheet.append(["Day", "Campaign name", "Amount spent (EUR)", "Impressions", "Link clicks"])
    sheet.append([dt.datetime(2026, 11, 1), "Meta | A", 10.5, 1000, 12])
    sheet.append([dt.datetime(2026, 11, 2), "Meta | A", 20.25, 2000, None])
    sheet.append(["not a day", "Meta | A", 1, 1, 1])
    sheet.append(["Total", None, 31.75, 3001, 13])
    path = tmp_path / "meta.xlsx"
    book.save(path)
    result = read_ad_export(path, SourceOptions("meta", rate=100.0))
    info = result.info
    assert (info.platform, info.header_line, info.encoding) == ("meta_ads", 3, "xlsx")
    assert info.totals == pytest.approx({"spend": 3075.0, "impressions": 3000, "traffic": 12})
    assert result.quarantine[["line", "value"]].values.tolist() == [[6, "not a day"]]
    assert info.file_totals_row == pytest.approx(
        {"spend": 3175.0, "impressions": 3001, "traffic": 13}
    )


def test_configured_map_with_ad_groups_sums_per_day_and_campaign(tmp_path: Path) -> None:
    path = tmp_path / "dsp.csv"
    path.write_text(
        "Date;Line item;Ad group;Spend;Clicks\n"
        "01.11.2026;Prog | A;g1;100,00;10\n"
        "01.11.2026;Prog | A;g2;50,00;5\n"
        "01.11.2026;Prog | A;g2;55,00;6\n",
        encoding="utf-8",
    )
    cmap = ColumnMap.from_dict(
        "dsp",
        {
            "date": "Date",
            "campaign": "Line item",
            "group": "Ad group",
            "spend": "Spend",
            "traffic": "Clicks",
        },
        utm_source="programmatic",
    )
    result = read_ad_export(path, SourceOptions("dsp", column_map=cmap))
    assert result.info.duplicates == 1  # g2 repeated: the last row kept
    # the warning names the whole key (g1 and g2 on one day are not duplicates), in Russian too
    (warning,) = [w for w in result.info.warnings if "repeat" in w]
    assert warning == (
        "1 row(s) repeat a date, campaign and ad group already in the file (lines 3); "
        "the last row of each was kept"
    )
    assert localize_line(translator("ru"), warning) == (
        "строк повторяют дату, кампанию и группу объявлений, уже бывшие в файле: 1 (строки 3); "
        "оставлена последняя из каждых"
    )
    facts = result.facts
    # one spend and one traffic row for 01.11 / Prog | A per ad group (the facts' segment,
    # issue 15): g1 100 + 10, g2 55 + 6 (the last of its two rows)
    assert len(facts) == 4
    by_group = facts.groupby(["segment", "metric"], observed=True)["value"].sum().to_dict()
    assert by_group == {
        ("g1", "spend"): 100.0,
        ("g1", "traffic"): 10.0,
        ("g2", "spend"): 55.0,
        ("g2", "traffic"): 6.0,
    }
    assert _sum(facts, "spend") == pytest.approx(155.0)
    assert _sum(facts, "traffic") == 16
    assert set(facts["utm_source"].astype(str)) == {"programmatic"}


def test_blank_spend_is_quarantined_blank_counts_are_zero(tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text(
        "Дата;Кампания;Расход;Клики\n01.11.2026;A;;5\n02.11.2026;A;10;\n", encoding="utf-8"
    )
    result = read_ad_export(path, SourceOptions("y"))
    assert result.quarantine[["line", "reason"]].values.tolist() == [[2, "spend is blank"]]
    assert result.info.totals == {"spend": 10.0, "traffic": 0.0}


def test_fact_frame_shape() -> None:
    facts = read_ad_export(DATA / "vk_ads_ru.csv", SourceOptions("vk")).facts
    assert list(facts.columns) == list(FACT_COLUMNS)
    assert facts["date"].dtype == np.dtype("datetime64[ns]")
    assert facts["value"].dtype == np.float64
    assert set(facts["basis"].astype(str)) == {"event"}
    assert set(facts["source"].astype(str)) == {"vk"}


def test_detect_platform() -> None:
    assert detect_platform(["Day", "Campaign", "Cost", "Impr.", "Clicks"]) == "google_ads"
    assert detect_platform(["Дата", "Кампания", "Расход (руб.)", "Клики"]) == "yandex_direct"
    assert detect_platform(["Day", "Campaign name", "Amount spent (USD)"]) == "meta_ads"
    assert detect_platform(["Дата", "Кампания", "Потрачено"]) == "vk_ads"
    assert detect_platform(["Date", "Campaign", "Cost (RUB)"]) == "yandex_direct"
    assert detect_platform(["Foo", "Bar"]) is None
    assert set(BUILTIN_MAPS) == {"google_ads", "yandex_direct", "meta_ads", "vk_ads"}


def test_input_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_ad_export(tmp_path / "missing.csv", SourceOptions("x"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_ad_export(empty, SourceOptions("x"))
    odd = tmp_path / "odd.csv"
    odd.write_text("Report\nWhen;Where;How much\n1;2;3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"odd\.csv.*'When', 'Where', 'How much'"):
        read_ad_export(odd, SourceOptions("x"))
    with pytest.raises(InputError, match="unknown platform"):
        read_ad_export(DATA / "vk_ads_ru.csv", SourceOptions("x", platform="tiktok"))


def test_inspect_detects_kinds_and_renders() -> None:
    kinds = {p.name: detect_kind(p) for p in sorted(DATA.glob("*.csv"))}
    assert kinds == {
        "calls_en.csv": "calls",
        "calls_ru.csv": "calls",
        "crm_en.csv": "crm",
        "crm_ru.csv": "crm",
        "google_ads_en.csv": "ad",
        "google_ads_utf16.csv": "ad",
        "meta_ads_en.csv": "ad",
        "vk_ads_ru.csv": "ad",
        "yandex_direct_ru.csv": "ad",
    }
    text = render(inspect(DATA / "yandex_direct_ru.csv"))
    for needle in ("yandex_direct", "cp1251", "dd.mm.yyyy", "31.11.2026", "11 750.50", "Расход"):
        assert needle in text


def test_large_file_read_vectorised_with_one_bad_cell(tmp_path: Path) -> None:
    """200,000 rows through the vectorised path (the 1e6-row figure is benchmarked)."""
    n = 200_000
    days = pd.Series(np.datetime64("2026-01-01") + np.arange(n) // 1000).dt.strftime("%d.%m.%Y")
    frame = pd.DataFrame(
        {
            "Дата": days,
            "Кампания": "Кампания " + pd.Series(np.arange(n) % 1000).astype(str),
            "Расход (руб.)": [f"{i % 997},{i % 100:02d}" for i in range(n)],
            "Клики": np.arange(n) % 50,
        }
    )
    frame["Клики"] = frame["Клики"].astype(object)
    frame.loc[150_000, "Клики"] = "abc"  # far down: the C parser typed earlier chunks as ints
    path = tmp_path / "big.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1251")
    result = read_ad_export(path, SourceOptions("y"))
    assert result.info.rows_ok == n - 1
    assert result.quarantine[["line", "value"]].values.tolist() == [[150_002, "abc"]]
    expected = sum((i % 997) + (i % 100) / 100 for i in range(n) if i != 150_000)
    assert result.info.totals["spend"] == pytest.approx(expected)
    assert result.info.totals["traffic"] == sum(i % 50 for i in range(n) if i != 150_000)


def test_quoted_multiline_cell_beside_number_columns(tmp_path: Path) -> None:
    """A quoted line break in a text cell while the number columns are float64 (and one is
    mixed text): the rows below keep their true file lines."""
    path = tmp_path / "google.csv"
    path.write_text(
        "Day,Campaign,Cost,Impr.,Clicks\n"
        '2026-11-01,"Brand\nsearch",10.5,100,5\n'
        "2026-11-02,Generic,20,200,oops\n"
        '2026-11-03,"A\nB\nC",-1,300,7\n'
        "2026-11-04,Display,30,400,9\n",
        encoding="utf-8",
    )
    result = read_ad_export(path, SourceOptions("g"))
    info = result.info
    assert (info.rows_read, info.rows_ok, info.rows_quarantined) == (4, 2, 2)
    assert result.quarantine[["line", "column", "value"]].values.tolist() == [
        [4, "Clicks", "oops"],
        [5, "Cost", "-1"],
    ]
    assert info.totals == {"spend": 40.5, "impressions": 500.0, "traffic": 14.0}
    assert _sum(result.facts, "spend", utm_campaign="Brand\nsearch") == 10.5
    assert _sum(result.facts, "traffic", utm_campaign="Display") == 9
