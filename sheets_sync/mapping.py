"""Mapping rules: which plan line (channel, campaign) a source fact row belongs to.

The rules live in the workbook's ``Mapping`` sheet, header in row 1, one rule per row below:

=============  ==============================================================================
data source    a source name from the sync config, or blank for any source
field          ``utm_source``, ``utm_medium`` or ``utm_campaign``: the row value matched
match          ``exact``, ``contains`` or ``regex`` (a regular expression searched anywhere
               in the value; anchor it with ``^``/``$`` for a whole match)
pattern        what the value is compared with
channel        the plan line's channel
campaign       the plan line's campaign; blank = the row's own utm_campaign
=============  ==============================================================================

Matching ignores case and surrounding spaces (of the value, the pattern and the source name).
The first rule that matches a row wins; a row no rule matches is unmapped (``rule`` 0). Rule
numbers are 1-based positions in the rule list (blank sheet rows are skipped and not numbered);
`Rule.row` keeps the sheet row for messages.

`match_lines` then finds each mapped row's plan line (channel and campaign, ignoring case and
surrounding spaces; else the channel's line with a blank campaign): the facts and the CRM deals
(`sheets_sync.deal_mapping`) reach the Plan the same way.

`map_facts` matches once per distinct (source, utm_source, utm_medium, utm_campaign) and
spreads the answer back to the rows, so a million fact rows with a few thousand campaigns map in
well under a second.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planning.errors import InputError
from sheets_sync.facts import require_columns

__all__ = [
    "FIELDS",
    "MAPPING_HEADERS",
    "MAPPING_SHEET",
    "MATCHES",
    "Rule",
    "map_facts",
    "match_lines",
    "rule_row",
    "rules_from_records",
]

MAPPING_SHEET = "Mapping"
"""The sheet's name (`workbook_templates.layout.MAPPING`)."""
MAPPING_HEADERS: tuple[str, ...] = (
    "data source",
    "field",
    "match",
    "pattern",
    "channel",
    "campaign",
)
FIELDS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign")
MATCHES: tuple[str, ...] = ("exact", "contains", "regex")
KEY_COLUMNS: tuple[str, ...] = ("source", *FIELDS)
"""The fact columns rules look at; matching runs once per distinct combination."""


@dataclass(frozen=True)
class Rule:
    """One Mapping-sheet rule (texts stripped; `source`, `match` and `field` lower-cased)."""

    source: str
    """Source name the rule is limited to, ``""`` for any source."""
    field: str
    match: str
    pattern: str
    channel: str
    campaign: str
    """``""``: take the row's utm_campaign as the campaign."""
    row: int = 0
    """The Mapping sheet row the rule came from (0 when built in code)."""
    regex: re.Pattern[str] | None = dataclasses.field(default=None, compare=False, repr=False)
    """The compiled pattern of a ``regex`` rule (compiled on creation)."""

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise InputError(
                f"`field` must be one of {', '.join(FIELDS)}, got {self.field!r}",
                value=self.field,
                has_value=False,
            )
        if self.match not in MATCHES:
            raise InputError(
                f"`match` must be one of {', '.join(MATCHES)}, got {self.match!r}",
                value=self.match,
                has_value=False,
            )
        if self.match == "regex" and self.regex is None:
            object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))

    def matches(self, values: pd.Series) -> np.ndarray:
        """Which of `values` (texts already stripped and case-folded) the pattern matches."""
        pattern = self.pattern.strip().casefold()
        if self.match == "exact":
            return (values == pattern).to_numpy(dtype=bool)
        if self.match == "contains":
            return values.str.contains(pattern, regex=False).to_numpy(dtype=bool)
        regex = self.regex
        assert regex is not None
        return np.fromiter((regex.search(v) is not None for v in values), bool, len(values))


def _cell(header: str, row: int) -> str:
    return f"{MAPPING_SHEET}!{chr(ord('A') + MAPPING_HEADERS.index(header))}{row}"


