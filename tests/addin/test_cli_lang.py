"""`--lang` on `template`, `demo` and `new-month`: the workbook's language, and New Month
keeping the source workbook's language unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from addin.cli.main import main
from sheets_sync.i18n import translator
from workbook_templates import layout as L

RU = translator("ru")


def _language(book: Path) -> tuple[list[str], str]:
    """The sheet names and the Settings `language` item (the key/value table's last row)."""
    wb = openpyxl.load_workbook(book)
    settings = wb[L.SETTINGS] if L.SETTINGS in wb.sheetnames else wb[RU(L.SETTINGS)]
    last = max(r for r in range(2, 20) if settings.cell(row=r, column=1).value)
    return wb.sheetnames, str(settings.cell(row=last, column=2).value)


def _template(tmp_path: Path, name: str, *lang: str) -> Path:
    lines = tmp_path / "lines.csv"
    lines.write_text("channel,campaign,spend p,leads p\nSearch,brand,100000,100\n")
    book = tmp_path / name
    args = ["template", "--month", "2026-11", "--out", str(book), "--lines", str(lines)]
    result = CliRunner().invoke(main, [*args, *lang])
    assert result.exit_code == 0, result.output
    return book


def test_template_lang(tmp_path: Path) -> None:
    names, lang = _language(_template(tmp_path, "ru.xlsx", "--lang", "ru"))
    assert (names[:2], lang) == (["Сводка", "План"], "ru")
    names, lang = _language(_template(tmp_path, "en.xlsx", "--lang", "EN"))
    assert (names[:2], lang) == ([L.EXECUTIVE, L.PLAN], "en")
    result = CliRunner().invoke(main, ["template", "--month", "2026-11", "--lang", "de"])
    assert result.exit_code != 0 and "de" in result.output


def test_new_month_keeps_the_language_or_takes_lang(tmp_path: Path) -> None:
    ru_book = _template(tmp_path, "plan-2026-11.xlsx", "--lang", "ru")
    runner = CliRunner()
    result = runner.invoke(main, ["new-month", str(ru_book)])
    assert result.exit_code == 0, result.output
    names, lang = _language(tmp_path / "plan-2026-12.xlsx")
    assert (names[1], lang) == ("План", "ru")
    out = tmp_path / "en-next.xlsx"
    result = runner.invoke(main, ["new-month", str(ru_book), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    names, lang = _language(out)
    assert (names[1], lang) == (L.PLAN, "en")
