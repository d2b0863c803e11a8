"""Data Quality's sentences translated at display time (sheets_sync.quality_text)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheets_sync.i18n import translator
from sheets_sync.quality_text import TEMPLATES, localize_line, localize_number

RU = translator("ru")


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_is_translated(template: str) -> None:
    assert RU.has(template) and RU.gettext(template) != template
    # the translation keeps exactly the template's placeholders (no typo'd {name})
    assert set(_fields(RU.gettext(template))) == set(_fields(template))


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_is_recognised_as_itself(template: str) -> None:
    """Filled with tokens no other template or catalog word could take, every template is
    matched by itself (none shadows another) and comes back in Russian with the tokens."""
    tokens = {name: f"Tok{i}x" for i, name in enumerate(dict.fromkeys(_fields(template)))}
    text = template.format(**tokens)
    assert localize_line(RU, text) == RU.gettext(template).format(**tokens)


def test_known_lines_by_hand() -> None:
    cases = {
        "crm: 3 rows quarantined (Data Quality sheet)": (
            "crm: строк в карантине: 3 (лист «Качество данных»)"
        ),
        "ads: 12.5% of the spend is unmapped (see the Unmapped sheet)": (
            "ads: 12,5\u00a0% расхода не сопоставлено (см. лист «Несопоставленные»)"
        ),
        "yd: no fresh data for more than 6 h (latest data 2026-11-17 08:00)": (
            "yd: нет свежих данных дольше 6 ч (последние данные 17.11.2026 08:00)"
        ),
        "yd: no fresh data for more than 6 h (no data)": (
            "yd: нет свежих данных дольше 6 ч (данных нет)"
        ),
        # a nested template (the size) and a reason no template knows (kept as written)
        "crm: file x.csv (1,234 bytes) could not be read and was quarantined: not a table": (
            "crm: файл x.csv (байт: 1\u00a0234) не удалось прочитать, он в карантине: not a table"
        ),
        "crm: file e.csv (1 byte) could not be read and was quarantined: date is blank": (
            "crm: файл e.csv (1 байт) не удалось прочитать, он в карантине: дата не указана"
        ),
        "Total: ad platforms report 1,200 conversions, CRM 1,000 leads (+20.0%)": (
            "Total: в кабинетах конверсий 1\u00a0200, в CRM лидов 1\u00a0000 (+20,0\u00a0%)"
        ),
        "spend is negative": "расход: отрицательное значение",
        "is not a date (expected dd.mm.yyyy)": "не дата (ожидается dd.mm.yyyy)",
        "something no template knows": "something no template knows",
    }
    for english, russian in cases.items():
        assert localize_line(RU, english) == russian
        assert localize_line(translator("en"), english) == english


def test_channel_names_are_not_translated() -> None:
    """A channel called like a catalog word ("Total", "spend") stays as it is."""
    line = "spend: ad platforms report 10 conversions, CRM 0 leads (CRM has none)"
    assert (
        localize_line(RU, line)
        == "spend: в кабинетах конверсий 10, в CRM лидов 0 (в CRM нет ни одного)"
    )


def test_localize_number_by_hand() -> None:
    assert localize_number("11,300,000.00", "ru") == "11\u00a0300\u00a0000,00"
    assert localize_number("-0.5%", "ru") == "-0,5\u00a0%"
    assert localize_number("+12.00", "ru") == "+12,00"
    assert localize_number("abc", "ru") == "abc"
    assert localize_number("1,234.5", "en") == "1,234.5"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_localize_number_keeps_the_value(x: float) -> None:
    english = f"{x:,.2f}"
    russian = localize_number(english, "ru")
    assert "." not in russian
    back = float(russian.replace("\u00a0", "").replace(",", "."))
    assert back == float(english.replace(",", ""))
