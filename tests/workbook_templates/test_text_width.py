"""Text widths: the advances table agrees with the font LibreOffice draws with (DejaVu Sans,
where installed), a width-`w` column holds `w - 2` digits, and displayed numbers are
formatted as a spreadsheet shows them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import require
from hypothesis import given
from hypothesis import strategies as st

from workbook_templates.display import UnknownFormat, shown_text
from workbook_templates.text_width import _CHARS, fits, text_units, width_for

FONTS = Path("/usr/share/fonts/truetype/dejavu")


@pytest.mark.parametrize("bold", [False, True])
def test_table_matches_the_font_file(bold: bool) -> None:
    ImageFont = pytest.importorskip("PIL.ImageFont")
    regular = FONTS / "DejaVuSans.ttf"
    face = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    require("DejaVu Sans", face.exists(), "apt-get install fonts-dejavu-core")
    digit = ImageFont.truetype(str(regular), 1000).getlength("0")
    font = ImageFont.truetype(str(face), 1000)
    for ch in _CHARS:
        measured = font.getlength(ch) / digit
        # the table rounds up to a hundredth of a digit: never narrower, at most 0.01 wider
        assert measured <= text_units(ch, bold) <= measured + 0.01 + 1e-9, ch


def test_known_widths() -> None:
    # ten "8"s are ten digits; LibreOffice showed 8 of them in a width-10 column, 10 in 12
    assert text_units("8" * 10) == pytest.approx(10.0)
    assert not fits("8" * 10, 11.9) and fits("8" * 10, 12)
    assert width_for("8" * 10) == 12.0
    # an unknown character counts as the widest ("W" class), never as nothing
    assert text_units("\u4e2d") >= text_units("W")


@given(st.text(alphabet=_CHARS, max_size=30), st.text(alphabet=_CHARS, max_size=30))
def test_widths_add_up_and_bold_is_not_narrower(a: str, b: str) -> None:
    assert text_units(a + b) == pytest.approx(text_units(a) + text_units(b))
    assert text_units(a, bold=True) >= text_units(a) - 1e-9


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (1719805.33333, "#,##0", "1,719,805"),
        (1719805.33333, "#,##0.00", "1,719,805.33"),
        (-0.057082, "0.0%", "-5.7%"),
        (12, "+#,##0;-#,##0;0", "+12"),
        (-12.34, "+#,##0.0;-#,##0.0;0.0", "-12.3"),
        (0, "+0.0%;-0.0%;0.0%", "0.0%"),
        (3.836e-4, "0.000E+00", "3.836E-04"),
        (0.3836, "0.000", "0.384"),
        (dt.datetime(2026, 11, 18, 1, 0), "yyyy-mm-dd hh:mm", "2026-11-18 01:00"),
        (dt.date(2026, 11, 3), "dd.mm.yyyy", "03.11.2026"),
        (46000, "yyyy-mm-dd", "2025-12-09"),  # a serial number under a date format
        (1234567, "[$-419]#,##0", "1,234,567"),  # the Russian tag: same width as a space
        (1234567, "# ##0", "1 234 567"),
        (1234567.891, "General", "1234567.891"),
    ],
)
def test_shown_text(value: object, fmt: str, shown: str) -> None:
    assert shown_text(value, fmt) == shown


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownFormat):
        shown_text(5, "[Red]abc")
