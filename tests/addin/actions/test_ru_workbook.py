"""Every button on the demo workbook in Russian, beside the same run in English (issue 16).

The demo month is built twice from the same seed, once with `lang="en"` and once with
`lang="ru"` (sheet names, headers and labels translated by the template), and the buttons are
pressed in the same order on both through the xlsx adapter. Each succeeds on the Russian book
and says so in Russian; after each, every cell the English run holds is filled in the Russian
one at the same place of the sheet with the same role, and every number and date is equal
(texts differ: they are translated, and formulas name the Russian sheets).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin.actions.base import ActionContext
from addin.cli.demo import DEMO_DAY, DEMO_MONTH, SYNC_HOUR, plan_lines, write_history
from addin.registry import dispatch
from planning.runrate import parse_month
from sheets_sync.i18n import translator
from sheets_sync.samples.data import generate_sample
from sheets_sync.samples.exports import write_sample_config, write_sample_exports
from sheets_sync.sync_config import load_config
from sheets_sync.workbooks.roles import language_of
from sheets_sync.workbooks.xlsx import XlsxWorkbook, save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

RU = translator("ru")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)

#: The buttons in the order pressed; New Month last (it writes the next month's workbook).
BUTTONS = (
    "sync_facts",
    "refresh_runrate",
    "refresh_cohorts",
    "optimize_split",
    "compare_scenarios",
    "check_alerts",
    "apply_split",
    "undo_split",
    "new_month",
)

Cells = dict[tuple[str, str], Any]


def _demo(out: Path, lang: str) -> tuple[Path, Path, dt.datetime]:
    """The demo's exports, sync.toml and workbook in `lang` (as `funnelplan demo` makes them,
    before its first sync); (workbook, sync config, the sync's clock)."""
    start = parse_month(DEMO_MONTH)
    as_of = start.replace(day=DEMO_DAY)
    sample = generate_sample(start, as_of=as_of, seed=7)
    config_path = write_sample_config(out, start)
    config = load_config(config_path)
    write_sample_exports(sample, out / "exports", seed=7)
    spec = PlanWorkbookSpec(
        month=start, lines=plan_lines(sample.plan), as_of=as_of, mapping=config.mapping, lang=lang
    )
    save_atomic(build_plan_workbook(spec), config.workbook)
    now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(SYNC_HOUR))
    return config.workbook, config_path, now


def _cells(path: Path) -> Cells:
    """Every filled cell by (sheet role, coordinate)."""
    roles = XlsxWorkbook(path).roles()
    book = openpyxl.load_workbook(path)
    return {
        (roles.role(ws.title), cell.coordinate): cell.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    }


def _run(out: Path, lang: str) -> tuple[dict[str, str], dict[str, Cells], Path]:
    book, config, now = _demo(out, lang)
    said: dict[str, str] = {}
    after: dict[str, Cells] = {}
    for button in BUTTONS:
        ctx = ActionContext.of_file(book, sync_config=config, now=now)
        said[button] = dispatch(button, ctx)
        after[button] = _cells(book)
        if button == "sync_facts":  # the demo's channel history, as `funnelplan demo` writes it
            write_history(book, load_config(config), parse_month(DEMO_MONTH))
    return said, after, book


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {lang: _run(tmp_path_factory.mktemp(f"demo-{lang}"), lang) for lang in ("en", "ru")}


def _same(en: Any, ru: Any) -> bool:
    if isinstance(en, bool) or isinstance(ru, bool):
        return en == ru
    if isinstance(en, int | float) and isinstance(ru, int | float):
        return math.isclose(en, ru, rel_tol=1e-9, abs_tol=1e-9)
    return bool(en == ru)


@pytest.mark.parametrize("button", BUTTONS)
def test_button_writes_the_same_numbers_in_russian(runs: dict[str, Any], button: str) -> None:
    en, ru = runs["en"][1][button], runs["ru"][1][button]
    missing = sorted(k for k in en if k not in ru)
    assert not missing[:20], f"{button}: cells the English run fills are blank in Russian"
    differ = [
        (key, en[key], ru[key])
        for key in en
        if not isinstance(en[key], str) and not _same(en[key], ru[key])
    ]
    assert not differ[:20], f"{button}: numbers differ"
    extra = sorted(k for k in ru if k not in en and k[0] != "Glossary")
    assert not extra[:20], f"{button}: cells the Russian run fills and the English one not"


@pytest.mark.parametrize("button", BUTTONS)
def test_button_speaks_russian(runs: dict[str, Any], button: str) -> None:
    text = runs["ru"][0][button]
    assert CYRILLIC.search(text), text
    assert not CYRILLIC.search(runs["en"][0][button])


def test_russian_sheets_keep_russian_names(runs: dict[str, Any]) -> None:
    """The sheets the buttons added or wrote have their Russian names; the English book none."""
    ru_book = openpyxl.load_workbook(runs["ru"][2])
    for role in ("Plan", "Daily", "Data Quality", "Optimize Split", "Split Undo", "Cohorts"):
        assert RU(role) in ru_book.sheetnames and RU(role) != role
    assert language_of(XlsxWorkbook(runs["ru"][2])) == "ru"


def test_new_month_keeps_the_language(runs: dict[str, Any]) -> None:
    folder = runs["ru"][2].parent
    new = [p for p in folder.glob("*.xlsx") if p != runs["ru"][2] and not p.name.startswith(".")]
    assert len(new) == 1
    book = XlsxWorkbook(new[0])
    assert language_of(book) == "ru"
    assert RU("Plan") in openpyxl.load_workbook(new[0]).sheetnames


def test_cli_alerts_speaks_the_workbooks_language(runs: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from addin.cli.main import main

    now = "2026-11-18T01:00"
    ru = CliRunner().invoke(main, ["alerts", str(runs["ru"][2]), "--now", now])
    assert ru.exit_code == 0, ru.output
    assert ru.output.startswith("Алерты: на 17.11.2026"), ru.output
    en = CliRunner().invoke(main, ["alerts", str(runs["en"][2]), "--now", now])
    assert en.exit_code == 0 and en.output.startswith("Alerts: "), en.output


def test_runtime_headers_stay_russian(runs: dict[str, Any]) -> None:
    """Sync Facts rewrites the Daily sheet's header row: in Russian, as the template drew it."""
    cells = runs["ru"][1]["sync_facts"]
    header = [v for (sheet, ref), v in sorted(cells.items()) if sheet == "Daily" and ref[1:] == "1"]
    assert header and all(CYRILLIC.search(str(v)) for v in header), header
