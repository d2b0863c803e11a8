"""Mapping rules: reading the Mapping sheet's rows, first match wins, vectorised mapping."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sheets_sync.mapping as mapping_module
from planning.errors import InputError
from sheets_sync.mapping import MAPPING_HEADERS, Rule, map_facts, rules_from_records


def record(
    field: str = "utm_campaign",
    match: str = "exact",
    pattern: str = "brand",
    channel: str = "Google Search",
    campaign: str = "",
    source: str = "",
) -> dict[str, Any]:
    return dict(
        zip(MAPPING_HEADERS, (source, field, match, pattern, channel, campaign), strict=True)
    )


def facts(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """Fact rows from (source, utm_source, utm_medium, utm_campaign), value = position."""
    frame = pd.DataFrame(rows, columns=["source", "utm_source", "utm_medium", "utm_campaign"])
    frame["value"] = np.arange(len(frame), dtype=np.float64)
    return frame


RULES = rules_from_records(
    [
        record("utm_campaign", "exact", "  Brand ", "Google Search", "Brand"),
        record("utm_campaign", "contains", "retarget", "VK Ads", "", source="vk_ads"),
        record("utm_source", "regex", r"^(fb|facebook)$", "Meta Ads", "Prospecting"),
        {h: None for h in MAPPING_HEADERS},  # a blank row: skipped, not numbered
        record("utm_medium", "exact", "cpc", "Other paid", "All"),
    ],
    first_row=2,
)


def test_rules_are_read_stripped_and_numbered() -> None:
    assert [r.row for r in RULES] == [2, 3, 4, 6]
    first = RULES[0]
    assert (first.source, first.field, first.match, first.pattern) == (
        "",
        "utm_campaign",
        "exact",
        "Brand",
    )
    assert RULES[1].source == "vk_ads" and RULES[1].campaign == ""
    assert RULES[2].regex is not None and RULES[2].regex.flags & re.IGNORECASE


def test_known_rows_map_by_hand() -> None:
    frame = facts(
        ("google_ads", "google", "cpc", "brand"),  # rule 1 (exact, case and spaces ignored)
        ("google_ads", "google", "cpc", " BRAND  "),  # rule 1
        ("vk_ads", "vk", "cpc", "Retargeting Nov"),  # rule 2, campaign from utm_campaign
        ("other", "vk", "cpc", "Retargeting Nov"),  # not vk_ads: rule 2 skipped -> rule 4
        ("meta_ads", "FB", "paid", "Lookalike"),  # rule 3 (regex, case-insensitive)
        ("meta_ads", "fbx", "paid", "Lookalike"),  # regex anchored: no match -> unmapped
        ("crm", "", "", ""),  # unmapped
        ("google_ads", "google", "cpc", "brand"),  # repeats row 0
    )
    out = map_facts(frame, RULES)
    assert out["rule"].tolist() == [1, 1, 2, 4, 3, 0, 0, 1]
    assert out["channel"].tolist() == [
        "Google Search",
        "Google Search",
        "VK Ads",
        "Other paid",
        "Meta Ads",
        "",
        "",
        "Google Search",
    ]
    assert out["campaign"].tolist() == [
        "Brand",
        "Brand",
        "Retargeting Nov",
        "All",
        "Prospecting",
        "",
        "",
        "Brand",
    ]
    # The input's columns and order are kept; the input is not changed.
    assert out.columns.tolist() == [*frame.columns, "channel", "campaign", "rule"]
    assert out["value"].tolist() == frame["value"].tolist()
    assert "rule" not in frame.columns
    assert out["rule"].dtype == np.int64


def test_source_names_match_ignoring_case() -> None:
    out = map_facts(facts(("VK_Ads ", "vk", "cpc", "retarget")), RULES)
    assert out["rule"].tolist() == [2]


def test_no_rules_and_no_rows() -> None:
    out = map_facts(facts(("a", "b", "c", "d")), [])
    assert out[["channel", "campaign", "rule"]].to_numpy().tolist() == [["", "", 0]]
    empty = map_facts(facts(), RULES)
    assert empty.empty and empty.columns.tolist()[-3:] == ["channel", "campaign", "rule"]


def test_missing_values_count_as_blank() -> None:
    frame = pd.DataFrame(
        {
            "source": ["crm", None],
            "utm_source": [None, "google"],
            "utm_medium": [np.nan, "cpc"],
            "utm_campaign": ["Brand", None],
        }
    )
    out = map_facts(frame, RULES)
    assert out["rule"].tolist() == [1, 4]


def test_matching_runs_once_per_distinct_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = Rule.matches

    def counting(self: Rule, values: pd.Series) -> np.ndarray:
        calls.append(len(values))
        return original(self, values)

    monkeypatch.setattr(mapping_module.Rule, "matches", counting)
    n = 1_000_000
    campaigns = np.array([f"camp {i}" for i in range(2000)] + ["Brand"], dtype=object)
    frame = pd.DataFrame(
        {
            "source": "google_ads",
            "utm_source": "google",
            "utm_medium": np.where(np.arange(n) % 2 == 0, "cpc", "display"),
            "utm_campaign": campaigns[np.arange(n) % len(campaigns)],
        }
    )
    out = map_facts(frame, RULES)
    # 2001 campaigns x 2 media = 4002 distinct keys (each campaign meets both media);
    # rule 1 looks at all of them, every later rule only at what is still unmapped.
    assert calls[0] == 4002 and all(c <= 4002 for c in calls)
    assert int((out["rule"] == 1).sum()) == len(frame[frame["utm_campaign"] == "Brand"])
    assert set(out.loc[out["utm_medium"] == "cpc", "rule"]) <= {1, 4}


@pytest.mark.parametrize(
    ("row", "text"),
    [
        (record(field="utm_term"), "Mapping!B7 (field): value 'utm_term' is not utm_source"),
        (record(field=" "), "Mapping!B7 (field): is missing: use utm_source, utm_medium"),
        (
            record(match="fuzzy"),
            "Mapping!C7 (match): value 'fuzzy' is not exact, contains or regex",
        ),
        (record(pattern=""), "Mapping!D7 (pattern): is missing"),
        (
            record(match="regex", pattern="(brand"),
            "Mapping!D7 (pattern): value '(brand' is not a valid regular expression "
            "(missing ), unterminated subpattern at position 0)",
        ),
        (record(channel="  "), "Mapping!E7 (channel): is missing: name the plan line's channel"),
    ],
)
def test_bad_rules_name_the_mapping_cell(row: dict[str, Any], text: str) -> None:
    records = [record()] * 5 + [row]  # the bad rule is the sixth, on sheet row 7
    with pytest.raises(InputError, match="^" + re.escape(text)):
        rules_from_records(records, first_row=2)


def test_headers_are_checked_and_cells_are_texts() -> None:
    with pytest.raises(InputError, match="the Mapping sheet is missing the columns: channel"):
        rules_from_records([{k: v for k, v in record().items() if k != "channel"}])
    # Header names ignore case and spaces; a number typed in a cell is its text.
    row = {f" {k.upper()} ": v for k, v in record(pattern="", channel="Ch").items()}
    row[" PATTERN "] = 2026.0
    (rule,) = rules_from_records([row])
    assert rule.pattern == "2026" and rule.row == 2
    assert map_facts(facts(("s", "", "", "2026")), [rule])["rule"].tolist() == [1]


def test_rules_built_in_code_are_checked() -> None:
    with pytest.raises(InputError, match="`field` must be one of"):
        Rule("", "term", "exact", "x", "C", "")
    rule = Rule("", "utm_source", "regex", "^g", "Google", "")
    assert map_facts(facts(("s", "Google", "", "x")), [rule])["campaign"].tolist() == ["x"]


# --------------------------------------------------------------------------- properties

WORDS = ["brand", "Brand ", "generic", "retarget", "vk", "google", "cpc", "", "x1"]


@st.composite
def rule_lists(draw: st.DrawFn) -> list[Rule]:
    rules = []
    for _ in range(draw(st.integers(0, 5))):
        match = draw(st.sampled_from(["exact", "contains", "regex"]))
        word = draw(st.sampled_from([w for w in WORDS if w.strip()]))
        pattern = re.escape(word.strip()) if match == "regex" else word
        rules.append(
            Rule(
                source=draw(st.sampled_from(["", "a", "b"])),
                field=draw(st.sampled_from(["utm_source", "utm_medium", "utm_campaign"])),
                match=match,
                pattern=pattern,
                channel=draw(st.sampled_from(["C1", "C2"])),
                campaign=draw(st.sampled_from(["", "K"])),
            )
        )
    return rules


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "A "]),
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
    ),
    max_size=30,
)


def reference(row: tuple[str, str, str, str], rules: list[Rule]) -> tuple[int, str, str]:
    """One row mapped the slow, obvious way: try every rule in order."""
    source, *values = (v.strip().casefold() for v in row)
    by_field = dict(zip(("utm_source", "utm_medium", "utm_campaign"), values, strict=True))
    for number, rule in enumerate(rules, start=1):
        if rule.source and rule.source.casefold() != source:
            continue
        value = by_field[rule.field]
        pattern = rule.pattern.strip().casefold()
        hit = {
            "exact": value == pattern,
            "contains": pattern in value,
            "regex": re.search(rule.pattern, value, re.IGNORECASE) is not None,
        }[rule.match]
        if hit:
            return number, rule.channel, rule.campaign or row[3].strip()
    return 0, "", ""


@settings(max_examples=150, deadline=None)
@given(rows_strategy, rule_lists())
def test_first_match_wins_and_every_row_is_mapped_or_rule_0(
    rows: list[tuple[str, str, str, str]], rules: list[Rule]
) -> None:
    out = map_facts(facts(*rows), rules)
    assert len(out) == len(rows)
    got = list(zip(out["rule"], out["channel"], out["campaign"], strict=True))
    assert got == [reference(row, rules) for row in rows]
    assert ((out["rule"] == 0) == (out["channel"] == "")).all()
    assert out["rule"].between(0, len(rules)).all()
