"""The Attribution button on the demo workbook with hand-made journeys: what it writes, the
true CPA from the Daily sheet's spend, the verdicts, Optimize Split's `attributed` objective."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from demo_cache import run_demo

from addin.actions.attribution import attribution, channels_of
from addin.actions.optimize_split import optimize_split
from planning.attribution import MODELS, attribute, build_paths
from planning.errors import InputError
from sheets_sync.mapping import Rule
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates.attribution_sheet import (
    ATTRIBUTION,
    HEADERS,
    LEADS_TITLE_ROW,
    PURCHASES_TITLE_ROW,
    read_factors,
    write_report,
)


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo")).workbook


@pytest.fixture
def book(demo_book: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(demo_book, tmp_path / "plan.xlsx"))


def journeys() -> tuple[pd.DataFrame, pd.DataFrame]:
    """60 × Meta Ads → Google Search → lead (10 of them also buy for 100,000), 20 × Google
    Search → lead, 40 × Meta Ads and no lead, 10 × a direct visit → lead; all in November."""
    touches, outcomes = [], []

    def journey(name: str, day: int, channels: list[str], lead: bool, value: float = 0.0) -> None:
        for hour, channel in enumerate(channels):
            touches.append((name, pd.Timestamp(2026, 11, day, 9 + hour), channel))
        if lead:
            at = pd.Timestamp(2026, 11, day, 9 + len(channels))
            outcomes.append((name, at, "lead", 0.0))
            if value:
                outcomes.append((name, at + pd.Timedelta(days=2), "purchase", value))

    for i in range(60):
        journey(f"a{i}", 3 + i % 10, ["Meta Ads", "Google Search"], True, 100_000.0 * (i < 10))
    for i in range(20):
        journey(f"b{i}", 4 + i % 10, ["Google Search"], True)
    for i in range(40):
        journey(f"c{i}", 5 + i % 10, ["Meta Ads"], False)
    for i in range(10):
        journey(f"d{i}", 6, ["Direct"], True)
    t = pd.DataFrame(touches, columns=["journey", "ts", "channel"])
    t[["utm_source", "utm_medium", "utm_campaign", "source"]] = ""
    o = pd.DataFrame(outcomes, columns=["journey", "ts", "kind", "value"])
    return t, o


def table(book: Path, title_row: int) -> pd.DataFrame:
    ws = openpyxl.load_workbook(book, data_only=True)[ATTRIBUTION]
    rows = []
    for r in range(title_row + 2, title_row + 40):
        line = [ws.cell(row=r, column=c).value for c in range(1, len(HEADERS) + 1)]
        if line[0] is None:
            break
        rows.append(line)
    return pd.DataFrame(rows, columns=list(HEADERS)).set_index("channel")


def daily_spend(book: Path, channel: str) -> float:
    ws = openpyxl.load_workbook(book, data_only=True)["Daily"]
    head = [c.value for c in ws[1]]
    return sum(
        float(row[head.index("spend")] or 0)
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[1] == channel
    )


def test_the_sheet_holds_every_model_and_the_true_cpa(book: Path) -> None:
    touches, outcomes = journeys()
    reports = attribution(XlsxWorkbook(book), touches, outcomes)
    leads = table(book, LEADS_TITLE_ROW)
    # last touch by hand: Google Search closes 60 + 20, Direct 10, Meta Ads none
    assert leads.loc["Google Search", "last touch"] == pytest.approx(80)
    assert leads.loc["Direct", "last touch"] == pytest.approx(10)
    assert leads.loc["Meta Ads", "last touch"] == pytest.approx(0)
    # first touch: Meta Ads 60; linear: Meta 30, Google 30 + 20
    assert leads.loc["Meta Ads", "first touch"] == pytest.approx(60)
    assert leads.loc["Google Search", "linear"] == pytest.approx(50)
    for model in MODELS:  # every model credits exactly the 90 leads
        assert leads[model.replace("_", " ")].sum() == pytest.approx(90)
    # the models on the sheet are planning's on the same journeys
    paths, _ = build_paths(touches, outcomes[outcomes.kind == "lead"].assign(conversions=1.0))
    markov = attribute(paths, "markov")
    got = leads.loc[list(markov.channels), "markov"].to_numpy(float)
    assert got == pytest.approx(markov.conversions, abs=1e-4)
    # true CPA = the Daily sheet's spend (Nov 1-17) / the Markov credit
    spend = daily_spend(book, "Google Search")
    assert leads.loc["Google Search", "spend"] == pytest.approx(spend, abs=0.01)
    assert leads.loc["Google Search", "true CPA"] == pytest.approx(
        spend / leads.loc["Google Search", "markov"], rel=1e-4
    )
    # Meta Ads starts 60 of the 90 leads and closes none: under-credited by last click
    assert leads.loc["Meta Ads", "verdict"].startswith("under-credited")
    assert leads.loc["Meta Ads", "assisted"] == pytest.approx(60)
    # a channel with spend but no journey says so
    assert leads.loc["Yandex Direct", "verdict"].startswith("spend but no journeys")
    # the proposal keeps the total budget
    assert leads["proposed spend"].sum() == pytest.approx(leads["spend"].sum(), rel=1e-6)
    # purchases: 10 journeys worth 100,000 each
    purchases = table(book, PURCHASES_TITLE_ROW)
    assert purchases["markov"].sum() == pytest.approx(10)
    assert reports["purchases"] is not None and reports["purchases"].value == pytest.approx(1e6)


def test_optimize_split_on_attributed_leads(book: Path) -> None:
    wb = XlsxWorkbook(book)
    write_report(wb, None, None)  # the demo pressed Attribution: clear what it wrote
    wb.save()
    wb = XlsxWorkbook(book)
    with pytest.raises(InputError, match="press Attribution first"):
        optimize_split(wb, objective="attributed")
    touches, outcomes = journeys()
    attribution(XlsxWorkbook(book), touches, outcomes)
    factors = read_factors(XlsxWorkbook(book))
    assert factors["Google Search"] < 1  # it closes more than the chain credits it with
    leads = optimize_split(XlsxWorkbook(book), objective="leads")
    attributed = optimize_split(XlsxWorkbook(book), objective="attributed")
    by_leads = {c.channel: c.proposed for c in leads.channels}
    by_attr = {c.channel: c.proposed for c in attributed.channels}
    assert sum(by_attr.values()) == pytest.approx(sum(by_leads.values()), rel=1e-6)
    assert by_attr["Google Search"] <= by_leads["Google Search"]  # down-weighted
    assert "re-weighted by attribution" in attributed.history


def test_touch_channels_come_from_the_mapping_rules() -> None:
    touches = pd.DataFrame(
        {
            "journey": ["x", "x", "y", "z"],
            "ts": pd.to_datetime(["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]),
            "channel": ["", "Direct", "", ""],
            "utm_source": ["yandex", "", "unknown", ""],
            "utm_medium": ["cpc", "", "cpc", ""],
            "utm_campaign": ["yd_search_brand", "", "", ""],
            "source": ["metrica"] * 4,
        }
    )
    rules = [
        Rule(
            source="",
            field="utm_source",
            match="exact",
            pattern="yandex",
            channel="Yandex Direct",
            campaign="",
            row=2,
        )
    ]
    assert list(channels_of(touches, rules)) == ["Yandex Direct", "Direct", "Other", ""]


def test_attribution_cli_on_a_config_and_on_one_file(demo_book: Path, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from addin.cli.main import main

    folder = tmp_path / "demo"
    shutil.copytree(demo_book.parent, folder)
    runner = CliRunner()
    result = runner.invoke(main, ["attribution", str(folder / "sync.toml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    leads = data["leads"]
    assert leads["model"] == "markov"
    total = sum(c["conversions"]["markov"] for c in leads["channels"])
    assert total == pytest.approx(leads["conversions"])
    visits = next((folder / "exports").glob("metrica_visits_*.csv"))
    one = runner.invoke(main, ["attribution", str(visits), "--model", "linear", "--json"])
    assert one.exit_code == 0, one.output
    linear = json.loads(one.output)["leads"]
    assert sum(c["conversions"]["linear"] for c in linear["channels"]) == pytest.approx(
        linear["conversions"]
    )
    assert all(c["spend"] == 0 for c in linear["channels"])  # a file alone knows no spend


def test_shapley_over_its_channel_limit_is_named() -> None:
    from planning.attribution_report import SHAPLEY_LIMIT, attribution_report

    n = SHAPLEY_LIMIT + 1
    touches = pd.DataFrame(
        {
            "journey": [f"j{i}" for i in range(n)],
            "ts": pd.Timestamp(2026, 11, 2),
            "channel": [f"c{i}" for i in range(n)],
        }
    )
    outcomes = pd.DataFrame(
        {"journey": ["j0"], "ts": [pd.Timestamp(2026, 11, 3)], "conversions": [1.0], "value": [0.0]}
    )
    paths, issues = build_paths(touches, outcomes)
    report = attribution_report(paths, issues, {})
    assert "shapley" not in report.models
    assert report.skipped_models == (
        f"shapley: {n} channels; exact Shapley handles at most {SHAPLEY_LIMIT}",
    )
    with pytest.raises(InputError, match=f"at most {SHAPLEY_LIMIT}"):
        attribution_report(paths, issues, {}, chosen="shapley")


def test_verdicts_on_a_closer_that_only_finishes_what_another_started() -> None:
    from planning.attribution_report import attribution_report

    rows, outcomes = [], []

    def journey(name: str, channels: list[str], converts: bool) -> None:
        for hour, channel in enumerate(channels):
            rows.append((name, pd.Timestamp(2026, 11, 2, 8 + hour), channel))
        if converts:
            outcomes.append((name, pd.Timestamp(2026, 11, 2, 8 + len(channels)), 1.0, 0.0))

    for i in range(40):  # Display starts, Brand closes
        journey(f"ab{i}", ["Display", "Brand"], True)
    for i in range(20):
        journey(f"c{i}", ["Email"], True)
    for i in range(30):
        journey(f"a{i}", ["Display"], False)
    for i in range(5):
        journey(f"b{i}", ["Brand"], False)
    touches = pd.DataFrame(rows, columns=["journey", "ts", "channel"])
    conv = pd.DataFrame(outcomes, columns=["journey", "ts", "conversions", "value"])
    paths, issues = build_paths(touches, conv)
    report = attribution_report(paths, issues, {"Display": 100.0, "Brand": 100.0})
    verdict = {c.channel: c.verdict for c in report.channels}
    # last click: Brand 40 of 60 (67%), Display 0; Markov shares Display and Brand alike
    assert verdict["Display"] == "under_credited"
    assert verdict["Brand"] == "cannibalising"
    assert verdict["Email"] == "as_last_click"
