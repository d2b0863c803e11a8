"""Optimize Split's and Scenarios' flags and the history line in the workbook's language.

`planning.split_flags.Flag` is the English sentence as before (the CLI, ``--json`` and English
sheets unchanged, checked against the old f-strings) with a code; the add-in says it in Russian
(`split_flag_texts`), numbers the Russian way; Review Month's advice reads either language.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from demo_cache import run_demo
from hypothesis import given
from hypothesis import strategies as st

from addin.actions.review_rows import Recommendation, advice
from addin.actions.split_flag_texts import flag_text, flags_text, has_flag, history_text
from addin.cli.demo import DemoResult
from planning.split_flags import FLAGS, Flag, flag
from sheets_sync.i18n import translator
from sheets_sync.workbooks.xlsx import XlsxWorkbook
from workbook_templates import layout as L
from workbook_templates.optimize_split_sheet import read_split_sheet

RU = translator("ru")
EN = translator("en")
NBSP = "\u00a0"
LATIN_WORD = re.compile(r"[A-Za-z]+")

#: A sample of every flag (parameters as planning formats them).
SAMPLES: dict[str, dict[str, str]] = {
    "curve": {"shares": "61% saturating, 27% power, 12% negexp"},
    "share": {"share": "61%", "form": "hill"},
    "cap": {"cap": "7,000", "times": "1.75", "observed": "4,000"},
    "low_constant": {"why": flag("no_fit"), "cpa": "1,250", "capacity": "3.2"},
    "few_days": {"days": "9", "min_days": "14"},
    "flat_spend": {"cv": "0.03", "min_cv": "0.05"},
    "no_fit": {},
    "low_plan_cpa": {"cpa": "1,250", "capacity": "4.67"},
    "given": {"form": "linear"},
    "flat_beyond": {"cap": "12.5"},
    "extrapolated": {"times": "1.25", "observed": "4,000"},
    "extrapolated_scenario": {"times": "1.25"},
    "locked": {},
    "at_min": {},
    "at_max": {},
    "cpa_cap": {"cap": "40"},
    "saturated": {"flat": "120,000"},
    "default_limits": {"pct": "50%"},
    "kept": {},
    "locked_no_curve": {"reason": "all conversions are 0"},
    "no_conversions": {"days": "10"},
    "no_conversions_one": {},
}


def _latin(text: str, allowed: set[str]) -> set[str]:
    return set(LATIN_WORD.findall(text)) - allowed


def test_every_flag_has_a_sample() -> None:
    assert set(SAMPLES) == set(FLAGS)


@pytest.mark.parametrize("code", sorted(FLAGS))
def test_every_flag_reads_russian(code: str) -> None:
    f = flag(code, **SAMPLES[code])
    said = flag_text(f, RU)
    # only CPA stays Latin (and a reason the catalog does not know, kept as written)
    extra = {"all", "conversions", "are"} if code == "locked_no_curve" else set()
    assert _latin(said, {"CPA"} | extra) == set(), said
    assert flag_text(f, EN) == f == f.text


def test_the_english_sentences_are_the_old_ones() -> None:
    # the f-strings planning wrote before the codes, with the same numbers
    per_day, observed = 5000.0, 4000.0
    old = (
        f"extrapolated: x{per_day / observed:.2f} the highest daily spend seen "
        f"({observed:,.0f} a day)"
    )
    new = flag("extrapolated", times=f"{per_day / observed:.2f}", observed=f"{observed:,.0f}")
    assert new == old == "extrapolated: x1.25 the highest daily spend seen (4,000 a day)"
    assert flag("at_max") == "at max" and flag("at_min") == "at min" and flag("locked") == "locked"
    assert flag("cpa_cap", cap=f"{40.0:g}") == "at CPA cap 40"
    assert flag("default_limits", pct=f"{0.5:.0%}") == (
        "default limits ±50% of current (set min/max to change)"
    )
    assert flag("saturated", flat=f"{120000.0:,.0f}") == (
        "saturated: no more conversions beyond 120,000"
    )
    shares = ", ".join(flag("share", share=f"{w:.0%}", form=f) for w, f in [(0.61, "hill")])
    assert flag("curve", shares=shares) == "curve: 61% hill"
    assert flag("kept") == "no history and no plan CPA: kept at its current spend"
    why = flag("few_days", days="9", min_days="14")
    low = flag("low_constant", why=why, cpa="1,250", capacity="3.2")
    assert low == (
        "low confidence: only 9 days with spend (fewer than 14); constant CPA 1,250 up to 3.2 "
        "conversions/day"
    )


def test_known_russian_sentences() -> None:
    f = flag("extrapolated", times="1.25", observed="4,000")
    assert flag_text(f, RU) == (
        f"экстраполяция за пределы истории: ×1,25 от наибольшего дневного расхода (4{NBSP}000 "
        "в день)"
    )
    curve = flag("curve", shares="61% saturating, 27% power, 12% negexp")
    assert flag_text(curve, RU) == "кривая: 61% с насыщением, 27% степенная, 12% экспоненциальная"
    assert flags_text([flag("at_max"), flag("locked")], RU) == "на максимуме; зафиксирован"
    # a plain-text flag (read from a sheet) is translated when it is a whole msgid
    assert flag_text("at min", RU) == "на минимуме"
    assert flag_text("something else", RU) == "something else"


@given(st.floats(1.0001, 50.0), st.floats(1.0, 1e7))
def test_extrapolated_english_is_the_old_text_and_russian_has_its_numbers(
    ratio: float, observed: float
) -> None:
    old = f"extrapolated: x{ratio:.2f} the highest daily spend seen ({observed:,.0f} a day)"
    f = flag("extrapolated", times=f"{ratio:.2f}", observed=f"{observed:,.0f}")
    assert f == old
    said = flag_text(f, RU)
    assert f"×{ratio:.2f}".replace(".", ",") in said
    assert f"({observed:,.0f}".replace(",", NBSP) in said
    assert _latin(said, set()) == set()


def test_a_flag_survives_pickle_and_json() -> None:
    f = flag("cpa_cap", cap="40")
    back = pickle.loads(pickle.dumps(f))
    assert isinstance(back, Flag) and back.code == "cpa_cap" and back == f
    assert json.loads(json.dumps([f])) == ["at CPA cap 40"]


def test_history_line() -> None:
    first, last = dt.date(2026, 9, 2), dt.date(2026, 11, 17)
    assert history_text(77, first, last, EN) == "77 days, 2026-09-02 to 2026-11-17"
    assert history_text(1, first, first, EN) == "1 days, 2026-09-02 to 2026-09-02"  # as before
    assert history_text(77, first, last, RU) == "77 дней, с 02.09.2026 по 17.11.2026"
    assert history_text(21, first, last, RU).startswith("21 день,")
    assert history_text(3, first, last, RU).startswith("3 дня,")


@pytest.mark.parametrize("cell", ["at max; locked", "на максимуме; пределы по умолчанию"])
def test_advice_reads_the_max_in_either_language(cell: str) -> None:
    assert has_flag(cell, "at_max") and not has_flag(cell, "at_min")
    r = Recommendation("Search", 100.0, 120.0, 10.0, cell)
    assert advice(r, RU) == RU("raise the budget") + RU(
        "; at its max: room to grow, raise the max to test more"
    )


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoResult]:
    return {
        lang: run_demo(tmp_path_factory.mktemp(f"flags-{lang}"), lang=lang) for lang in ("ru", "en")
    }


def _split_sheet(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    sheet = read_split_sheet(XlsxWorkbook(path))
    flags = {c: row.get(L.SPLIT_FLAGS) for c, row in sheet.rows.items()}
    return flags, sheet.info


def test_the_russian_demos_flags_and_history_are_russian(demos: dict[str, DemoResult]) -> None:
    demo = demos["ru"]
    flags, info = _split_sheet(demo.workbook)
    channels = {w for c in flags for w in LATIN_WORD.findall(c)}
    written = [str(v) for v in flags.values() if v]
    assert written, "the demo's proposal has flags"
    for text in written:
        assert _latin(text, channels | {"CPA"}) == set(), text
    assert any("экстраполяция" in t or "на максимуме" in t for t in written)
    history = str(info["history"])
    assert re.match(r"^\d+ (день|дня|дней), с \d\d\.\d\d\.\d{4} по \d\d\.\d\d\.\d{4}", history)


def test_the_english_demos_flags_are_the_proposals(demos: dict[str, DemoResult]) -> None:
    demo = demos["en"]
    flags, info = _split_sheet(demo.workbook)
    for cp in demo.split.channels:
        assert (flags[cp.channel] or "") == "; ".join(str(f) for f in cp.flags)
    assert re.match(r"^\d+ days, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", str(info["history"]))

    # the same flags as the Russian demo's, code for code
    def codes(d: DemoResult) -> dict[str, list[str]]:
        return {cp.channel: [getattr(f, "code", f) for f in cp.flags] for cp in d.split.channels}

    assert codes(demos["ru"]) == codes(demo)


def test_confidence_and_solver_are_words_of_the_workbooks_language(
    demos: dict[str, DemoResult],
) -> None:
    ru_sheet = read_split_sheet(XlsxWorkbook(demos["ru"].workbook))
    en_sheet = read_split_sheet(XlsxWorkbook(demos["en"].workbook))
    # English: the proposal's codes as they were; Russian: the same channels, in words
    words = {"high": "высокая", "low": "низкая", "given": "задана", "none": "нет кривой"}
    for cp in demos["en"].split.channels:
        assert en_sheet.rows[cp.channel][L.SPLIT_CONFIDENCE] == cp.confidence
        assert ru_sheet.rows[cp.channel][L.SPLIT_CONFIDENCE] == words[cp.confidence]
    iterations = demos["en"].split.result.iterations
    assert en_sheet.info["solver"] == f"bisection, {iterations} iterations"
    assert ru_sheet.info["solver"] == f"бисекция, итераций: {iterations}"


def test_a_locked_channels_reason_reads_russian() -> None:
    reason = flag("no_conversions", days="10")
    said = flag_text(flag("locked_no_curve", reason=reason), RU)
    assert said == (
        "зафиксирован; кривой нет: за 10 дн. ни одной конверсии — кривую отклика не построить; "
        "исключите канал или задайте его кривую"
    )
    # English: the sentence planning.curves always raised
    assert flag("locked_no_curve", reason=reason) == (
        "locked; no curve: all 10 days have 0 conversions, so no response curve can be fitted; "
        "leave the channel out or give its curve (`given_curves`)"
    )
