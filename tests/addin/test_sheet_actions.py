"""Buttons on a Google Sheet through the function server, all over real HTTP: the server
(uvicorn on localhost) opens the sheet with a service account whose key file points at the
Sheets API double's token endpoint (the JWT is signed and verified), and gspread talks to the
double. Request counts, owned cells only, Sync Facts from the server's sync folder, New Month
returned as a workbook, and the key bound to its sheet."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from demo_cache import run_demo
from live_server import SignedClient, live_server, new_signer
from sheets_double import SheetsDouble, changed_cells
from sheets_double.seeding import seed_from_xlsx, sheet_sync_config
from sheets_double.server import Cell

from addin.cli.main import main
from addin.server.keys import KeyStore
from addin.server.routes.sheet_actions import sheet_lock
from addin.server.settings import Settings
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.cohorts_sheet import CHART_COL as NOTES_COL
from workbook_templates.cohorts_sheet import COHORTS

pytestmark = pytest.mark.slow

SHEET = "1PlanSheetNov2026"
OTHER = "1SomeoneElsesSheet"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo")).workbook


@pytest.fixture(scope="module")
def double() -> Iterator[SheetsDouble]:
    with SheetsDouble() as d:
        d.require_auth = True  # every Sheets call needs a token the double issued
        yield d


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, double: SheetsDouble, demo: Path
) -> Iterator[tuple[str, Path, Path]]:
    """The live server: its keys folder, its sync folder with the sheet's config."""
    root = tmp_path_factory.mktemp("server")
    keys, sync_dir = root / "keys", root / "sync"
    config = sheet_sync_config(demo, SHEET, sync_dir, "sheet-facts.duckdb").read_text()
    (sync_dir / "another.toml").write_text(
        config.replace(f"gsheet:{SHEET}", "gsheet:1AnotherTeamsSheet"), encoding="utf-8"
    )
    settings = Settings(
        keys_dir=keys,
        google_credentials=double.service_account_file(root),
        sheets_api_root=double.url,
        sync_dir=sync_dir,
    )
    with live_server(settings) as url:
        yield url, keys, sync_dir


@pytest.fixture()
def sheet(double: SheetsDouble, demo: Path) -> SheetsDouble:
    """The demo workbook as a Russian-locale Google Sheet, fresh for each test."""
    seed_from_xlsx(double, SHEET, demo, "ru_RU")
    double.reset_log()
    return double


@pytest.fixture()
def client(server: tuple[str, Path, Path]) -> Iterator[SignedClient]:
    url, keys, _ = server
    url_of_sheet = f"https://docs.google.com/spreadsheets/d/{SHEET}/edit"
    c = SignedClient(url, new_signer(keys, "Nov plan", spreadsheet=url_of_sheet))
    yield c
    c.close()


def press(c: SignedClient, action: str, sheet: str = SHEET) -> httpx.Response:
    return c.request("POST", f"/sheets/{sheet}/actions/{action}")


def header_columns(d: SheetsDouble, sheet: str, header_row: int) -> dict[int, str]:
    snap = d.snapshot(SHEET)[sheet]
    return {
        c: str(v[0]) for (r, c), v in snap.items() if r == header_row and v[0] not in (None, "")
    }


# ---------------------------------------------------------------- the buttons


def test_refresh_run_rate_on_a_sheet_is_three_sheets_requests(
    client: SignedClient, sheet: SheetsDouble
) -> None:
    before = sheet.snapshot(SHEET)
    r = press(client, "refresh_runrate")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"].startswith("Run-rate refreshed as of")
    # the token exchange, then metadata, one batchGet, one values:batchUpdate
    sheets_calls = [(m, p) for m, p in sheet.log if p != "/token"]
    assert sheets_calls == [
        ("GET", f"/v4/spreadsheets/{SHEET}"),
        ("GET", f"/v4/spreadsheets/{SHEET}/values:batchGet"),
        ("POST", f"/v4/spreadsheets/{SHEET}/values:batchUpdate"),
    ]
    assert body["requests"] == 3
    plan_headers = header_columns(sheet, L.PLAN, L.PLAN_HEADER_ROW)
    for s, (_, col) in changed_cells(before, sheet.snapshot(SHEET)):
        assert s in (L.PLAN, L.PACE, L.SETTINGS, COHORTS), s
        if s == L.PLAN:
            assert plan_headers[col].endswith(" rr"), plan_headers[col]
        if s == COHORTS:  # only the run-rate notes (lower stages on the cohort forecast)
            assert col == NOTES_COL, col


