"""CRM deals mapped with the Mapping rules exactly like the facts; the deals no rule matches
counted per source and UTM keys, never dropped silently; the plan line each deal reaches."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from sheets_sync.deal_mapping import UNMAPPED_COLUMNS, map_deals
from sheets_sync.facts import DEAL_COLUMNS, empty_deals
from sheets_sync.mapping import Rule, map_facts, match_lines

RULES = [
    Rule("", "utm_campaign", "exact", "brand", "Search", "Brand"),
    Rule("crm", "utm_source", "contains", "face", "Meta", ""),
]


def deals(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Rows (source, utm_source, utm_campaign), created on Nov 1."""
    frame = pd.DataFrame(
        {
            "source": [r[0] for r in rows],
            "id": [str(i) for i in range(len(rows))],
            "utm_source": [r[1] for r in rows],
            "utm_medium": "cpc",
            "utm_campaign": [r[2] for r in rows],
            "created": pd.Timestamp("2026-11-01"),
            "pp": pd.NaT,
            "negotiations": pd.NaT,
            "purchases": pd.NaT,
            "revenue": 0.0,
        },
        columns=list(DEAL_COLUMNS),
    )
    return frame


def test_deals_take_the_rules_channel_and_campaign_and_the_rest_are_counted() -> None:
    mapped = map_deals(
        deals(
            [
                ("crm", "google", " BRAND "),  # rule 1 (case and spaces ignored)
                ("crm", "facebook", "lookalike"),  # rule 2: its own campaign
                ("other", "facebook", "lookalike"),  # rule 2 is for source crm only
                ("crm", "google", "generic"),
                ("crm", "google", "generic"),
            ]
        ),
        RULES,
    )
    got = mapped.deals
    assert got["channel"].tolist() == ["Search", "Meta"]
    assert got["campaign"].tolist() == ["Brand", "lookalike"]
    assert got["rule"].tolist() == [1, 2]
    assert list(mapped.unmapped.columns) == list(UNMAPPED_COLUMNS)
    assert mapped.unmapped.to_dict("records") == [
        {
            "source": "crm",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "generic",
            "deals": 2,
        },
        {
            "source": "other",
            "utm_source": "facebook",
            "utm_medium": "cpc",
            "utm_campaign": "lookalike",
            "deals": 1,
        },
    ]
    assert mapped.unmapped_deals == 3
    plan = pd.DataFrame({"channel": ["search", "Meta"], "campaign": ["brand", ""]})
    # Search/Brand matches the first line (case ignored); Meta/lookalike the channel's blank line
    assert match_lines(got, plan).tolist() == [0, 1]


def test_no_deals_and_a_bad_frame() -> None:
    mapped = map_deals(empty_deals(), RULES)
    assert mapped.deals.empty and mapped.unmapped.empty and mapped.unmapped_deals == 0
    with pytest.raises(InputError, match="created"):
        map_deals(deals([("crm", "g", "brand")]).drop(columns=["created"]), RULES)


_row = st.tuples(
    st.sampled_from(["crm", "other"]),
    st.sampled_from(["google", "facebook", "vk"]),
    st.sampled_from(["brand", "Brand ", "generic", ""]),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(_row, max_size=30))
def test_every_deal_is_mapped_or_counted_and_maps_like_a_fact(
    rows: list[tuple[str, str, str]],
) -> None:
    frame = deals(rows)
    mapped = map_deals(frame, RULES)
    assert len(mapped.deals) + mapped.unmapped_deals == len(frame)
    facts = map_facts(frame[["source", "utm_source", "utm_medium", "utm_campaign"]], RULES)
    hit = facts[facts["rule"] > 0]
    assert mapped.deals["channel"].tolist() == hit["channel"].tolist()
    assert mapped.deals["campaign"].tolist() == hit["campaign"].tolist()
