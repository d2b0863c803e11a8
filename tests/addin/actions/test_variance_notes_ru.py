"""The variance decomposition's notes (issue 15): data in planning (`Note`), a sentence in the
workbook's language where they are written (`variance_texts.note_text`, the Review's variance
table); the English sentence is `Note.text`, exactly as before."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from addin.actions.review_rows import main_driver, variance_rows
from addin.actions.variance_texts import LEFT_OUT, note_text, notes_text
from planning.funnel import DEFAULT_FUNNEL, Funnel
from planning.variance import NOTES, WHERE, PlanFact, decompose, decompose_cpa
from planning.variance_total import decompose_total
from sheets_sync.i18n import translator

RU, EN = translator("ru"), translator("en")
TWO = Funnel.from_rows([("leads", "Leads", None), ("purchases", "Purchases", None)])
#: Words of the English templates that must not survive in a Russian note.
ENGLISH_WORDS = re.compile(r"\b(blank|is 0|while|left out|plan|fact|factors|gap|funnel|stage)\b")


def test_every_note_and_side_has_a_russian_text() -> None:
    for msgid in (*NOTES.values(), *WHERE, LEFT_OUT):
        assert RU.has(msgid), msgid
        assert RU(msgid) != msgid


def test_a_blank_stage_and_a_zero_spend_by_hand() -> None:
    """calls blank on both sides merges leads→calls→PP; spend 0 in fact with purchases 3 > 0."""
    line = PlanFact(
        "Search",
        {
            "spend": 100,
            "traffic": 50,
            "leads": 10,
            "calls": None,
            "pp": 5,
            "negotiations": 4,
            "purchases": 2,
        },
        {
            "spend": 0,
            "traffic": 60,
            "leads": 12,
            "calls": None,
            "pp": 6,
            "negotiations": 5,
            "purchases": 3,
        },
    )
    d = decompose(line, DEFAULT_FUNNEL)
    assert [n.code for n in d.notes] == ["zero_spend", "blank_merged"]
    assert [note_text(n, EN) for n in d.notes] == [n.text for n in d.notes]
    assert note_text(d.notes[1], RU) == (
        "нет значения «звонки» по плану и по факту: множители по обе стороны от «звонки» "
        "объединены в один"
    )
    assert note_text(d.notes[0], RU).startswith("«расход» = 0 по факту, а «покупки» — нет")


def test_a_channel_left_out_of_the_total() -> None:
    ok = PlanFact(
        "A", {"spend": 100, "leads": 10, "purchases": 2}, {"spend": 90, "leads": 9, "purchases": 3}
    )
    lost = PlanFact(
        "No CRM",
        {"spend": 100, "leads": 10, "purchases": 2},
        {"spend": 100, "leads": 10, "purchases": None},
    )
    d = decompose_total([ok, lost], DEFAULT_FUNNEL)
    first = d.notes[0]
    assert first.channel == "No CRM" and first.left_out
    assert first.text == "No CRM left out: purchases is blank in fact: no gap to decompose"
    assert note_text(first, RU) == (
        "No CRM не учтён в итоге: нет значения «покупки» по факту: отклонение не разложить"
    )


SIDE = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 7.5, 1000.0]))


@settings(max_examples=150, deadline=None)
@given(st.lists(SIDE, min_size=16, max_size=16))
def test_every_note_reads_in_both_languages(values: list[float | None]) -> None:
    """Whatever blanks and zeros: English is `Note.text`; Russian has none of the template's
    English words and keeps the names' guillemets balanced."""
    names = ("spend", *DEFAULT_FUNNEL.names, "revenue")[:8]
    line = PlanFact(
        "X", dict(zip(names, values[:8], strict=True)), dict(zip(names, values[8:], strict=True))
    )
    for d in (
        decompose(line, DEFAULT_FUNNEL),
        decompose(line, DEFAULT_FUNNEL, metric="revenue"),
        decompose_cpa(line, DEFAULT_FUNNEL),
        decompose_total([line, line], DEFAULT_FUNNEL),
    ):
        assert notes_text(d.notes, EN) == "; ".join(n.text for n in d.notes)
        for n in d.notes:
            russian = note_text(n, RU)
            assert not ENGLISH_WORDS.search(russian.replace(n.channel, "")), russian
            assert russian.count("«") == russian.count("»")


def test_the_variance_table_and_the_driver_in_russian() -> None:
    """The table's note cell is Russian; the driver's effect has a decimal comma: CR ПП →
    переговоры moved purchases by +9.9 → "+9,9"."""
    line = PlanFact(
        "A",
        {"spend": 100, "leads": 10, "purchases": None},
        {"spend": 90, "leads": 9, "purchases": 3},
    )
    rows = variance_rows("A", "purchases", decompose(line, DEFAULT_FUNNEL), RU)
    assert rows[0][-1].startswith("нет значения «трафик» по плану и по факту")
    two = PlanFact(
        "B",
        {"spend": 100.0, "leads": 10.0, "purchases": 1.0},
        {"spend": 100.0, "leads": 10.0, "purchases": 10.9},
    )
    d = decompose(two, TWO)
    # only CR leads → purchases moved: its part is the whole gap 10.9 − 1 = 9.9
    assert main_driver(d, RU, worst=False) == "CR Лиды → Покупки (+9,9)"
    assert main_driver(d, EN, worst=False) == "CR Leads → Purchases (+9.9)"