def test_sync_facts_fills_the_sheet_from_the_sync_folder(
    client: SignedClient, sheet: SheetsDouble, demo: Path
) -> None:
    plan_headers = header_columns(sheet, L.PLAN, L.PLAN_HEADER_ROW)
    fact_cols = [c for c, h in plan_headers.items() if h.endswith(" f")]
    book = sheet.books[SHEET].sheet(L.PLAN)
    blanked = 0
    for (r, c), cell in list(book.cells.items()):
        if c in fact_cols and r > L.PLAN_HEADER_ROW and cell.formula is None:
            book.cells[(r, c)] = Cell()
            blanked += 1
    assert blanked > 20
    before = sheet.snapshot(SHEET)

    r = press(client, "sync_facts")
    assert r.status_code == 200, r.text
    body = r.json()
    filled = r"Sync Facts: (\d+) of \1 plan lines filled \(as of 2026-11-\d\d\)"
    assert re.match(filled, body["message"]), body["message"]
    # metadata, one values:batchGet for every sheet, one values:batchUpdate (the sheets exist)
    assert [(m, p) for m, p in sheet.log if p != "/token"] == [
        ("GET", f"/v4/spreadsheets/{SHEET}"),
        ("GET", f"/v4/spreadsheets/{SHEET}/values:batchGet"),
        ("POST", f"/v4/spreadsheets/{SHEET}/values:batchUpdate"),
    ]
    assert body["requests"] == 3

    # the sheet's facts equal the .xlsx demo's (filled by the same sync from the same files)
    xlsx = XlsxWorkbook(demo).read_table(
        L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,)
    )
    after = sheet.snapshot(SHEET)
    for c in fact_cols:
        header = plan_headers[c]
        want = xlsx.values(header)
        got = [after[L.PLAN].get((xlsx.first_row + i, c), (None,))[0] for i in range(len(want))]
        assert got == pytest.approx(want, abs=0.02), header
    owned_sheets = {L.PLAN, L.PACE, L.SETTINGS, L.DAILY, "Data Quality", "Unmapped", "Mapping"}
    owned_sheets.add(COHORTS)
    for s, (_, col) in changed_cells(before, after):
        assert s in owned_sheets, s
        if s == L.PLAN:
            assert plan_headers[col].endswith((" f", " rr")), plan_headers[col]


def test_optimize_apply_and_undo_split_on_a_sheet(
    client: SignedClient, sheet: SheetsDouble
) -> None:
    start = sheet.snapshot(SHEET)
    r = press(client, "optimize_split")
    assert r.status_code == 200, r.text
    assert "expected at the proposal" in r.json()["message"]
    proposed = sheet.snapshot(SHEET)
    assert {s for s, _ in changed_cells(start, proposed)} <= {
        "Optimize Split",
        "Curves",
        "Split Undo",
    }

    r = press(client, "apply_split")
    assert r.status_code == 200, r.text
    assert r.json()["message"].startswith("Apply Split:")
    applied = sheet.snapshot(SHEET)
    plan_changes = {k for s, k in changed_cells(proposed, applied) if s == L.PLAN}
    assert plan_changes, "Apply Split changes budget cells"

    r = press(client, "undo_split")
    assert r.status_code == 200, r.text
    undone = sheet.snapshot(SHEET)
    assert undone[L.PLAN] == proposed[L.PLAN]  # exactly restored


