"""`one_line`: any text (an error echoing a binary file's bytes) becomes one printable line of
bounded length, and Data Quality's quarantine title says how many rows it does not list."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from sheets_sync.one_line import LIMIT, one_line
from workbook_templates.quality_sheet import QUARANTINE_SHOWN, quarantine_title

SUFFIX = re.compile(r" … \((\d+) more characters\)$")


@given(st.text(max_size=3000))
def test_one_line_is_printable_single_and_bounded(text: str) -> None:
    out = one_line(text)
    assert out.isprintable()  # no newline, tab, NUL or other control character
    assert len(SUFFIX.sub("", out)) <= LIMIT
    assert out == out.strip()


@given(st.text(alphabet=st.characters(categories=["L", "N", "P"]), max_size=LIMIT))
def test_short_plain_text_is_kept_as_it_is(text: str) -> None:
    assume(not re.search(r"(.)\1{8}", text, re.DOTALL))  # no run long enough to be counted
    assert one_line(text) == text


def test_binary_bytes_are_escaped_and_cut() -> None:
    garbage = (bytes(range(256)) * 16).decode("cp1251", errors="replace")  # 4,096 characters
    out = one_line(f"saw {garbage!r}")
    assert out.startswith("saw '\\x00\\x01\\x02")
    m = SUFFIX.search(out)
    assert m is not None and int(m.group(1)) > 3000


def test_runs_are_counted() -> None:
    # 10,000 NULs, raw or as a reader's repr: three shown, then the count
    assert one_line("saw '" + "\x00" * 10_000 + "'") == "saw '\\x00\\x00\\x00…(×10000)'"
    assert one_line(f"saw {chr(0) * 10_000!r}") == "saw '\\x00\\x00\\x00…(×10000)'"
    assert one_line("a\n\n  b\tc") == "a b c"


def test_quarantine_title_says_what_is_not_shown() -> None:
    assert quarantine_title(12, 12) == "Quarantined rows: 12 (all shown)"
    title = quarantine_title(156, QUARANTINE_SHOWN)
    assert title.startswith("Quarantined rows: 156 (showing the first 50 of 156;")
    assert "fact store" in title and "funnelplan inspect" in title
