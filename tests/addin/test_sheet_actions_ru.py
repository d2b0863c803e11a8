"""Buttons on a Russian Google Sheet through the function server (issue 16), over real HTTP.

The Russian demo workbook (`run_demo(lang="ru")`: sheets "План", "По дням", ... and Russian
headers) seeded into the Sheets API double; the server's adapter finds each sheet by its role,
reads the headers back in English, writes only the cells the English run writes (on the same
sheets under their Russian names) and answers in Russian.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from demo_cache import run_demo
from live_server import SignedClient, live_server, new_signer
from sheets_double import SheetsDouble, changed_cells
from sheets_double.seeding import seed_from_xlsx, sheet_sync_config

from addin.server.settings import Settings
from sheets_sync.i18n import translator
from sheets_sync.i18n.header_words import localized_header
from sheets_sync.workbooks.roles import canonical_header

pytestmark = pytest.mark.slow

SHEET = "1RussianPlanNov2026"
RU = translator("ru")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
PLAN_HEADER_ROW = 4


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo-ru"), lang="ru").workbook


@pytest.fixture(scope="module")
def double() -> Iterator[SheetsDouble]:
    with SheetsDouble() as d:
        yield d


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, double: SheetsDouble, demo: Path
) -> Iterator[SignedClient]:
    root = tmp_path_factory.mktemp("server-ru")
    keys, sync_dir = root / "keys", root / "sync"
    sheet_sync_config(demo, SHEET, sync_dir, "sheet-facts.duckdb")
    settings = Settings(
        keys_dir=keys,
        google_credentials=double.service_account_file(root),
        sheets_api_root=double.url,
        sync_dir=sync_dir,
    )
    with live_server(settings) as url:
        sheet_url = f"https://docs.google.com/spreadsheets/d/{SHEET}/edit"
        c = SignedClient(url, new_signer(keys, "Nov plan ru", spreadsheet=sheet_url))
        yield c
        c.close()


@pytest.fixture()
def sheet(double: SheetsDouble, demo: Path) -> SheetsDouble:
    seed_from_xlsx(double, SHEET, demo, "ru_RU")
    double.reset_log()
    return double


def press(c: SignedClient, action: str) -> httpx.Response:
    return c.request("POST", f"/sheets/{SHEET}/actions/{action}")


def plan_headers(d: SheetsDouble) -> dict[int, str]:
    snap = d.snapshot(SHEET)[RU("Plan")]
    return {
        c: str(v[0])
        for (r, c), v in snap.items()
        if r == PLAN_HEADER_ROW and v[0] not in (None, "")
    }


def test_refresh_run_rate_on_a_russian_sheet(client: SignedClient, sheet: SheetsDouble) -> None:
    before = sheet.snapshot(SHEET)
    r = press(client, "refresh_runrate")
    assert r.status_code == 200, r.text
    assert r.json()["message"].startswith("Прогноз обновлён на 17.11.2026"), r.json()["message"]
    headers = plan_headers(sheet)
    rr = RU("{metric} rr", metric="")  # "прогноз" after the metric
    changed = changed_cells(before, sheet.snapshot(SHEET))
    assert changed
    allowed = {RU(role) for role in ("Plan", "Pace", "Settings", "Cohorts")}
    for s, (_, col) in changed:
        assert s in allowed, s
        if s == RU("Plan"):  # only run-rate columns: "<metric> прогноз"
            assert headers[col].endswith(rr.strip()), headers[col]


def test_split_apply_undo_on_a_russian_sheet(client: SignedClient, sheet: SheetsDouble) -> None:
    start = sheet.snapshot(SHEET)
    r = press(client, "optimize_split")
    assert r.status_code == 200, r.text
    proposed = sheet.snapshot(SHEET)
    written = {s for s, _ in changed_cells(start, proposed)}  # the demo optimized already
    assert CYRILLIC.search(r.json()["message"]), r.json()["message"]
    assert written <= {RU("Optimize Split"), RU("Curves"), RU("Split Undo")}, written

    r = press(client, "apply_split")
    assert r.status_code == 200, r.text
    applied = sheet.snapshot(SHEET)
    spend_p = next(
        c for c, h in plan_headers(sheet).items() if h == localized_header("spend p", RU)
    )
    assert canonical_header(plan_headers(sheet)[spend_p]) == "spend p"
    plan_changes = {k for s, k in changed_cells(proposed, applied) if s == RU("Plan")}
    assert any(col == spend_p for _, col in plan_changes), "Apply Split changes budget cells"

    r = press(client, "undo_split")
    assert r.status_code == 200, r.text
    assert CYRILLIC.search(r.json()["message"]), r.json()["message"]
    assert sheet.snapshot(SHEET)[RU("Plan")] == proposed[RU("Plan")]  # exactly restored


def test_sync_facts_on_a_russian_sheet(client: SignedClient, sheet: SheetsDouble) -> None:
    r = press(client, "sync_facts")
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    assert message.startswith("Загрузка фактов: заполнено строк плана — 28 из 28"), message
    names = set(sheet.snapshot(SHEET))
    assert "Plan" not in names and "Data Quality" not in names  # nothing added in English