def test_alerts_on_a_sheet_write_only_the_incidents_block(
    client: SignedClient, sheet: SheetsDouble
) -> None:
    before = sheet.snapshot(SHEET)
    r = press(client, "check_alerts")
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    assert re.match(r"Alerts: \d+ firing as of 2026-11-17", message), message
    assert "still open" in message  # the server's sync config gives the incident log
    after = sheet.snapshot(SHEET)
    changed = changed_cells(before, after)
    assert changed and {s for s, _ in changed} == {"Alerts"}
    assert min(col for _, (_, col) in changed) >= 14  # the rules (A-L) are left as they are
    statuses = {v[0] for (row, col), v in after["Alerts"].items() if col == 14 and row > 4}
    assert "open" in statuses
    # metadata, one batchGet, one batchUpdate
    assert [m for m, p in sheet.log if p != "/token"] == ["GET", "GET", "POST"]


def test_attribution_on_a_sheet_writes_only_its_sheet(
    client: SignedClient, sheet: SheetsDouble
) -> None:
    before = sheet.snapshot(SHEET)
    r = press(client, "attribution")
    assert r.status_code == 200, r.text
    assert r.json()["message"].startswith("Attribution (markov):"), r.json()["message"]
    changed = changed_cells(before, sheet.snapshot(SHEET))
    assert {s for s, _ in changed} <= {"Attribution"}
    assert [m for m, p in sheet.log if p != "/token"] == ["GET", "GET", "POST"]


def test_new_month_returns_next_months_workbook(client: SignedClient, sheet: SheetsDouble) -> None:
    before = sheet.snapshot(SHEET)
    r = press(client, "new_month")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["filename"].endswith("2026-12.xlsx")
    data = base64.b64decode(body["workbook"])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert L.PLAN in wb.sheetnames and L.SETTINGS in wb.sheetnames
    settings = {row[0].value: row[1].value for row in wb[L.SETTINGS].iter_rows() if row[0].value}
    month = settings.get(L.SETTING_MONTH)
    assert isinstance(month, dt.datetime) and (month.year, month.month) == (2026, 12)
    assert sheet.snapshot(SHEET) == before  # the sheet itself is not changed
    assert not any(m == "POST" for m, _ in sheet.log)


# ---------------------------------------------------------------- refusals


def test_a_key_runs_buttons_only_on_its_own_sheet(
    server: tuple[str, Path, Path], sheet: SheetsDouble
) -> None:
    url, keys, _ = server
    unbound = new_signer(keys, "functions only")
    other = new_signer(keys, "other sheet", spreadsheet=OTHER)
    before = sheet.snapshot(SHEET)
    for signer in (unbound, other):
        c = SignedClient(url, signer)
        r = press(c, "refresh_runrate")
        c.close()
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "key_not_for_sheet"
        assert f"--sheet {SHEET}" in r.json()["error"]["message"]
    assert sheet.snapshot(SHEET) == before
    assert sheet.log == []  # refused before Google was called
    anonymous = SignedClient(url, None)
    assert press(anonymous, "refresh_runrate").status_code == 401
    anonymous.close()


def test_unknown_action_and_bad_sheet_id(client: SignedClient, sheet: SheetsDouble) -> None:
    r = press(client, "launch_rockets")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_action"
    r = press(client, "refresh_runrate", sheet="x")
    assert r.status_code == 422


def test_a_sheet_not_shared_with_the_service_account(
    server: tuple[str, Path, Path], sheet: SheetsDouble
) -> None:
    url, keys, _ = server
    c = SignedClient(url, new_signer(keys, "missing sheet", spreadsheet="1NotSharedWithUs"))
    r = press(c, "refresh_runrate", sheet="1NotSharedWithUs")
    c.close()
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "sheet_unavailable"
    assert "funnelplan@test.iam.gserviceaccount.com" in error["message"]


