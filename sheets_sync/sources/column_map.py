"""Which header is which field, and how a data source is read.

`ColumnMap`
    a field's header aliases, matched case-insensitively through `normalise_header` (also
    with a bracketed suffix such as "Расход (руб.)", or as a ``re:`` regular expression);
`SourceOptions`
    a source's name, its column map or platform, and how its money is normalised (rate, VAT).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planning.errors import InputError
from sheets_sync.facts import MONEY

if TYPE_CHECKING:
    from sheets_sync.sources.crm_stages import StageVocabulary

__all__ = [
    "AD_ALIASES",
    "DIMENSION_ALIASES",
    "DIMENSION_MAP",
    "DIMENSION_OF",
    "GROUP_ALIASES",
    "UTM_ALIASES",
    "ColumnMap",
    "SourceOptions",
    "normalise_header",
]


def normalise_header(text: object) -> str:
    """Header text compared case-insensitively: BOM, quotes, NBSP and repeated spaces removed."""
    value = "" if text is None else str(text)
    value = value.replace("\ufeff", "").replace("\u00a0", " ").replace("\u202f", " ")
    value = re.sub(r"\s+", " ", value).strip().strip('"').strip()
    return value.casefold()


_PAREN_SUFFIX = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")


UTM_ALIASES: dict[str, tuple[str, ...]] = {
    "utm_source": ("utm_source", "Источник", "Source"),
    "utm_medium": ("utm_medium", "Канал", "Medium"),
    "utm_campaign": ("utm_campaign", "Кампания", "Campaign"),
}
"""The UTM columns of row-per-event exports (call tracking, CRM), English and Russian."""

DIMENSION_ALIASES: dict[str, tuple[str, ...]] = {
    "city": ("City", "Город", "Регион", "Region"),
    "product": ("Product", "Продукт", "Товар", "Услуга", "Направление"),
    "utm_term": ("utm_term", "UTM Term", "Ключевая фраза", "Keyword"),
    "utm_content": ("utm_content", "UTM Content", "Объявление", "Ad"),
}
"""The breakdown columns of row-per-event exports (CRM, call tracking; issue 15)."""
GROUP_ALIASES: tuple[str, ...] = (
    "Ad group",
    "Группа объявлений",
    "Группа",
    "Ad set name",
    "Название группы объявлений",
    "Ad group name",
)
"""An ad export's ad group / ad set column (the ``group`` field: the fact's segment)."""
AD_ALIASES: tuple[str, ...] = (
    "Ad",
    "Ad name",
    "Объявление",
    "Название объявления",
    "Ad ID",
    "ID объявления",
)
"""An ad export's ad column (the ``ad`` field: the fact's creative)."""
DIMENSION_OF: dict[str, str] = {
    "city": "city",
    "product": "product",
    "utm_term": "segment",
    "utm_content": "creative",
    "group": "segment",
    "ad": "creative",
}
"""A reader's field -> the fact dimension it fills (`sheets_sync.facts.DIMENSIONS`): a lead's
``utm_term`` (the keyword or ad group the team tags) is its segment and ``utm_content`` its
creative, as an ad export's ad group and ad are."""


def _dimension_map() -> ColumnMap:
    columns = {**DIMENSION_ALIASES, "group": (*GROUP_ALIASES, "ad_group"), "ad": AD_ALIASES}
    named: set[str] = set()
    for fieldname, dimension in DIMENSION_OF.items():
        if dimension not in named:  # the dimension's own name first, in its first field: wins
            columns[fieldname] = (dimension, *columns[fieldname])
            named.add(dimension)
    return ColumnMap("dimensions", columns, required=())


