"""Composed Plan headers in Russian and back (`sheets_sync.i18n.header_words`)."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from planning.funnel import DEFAULT_FUNNEL, Funnel, Stage
from sheets_sync.i18n import translator
from sheets_sync.i18n.header_words import canonical_header, localized_header
from workbook_templates import layout as L

RU = translator("ru")
EN = translator("en")


def test_known_headers_in_russian() -> None:
    assert localized_header("leads p", RU) == "лиды план"
    assert localized_header("cpa negotiations f", RU) == "CPA переговоры факт"
    assert localized_header("spend %rr", RU) == "расход прогноз % плана"
    assert localized_header("cr pp p", RU) == "CR ПП план"
    assert localized_header("romi rr", RU) == "ROMI прогноз"
    assert localized_header("channel", RU) == "канал"
    assert localized_header("my own column", RU) == "my own column"


def test_every_default_plan_header_round_trips_and_english_is_unchanged() -> None:
    names = DEFAULT_FUNNEL.names
    headers = L.plan_headers(DEFAULT_FUNNEL)
    russian = [localized_header(h, RU) for h in headers]
    assert len(set(russian)) == len(headers)  # no two columns read alike
    assert [canonical_header(h, names) for h in russian] == headers
    assert [localized_header(h, EN) for h in headers] == headers
    assert [canonical_header(h, names) for h in headers] == headers


def test_case_and_spaces_ignored_and_unknown_text_kept() -> None:
    names = DEFAULT_FUNNEL.names
    assert canonical_header("  cpa ПЕРЕГОВОРЫ Факт ", names) == "cpa negotiations f"
    assert canonical_header("Leads P", names) == "leads p"
    assert canonical_header("Итого", names) == "Total"
    assert canonical_header(" notes ", names) == "notes"
    # a Latin word that is the translation of itself stays as written
    assert [canonical_header(h, names) for h in ("CR", "ROMI", "CPA")] == ["CR", "ROMI", "CPA"]
    # "ghosts p" is not a Plan header when no stage is called "ghosts"
    assert canonical_header("ghosts p", names) == "ghosts p"


@given(st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True))
def test_user_stage_headers_round_trip(name: str) -> None:
    """A stage the catalog does not know keeps its key inside the Russian header, and every
    header of a funnel with it comes back canonical."""
    assume(name not in ("spend", "revenue", "traffic", "cpc", "roas", "romi"))
    funnel = Funnel((Stage("traffic"), Stage(name)))
    headers = L.plan_headers(funnel)
    back = [canonical_header(localized_header(h, RU), funnel.names) for h in headers]
    assert back == headers


def test_formats_in_russian() -> None:
    from sheets_sync.i18n.formats import localized_format

    assert localized_format("yyyy-mm-dd", "ru") == "dd.mm.yyyy"
    assert localized_format("yyyy-mm-dd hh:mm", "ru") == "dd.mm.yyyy hh:mm"
    assert localized_format("yyyy-mm", "ru") == "mm.yyyy"
    assert localized_format("#,##0", "ru") == "[$-419]#,##0"
    assert localized_format("+0.0%;-0.0%;0.0%", "ru") == "[$-419]+0.0%;-0.0%;0.0%"
    assert localized_format("[$-419]#,##0", "ru") == "[$-419]#,##0"  # once
    for fmt in ("General", "@", "#,##0", "yyyy-mm-dd"):
        assert localized_format(fmt, "en") == fmt
    assert localized_format("General", "ru") == "General"
    assert localized_format("@", "ru") == "@"
