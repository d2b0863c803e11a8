"""The Google Sheets adapter, with gspread (unmodified) talking HTTP to a local Sheets API v4
double (tests/sheets_double): request counts, retries, quota, atomic saves, owned cells only,
and Refresh Run-Rate on a Google Sheet seeded from the demo workbook."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_cache import run_demo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sheets_double import Fault, SheetsDouble, changed_cells, gspread_client
from sheets_double.seeding import seed_from_xlsx

from addin.actions.refresh_runrate import refresh
from sheets_sync.facts import METRICS
from sheets_sync.google_http import RateLimiter, SheetsApiError
from sheets_sync.workbooks.google_sheets import GoogleSheetsWorkbook
from sheets_sync.workbooks.interface import WorkbookError
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import cohorts_sheet
from workbook_templates import layout as L

BATCH_UPDATE = "/values:batchUpdate"
BATCH_GET = "/values:batchGet"
_ids = itertools.count()


@pytest.fixture()
def double() -> Iterator[SheetsDouble]:
    with SheetsDouble() as d:
        yield d


def open_book(d: SheetsDouble, sid: str, **kwargs: Any) -> GoogleSheetsWorkbook:
    """The adapter over the double; no real sleeping, a roomy client-side limiter."""
    kwargs.setdefault("sleep", lambda s: None)
    kwargs.setdefault("write_limiter", RateLimiter(1000))
    kwargs.setdefault("read_limiter", RateLimiter(1000))
    return GoogleSheetsWorkbook(sid, client=gspread_client(d.url), **kwargs)


def seed_plan(d: SheetsDouble, sid: str = "plan", locale: str = "en_US") -> None:
    d.add_book(sid, "Funnel plan", locale)
    d.seed(
        sid,
        "Plan data",
        [
            ["channel", "campaign", "spend", "leads", "note"],
            ["yandex", "brand", 1000.5, 10, "keep"],
            ["vk", "retarget", 250, 4, "=C3*2"],
            ["Total", None, "=SUM(C2:C3)", "=SUM(D2:D3)", None],
            [None, None, None, None, None, "outside"],
        ],
    )
    d.seed(sid, "Settings", [["setting", "value"], ["month", dt.date(2026, 11, 1)]])


def test_round_trip_and_request_counts(double: SheetsDouble) -> None:
    seed_plan(double)
    before = double.snapshot("plan")
    wb = open_book(double, "plan")
    assert wb.name == "Funnel plan"
    assert wb.sheet_names() == ["Plan data", "Settings"]
    table = wb.read_table("Plan data", stop_labels=("total",))
    settings_table = wb.read_table("Settings")
    assert table.headers == ["channel", "campaign", "spend", "leads", "note"]
    assert table.values("spend") == [1000.5, 250]
    assert settings_table.values("value") == [dt.date(2026, 11, 1)]
    assert double.count("GET", BATCH_GET) == 1  # both tables from one batchGet
    wb.write_block("Plan data", 2, table.column("leads"), [[11], [5.25]])
    wb.write_block("Settings", 2, 2, [[dt.date(2026, 12, 1)]])
    assert wb.read_table("Plan data", stop_labels=("total",)).values("leads") == [11, 5.25]
    double.reset_log()
    wb.save()
    assert double.log == [("POST", "/v4/spreadsheets/plan" + BATCH_UPDATE)]
    ((_, body),) = double.bodies
    assert body["valueInputOption"] == "USER_ENTERED"
    assert [r["range"] for r in body["data"]] == ["'Plan data'!D2:D3", "'Settings'!B2:B2"]
    after = double.snapshot("plan")
    changed = changed_cells(before, after)
    assert changed == {("Plan data", (2, 4)), ("Plan data", (3, 4)), ("Settings", (2, 2))}
    again = open_book(double, "plan")
    assert again.read_table("Plan data", stop_labels=("total",)).values("leads") == [11, 5.25]
    assert again.read_table("Settings").values("value") == [dt.date(2026, 12, 1)]


def test_types_written_as_typed(double: SheetsDouble) -> None:
    seed_plan(double, locale="ru_RU")
    wb = open_book(double, "plan")
    values = [["1,5", "007", "=B2*2", None, True, dt.datetime(2026, 11, 3, 9, 30), 2.5]]
    wb.write_block("Plan data", 2, 1, values)
    wb.save()
    cells = [double.cell("plan", "Plan data", 2, c) for c in range(1, 8)]
    assert [c.value for c in cells[:2]] == ["1,5", "007"]  # text stays text
    assert cells[2].formula == "=B2*2"
    assert cells[3].value is None and cells[3].formula is None  # None clears
    assert cells[4].value is True and cells[6].value == 2.5
    assert cells[5].kind == "DATE_TIME"
    back = open_book(double, "plan").read_cells("Plan data", 2, 1, 1, 7)
    assert back == [["1,5", "007", "=B2*2", None, True, dt.datetime(2026, 11, 3, 9, 30), 2.5]]
    with pytest.raises(WorkbookError, match="finite"):
        wb.write_block("Plan data", 9, 1, [[math.nan]])
    with pytest.raises(WorkbookError, match="no sheet"):
        wb.write_block("Nope", 1, 1, [[1]])


def test_russian_locale_number_stays_a_float(double: SheetsDouble) -> None:
    double.add_book("ru", "План", "ru_RU")
    double.seed("ru", "Факт", [["канал", "CR"], ["yandex", 1.5], ["vk", 0.25]])
    client = gspread_client(double.url)
    shown = client.open_by_key("ru").values_batch_get(["'Факт'!B2:B3"])["valueRanges"][0]
    assert shown["values"] == [["1,5"], ["0,25"]]  # what a Russian user sees
    table = open_book(double, "ru").read_table("Факт")
    assert table.values("CR") == [1.5, 0.25]
    assert all(isinstance(v, float) for v in table.values("CR"))


def test_read_cells_gives_formulas(double: SheetsDouble) -> None:
    seed_plan(double)
    wb = open_book(double, "plan")
    assert wb.read_cells("Plan data", 3, 5, 2, 1) == [["=C3*2"], [None]]
    assert wb.read_cells("Plan data", 4, 3, 1, 2) == [["=SUM(C2:C3)", "=SUM(D2:D3)"]]


def test_read_cells_as_values_needs_no_second_read(double: SheetsDouble) -> None:
    seed_plan(double)
    wb = open_book(double, "plan")
    double.reset_log()
    assert wb.read_cells("Plan data", 2, 1, 2, 4, formulas=False) == [
        ["yandex", "brand", 1000.5, 10],
        ["vk", "retarget", 250, 4],
    ]
    assert wb.read_table("Plan data").rows[0][:2] == ["yandex", "brand"]
    assert double.count("GET", BATCH_GET) == 1  # values only: one batchGet for both reads
    assert wb.read_cells("Plan data", 3, 5, 1, 1) == [["=C3*2"]]
    assert double.count("GET", BATCH_GET) == 2  # the formulas need their own


@pytest.mark.parametrize(
    "fault",
    [Fault(status=429, method="POST"), Fault(status=500, method="POST"), Fault(status=503)],
    ids=["429", "500", "503"],
)
def test_retries_then_succeeds(double: SheetsDouble, fault: Fault) -> None:
    seed_plan(double)
    sleeps: list[float] = []
    wb = open_book(double, "plan", sleep=sleeps.append, backoff=0.5)
    wb.read_table("Plan data")
    wb.write_block("Plan data", 2, 4, [[42]])
    double.reset_log()
    double.inject(fault, count=2)
    wb.save()
    assert double.count("POST", BATCH_UPDATE) == 3  # two refused, the third applied
    assert double.cell("plan", "Plan data", 2, 4).value == 42
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter


def test_retries_a_timeout(double: SheetsDouble) -> None:
    seed_plan(double)
    wb = open_book(double, "plan", timeout=0.3)
    double.inject(Fault(delay=1.0, method="GET"))
    assert wb.read_table("Plan data", stop_labels=("total",)).values("leads") == [10, 4]
    assert double.count("GET", BATCH_GET) == 2  # the slow one and its retry


def test_constant_429_gives_up_and_leaves_the_sheet(double: SheetsDouble) -> None:
    seed_plan(double)
    before = double.snapshot("plan")
    wb = open_book(double, "plan")
    wb.write_block("Plan data", 2, 3, [[1], [2]])
    wb.add_sheet("Undo", hidden=True)
    wb.write_block("Undo", 1, 1, [["snapshot"]])
    double.reset_log()
    double.inject(Fault(status=429, method="POST"), count=1000)
    with pytest.raises(SheetsApiError, match=r"after 5 tries .*429 RESOURCE_EXHAUSTED"):
        wb.save()
    assert double.count("POST") == 5  # the addSheet call, 5 tries, then nothing else
    assert double.snapshot("plan") == before
    double.clear_faults()
    wb.save()  # still staged: a later save goes through
    assert double.cell("plan", "Plan data", 3, 3).value == 2
    assert double.cell("plan", "Undo", 1, 1).value == "snapshot"


def test_failed_values_write_removes_the_added_sheet(double: SheetsDouble) -> None:
    seed_plan(double)
    wb = open_book(double, "plan", max_tries=2)
    wb.add_sheet("Undo", hidden=True)
    wb.write_block("Undo", 1, 1, [["x"]])
    wb.write_block("Plan data", 2, 1, [["changed"]])
    double.inject(Fault(status=500, method="POST"), count=1)  # batchUpdate addSheet: retried
    double.reset_log()
    original = double.handle

    def failing(method: str, path: str, query: Any, body: Any) -> Any:
        if path.endswith(BATCH_UPDATE):
            from sheets_double.server import ApiError

            raise ApiError(400, "Invalid value at 'data[1].values'", "INVALID_ARGUMENT")
        return original(method, path, query, body)

    double.handle = failing  # type: ignore[method-assign]
    with pytest.raises(SheetsApiError, match="refused"):
        wb.save()
    double.handle = original  # type: ignore[method-assign]
    assert [s.title for s in double.books["plan"].sheets] == ["Plan data", "Settings"]
    assert double.cell("plan", "Plan data", 2, 1).value == "yandex"


def test_server_quota_and_client_rate_limit(double: SheetsDouble) -> None:
    double.writes_per_minute = 3
    seed_plan(double)
    wb = open_book(double, "plan", max_tries=2)
    for i in range(3):
        wb.write_block("Plan data", 2, 4, [[i]])
        wb.save()
    wb.write_block("Plan data", 2, 4, [[99]])
    with pytest.raises(SheetsApiError, match="Write requests per minute"):
        wb.save()
    double.advance(61)
    # a client-side limit under the server's quota, on the double's clock: it waits instead
    limiter = RateLimiter(2, clock=double.now, sleep=double.advance)
    wb = open_book(double, "plan", write_limiter=limiter, max_tries=1)
    for i in range(6):
        wb.write_block("Plan data", 2, 4, [[i]])
        wb.save()
    assert double.cell("plan", "Plan data", 2, 4).value == 5


def test_rate_limiter_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(50, clock=lambda: now[0], sleep=sleep)
    for _ in range(120):
        limiter.acquire()
    assert now[0] == pytest.approx(120.0)  # 50 a minute: the 101st call waits for minute 3
    assert all(s > 0 for s in slept)


blocks = st.lists(
    st.tuples(
        st.integers(1, 12),
        st.integers(1, 8),
        st.lists(
            st.lists(
                st.one_of(
                    st.none(),
                    st.integers(-1000, 1000),
                    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
                    st.text("abc xyz,.'", min_size=1, max_size=6),
                ),
                min_size=3,
                max_size=3,
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blocks=blocks)
def test_cells_outside_written_blocks_unchanged(
    double: SheetsDouble, blocks: list[tuple[int, int, list[list[Any]]]]
) -> None:
    sid = f"h{next(_ids)}"
    double.add_book(sid, "fuzz")
    grid = [
        [f"r{r}c{c}" if (r + c) % 3 else r * 10 + c for c in range(1, 13)] for r in range(1, 17)
    ]
    double.seed(sid, "S", grid)
    before = double.snapshot(sid)["S"]
    wb = open_book(double, sid)
    written: dict[tuple[int, int], Any] = {}
    for row, col, values in blocks:
        wb.write_block("S", row, col, values)
        for i, line in enumerate(values):
            for j, v in enumerate(line):
                written[(row + i, col + j)] = v
    double.advance(120)
    double.reset_log()
    wb.save()
    assert double.count("POST", BATCH_UPDATE) == 1 and double.count() == 1
    after = double.snapshot(sid)["S"]
    for key in set(before) | set(after):
        if key in written:
            v = written[key]
            assert after.get(key, (None, None))[0] == v
        else:
            assert after.get(key) == before.get(key)


# ------------------------------------------------------------ Refresh Run-Rate on a Google Sheet


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out).workbook


def test_refresh_run_rate_on_a_google_sheet(double: SheetsDouble, demo_book: Path) -> None:
    seed_from_xlsx(double, "demo", demo_book, "ru_RU")
    before = double.snapshot("demo")
    xlsx = XlsxWorkbook(demo_book)
    plan = xlsx.read_table(L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,))
    pace = xlsx.read_table(L.PACE, header_row=1)
    settings_table = xlsx.read_table(L.SETTINGS, header_row=L.SETTINGS_HEADER_ROW)
    keys = [str(k).strip().lower() for k in settings_table.values("setting")]
    as_of_cell = (settings_table.first_row + keys.index(L.SETTING_AS_OF), 2)
    owned: set[tuple[str, tuple[int, int]]] = {(L.SETTINGS, as_of_cell)}
    rr_cols = [plan.column(h) for h in plan.headers if h.endswith(" rr")]
    assert rr_cols
    # as of the 12th on a book synced to the 17th: f is recomputed from the Daily rows up to
    # the 12th too (f and rr as of the same day), so the f columns are the refresh's as well
    rr_cols += [plan.column(f"{m} f") for m in METRICS if plan.has(f"{m} f")]
    for c in rr_cols:
        owned |= {(L.PLAN, (plan.first_row + i, c)) for i in range(len(plan.rows))}
    for c in (pace.column("fact"), pace.column("fact") + 1):
        owned |= {(L.PACE, (pace.first_row + i, c)) for i in range(len(pace.rows))}
    # the Cohorts sheet's run-rate notes (which lines kept the usual run-rate, and why)
    notes = range(cohorts_sheet.NOTES_ROW, cohorts_sheet.NOTES_ROW + cohorts_sheet.NOTE_SLOTS + 1)
    owned |= {(cohorts_sheet.COHORTS, (r, cohorts_sheet.CHART_COL)) for r in notes}

    double.reset_log()
    wb = open_book(double, "demo")
    as_of = dt.date(2026, 11, 12)
    result = refresh(wb, as_of=as_of)
    assert result.lines_forecast > 0
    # one metadata GET, one batchGet for every table, one values:batchUpdate for every write
    assert double.log == [
        ("GET", "/v4/spreadsheets/demo"),
        ("GET", "/v4/spreadsheets/demo" + BATCH_GET),
        ("POST", "/v4/spreadsheets/demo" + BATCH_UPDATE),
    ]
    after = double.snapshot("demo")
    changed = changed_cells(before, after)
    assert changed, "refresh as of another day must change the run-rate"
    assert changed <= owned
    assert (L.SETTINGS, as_of_cell) in changed
    assert double.cell("demo", L.SETTINGS, *as_of_cell).kind == "DATE"
    assert any(s == L.PLAN for s, _ in changed) and any(s == L.PACE for s, _ in changed)

    # the same numbers as the .xlsx adapter writes
    expected = refresh(xlsx, as_of=as_of, save=False)
    fc = expected.forecast
    reread = open_book(double, "demo").read_table(
        L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,)
    )
    for h in plan.headers:
        if h.endswith(" rr"):
            got = reread.values(h)
            want = xlsx.read_table(
                L.PLAN, header_row=L.PLAN_HEADER_ROW, stop_labels=(L.TOTAL_LABEL,)
            ).values(h)
            assert got == pytest.approx(want, nan_ok=True), h
    assert len(fc) > 0


# ------------------------------------------------------------ credentials


def test_credentials_files_get_only_the_spreadsheets_scope(
    tmp_path: Path, double: SheetsDouble
) -> None:
    import json

    from sheets_sync.google_http import SCOPES, load_credentials

    service = double.service_account_file(
        tmp_path, "planner@p.iam.gserviceaccount.com", register=False
    )
    creds = load_credentials(service)
    assert tuple(creds.scopes) == SCOPES
    assert creds.service_account_email == "planner@p.iam.gserviceaccount.com"
    user = tmp_path / "user.json"
    user.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
            }
        )
    )
    assert tuple(load_credentials(user).scopes) == SCOPES
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "external_account"}')
    with pytest.raises(WorkbookError, match="neither"):
        load_credentials(bad)
