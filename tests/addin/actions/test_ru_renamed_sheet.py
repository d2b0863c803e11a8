"""A sheet the user renamed is still found by its role (the `_fp_role_*` defined name)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from addin.actions.base import ActionContext
from addin.registry import dispatch
from sheets_sync.i18n import translator
from sheets_sync.i18n.header_words import localized_header
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

RU = translator("ru")
MONTH = dt.date(2026, 11, 1)


def _book(path: Path) -> Path:
    """One line, 10 days of 1,000 spend and 10 leads a day; a Russian workbook whose Plan
    sheet the user renamed to "Мой план" (Excel keeps the defined name on the sheet)."""
    lines = pd.DataFrame(
        {"channel": ["Search"], "campaign": ["Brand"], "spend p": [30_000], "leads p": [300]}
    )
    daily = pd.DataFrame(
        [
            {
                "date": MONTH.replace(day=d),
                "channel": "Search",
                "campaign": "Brand",
                "spend": 1000.0,
                "leads": 10,
            }
            for d in range(1, 11)
        ]
    )
    spec = PlanWorkbookSpec(month=MONTH, lines=lines, daily=daily, lang="ru")
    wb = build_plan_workbook(spec)
    wb[RU("Plan")].title = "Мой план"
    for name, defined in wb.defined_names.items():  # what Excel does on a rename
        defined.attr_text = defined.attr_text.replace(f"'{RU('Plan')}'!", "'Мой план'!")
        assert name  # every name kept
    return save_atomic(wb, path)


def test_refresh_finds_the_renamed_plan(tmp_path: Path) -> None:
    path = _book(tmp_path / "plan.xlsx")
    book = XlsxWorkbook(path)
    assert "Plan" in book.sheet_names()
    message = dispatch("refresh_runrate", ActionContext.of_file(path))
    assert message.startswith("Прогноз обновлён на 10.11.2026"), message
    raw = openpyxl.load_workbook(path)
    assert RU("Plan") not in raw.sheetnames  # no second Plan added
    ws = raw["Мой план"]
    header = localized_header("leads rr", RU)
    col = next(c.column for c in ws[4] if c.value == header)
    # 10 leads a day over 10 days, 30 days in November: the month's run-rate is 300
    assert ws.cell(row=5, column=col).value == 300
