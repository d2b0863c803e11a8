"""Issue 16: the readers of the "sheets" sheets take a Russian workbook.

The Russian workbook (`build_plan_workbook` with ``lang="ru"``) shows headers, labels and some
codes in Russian ("channel" as an alert's level becomes "канал", "day" "день"); and a user (or
a post-pass less careful about code columns) may show every catalog word in Russian: here, on
top, every cell of these sheets that is a msgid is translated ("leads" as an objective becomes
"лиды", "pp" as a CRM stage's "counts as" "ПП"). The Alerts, Mapping, Attribution and
Scenarios readers must give back exactly what they read from the English workbook.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from sheets_sync.i18n import translator
from sheets_sync.sources.crm_stages import StageRule
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.alerts_sheet import read_rules as read_alert_rules
from workbook_templates.attribution_sheet import read_attribution_settings
from workbook_templates.mapping_sheet import read_rules, read_stage_rules
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.scenarios_sheet import read_scenarios

RU = translator("ru")
SHEETS = ("Mapping", L.SCENARIOS, "Alerts", "Attribution")


def _spec(lang: str = "en") -> PlanWorkbookSpec:
    lines = pd.DataFrame({"channel": ["Search", "Meta"], "campaign": ["Brand", "Prospecting"]})
    mapping = [
        {
            "data source": "",
            "field": "utm_campaign",
            "match": "exact",
            "pattern": "brand",
            "channel": "Search",
            "campaign": "Brand",
        }
    ]
    stages = (StageRule("", "Встреча", "negotiations"), StageRule("crm", "КП", "pp"))
    return PlanWorkbookSpec(
        month=dt.date(2026, 11, 1), lines=lines, mapping=mapping, crm_stages=stages, lang=lang
    )


def russify(wb: Workbook) -> int:
    """Every string cell of `SHEETS` that is a msgid, in Russian; how many changed."""
    changed = 0
    for name in SHEETS:
        for row in wb[RU(name) if RU(name) in wb.sheetnames else name].iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str) and not v.startswith("=") and RU(v) != v:
                    cell.value = RU(v)
                    changed += 1
    return changed


def _read_all(path: Path) -> dict[str, Any]:
    book = XlsxWorkbook(path)
    scen = read_scenarios(book)
    rules = read_alert_rules(book) or []
    return {
        # a rule's name is the user's text: a name that is a catalog word ("roas") may show
        # translated ("ROAS"); what the rule does must not change
        "alerts": [{**vars(r), "name": ""} for r in rules],
        "alert names": [r.name.lower() for r in rules],
        "mapping": [(r.channel, r.campaign, r.pattern) for r in read_rules(book)],
        "stages": [(r.source, r.stage, r.outcome) for r in read_stage_rules(book)],
        "attribution": read_attribution_settings(book),
        "scenarios": (scen.objective, scen.min_leads, scen.channels),
    }


def test_readers_take_the_russian_texts(tmp_path: Path) -> None:
    en, ru = tmp_path / "en.xlsx", tmp_path / "ru.xlsx"
    save_atomic(build_plan_workbook(_spec()), en)
    real = tmp_path / "ru-real.xlsx"
    save_atomic(build_plan_workbook(_spec("ru")), real)
    wb = build_plan_workbook(_spec("ru"))
    assert russify(wb) > 10
    # the codes really are shown in Russian: an alert's level, a stage's outcome, a header
    alerts, mapping, scenarios = (wb[RU(n)] for n in ("Alerts", "Mapping", L.SCENARIOS))
    assert alerts["E5"].value == "канал"
    assert alerts["B4"].value == "показатель"
    assert {mapping.cell(r, 11).value for r in (2, 3)} == {"переговоры", "ПП"}
    assert scenarios["B5"].value == "лиды"
    save_atomic(wb, ru)

    english, russian, built = _read_all(en), _read_all(ru), _read_all(real)

    assert english["alerts"] and len(english["alerts"]) >= 10
    assert english["stages"] == [("", "Встреча", "negotiations"), ("crm", "КП", "pp")]
    assert english["scenarios"][0] == "leads"
    assert russian == english
    assert built == english


def test_an_alert_switched_off_in_russian(tmp_path: Path) -> None:
    """«нет» in the on column switches a rule off, though another catalog id ("none") is
    also «нет» in Russian."""
    wb = build_plan_workbook(_spec("ru"))
    alerts = wb[RU("Alerts")]
    alerts["L5"], alerts["L6"] = "нет", "да"
    save_atomic(wb, tmp_path / "ru.xlsx")
    rules = read_alert_rules(XlsxWorkbook(tmp_path / "ru.xlsx")) or []
    assert [r.enabled for r in rules[:2]] == [False, True]