def _text(value: Any) -> str:
    """A cell value as stripped text (blank for None/NaN; 2026.0 -> "2026")."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _error(header: str, row: int, value: Any, reason: str) -> InputError:
    shown = f"value {value!r} " if value != "" else ""
    return InputError(
        f"{_cell(header, row)} ({header}): {shown}{reason}", value=value, has_value=False
    )


def _one_of(text: str, allowed: Sequence[str]) -> str:
    choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
    return f"is missing: use {choices}" if not text else f"is not {choices}"


def rule_row(record: Mapping[str, Any]) -> list[Any]:
    """A rule record (keyed by `MAPPING_HEADERS`, as the sync config's ``[[mapping]]`` gives
    them) as a Mapping sheet row in header order; a blank or missing cell is None."""
    return [record.get(h) or None for h in MAPPING_HEADERS]


def rules_from_records(records: Sequence[Mapping[str, Any]], first_row: int = 2) -> list[Rule]:
    """The rules of the Mapping sheet's rows, in order.

    `records` are the rows as dicts keyed by the headers (`MAPPING_HEADERS`; matched ignoring
    case and surrounding spaces), `first_row` the sheet row of ``records[0]`` (2 under the
    header). Fully blank rows are skipped. A bad cell raises `InputError` naming it, e.g.
    ``Mapping!D7 (pattern): value '[' is not a valid regular expression (...)``.
    """
    rules: list[Rule] = []
    for offset, record in enumerate(records):
        row = first_row + offset
        cells = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
        missing = [h for h in MAPPING_HEADERS if h not in cells]
        if missing:
            raise InputError(
                f"the {MAPPING_SHEET} sheet is missing the columns: {', '.join(missing)} "
                f"(its header row must be: {', '.join(MAPPING_HEADERS)})",
                value=missing,
                has_value=False,
            )
        texts = {h: _text(cells[h]) for h in MAPPING_HEADERS}
        if not any(texts.values()):
            continue
        field_name = texts["field"].lower()
        if field_name not in FIELDS:
            raise _error("field", row, texts["field"], _one_of(field_name, FIELDS))
        match = texts["match"].lower()
        if match not in MATCHES:
            raise _error("match", row, texts["match"], _one_of(match, MATCHES))
        pattern = texts["pattern"]
        if not pattern:
            raise _error("pattern", row, "", "is missing")
        regex = None
        if match == "regex":
            try:
                regex = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise _error(
                    "pattern", row, pattern, f"is not a valid regular expression ({exc})"
                ) from None
        if not texts["channel"]:
            raise _error("channel", row, "", "is missing: name the plan line's channel")
        rules.append(
            Rule(
                source=texts["data source"].lower(),
                field=field_name,
                match=match,
                pattern=pattern,
                channel=texts["channel"],
                campaign=texts["campaign"],
                row=row,
                regex=regex,
            )
        )
    return rules


def map_facts(facts: pd.DataFrame, rules: Sequence[Rule]) -> pd.DataFrame:
    """`facts` with ``channel``, ``campaign`` and ``rule`` columns added (a new frame).

    ``rule`` is the 1-based number of the first rule that matched, 0 when none did (then
    ``channel`` and ``campaign`` are ``""``). A rule with a blank campaign gives the row's
    utm_campaign (stripped). `facts` needs ``source``, ``utm_source``, ``utm_medium`` and
    ``utm_campaign`` (missing values count as blank); other columns are kept as they are.
    """
    require_columns(facts, KEY_COLUMNS, "facts", "are")
    for number, rule in enumerate(rules, start=1):
        if not isinstance(rule, Rule):
            raise InputError(f"rule {number} is not a Rule, got {type(rule).__name__}")
    out = facts.copy()
    if facts.empty:
        out["channel"] = pd.Series(dtype=object)
        out["campaign"] = pd.Series(dtype=object)
        out["rule"] = pd.Series(dtype="int64")
        return out

    keys = facts[list(KEY_COLUMNS)]
    codes = keys.groupby(list(KEY_COLUMNS), sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]  # first row of group 0, 1, 2, ...
    combos = keys.iloc[first].reset_index(drop=True)
    folded = {c: combos[c].fillna("").astype(str).str.strip().str.casefold() for c in KEY_COLUMNS}

    n = len(combos)
    rule_of = np.zeros(n, dtype=np.int64)
    channel = np.full(n, "", dtype=object)
    campaign = np.full(n, "", dtype=object)
    own_campaign = combos["utm_campaign"].fillna("").astype(str).str.strip().to_numpy(object)
    for number, rule in enumerate(rules, start=1):
        open_ = rule_of == 0
        if not open_.any():
            break
        if rule.source:
            open_ &= (folded["source"] == rule.source.strip().casefold()).to_numpy()
        candidates = np.flatnonzero(open_)
        if candidates.size == 0:
            continue
        hit = candidates[rule.matches(folded[rule.field].iloc[candidates])]
        rule_of[hit] = number
        channel[hit] = rule.channel
        campaign[hit] = rule.campaign if rule.campaign else own_campaign[hit]

    out["channel"] = channel[codes]
    out["campaign"] = campaign[codes]
    out["rule"] = rule_of[codes]
    return out


def _norm(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.casefold()


def _norm_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and normalised names (case and surrounding spaces ignored), normalising each
    distinct value once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names = _norm(pd.Series(np.asarray(uniques, dtype=object), dtype=object)).tolist()
    return np.asarray(codes, dtype=np.int64), names


def match_lines(mapped: pd.DataFrame, plan: pd.DataFrame) -> np.ndarray:
    """Per mapped fact, the Plan row index (0-based) of its line, -1 when the Plan has none.

    Exact (channel, campaign) first, ignoring case and surrounding spaces; else a line of the
    channel with a blank campaign. The first of repeated plan lines takes the facts."""
    if mapped.empty:
        return np.zeros(0, dtype=np.int64)
    keys: dict[tuple[str, str], int] = {}
    for i, (ch, camp) in enumerate(
        zip(_norm(plan["channel"]), _norm(plan["campaign"]), strict=True)
    ):
        keys.setdefault((ch, camp), i)
    ch_codes, ch_names = _norm_codes(mapped["channel"])
    camp_codes, camp_names = _norm_codes(mapped["campaign"])
    combo, codes = np.unique(ch_codes * (len(camp_names) + 1) + camp_codes, return_inverse=True)
    found = np.empty(combo.size, dtype=np.int64)
    for j, c in enumerate(combo.tolist()):
        ch, camp = ch_names[c // (len(camp_names) + 1)], camp_names[c % (len(camp_names) + 1)]
        found[j] = keys.get((ch, camp), keys.get((ch, ""), -1)) if ch else -1
    out = found[codes.reshape(-1)]
    out[mapped["rule"].to_numpy() == 0] = -1
    return out
