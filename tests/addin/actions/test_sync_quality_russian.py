"""Issue 16: Sync Facts on a Russian workbook writes Data Quality in Russian.

The demo's bundled exports (`sheets_sync.samples`) plus one deliberately bad VK export (a spend
that is not a number, a negative spend, an unmapped campaign) are synced into a workbook built
with ``lang="ru"``. Data Quality's titles, headers, flags and quarantine reasons must be Russian;
the report itself (``--json``, the store) keeps its English sentences; the alerts still read
the sheet back.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from addin.actions.sync_facts import SyncResult, run_sync
from planning.funnel import DEFAULT_FUNNEL
from sheets_sync.i18n import translator
from sheets_sync.samples.data import generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.quality_sheet import read_quality_signals

MONTH, AS_OF = dt.date(2026, 11, 1), dt.date(2026, 11, 17)
RU = translator("ru")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
BAD_VK = (
    "\ufeffДата,Кампания,Показы,Клики,Потрачено,Результаты\n"
    "2026-11-05,VK_LAL3,100,10,abc,1\n"  # line 2: spend is not a number
    "2026-11-05,VK_LeadForms_SMB,100,10,-5,1\n"  # line 3: a negative spend
    "2026-11-05,VK_Unknown_Test,100,10,500,0\n"  # mapped by no rule
)


def plan_lines(plan: pd.DataFrame) -> pd.DataFrame:
    """The demo's plan lines (`m p` from the sample plan), as `funnelplan demo` makes them."""
    lines = plan[list(L.KEYS)].copy()
    for m in (m for m in DEFAULT_FUNNEL.metrics if m in plan.columns):
        lines[L.abs_header(m, "p")] = plan[m].to_numpy()
    return lines


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyncResult, list[list[Any]], Path]:
    folder = tmp_path_factory.mktemp("ru-sync")
    sample = generate_sample(MONTH, as_of=AS_OF, seed=7)
    config = load_config(write_sample_config(folder, MONTH))
    write_sample_exports(sample, folder / "exports", seed=7)
    (folder / "exports" / "vk_ads_bad.csv").write_text(BAD_VK, encoding="utf-8")
    spec = PlanWorkbookSpec(
        month=MONTH, lines=plan_lines(sample.plan), as_of=AS_OF, mapping=config.mapping, lang="ru"
    )
    save_atomic(build_plan_workbook(spec), config.workbook)
    result = run_sync(config, now=dt.datetime(2026, 11, 18, 7), as_of=AS_OF)
    ws = openpyxl.load_workbook(config.workbook)[RU(L.DATA_QUALITY)]
    rows = [[c.value for c in row] for row in ws.iter_rows(max_col=L.DQ_WIDTH)]
    return result, rows, config.workbook


def _texts(row: list[Any]) -> list[str]:
    return [v for v in row if isinstance(v, str) and any(ch.isalpha() for ch in v)]


def test_titles_and_headers_are_russian(synced) -> None:  # type: ignore[no-untyped-def]
    _, rows, _ = synced
    assert rows[0][0] == "Качество данных" and rows[0][1] == "синхронизировано"
    titles = [r[0] for r in rows if r[0] is not None and all(v is None for v in r[1:])]
    assert len(titles) >= 5  # sources, reconciliation, leads check, quarantined rows, flags
    assert all(CYRILLIC.search(t) for t in titles), titles
    headers = [r for r in rows if r[0] == "источник"]
    assert len(headers) >= 3  # sources, reconciliation, quarantined rows
    for row in headers:
        assert all(CYRILLIC.search(v) or v in ("CRM",) for v in _texts(row)), row


def test_flags_and_reasons_are_russian(synced) -> None:  # type: ignore[no-untyped-def]
    result, rows, _ = synced
    flags = [r[1] for r in rows if r[0] == "замечание"]
    assert len(flags) == len(result.quality.flags) >= 2
    assert all(isinstance(f, str) and CYRILLIC.search(f) for f in flags), flags
    # the sample's own VK export has one bad row (a spend "1O5.20"), the bad file two
    assert "vk_ads: строк в карантине: 3 (лист «Качество данных»)" in flags
    quarantine = rows.index(next(r for r in rows if str(r[0]).startswith("Строки в карантине")))
    bad = {r[2]: r[5] for r in rows[quarantine + 2 :] if r[1] == "vk_ads_bad.csv"}
    assert bad == {2: "не число", 3: "расход: отрицательное значение"}
    reasons = [r[5] for r in rows[quarantine + 2 :] if r[0] != "замечание" and r[5]]
    assert reasons and all(CYRILLIC.search(r) for r in reasons), reasons
    # the report (what --json prints and the store keeps) stays English
    assert "vk_ads: 3 rows quarantined (Data Quality sheet)" in result.quality.flags


def test_the_alerts_read_the_russian_sheet_back(synced) -> None:  # type: ignore[no-untyped-def]
    _, _, workbook = synced
    signals = read_quality_signals(XlsxWorkbook(workbook))
    assert signals.synced == dt.datetime(2026, 11, 18, 7)
    assert {name for name, _, _ in signals.sources} >= {"vk_ads", "google_ads", "crm"}
    assert signals.leads_check  # the CRM vs platform check, read under its Russian header
