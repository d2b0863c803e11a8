"""Sync Facts on an amoCRM export with its default stage names: every deal read and the won
budgets on the Plan with no configuration; the Mapping sheet's CRM stages block read by the
sync; a vocabulary that does not know the stages quarantines the deals and flags their money in
the sync's messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from addin.actions.new_month import new_month
from addin.actions.sync_facts import run_sync
from sheets_sync.sources.crm_stages import StageRule
from sheets_sync.sync_config import SyncConfig, parse_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.mapping_sheet import STAGES_COL, read_stage_rules
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

CONFIG = """
workbook = "plan-2026-11.xlsx"
store = "facts.duckdb"

[[sources]]
name = "amo"
kind = "crm"
path = "amocrm_deals.csv"
{extra}

[[mapping]]
field = "utm_campaign"
match = "exact"
pattern = "brand"
channel = "Search"
campaign = "Brand"
"""

HEAD = (
    "ID,Название сделки,Бюджет,Ответственный,Дата создания,Этап сделки,Воронка,Дата закрытия,"
    "utm_source,utm_medium,utm_campaign"
)
DEALS = [
    # id, budget, created, stage, closed
    (1, "0", "01.11.2026 10:00:00", "Первичный контакт", ""),
    (2, "50000", "01.11.2026 11:00:00", "Переговоры", ""),
    (3, "120000", "02.11.2026 09:00:00", "Принимают решение", ""),
    (4, "150000", "02.11.2026 12:00:00", "Успешно реализовано", "04.11.2026 15:00:00"),
    (5, "270500", "03.11.2026 10:00:00", "Успешно реализовано", "05.11.2026 11:00:00"),
    (6, "90000", "03.11.2026 16:00:00", "Закрыто и не реализовано", "04.11.2026 10:00:00"),
    (7, "30000", "04.11.2026 10:00:00", "Замер на объекте", ""),
]
WON = 150000 + 270500  # = 420,500: deals 4 and 5


def _setup(
    tmp_path: Path, extra: str = "", stage_rows: tuple[tuple[str, str], ...] = ()
) -> SyncConfig:
    lines = [HEAD] + [
        f'{i},"Сделка {i}",{budget},Иванова,{created},"{stage}",Воронка,{closed},yandex,cpc,brand'
        for i, budget, created, stage, closed in DEALS
    ]
    (tmp_path / "amocrm_deals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = parse_config(CONFIG.format(extra=extra), base=tmp_path)
    plan = pd.DataFrame({"channel": ["Search"], "campaign": ["Brand"], "leads p": [10.0]})
    book = build_plan_workbook(
        PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=plan, mapping=config.mapping)
    )
    for r, (stage, counts) in enumerate(stage_rows, start=2):
        book["Mapping"].cell(row=r, column=STAGES_COL, value=stage)
        book["Mapping"].cell(row=r, column=STAGES_COL + 1, value=counts)
    save_atomic(book, config.workbook)
    return config


def test_amocrm_defaults_and_a_mapping_sheet_stage_reach_the_plan(tmp_path: Path) -> None:
    config = _setup(tmp_path, stage_rows=(("Замер на объекте", "pp"),))
    result = run_sync(config, now=dt.datetime(2026, 11, 6, 2))
    assert sum(s.quarantined for s in result.quality.sources) == 0
    assert result.filled["leads"] == 7
    assert result.filled["purchases"] == 2
    assert result.filled["revenue"] == WON  # the lost deal's 90,000 is not revenue
    # pp: Переговоры, Принимают решение, the two won, Замер (from the sheet) = 5
    assert result.filled["pp"] == 5
    assert not any("quarantined" in flag for flag in result.quality.flags)
    # the Mapping sheet was only read: its stage row is as written
    book = openpyxl.load_workbook(config.workbook)
    assert book["Mapping"].cell(row=2, column=STAGES_COL).value == "Замер на объекте"


def test_unknown_stages_flag_their_money_in_the_sync_messages(tmp_path: Path) -> None:
    config = _setup(tmp_path, extra='crm = "bitrix24"')  # amoCRM's names not known
    messages: list[str] = []
    result = run_sync(config, now=dt.datetime(2026, 11, 6, 2), notify=messages.append)
    # quarantined: every deal but "Переговоры" (a generic name) -> 6 rows whose budgets are
    # 120000 + 150000 + 270500 + 90000 + 30000 = 660,500 of 660,500 + 0 accepted
    line = "amo: amocrm_deals.csv: 660,500.00 of revenue in 6 quarantined rows (100.0%"
    assert any(line in flag for flag in result.quality.flags)
    assert any(line in message for message in messages)
    assert result.filled.get("revenue", 0.0) == 0.0


def test_new_month_carries_the_crm_stages_block(tmp_path: Path) -> None:
    config = _setup(tmp_path, stage_rows=(("Замер на объекте", "pp"), ("Отказ клиента", "lost")))
    out = tmp_path / "plan-2026-12.xlsx"
    new_month(XlsxWorkbook(config.workbook), out)
    assert read_stage_rules(XlsxWorkbook(out)) == (
        StageRule("", "Замер на объекте", "pp", "Mapping!K2"),
        StageRule("", "Отказ клиента", "lost", "Mapping!K3"),
    )