def test_sync_facts_without_a_config_for_the_sheet(
    server: tuple[str, Path, Path], double: SheetsDouble, demo: Path
) -> None:
    url, keys, _ = server
    seed_from_xlsx(double, "1SheetWithoutConfig", demo, "en_US")
    before = double.snapshot("1SheetWithoutConfig")
    c = SignedClient(url, new_signer(keys, "no config", spreadsheet="1SheetWithoutConfig"))
    r = press(c, "sync_facts", sheet="1SheetWithoutConfig")
    c.close()
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert "no sync config" in message and 'workbook = "gsheet:1SheetWithoutConfig"' in message
    assert double.snapshot("1SheetWithoutConfig") == before


def test_refused_credentials_change_nothing(
    tmp_path: Path, double: SheetsDouble, sheet: SheetsDouble
) -> None:
    """A key file whose key Google does not know: a clear error, the sheet as it was."""
    path = double.service_account_file(
        tmp_path, email="stranger@test.iam.gserviceaccount.com", register=False
    )
    before = sheet.snapshot(SHEET)
    with live_server(
        Settings(keys_dir=tmp_path / "keys", google_credentials=path, sheets_api_root=double.url)
    ) as url:
        c = SignedClient(url, new_signer(tmp_path / "keys", "k", spreadsheet=SHEET))
        r = press(c, "refresh_runrate")
        c.close()
    assert r.status_code == 422, r.text
    assert "Google refused the credentials (invalid_grant" in r.json()["error"]["message"]
    assert "BEGIN PRIVATE KEY" not in r.text
    assert sheet.snapshot(SHEET) == before


# ---------------------------------------------------------------- the CLI


def test_cli_sync_into_a_google_sheet(
    tmp_path: Path, double: SheetsDouble, sheet: SheetsDouble, demo: Path, server: Any
) -> None:
    """`funnelplan sync` with a config whose workbook is a Google Sheet URL."""
    _, _, sync_dir = server
    config = (sync_dir / "plan.toml").read_text(encoding="utf-8")
    config = config.replace(
        f'workbook = "gsheet:{SHEET}"',
        f'workbook = "https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0"\n'
        'credentials = "sa.json"',
    ).replace('store = "sheet-facts.duckdb"', 'store = "cli-facts.duckdb"')
    (tmp_path / "sheet.toml").write_text(config, encoding="utf-8")
    key_dir = tmp_path / "key"
    key_dir.mkdir()
    shutil.copy(
        double.service_account_file(key_dir, "cli@test.iam.gserviceaccount.com"),
        tmp_path / "sa.json",
    )
    result = CliRunner().invoke(
        main,
        ["sync", str(tmp_path / "sheet.toml"), "--json"],
        env={"FUNNELPLAN_SHEETS_API_ROOT": double.url},
    )
    assert result.exit_code == 0, result.output
    assert '"lines_filled"' in result.output
    assert ("POST", f"/v4/spreadsheets/{SHEET}/values:batchUpdate") in double.log


def test_keys_create_binds_a_key_to_a_sheet(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0"
    made = runner.invoke(
        main, ["keys", "create", "Nov plan", "--sheet", url, "--keys-dir", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    (key,) = KeyStore(tmp_path).list()
    assert key.spreadsheet == SHEET  # the id, taken from the URL
    listed = runner.invoke(main, ["keys", "list", "--keys-dir", str(tmp_path)])
    assert f"sheet {SHEET}" in listed.output
    bad = runner.invoke(
        main, ["keys", "create", "x", "--sheet", "not a sheet", "--keys-dir", str(tmp_path)]
    )
    assert bad.exit_code != 0 and "is not a Google Sheet" in bad.output
    assert len(KeyStore(tmp_path).list()) == 1


def test_one_button_at_a_time_per_sheet(
    client: SignedClient, sheet: SheetsDouble, server: tuple[str, Path, Path]
) -> None:
    """While a button runs on a sheet (its lock held, as by another worker), a second one gets
    409 and Google is not called; once it is released the button runs."""
    _, keys, _ = server
    before = sheet.snapshot(SHEET)
    with sheet_lock(keys / "locks", SHEET):
        r = press(client, "refresh_runrate")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "busy"
        assert sheet.log == [] and sheet.snapshot(SHEET) == before
    assert press(client, "refresh_runrate").status_code == 200
