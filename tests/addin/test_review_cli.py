"""`funnelplan review WORKBOOK`: the Review sheet from the command line, and its --json, on a
small workbook whose month is over (so the fact is compared, not the run-rate)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from addin.cli.main import main
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook
from workbook_templates.review_sheet import REVIEW

LINES = pd.DataFrame(
    {
        "channel": ["Search", "Meta"],
        "campaign": ["brand", ""],
        "spend p": [100_000.0, 50_000.0],
        "leads p": [100.0, 60.0],
        "purchases p": [5.0, 2.0],
        "spend f": [90_000.0, 60_000.0],
        "leads f": [120.0, 40.0],
        "purchases f": [6.0, 1.0],
    }
)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    spec = PlanWorkbookSpec(
        month=dt.date(2026, 11, 1), lines=LINES, as_of=dt.date(2026, 11, 30), lang="en"
    )
    return save_atomic(build_plan_workbook(spec), tmp_path / "plan.xlsx")


def test_review_json_by_hand(book: Path) -> None:
    """Search: purchases 6/5 = 120 %, CPA 100000/5 = 20000 vs 90000/6 = 15000 (a cost's % is
    plan/fact = 133 %): achieved. Meta: 1/2 = 50 %, CPA 25000 vs 60000: missed. Total: CPA
    150000/7 vs 150000/7: 100 %, purchases 7/7: achieved."""
    run = CliRunner().invoke(main, ["review", str(book), "--json"])
    assert run.exit_code == 0, run.output
    got = json.loads(run.output)
    assert got["compared_with"] == "f"  # as of the month's last day: the fact
    status = {c["channel"]: c["status"] for c in got["channels"]}
    assert status == {"Search": "achieved", "Meta": "missed", "Total": "achieved"}
    search = next(c for c in got["channels"] if c["channel"] == "Search")
    assert (search["cpa p"], search["cpa f"]) == (20000.0, 15000.0)
    assert [b["channel"] for b in got["brief"]] == ["Search", "Meta"]
    ws = openpyxl.load_workbook(book)[REVIEW]
    assert "Brief for next month" in [c.value for c in ws["A"]]


def test_review_prints_the_buttons_sentence(book: Path) -> None:
    run = CliRunner().invoke(main, ["review", str(book)])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("Review Month: 1 of 2 channels achieved their plan")
