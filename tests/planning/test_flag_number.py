"""Numbers inside Optimize Split's flags (planning.curves.flag_number): grouped thousands, never
an exponent (``,.3g`` wrote a capacity of 1,234 conversions a day as ``1.23e+03``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.curves import flag_number


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1234.4, "1,234"),
        (1500.0, "1,500"),
        (126_000.0, "126,000"),
        (250.4, "250"),
        (12.5, "12.5"),
        (0.123456, "0.123"),
        (0.0, "0"),
    ],
)
def test_flag_number_by_hand(x: float, text: str) -> None:
    assert flag_number(x) == text


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_flag_number_has_no_exponent_and_keeps_the_value(x: float) -> None:
    text = flag_number(x)
    assert "e" not in text
    assert float(text.replace(",", "")) == pytest.approx(x, rel=5e-3, abs=0.5)
