"""Every button on a Google Sheet through the function server: Sheets API requests and time.

Starts the Sheets API test double (tests/sheets_double: real HTTP, a service account's token
exchange, the per-minute quota) seeded with the demo workbook as a Russian-locale sheet, and the
function server for real (uvicorn on a free localhost port) with that service account; then
presses each button in ribbon order over signed HTTP, as the Apps Script menu does, and prints
per button: the Sheets API requests (reads, writes), the cells written, the wall time, and what
the obvious alternative would cost: gspread's ``update_cell`` per written cell, one request
each (and so, under Google's 60 writes per minute per user, the minutes it would take).

    python benchmarks/bench_sheet_buttons.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from addin.cli.demo import run_demo
from addin.registry import ACTIONS
from addin.server.settings import Settings

# the test double and the live-server helper live in tests/ (imported after the packages, so
# tests/sheets_sync cannot shadow the sheets_sync package)
ROOT = Path(__file__).resolve().parents[1]
sys.path += [str(ROOT / "tests"), str(ROOT / "tests" / "addin")]
from live_server import SignedClient, live_server, new_signer  # noqa: E402
from sheets_double import SheetsDouble  # noqa: E402
from sheets_double.seeding import seed_from_xlsx, sheet_sync_config  # noqa: E402

SHEET = "1BenchPlanSheet2026"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, SheetsDouble() as double:
        root = Path(tmp)
        demo = run_demo(root / "demo").workbook
        sync_dir = root / "sync"
        sheet_sync_config(demo, SHEET, sync_dir, "sheet-facts.duckdb")
        double.require_auth = True
        seed_from_xlsx(double, SHEET, demo, "ru_RU")
        settings = Settings(
            keys_dir=root / "keys",
            google_credentials=double.service_account_file(root),
            sheets_api_root=double.url,
            sync_dir=sync_dir,
        )
        signer = new_signer(settings.keys_dir, "bench", spreadsheet=SHEET)
        rows = []
        with live_server(settings) as url:
            client = SignedClient(url, signer)
            for action in ACTIONS.values():
                double.reset_log()
                started = time.perf_counter()
                r = client.request("POST", f"/sheets/{SHEET}/actions/{action.id}")
                wall = time.perf_counter() - started
                if r.status_code != 200:
                    raise SystemExit(f"{action.label}: HTTP {r.status_code} {r.text}")
                calls = [(m, p) for m, p in double.log if p != "/token"]
                reads = sum(1 for m, _ in calls if m == "GET")
                writes = len(calls) - reads
                cells = sum(
                    len(row)
                    for path, body in double.bodies
                    if path.endswith("values:batchUpdate") and body
                    for block in body.get("data", [])
                    for row in block.get("values", [])
                )
                rows.append((action.label, reads, writes, cells, wall))
            client.close()
    print(
        f"{'button':<18}{'reads':>6}{'writes':>7}{'cells':>8}{'wall s':>8}"
        f"{'update_cell reqs':>18}{'at 60/min':>11}"
    )
    for label, reads, writes, cells, wall in rows:
        print(
            f"{label:<18}{reads:>6}{writes:>7}{cells:>8,}{wall:>8.2f}"
            f"{cells:>18,}{cells / 60:>9.1f} m"
        )


if __name__ == "__main__":
    main()
