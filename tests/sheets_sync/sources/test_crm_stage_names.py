"""CRM stage vocabularies: amoCRM's and Bitrix24's default pipelines read with no configuration,
custom names from sync.toml and the Mapping sheet, lost deals, unknown stages quarantined with a
hint, and the money of quarantined rows counted.

The exports are built here from the CRMs' documented defaults: amoCRM's deals export (ID,
Название сделки, Бюджет, Дата создания, Этап сделки, Воронка, Дата закрытия, utm_*; UTF-8, comma)
and Bitrix24's (ID, Название, Стадия сделки, Сумма, Валюта, Дата создания, UTM Source …; cp1251,
semicolon, decimal comma)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from planning.errors import InputError
from sheets_sync.facts import FileInfo, ReadResult
from sheets_sync.quality import (
    ReportFacts,
    ReportTerms,
    SourceRead,
    build_report,
    quarantined_money,
)
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.crm_export import read_crm_export
from sheets_sync.sources.crm_stages import AMOCRM, BITRIX24, StageRule, vocabulary
from sheets_sync.sync_config import parse_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.mapping_sheet import STAGES_COL, read_stage_rules, write_mapping_template

# amoCRM: (stage, budget, closed); 12 deals
AMO_ROWS = [
    ("Первичный контакт", "0", ""),
    ("Первичный контакт", "", ""),
    ("Переговоры", "50000", ""),
    ("Принимают решение", "120000", ""),
    ("Принимают решение", "80000", ""),
    ("Успешно реализовано", "150000", "05.11.2026 12:00:00"),
    ("Успешно реализовано", "270500", "06.11.2026 09:30:00"),
    ("Успешно реализовано", "1000000", "07.11.2026 18:45:00"),
    ("Закрыто и не реализовано", "90000", "04.11.2026 10:00:00"),
    ("Закрыто и не реализовано", "300000", "05.11.2026 10:00:00"),
    ("Неразобранное", "", ""),
    ("Закрыто и не реализовано", "", "06.11.2026 10:00:00"),
]
AMO_WON = 150000 + 270500 + 1000000  # = 1,420,500: the three "Успешно реализовано" budgets


def _amo_csv(path: Path, rows: list[tuple[str, str, str]] = AMO_ROWS) -> Path:
    head = (
        "ID,Название сделки,Бюджет,Ответственный,Дата создания,Этап сделки,Воронка,"
        "Дата закрытия,utm_source,utm_medium,utm_campaign"
    )
    lines = [head]
    for i, (stage, budget, closed) in enumerate(rows):
        created = f"0{1 + i % 3}.11.2026 1{i % 10}:00:00"
        source = ("yandex", "google", "vk")[i % 3]
        lines.append(
            f'{9001 + i},"Сделка #{9001 + i}",{budget},Иванова,{created},"{stage}",Воронка,'
            f"{closed},{source},cpc,brand"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Bitrix24: (stage, amount) in its cp1251 export with a decimal comma; 11 deals
BITRIX_ROWS = [
    ("Новая сделка", "0,00"),
    ("Новая", "0,00"),
    ("Подготовка документов", "15 000,00"),
    ("Счёт на предоплату", "40 000,00"),
    ("Счет на предоплату", "25 000,00"),
    ("В работе", "60 000,00"),
    ("Финальный счёт", "75 000,00"),
    ("Сделка успешна", "120 000,50"),
    ("Успешно", "9 999,50"),
    ("Сделка провалена", "33 000,00"),
    ("Анализ причины провала", "10 000,00"),
]
BITRIX_WON = 120000.50 + 9999.50  # = 130,000.00: "Сделка успешна" + "Успешно"


def _bitrix_csv(path: Path, rows: list[tuple[str, str]] = BITRIX_ROWS) -> Path:
    lines = ["ID;Название;Стадия сделки;Сумма;Валюта;Дата создания;UTM Source;UTM Medium"]
    for i, (stage, amount) in enumerate(rows):
        lines.append(
            f"{501 + i};Заказ {501 + i};{stage};{amount};RUB;1{i % 9}.11.2026 10:00:00;"
            f"{('yandex', 'vk')[i % 2]};cpc"
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    return path


def _total(result_facts: pd.DataFrame, metric: str, basis: str = "event") -> float:
    chosen = result_facts[(result_facts["metric"] == metric) & (result_facts["basis"] == basis)]
    return float(chosen["value"].sum())


def test_amocrm_default_pipeline_reads_with_no_configuration(tmp_path: Path) -> None:
    path = _amo_csv(tmp_path / "amocrm_deals.csv")
    # before: only the generic names (what the reader knew), most deals quarantined
    before = read_crm_export(path, SourceOptions("amo", stages=vocabulary("none")))
    assert before.info.rows_quarantined == 11  # all but the one "Переговоры"
    assert before.info.totals.get("revenue", 0.0) == 0.0
    # the quarantined rows' budgets: every positive Бюджет but the Переговоры row's 50,000
    # 120000 + 80000 + 150000 + 270500 + 1000000 + 90000 + 300000 = 2,010,500
    assert before.info.quarantined_totals["revenue"] == 2_010_500.0

    result = read_crm_export(path, SourceOptions("amo"))
    info = result.info
    assert (info.rows_read, info.rows_ok, info.rows_quarantined) == (12, 12, 0)
    assert info.totals["leads"] == 12
    assert info.totals["pp"] == 6  # reaching negotiations implies pp: 3 + 3 won
    assert info.totals["negotiations"] == 6  # Переговоры 1 + Принимают решение 2 + won 3
    assert info.totals["purchases"] == 3
    assert info.totals["revenue"] == AMO_WON  # lost budgets (390,000) are not revenue
    assert _total(result.facts, "revenue") == AMO_WON
    assert _total(result.facts, "revenue", "cohort") == AMO_WON
    assert "revenue" not in info.quarantined_totals
    # won deals dated by Дата закрытия (no purchase date column)
    won = result.facts[(result.facts["metric"] == "purchases") & (result.facts["basis"] == "event")]
    assert sorted(won["date"].dt.day.tolist()) == [5, 6, 7]
    # the deals table: a lost deal reached no stage below leads, a won one all of them
    deals = result.deals.set_index("id")
    assert bool(deals.loc["9009", ["pp", "negotiations", "purchases"]].isna().all())
    assert deals.loc["9008", "purchases"] == pd.Timestamp("2026-11-07")
    assert float(deals["revenue"].sum()) == AMO_WON


def test_bitrix24_default_stages_cp1251_decimal_comma(tmp_path: Path) -> None:
    path = _bitrix_csv(tmp_path / "bitrix_deals.csv")
    before = read_crm_export(path, SourceOptions("b24", stages=vocabulary("none")))
    assert before.info.rows_quarantined == 10  # only "Новая" was known
    result = read_crm_export(path, SourceOptions("b24", rate=1.0))
    info = result.info
    assert (info.rows_ok, info.rows_quarantined) == (11, 0)
    assert info.totals["leads"] == 11
    # pp: Подготовка документов + 4 negotiations stages + 2 won = 7
    assert info.totals["pp"] == 7
    assert info.totals["negotiations"] == 6  # Счёт x2, В работе, Финальный счёт, won x2
    assert info.totals["purchases"] == 2
    assert info.totals["revenue"] == pytest.approx(BITRIX_WON, abs=1e-9)
    assert set(result.facts["utm_source"].astype(str)) == {"yandex", "vk"}  # "UTM Source"


def test_preset_keeps_its_own_crm_names(tmp_path: Path) -> None:
    amo = _amo_csv(tmp_path / "amo.csv")
    assert read_crm_export(amo, SourceOptions("a", stages=vocabulary("amocrm"))).info.rows_ok == 12
    only_bitrix = read_crm_export(amo, SourceOptions("a", stages=vocabulary("bitrix24")))
    assert only_bitrix.info.rows_quarantined == 11


def test_lost_deal_counts_as_lead_plus_its_dated_stages(tmp_path: Path) -> None:
    path = tmp_path / "lost.csv"
    path.write_text(
        "ID,Created,Stage,PP date,Purchase date,Amount\n"
        "1,2026-11-01,Закрыто и не реализовано,2026-11-02,,5000\n"
        "2,2026-11-01,Закрыто и не реализовано,,,7000\n"
        "3,2026-11-01,Закрыто и не реализовано,2026-11-02,2026-11-04,9000\n",
        encoding="utf-8",
    )
    info = read_crm_export(path, SourceOptions("crm")).info
    # 3 leads; pp: 1 (dated) and 3 (dated, capped at negotiations); negotiations: 3 only
    assert (info.totals["leads"], info.totals["pp"], info.totals["negotiations"]) == (3, 2, 1)
    assert info.totals["purchases"] == 0 and info.totals["revenue"] == 0
    assert any("lost deal(s) with a purchase date" in w for w in info.warnings)


def test_unknown_stage_quarantined_naming_line_column_value_and_key(tmp_path: Path) -> None:
    rows = [*AMO_ROWS[:3], ("Замер на объекте", "70000", "")]
    result = read_crm_export(_amo_csv(tmp_path / "amo.csv", rows), SourceOptions("amo"))
    q = result.quarantine
    assert q[["line", "column", "value"]].values.tolist() == [
        [5, "Этап сделки", "Замер на объекте"]
    ]
    reason = q["reason"].iloc[0]
    assert "unknown stage" in reason and "`stages` of source `amo`" in reason
    assert "Mapping sheet" in reason
    assert result.info.quarantined_totals["revenue"] == 70000.0
    warning = next(w for w in result.info.warnings if "unknown stage" in w)
    assert "'Замер на объекте' in 1 row(s) (column Этап сделки, first at line 5)" in warning
    assert "\n" not in warning


def _toml(extra: str) -> str:
    return (
        'workbook = "plan.xlsx"\n[[sources]]\nname = "amo"\nkind = "crm"\npath = "amo.csv"\n'
        + extra
    )


def test_custom_vocabulary_from_sync_toml(tmp_path: Path) -> None:
    rows = [*AMO_ROWS, ("Замер на объекте", "70000", ""), ("Договор подписан", "45000", "")]
    path = _amo_csv(tmp_path / "amo.csv", rows)
    config = parse_config(
        _toml('stages = { "Замер на объекте" = "pp", "Договор подписан" = "won" }\n'),
        base=tmp_path,
    )
    src = config.source("amo")
    assert src.stages == (("Замер на объекте", "pp"), ("Договор подписан", "won"))
    info = read_crm_export(path, src.options()).info
    assert info.rows_quarantined == 0
    assert info.totals["purchases"] == 4
    assert info.totals["revenue"] == AMO_WON + 45000  # = 1,465,500
    assert info.totals["pp"] == 6 + 1 + 1  # the Замер deal and the new won one


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('stages = { "Замер" = "measured" }\n', "`sources[0].stages.\"Замер\"`: value 'measured'"),
        ('crm = "salesforce"\n', "`sources[0].crm`: value 'salesforce' is not one of"),
        ('stages = "Замер"\n', "`sources[0].stages`: must be a table"),
    ],
)
def test_stage_config_errors_name_the_key(extra: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"sync\.toml") as error:
        parse_config(_toml(extra), base=tmp_path, origin="sync.toml")
    assert message in str(error.value)


def test_stages_only_for_crm_sources(tmp_path: Path) -> None:
    text = (
        'workbook = "p.xlsx"\n[[sources]]\nname = "ya"\nkind = "ad"\npath = "a.csv"\n'
        'crm = "amocrm"\n'
    )
    with pytest.raises(InputError, match=r"`sources\[0\].crm`: is only for a crm or gsheet"):
        parse_config(text, base=tmp_path)


def _book_with_stage_rows(tmp_path: Path, rows: list[tuple[str, str, str]]) -> XlsxWorkbook:
    wb = Workbook()
    write_mapping_template(wb)
    ws = wb["Mapping"]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            ws.cell(row=r, column=STAGES_COL + c, value=value)
    wb.save(tmp_path / "book.xlsx")
    return XlsxWorkbook(tmp_path / "book.xlsx")


def test_custom_vocabulary_from_the_mapping_sheet_overrides_toml(tmp_path: Path) -> None:
    rows = [*AMO_ROWS, ("Замер на объекте", "70000", "")]
    path = _amo_csv(tmp_path / "amo.csv", rows)
    book = _book_with_stage_rows(
        tmp_path,
        [
            ("Замер на объекте", "negotiations", ""),
            ("", "", ""),  # a blank row in between is skipped
            ("Принимают решение", "won", "amo"),  # this source only
            ("Переговоры", "lost", "other"),  # another source: not for amo
        ],
    )
    rules = read_stage_rules(book)
    assert rules[0] == StageRule("", "Замер на объекте", "negotiations", "Mapping!K2")
    assert len(rules) == 3
    config = parse_config(_toml('stages = { "Замер на объекте" = "pp" }\n'), base=tmp_path)
    src = config.with_sheet_stages(rules).source("amo")
    info = read_crm_export(path, src.options()).info
    assert info.rows_quarantined == 0
    # Принимают решение (120,000 + 80,000) now won; Замер counts as negotiations (sheet wins)
    assert info.totals["purchases"] == 5
    assert info.totals["revenue"] == AMO_WON + 200000
    assert info.totals["negotiations"] == 1 + 5 + 1  # Переговоры, the won five, Замер


def test_mapping_sheet_stage_row_errors_name_the_cell(tmp_path: Path) -> None:
    book = _book_with_stage_rows(tmp_path, [("Замер", "measured", "")])
    with pytest.raises(InputError, match=r"Mapping!K2: stage 'Замер' counts as 'measured'"):
        read_stage_rules(book)


def test_workbook_without_the_block_has_no_stage_rows(tmp_path: Path) -> None:
    wb = Workbook()
    wb.create_sheet("Mapping")
    wb.save(tmp_path / "old.xlsx")
    assert read_stage_rules(XlsxWorkbook(tmp_path / "old.xlsx")) == ()


_DEFAULT_NAMES = sorted({*AMOCRM, *BITRIX24})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(_DEFAULT_NAMES), st.integers(min_value=0, max_value=10**7)),
        min_size=1,
        max_size=30,
    )
)
def test_default_names_never_quarantined_and_revenue_is_won_amounts(
    tmp_path: Path, deals: list[tuple[str, int]]
) -> None:
    path = _amo_csv(tmp_path / "p.csv", [(stage, str(amount), "") for stage, amount in deals])
    info = read_crm_export(path, SourceOptions("p")).info
    names = vocabulary()
    won = [amount for stage, amount in deals if names.outcome(stage) == "won"]
    assert info.rows_quarantined == 0 and info.rows_ok == len(deals)
    assert info.totals["leads"] == len(deals)
    assert info.totals["purchases"] == len(won)
    assert info.totals.get("revenue", 0.0) == float(sum(won))
    assert info.totals["leads"] >= info.totals["pp"] >= info.totals["negotiations"]
    assert info.totals["negotiations"] >= info.totals["purchases"]


def test_amounts_scaled_by_rate_in_quarantine_too(tmp_path: Path) -> None:
    rows = [("Успешно реализовано", "100", "05.11.2026 12:00:00"), ("Непонятно", "40", "")]
    result = read_crm_export(_amo_csv(tmp_path / "a.csv", rows), SourceOptions("a", rate=90.0))
    assert result.info.totals["revenue"] == 9000.0  # 100 x 90
    assert result.info.quarantined_totals["revenue"] == 3600.0  # 40 x 90
    assert result.info.date_to == dt.date(2026, 11, 5)


def test_quarantined_money_shown_per_file_and_flagged_over_the_share(tmp_path: Path) -> None:
    path = _amo_csv(tmp_path / "amocrm_deals.csv")
    before = read_crm_export(path, SourceOptions("amo", stages=vocabulary("none")))
    read = SourceRead("amo", "crm", str(path), before, "h")
    # quarantined 2,010,500 of the file's 2,010,500 + 0 accepted revenue: 100 %
    assert quarantined_money(read) == [
        (
            "amo: amocrm_deals.csv: 2,010,500.00 of revenue in 11 quarantined rows "
            "(100.0% of the file's revenue)",
            True,
        )
    ]
    report = build_report(
        ReportFacts([read], {"amo": "crm"}, _EMPTY, _EMPTY, _EMPTY_WINDOW),
        ReportTerms(dt.datetime(2026, 11, 8), dt.date(2026, 11, 1), dt.date(2026, 11, 7)),
    )
    assert any("2,010,500.00 of revenue in 11 quarantined rows" in f for f in report.flags)
    after = read_crm_export(path, SourceOptions("amo"))
    assert quarantined_money(SourceRead("amo", "crm", str(path), after, "h")) == []


def test_small_quarantined_money_listed_not_flagged(tmp_path: Path) -> None:
    # one unknown stage of 1,000 beside 1,420,500 won: 1000 / 1,421,500 = 0.07 % < 1 %
    rows = [*AMO_ROWS, ("Непонятно", "1000", "")]
    path = _amo_csv(tmp_path / "amo.csv", rows)
    read = SourceRead("amo", "crm", str(path), read_crm_export(path, SourceOptions("amo")), "h")
    [(line, over)] = quarantined_money(read)
    assert not over and "1,000.00 of revenue in 1 quarantined row (0.1% of" in line
    report = build_report(
        ReportFacts([read], {"amo": "crm"}, _EMPTY, _EMPTY, _EMPTY_WINDOW),
        ReportTerms(dt.datetime(2026, 11, 8), dt.date(2026, 11, 1), dt.date(2026, 11, 7)),
    )
    assert line in report.sources[0].warnings
    assert not any("of revenue in" in f for f in report.flags)


_EMPTY = pd.DataFrame(columns=["source", "metric", "value", "status"])
_EMPTY_WINDOW = pd.DataFrame(
    columns=["source", "metric", "value", "rule", "channel", "status", "date"]
)


def test_quarantined_spend_of_an_ad_file(tmp_path: Path) -> None:
    path = tmp_path / "direct.csv"  # as the ad reader tallies it: 900 accepted, 100 quarantined
    info = FileInfo(str(path), "direct", "ad", rows_read=3, rows_ok=2, rows_quarantined=1)
    info.totals, info.quarantined_totals = {"spend": 900.0}, {"spend": 100.0}
    read = SourceRead("direct", "ad", str(path), ReadResult(_EMPTY, _EMPTY, info), "h")
    # 100 / (900 + 100) = 10 % > 1 %: a flag
    line = "direct: direct.csv: 100.00 of spend in 1 quarantined row (10.0% of the file's spend)"
    assert quarantined_money(read) == [(line, True)]
    info.quarantined_totals = {"spend": 5.0}  # 5 / 905 = 0.55 %: listed only
    assert quarantined_money(read)[0][1] is False
