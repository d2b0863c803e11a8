"""The `funnelplan` command line, run as a user runs it (a real subprocess for the entry point)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from addin.cli.main import main
from workbook_templates import layout as L


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("funnelplan")
    assert exe, "the `funnelplan` entry point is not installed (pip install -e .)"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=600)


def test_version_and_help_from_the_installed_entry_point() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("funnelplan, version ")
    out = run("--help")
    assert out.returncode == 0
    for command in ("demo", "template", "refresh", "new-month", "runrate"):
        assert command in out.stdout


def test_demo_json_summary(tmp_path: Path) -> None:
    out = run("demo", "--out", str(tmp_path / "demo"), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["month"] == "2026-11" and summary["as_of"] == "2026-11-17"
    assert summary["days_left"] == 13
    assert 6 <= len(summary["channels"]) <= 8
    total = summary["total"]
    for metric in ("spend", "leads", "purchases"):
        block = total[metric]
        assert block["plan"] > 0 and block["fact"] > 0 and block["runrate"] >= block["fact"]
        assert block["runrate_pct"] == pytest.approx(block["runrate"] / block["plan"])
        # the total is the sum of the channels, never anything else
        assert block["plan"] == pytest.approx(sum(c[metric]["plan"] for c in summary["channels"]))
    # CPL recomputed from the summed absolutes
    assert total["cpa_leads"]["fact"] == pytest.approx(
        total["spend"]["fact"] / total["leads"]["fact"]
    )
    workbook = Path(summary["workbook"])
    assert workbook.exists() and (tmp_path / "demo" / "facts.duckdb").exists()
    assert {"Executive", "Plan", "Daily", "Settings"} <= set(
        openpyxl.load_workbook(workbook).sheetnames
    )


def test_demo_prints_a_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "Plan vs fact vs run-rate" in result.output and "Total" in result.output


def test_template_then_refresh_and_new_month(tmp_path: Path) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text("channel,campaign,spend p,traffic p,leads p\nSearch,Brand,30000,600,240\n")
    book = tmp_path / "plan-2026-12.xlsx"
    result = CliRunner().invoke(
        main, ["template", "--month", "2026-12", "--out", str(book), "--lines", str(lines)]
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(book)
    assert wb[L.PLAN]["A5"].value == "Search" and wb[L.PLAN]["C5"].value == 30000
    # refresh with an empty Daily sheet and no as-of: a clear error, exit code 1 from click
    result = CliRunner().invoke(main, ["refresh", str(book)])
    assert result.exit_code == 1
    assert "no as-of date: the Daily sheet is empty" in result.output
    result = CliRunner().invoke(main, ["new-month", str(book), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["month"] == "2027-01" and payload["workbook"].endswith("plan-2027-01.xlsx")


def test_runrate_csv_worked_by_hand(tmp_path: Path) -> None:
    csv = tmp_path / "daily.csv"
    rows = ["date,channel,spend,leads"]
    for d in range(1, 11):  # Nov 1-10: Search 1 000 spend and 10 leads a day; Meta 400 and 2
        rows += [f"2026-11-{d:02d},Search,1000,10", f"2026-11-{d:02d},Meta,400,2"]
    rows.append("2026-10-31,Search,99999,999")  # last month: ignored, counted
    csv.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["runrate", str(csv), "--keys", "channel", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["as_of"] == "2026-11-10" and out["days_left"] == 20 and out["ignored_rows"] == 1
    search = next(line for line in out["lines"] if line["channel"] == "Search")
    # 100 leads to date + 20 days x 10 = 300; spend 10 000 + 20 x 1 000 = 30 000; CPL 100
    assert search["leads"]["runrate"] == pytest.approx(300)
    assert search["spend"]["runrate"] == pytest.approx(30_000)
    assert search["leads"]["cost_runrate"] == pytest.approx(100)
    # total: leads 120 + 20 x 12 = 360; spend 14 000 + 20 x 1 400 = 42 000; CPL 116.67 (sum/sum)
    assert out["total"]["leads"]["runrate"] == pytest.approx(360)
    assert out["total"]["leads"]["cost_runrate"] == pytest.approx(42_000 / 360)


def test_runrate_csv_bad_number_names_file_line_and_value(tmp_path: Path) -> None:
    csv = tmp_path / "daily.csv"
    csv.write_text("date,channel,spend\n2026-11-01,Search,100\n2026-11-02,Search,abc\n")
    result = CliRunner().invoke(main, ["runrate", str(csv)])
    assert result.exit_code == 1
    assert "line 'daily.csv:3', column `spend`: value 'abc' is not a number" in result.output


def test_refresh_missing_workbook_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["refresh", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2 and "does not exist" in result.output
