"""`funnelplan optimize`, `apply-split`, `undo-split`: workbook and CSV modes, run as a user does.

The CSV history is too short for a curve (10 days < 14), so each channel gets a constant CPA
up to a capacity of 1.75 x its highest observed daily spend and the optimum is worked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from addin.cli.main import main
from addin.cli.optimize_csv import recent_average
from workbook_templates import layout as L
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    """Nov 1-10: A spends 100 a day for 2 conversions worth 1 000 in all (CPA 50, 500 each);
    B 200 a day for 2 worth 4 000 (CPA 100, 2 000 each)."""
    rows = ["date,channel,spend,conversions,value"]
    for d in range(1, 11):
        rows += [f"2026-11-{d:02d},A,100,2,1000", f"2026-11-{d:02d},B,200,2,4000"]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _channels(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["channel"]: c for c in out["channels"]}


def test_csv_mode_per_day_worked_by_hand(history: Path) -> None:
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--max-change", "0", "--json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    ch = _channels(out)
    # no default limits (--max-change 0).
    # current = the mean daily spend of the last days: A 100, B 200.
    # A: CPA 50 up to 1.75 x 100 = 175 a day; B: CPA 100 up to 350 a day. 400 a day:
    # A to its cap 175 (3.5 conversions), B the other 225 (2.25).
    assert (ch["A"]["current"], ch["A"]["proposed"]) == (100, 175)
    assert (ch["B"]["current"], ch["B"]["proposed"]) == (200, 225)
    assert ch["A"]["expected_conversions"] == pytest.approx(3.5)
    assert ch["B"]["expected_conversions"] == pytest.approx(2.25)
    assert ch["A"]["marginal_cpa"] is None  # flat past its cap (JSON has no infinity)
    assert ch["B"]["marginal_cpa"] == pytest.approx(100)
    assert ch["A"]["confidence"] == "low" and ch["A"]["low"] == pytest.approx(3.5)
    assert any("saturated" in f for f in ch["A"]["flags"])
    total = out["total"]
    assert total["proposed"] == 400 and total["conversions_now"] == pytest.approx(4)
    # CPA of the proposal from the sums: 400 / 5.75
    assert total["cpa"] == pytest.approx(400 / 5.75)
    assert out["solver"]["success"] is True and out["solver"]["method"] == "bisection"
    assert out["days"] == 1 and out["objective"] == "leads"


DEFAULT_FLAG = "default limits ±50% of current (set min/max to change)"


def test_csv_mode_default_limits_keep_within_half_of_current(history: Path) -> None:
    result = invoke("optimize", "--history", str(history), "--budget", "400", "--json")
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # no bounds: A 100 within [50, 150], B 200 within [100, 300]. A (CPA 50) to its max 150
    # (3 conversions), B the other 250 (2.5), where unbounded A took 175
    assert (ch["A"]["proposed"], ch["B"]["proposed"]) == (150, 250)
    assert ch["A"]["expected_conversions"] == pytest.approx(3)
    assert ch["B"]["expected_conversions"] == pytest.approx(2.5)
    for c in ch.values():
        assert 0.5 * c["current"] <= c["proposed"] <= 1.5 * c["current"]
        assert DEFAULT_FLAG in c["flags"]
    assert "at max" in ch["A"]["flags"]


def test_csv_mode_max_change_0_disables_the_default_limits(history: Path) -> None:
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--max-change", "0", "--json"
    )
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    assert (ch["A"]["proposed"], ch["B"]["proposed"]) == (175, 225)  # as worked above
    assert not any("default limits" in f for c in ch.values() for f in c["flags"])
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--max-change", "0.2", "--json"
    )
    # ±20%: A [80, 120], B [160, 240] can hold at most 360 of the 400
    assert result.exit_code == 1
    assert (
        "maximum spends add up to 360, below the budget 400 by 40; A, B without min/max keep "
        "within ±20% of current: set their min/max or a larger max change"
    ) in result.output
    result = invoke("optimize", "--history", str(history), "--budget", "400", "--max-change", "-1")
    assert result.exit_code == 2
    assert "-1 is not a share >= 0 (0.5 = ±50%, 0 = no limit)" in result.output


def test_csv_mode_bounds_override_the_default_limits(history: Path, tmp_path: Path) -> None:
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("channel,min,max,locked\nA,0,175,no\nB,,,no\n")
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--bounds", str(bounds), "--json"
    )
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # A's max 175 replaces its default 150: A 175 (at its max and its capacity), B 225 (within
    # its default [100, 300])
    assert (ch["A"]["proposed"], ch["B"]["proposed"]) == (175, 225)
    assert DEFAULT_FLAG not in ch["A"]["flags"] and DEFAULT_FLAG in ch["B"]["flags"]


def test_csv_mode_default_limits_widen_to_the_step(history: Path) -> None:
    result = invoke(
        "optimize",
        *("--history", str(history), "--budget", "9000", "--days", "30", "--step", "1000"),
        *("--max-change", "0.25", "--json"),
    )
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # over 30 days: A 3 000 within ±25% [2 250, 3 750] -> [2 000, 4 000] in steps of 1 000,
    # B 6 000: [4 500, 7 500] -> [4 000, 8 000]. A (CPA 50) to its max 4 000, B 5 000
    assert (ch["A"]["proposed"], ch["B"]["proposed"]) == (4000, 5000)
    assert "default limits ±25% of current (set min/max to change)" in ch["A"]["flags"]


def test_csv_mode_over_a_month_with_bounds(history: Path, tmp_path: Path) -> None:
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("channel,min,max,locked\nA,,,\nB,,,yes\n")
    result = invoke(
        "optimize",
        "--history",
        str(history),
        "--budget",
        "12000",
        "--days",
        "30",
        "--bounds",
        str(bounds),
        "--max-change",
        "0",
        "--json",
    )
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # over 30 days: current A 3 000, B 6 000 (locked); A takes the other 6 000 of 12 000
    # (beyond its cap of 175 a day = 5 250: flat, 3.5 x 30 = 105 conversions)
    assert (ch["B"]["proposed"], ch["A"]["proposed"]) == (6000, 6000)
    assert ch["A"]["expected_conversions"] == pytest.approx(105)
    assert "locked" in ch["B"]["flags"]


def test_csv_mode_objective_value_uses_the_value_column(history: Path) -> None:
    result = invoke(
        "optimize",
        *("--history", str(history), "--budget", "400", "--objective", "value"),
        *("--max-change", "0", "--json"),
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    ch = _channels(out)
    # value per unit spent: A 500 / 50 = 10, B 2 000 / 100 = 20: B to its cap 350, A 50
    assert (ch["A"]["proposed"], ch["B"]["proposed"]) == (50, 350)
    assert out["total"]["value"] == pytest.approx(1 * 500 + 3.5 * 2000)


def test_csv_mode_bounds_give_the_current_split(history: Path, tmp_path: Path) -> None:
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("channel,min,max,locked,current\nA,0,150,no,80\nB,,,no,320\nC,,,no,50\n")
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--bounds", str(bounds), "--json"
    )
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    assert [ch[c]["current"] for c in "ABC"] == [80, 320, 50]
    # C has no history: kept at its current 50 and flagged; A at its max 150; B the rest, 200
    assert ch["C"]["proposed"] == 50 and "no history" in ch["C"]["flags"][0]
    assert ch["A"]["proposed"] == 150 and "at max" in ch["A"]["flags"]
    assert ch["B"]["proposed"] == 200


def test_csv_mode_prints_a_table(history: Path) -> None:
    result = invoke("optimize", "--history", str(history), "--budget", "400")
    assert result.exit_code == 0, result.output
    assert "Optimize Split (leads): 400 over 1 day" in result.output
    assert "Total" in result.output and "A (low): low confidence" in result.output


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["2026-11-01,A,,2"],
            "line 'history.csv:3', column `spend`: is blank; a number is needed",
        ),
        (
            ["2026-11-01,A,-5,2"],
            "line 'history.csv:3', column `spend`: value '-5' must not be negative",
        ),
        (
            ["2026-11-01,A,abc,2"],
            "line 'history.csv:3', column `spend`: value 'abc' is not a number",
        ),
        (
            ["2026-11-01,,100,2"],
            "line 'history.csv:3', column `channel`: is blank",
        ),
    ],
)
def test_bad_history_names_the_line_and_value(
    tmp_path: Path, rows: list[str], message: str
) -> None:
    path = tmp_path / "history.csv"
    path.write_text("\n".join(["date,channel,spend,conversions", "2026-11-01,B,1,1", *rows]))
    result = invoke("optimize", "--history", str(path), "--budget", "100")
    assert result.exit_code == 1
    assert message in result.output


def test_all_zero_conversions_name_the_channel(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "date,channel,spend,conversions\n"
        + "".join(f"2026-11-{d:02d},A,100,0\n2026-11-{d:02d},B,100,3\n" for d in range(1, 6))
    )
    result = invoke("optimize", "--history", str(path), "--budget", "100")
    assert result.exit_code == 1
    assert "line 'A', column `conversions`: all 5 days have 0 conversions" in result.output


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (
            "channel,min,max,locked\nA,10,5,no\n",
            "line 'bounds.csv:2', column `max`: value '5' is below `min` 10; "
            "`max` must be >= `min`",
        ),
        (
            "channel,min,max,locked\nA,,,no\nB,,,no\nA,,,yes\n",
            "line 'bounds.csv:4', column `channel`: value 'A' appears twice (also line 2)",
        ),
        (
            "channel,min,max,locked\nA,-1,,no\n",
            "line 'bounds.csv:2', column `min`: value '-1' must not be negative",
        ),
        (
            "channel,min,max,locked\nA,,,perhaps\n",
            "line 'bounds.csv:2', column `locked`: value 'perhaps' is not yes or no",
        ),
    ],
)
def test_bad_bounds_name_the_line_and_value(
    history: Path, tmp_path: Path, bounds: str, message: str
) -> None:
    path = tmp_path / "bounds.csv"
    path.write_text(bounds)
    result = invoke("optimize", "--history", str(history), "--budget", "400", "--bounds", str(path))
    assert result.exit_code == 1
    assert message in result.output


def test_budget_and_mode_errors(history: Path, tmp_path: Path) -> None:
    result = invoke("optimize", "--history", str(history), "--budget", "0")
    assert result.exit_code == 1 and "`budget` must be a number > 0, got 0" in result.output
    result = invoke("optimize", "--history", str(history))
    assert result.exit_code == 2 and "--history needs --budget" in result.output
    result = invoke("optimize")
    assert result.exit_code == 2 and "give either WORKBOOK or --history" in result.output
    result = invoke("optimize", "--history", str(history), "--budget", "400", "--days", "0")
    assert result.exit_code == 2 and "is not a number of days >= 1" in result.output
    result = invoke(
        "optimize", "--history", str(history), "--budget", "400", "--objective", "value"
    )
    assert result.exit_code == 0  # the history has a value column
    plain = tmp_path / "plain.csv"
    plain.write_text(
        history.read_text().replace(",value", "").replace(",1000", "").replace(",4000", "")
    )
    result = invoke("optimize", "--history", str(plain), "--budget", "400", "--objective", "value")
    assert result.exit_code == 1
    assert (
        "line 'A', column `value per conversion`: has no value per conversion; "
        "the objective `value` needs one for every channel"
    ) in result.output


def test_recent_average_counts_missing_days_as_zero() -> None:
    days = [dt.date(2026, 11, d) for d in range(1, 21)]
    frame = pd.DataFrame(
        {
            "date": days + days[:10],
            "channel": ["A"] * 20 + ["B"] * 10,
            "spend": [100.0] * 20 + [70.0] * 10,
        }
    )
    # last 14 days: Nov 7-20. A: 14 x 100 / 14 = 100; B spent 70 on Nov 7-10 only: 280 / 14 = 20
    assert recent_average(frame) == {"A": 100, "B": 20}


def test_csv_mode_on_the_sample_recovers_a_sensible_split(tmp_path: Path) -> None:
    """Real curves: the seeded sample's 77 days; with no default limits the proposal spends
    the budget exactly and every channel has a fitted curve."""
    from sheets_sync.samples.data import generate_sample

    daily = generate_sample("2026-11").daily
    frame = daily.groupby(["date", "channel"], sort=False)[["spend", "leads"]].sum()
    frame = frame.reset_index().rename(columns={"leads": "conversions"})
    path = tmp_path / "sample.csv"
    frame.to_csv(path, index=False)
    result = invoke(
        "optimize",
        *("--history", str(path), "--budget", "6500000", "--days", "30"),
        *("--max-change", "0", "--json"),
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    proposed = np.array([c["proposed"] for c in out["channels"]])
    assert proposed.sum() == pytest.approx(6_500_000, abs=0.01)
    assert {c["confidence"] for c in out["channels"]} == {"high"}
    assert out["total"]["expected_conversions"] >= out["total"]["conversions_now"] - 1e-9
    assert all(c["low"] <= c["expected_conversions"] <= c["high"] for c in out["channels"])
    # equal marginal return: every channel not at a bound has the same marginal CPA
    # (a channel's curve-weights flag, "curve: 41% power, ...", says nothing about bounds)
    bound_flags = [[f for f in c["flags"] if not f.startswith("curve: ")] for c in out["channels"]]
    free = [c["marginal_cpa"] for c, f in zip(out["channels"], bound_flags, strict=True) if not f]
    assert free and max(free) / min(free) == pytest.approx(1, abs=1e-6)


def test_csv_mode_on_the_sample_with_the_default_limits(tmp_path: Path) -> None:
    """The seeded sample with the default ±50%: every channel stays within half of its
    current spend either way, is flagged, and the proposal still beats the current split."""
    from sheets_sync.samples.data import generate_sample

    daily = generate_sample("2026-11").daily
    frame = daily.groupby(["date", "channel"], sort=False)[["spend", "leads"]].sum()
    frame = frame.reset_index().rename(columns={"leads": "conversions"})
    path = tmp_path / "sample.csv"
    frame.to_csv(path, index=False)
    result = invoke(
        "optimize", "--history", str(path), "--budget", "6500000", "--days", "30", "--json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert sum(c["proposed"] for c in out["channels"]) == pytest.approx(6_500_000, abs=0.01)
    for c in out["channels"]:
        assert 0.5 * c["current"] - 0.01 <= c["proposed"] <= 1.5 * c["current"] + 0.01
        assert DEFAULT_FLAG in c["flags"]
    assert out["total"]["expected_conversions"] >= out["total"]["conversions_now"] - 1e-9
    # equal marginal return across the channels inside their limits
    free = [
        c["marginal_cpa"]
        for c in out["channels"]
        if "at min" not in c["flags"] and "at max" not in c["flags"]
    ]
    assert free and max(free) / min(free) == pytest.approx(1, abs=1e-6)


# --- workbook mode ------------------------------------------------------------------------


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    from sheets_sync.workbooks.xlsx import save_atomic

    lines = pd.DataFrame(
        {
            "channel": ["Search", "Meta"],
            "campaign": ["Brand", "Prospecting"],
            "spend p": [90_000, 30_000],
            "leads p": [900, 150],
        }
    )
    rows = []
    for d in range(1, 11):
        day = dt.date(2026, 11, d)
        rows += [
            {"date": day, "channel": "Search", "campaign": "Brand", "spend": 3000.0, "leads": 30},
            {
                "date": day,
                "channel": "Meta",
                "campaign": "Prospecting",
                "spend": 1000.0,
                "leads": 5,
            },
        ]
    spec = PlanWorkbookSpec(month=dt.date(2026, 11, 1), lines=lines, daily=pd.DataFrame(rows))
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")


def _spend_p(path: Path) -> list[Any]:
    ws = openpyxl.load_workbook(path)[L.PLAN]
    col = next(c.column for c in ws[L.PLAN_HEADER_ROW] if c.value == "spend p")
    return [ws.cell(row=L.PLAN_FIRST_ROW + i, column=col).value for i in range(2)]


def test_workbook_optimize_apply_undo(book: Path) -> None:
    result = invoke("optimize", str(book), "--max-change", "0", "--json")
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # no default limits (--max-change 0): Search CPA 100 up to 5 250 a day; the 120 000
    # (4 000 a day) all go to Search
    assert (ch["Search"]["proposed"], ch["Meta"]["proposed"]) == (120_000, 0)
    assert _spend_p(book) == [90_000, 30_000]  # optimize changes nothing in the Plan
    result = invoke("apply-split", str(book), "--json")
    assert result.exit_code == 0, result.output
    applied = json.loads(result.output)
    assert applied["channels"]["Search"] == {"old": 90_000, "new": 120_000}
    assert _spend_p(book) == [120_000, 0]
    result = invoke("undo-split", str(book))
    # two lines: spend p and (counts rescaled with spend by Apply) leads p each
    assert result.exit_code == 0 and "Undo Split: 4 cells restored" in result.output
    assert _spend_p(book) == [90_000, 30_000]
    result = invoke("undo-split", str(book))
    assert result.exit_code == 1 and "nothing to undo" in result.output


def test_workbook_optimize_default_limits_and_max_change(book: Path) -> None:
    result = invoke("optimize", str(book), "--json")
    assert result.exit_code == 0, result.output
    ch = _channels(json.loads(result.output))
    # the sheet's max change 50%: Meta 30 000 at its min 15 000, Search the other 105 000
    assert (ch["Search"]["proposed"], ch["Meta"]["proposed"]) == (105_000, 15_000)
    assert DEFAULT_FLAG in ch["Search"]["flags"] and "at min" in ch["Meta"]["flags"]
    result = invoke("optimize", str(book), "--max-change", "0.1", "--json")
    ch = _channels(json.loads(result.output))
    # --max-change 0.1 over the sheet's 50%: Meta at 27 000, Search 93 000 (max 99 000)
    assert (ch["Search"]["proposed"], ch["Meta"]["proposed"]) == (93_000, 27_000)


def test_workbook_optimize_prints_the_table_and_options(book: Path) -> None:
    result = invoke("optimize", str(book), "--budget", "150000", "--step", "5000")
    assert result.exit_code == 0, result.output
    assert "Optimize Split (leads): 150 000 over 30 days" in result.output
    assert "Nothing in the Plan changed" in result.output
    result = invoke("optimize", str(book), "--days", "3")
    assert result.exit_code == 2 and "--days and --bounds are for --history" in result.output
    result = invoke("optimize", str(book), "--history", str(book))
    assert result.exit_code == 2


def test_entry_point_lists_the_commands() -> None:
    exe = shutil.which("funnelplan")
    assert exe, "the `funnelplan` entry point is not installed (pip install -e .)"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    for command in ("optimize", "apply-split", "undo-split"):
        assert command in out.stdout


def test_demo_json_has_the_split(tmp_path: Path) -> None:
    result = invoke("demo", "--out", str(tmp_path / "demo"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["month"] == "2026-11" and "total" in summary  # as before
    split = summary["split"]
    assert len(split["channels"]) == 7 and split["days"] == 30
    total = sum(c["proposed"] for c in split["channels"])
    assert total == pytest.approx(summary["total"]["spend"]["plan"], abs=0.01)
    assert all(c["proposed"] % 1000 == 0 for c in split["channels"])
    assert math.isfinite(split["total"]["expected_conversions"])
    wb = openpyxl.load_workbook(summary["workbook"])
    assert {L.SPLIT, L.CURVES, L.DAILY_HISTORY} <= set(wb.sheetnames)
    ws = wb[L.SPLIT]
    assert ws.cell(row=L.SPLIT_FIRST_ROW, column=1).value == split["channels"][0]["channel"]
