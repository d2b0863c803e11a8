"""Sheet references and text literals rewritten inside formulas (`localize_refs`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbook_templates.localize_refs import quote_sheet, rewrite_formula, split_sheet_ref

RENAMES = {"Plan": "План", "Daily History": "История по дням", "Settings": "Настройки"}


def test_known_formulas() -> None:
    assert (
        rewrite_formula("=SUMIF(Plan!$A$5:$A$9,$A5,Plan!$C$5:$C$9)", RENAMES)
        == "=SUMIF('План'!$A$5:$A$9,$A5,'План'!$C$5:$C$9)"
    )
    assert rewrite_formula("=COUNT('Daily History'!A:A)", RENAMES) == (
        "=COUNT('История по дням'!A:A)"
    )
    assert rewrite_formula("Settings!$B$2", RENAMES) == "'Настройки'!$B$2"  # a defined name
    # a sheet not renamed, a defined name and a cell without a sheet stay as they were
    assert rewrite_formula("=Curves!A1+DaysLeft+B2", RENAMES) == "=Curves!A1+DaysLeft+B2"
    words = {"month": "месяц", "as of": "на дату"}
    assert (
        rewrite_formula('=IF(AsOf="","month","as of")', RENAMES, lambda s: words.get(s, s))
        == '=IF(AsOf="","месяц","на дату")'
    )
    assert rewrite_formula('=A1&"say ""hi"""', {}, str.upper) == '=A1&"SAY ""HI"""'


def test_quote_sheet() -> None:
    assert quote_sheet("Plan") == "Plan"
    assert quote_sheet("Daily History") == "'Daily History'"
    assert quote_sheet("План") == "'План'"
    assert quote_sheet("AB12") == "'AB12'"  # would read as a cell
    assert quote_sheet("it's") == "'it''s'"


_SHEETS = st.text(alphabet=st.sampled_from("abcXYZ пПлан'_1"), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s.strip("'") == s
)
_CELLS = st.sampled_from(["A1", "$B$2", "C3:D9", "A:A", "$E$5:$E$40"])


@given(st.lists(st.tuples(_SHEETS, _CELLS), min_size=1, max_size=4), _SHEETS)
def test_renaming_there_and_back_is_the_identity(refs: list[tuple[str, str]], new: str) -> None:
    """Any sheet renamed to any name and back gives the formula it started from, and every
    reference of the renamed formula names the new sheet."""
    old = refs[0][0]
    formula = "=" + "+".join(f"SUM({quote_sheet(s)}!{c})" for s, c in refs)
    there = rewrite_formula(formula, {old: new})
    if new != old and new not in {s for s, _ in refs}:
        assert rewrite_formula(there, {new: old}) == formula
    for (sheet, cells), part in zip(refs, there[1:].split("+"), strict=True):
        inner = part[len("SUM(") : -1]
        assert split_sheet_ref(inner) == (new if sheet == old else sheet, cells)