@dataclass(frozen=True)
class ColumnMap:
    """Which header holds which field: ``columns`` maps a field to its header aliases.

    An alias matches a header case-insensitively (spaces normalised), also when the header adds
    a bracketed suffix ("Расход (руб.)" matches "Расход", "Cost (RUB)" matches "Cost"). An alias
    starting with ``re:`` is a regular expression matched against the whole (case-folded)
    header. The first alias, in order, that some header matches wins; among headers matching
    one alias, the leftmost.

    Ad-export fields: ``date``, ``campaign`` (required), ``spend``, ``impressions``,
    ``clicks`` (alias ``traffic``), ``conversions`` (alias ``platform_leads``), ``group`` (an
    ad group / ad set column: rows are then summed per date and campaign instead of being
    duplicates), ``currency``, and optional ``utm_source`` / ``utm_medium`` columns that
    override the constants. Calls and CRM readers use their own field names (see their
    modules).
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    utm_source: str = ""
    utm_medium: str = "cpc"
    required: tuple[str, ...] = ("date", "campaign")

    @classmethod
    def from_dict(
        cls,
        name: str,
        mapping: Mapping[str, Any],
        *,
        utm_source: str | None = None,
        utm_medium: str = "cpc",
        required: tuple[str, ...] = ("date", "campaign"),
    ) -> ColumnMap:
        """A configured map: ``{"date": "Дата", "spend": ["Spend", "Cost"], ...}``.

        Values are one header or a list of aliases. Field synonyms ``traffic`` -> ``clicks``
        and ``platform_leads`` -> ``conversions`` are accepted. ``utm_source`` defaults to the
        map's name.
        """
        columns: dict[str, tuple[str, ...]] = {}
        for key, value in mapping.items():
            fieldname = _FIELD_SYNONYMS.get(str(key).strip().lower(), str(key).strip().lower())
            if isinstance(value, str):
                aliases: tuple[str, ...] = (value,)
            elif isinstance(value, Iterable):
                aliases = tuple(str(v) for v in value)
            else:
                raise InputError(
                    "must be a header name or a list of header names",
                    line=name,
                    column=str(key),
                    value=value,
                )
            if not aliases or any(not a.strip() for a in aliases):
                raise InputError("has a blank header name", line=name, column=str(key), value=value)
            for alias in aliases:
                if alias.startswith("re:"):
                    try:
                        re.compile(alias[3:])
                    except re.error as exc:
                        raise InputError(
                            f"is not a valid regular expression ({exc})",
                            line=name,
                            column=str(key),
                            value=alias,
                        ) from exc
            columns[fieldname] = aliases
        missing = [f for f in required if f not in columns]
        if missing:
            raise InputError(
                f"column map has no {', '.join(missing)} (needs {', '.join(required)})",
                line=name,
            )
        return cls(
            name=name,
            columns=columns,
            utm_source=name if utm_source is None else utm_source,
            utm_medium=utm_medium,
            required=required,
        )

    def resolve(self, headers: Sequence[str]) -> dict[str, str]:
        """Field -> the header that holds it, for the fields found among ``headers``."""
        normal = [normalise_header(h) for h in headers]
        stripped = [_PAREN_SUFFIX.sub("", h) for h in normal]
        used: set[int] = set()
        found: dict[str, str] = {}
        for fieldname, aliases in self.columns.items():
            index = _match_alias(aliases, normal, stripped, used)
            if index is not None:
                used.add(index)
                found[fieldname] = headers[index]
        return found

    def matches(self, headers: Sequence[str]) -> bool:
        """Whether ``headers`` hold every required field and at least one other field."""
        found = self.resolve(headers)
        return all(f in found for f in self.required) and len(found) > len(self.required)


_FIELD_SYNONYMS = {"traffic": "clicks", "platform_leads": "conversions", "day": "date"}

DIMENSION_MAP: ColumnMap = _dimension_map()
"""Every breakdown field (`DIMENSION_OF`) under every header a file may give it, plus the fact
dimension's own name (``city``, ``product``, ``segment``, ``creative``) and ``ad_group``: what a
source with freely named columns (a SQL query) is matched against. A column named as the
dimension fills it; otherwise, in `DIMENSION_OF` order, the first field found does
(``utm_term`` before an ad group for the segment, as in a file)."""


def _match_alias(
    aliases: Sequence[str], normal: list[str], stripped: list[str], used: set[int]
) -> int | None:
    for alias in aliases:
        if alias.startswith("re:"):
            pattern = re.compile(alias[3:], re.IGNORECASE)
            for i, header in enumerate(normal):
                if i not in used and pattern.fullmatch(header):
                    return i
            continue
        key = normalise_header(alias)
        for candidates in (normal, stripped):
            for i, header in enumerate(candidates):
                if i not in used and header == key:
                    return i
    return None


@dataclass(frozen=True)
class SourceOptions:
    """How to read one data source: its name and how its money becomes account money."""

    source: str
    """The data source's name (config key); goes to the ``source`` column."""
    rate: float = 1.0
    """Money (spend, revenue) is multiplied by this: file currency -> account currency."""
    vat: float = 0.0
    """VAT rate, e.g. 0.2; spend is divided by ``1 + vat`` when `vat_included`."""
    vat_included: bool = False
    platform: str | None = None
    """Force a built-in column map by name; None = detect it from the header."""
    column_map: ColumnMap | None = None
    """A configured map; it overrides the built-ins."""
    spread_periods: bool = False
    """An ad export's rows covering several days (Meta without a daily breakdown: "Reporting
    starts" .. "Reporting ends") spread evenly over their days; False refuses them (see
    `ad_periods`)."""
    today: dt.date | None = None
    """The sync's clock: rows dated after it are quarantined ("date in the future"); None (a
    file inspected on its own) checks nothing."""
    month: tuple[dt.date, dt.date] | None = None
    """The plan month (first, last day): a file with too much outside it is flagged; None
    checks nothing."""
    stages: StageVocabulary | None = None
    """A CRM source's stage names (`sheets_sync.sources.crm_stages`); None = the built-ins."""

    def money_factor(self, metric: str) -> float:
        """What a file value of ``metric`` is multiplied by (rate, and VAT removal for spend)."""
        if metric not in MONEY:
            return 1.0
        factor = float(self.rate)
        if metric == "spend" and self.vat_included:
            factor /= 1.0 + float(self.vat)
        return factor
