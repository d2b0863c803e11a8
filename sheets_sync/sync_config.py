"""The sync config: a small TOML file naming the workbook, the fact store and the sources.

```toml
workbook = "plan-2026-11.xlsx"   # paths are relative to this file; or a Google Sheet:
                                 # its URL, or "gsheet:SPREADSHEET_ID"
credentials = "service_account.json"   # optional: Google credentials for a Google Sheet
store = "facts.duckdb"           # or a team store on PostgreSQL: "postgresql://user@host/db"
basis = "event"                  # or "cohort": CRM stages counted on the lead's created day
fresh_hours = 6                  # optional: "no fresh data" after this many hours
lead_mismatch = 0.05             # optional: CRM vs ad-platform leads tolerance

[[sources]]
name = "yandex_direct"           # goes to the facts' `source` column; Mapping rules may name it
kind = "ad"                      # ad | calls | crm | sql | gsheet | paths
path = "exports/yandex_*.csv"    # a glob, or a list of them (ad, calls, crm)
platform = "yandex_direct"       # optional: force a built-in column map
rate = 1.0                       # money in the file x rate = account currency
vat = 0.2
vat_included = true              # spend / (1 + vat)
spread_periods = false           # optional (ad): spread rows covering several days, else refused

[[sources]]
name = "crm"
kind = "crm"
path = "exports/deals_*.csv"
crm = "auto"                     # auto | amocrm | bitrix24 | none: the built-in stage names
stages = { "Замер" = "pp", "Отказ клиента" = "lost" }   # lead | pp | negotiations | won | lost

[[sources]]
name = "agency"
kind = "ad"
path = "exports/agency_*.csv"
utm_source = "agency"            # a configured column map's UTM source and medium
utm_medium = "display"
[sources.columns]                # header -> metric/key, e.g. spend = ["Media cost, RUB"]
date = ["Report date"]
campaign = ["Placement"]
spend = ["Media cost, RUB"]

[[sources]]
name = "warehouse"
kind = "sql"
url = "postgresql://analytics@db:5432/marketing"   # or duckdb:///path/file.duckdb
query = "SELECT date, utm_source, utm_medium, utm_campaign, metric, value FROM daily_facts"

[[sources]]
name = "journeys"                # customer journeys for attribution (Sync Facts skips them)
kind = "paths"
path = "exports/visits_*.csv"    # or query + url, as for a `sql` source
shape = "auto"                   # visits | crm_history | auto (by the header)

[[sources]]
name = "offline_leads"
kind = "gsheet"                  # a tab of a Google Sheet holding ad, calls or CRM rows
spreadsheet = "1AbC..."          # the spreadsheet id (from its URL)
tab = "Leads"
credentials = "service_account.json"   # optional: the service account's key file

[[mapping]]                      # the rules a new workbook's Mapping sheet starts with
data_source = ""                 # blank: any source
field = "utm_campaign"           # utm_source | utm_medium | utm_campaign
match = "contains"               # exact | contains | regex
pattern = "search_brand"
channel = "Yandex Direct"
campaign = "Brand"
```

`load_config(path)` reads and checks it: every error names the file and the key, e.g.
``sync.toml: `sources[2].kind`: value 'ads' is not one of ad, calls, crm, sql, gsheet, paths``.
"""

from __future__ import annotations

import glob
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from planning.errors import InputError
from sheets_sync.config_checker import ConfigChecker as _Checker
from sheets_sync.mapping import FIELDS, MAPPING_HEADERS, MATCHES
from sheets_sync.sheet_ids import spreadsheet_id_of
from sheets_sync.sources.column_map import ColumnMap, SourceOptions
from sheets_sync.sources.crm_stages import CRM_KINDS, StageRule, source_stages, vocabulary
from sheets_sync.store_backend import is_url

__all__ = [
    "BASES",
    "KINDS",
    "SourceConfig",
    "SyncConfig",
    "config_for_sheet",
    "load_config",
    "parse_config",
]

KINDS = ("ad", "calls", "crm", "sql", "gsheet", "paths")
BASES = ("event", "cohort")
FILE_KINDS = ("ad", "calls", "crm")
"""The kinds of fact sources read from files (Sync Facts expands their globs)."""
PATHS_SHAPES = ("visits", "crm_history", "auto")
"""A file `paths` source's ``shape`` (`sheets_sync.sources.paths_export`); a query's is
``"sql"``."""

_TOP_KEYS = (
    "workbook",
    "credentials",
    "store",
    "basis",
    "fresh_hours",
    "lead_mismatch",
    "sources",
    "mapping",
    "digest",
)
_SOURCE_KEYS = (
    "name",
    "kind",
    "path",
    "query",
    "url",
    "spreadsheet",
    "tab",
    "credentials",
    "platform",
    "rate",
    "vat",
    "vat_included",
    "spread_periods",
    "utm_source",
    "utm_medium",
    "columns",
    "shape",
    "crm",
    "stages",
)


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` entry, checked. `key` is where it is (``sources[2]``)."""

    name: str
    kind: str
    key: str
    base: Path
    paths: tuple[str, ...] = ()
    query: str = ""
    url: str = ""
    spreadsheet: str = ""
    tab: str = ""
    credentials: Path | None = None
    """A `gsheet` source's service account key file (resolved against the config's folder);
    None: the environment's (see `sheets_sync.sources.google_sheet`)."""
    platform: str | None = None
    rate: float = 1.0
    vat: float = 0.0
    vat_included: bool = False
    spread_periods: bool = False
    """An ad source's period rows spread over their days (`sources.ad_periods`); else refused."""
    utm_source: str | None = None
    utm_medium: str | None = None
    columns: dict[str, list[str]] | None = None
    shape: str = ""
    """A `paths` source's shape: ``visits``, ``crm_history``, ``auto`` (files) or ``sql``."""
    origin: str = "config"
    """The config file's name, for messages."""
    crm: str = "auto"
    stages: tuple[tuple[str, str], ...] = ()
    """A CRM source's built-in stage names (`crm`) and its own (`stages`: name, outcome)."""
    sheet_stages: tuple[StageRule, ...] = ()
    """The Mapping sheet's CRM stage rows, set by the sync (`SyncConfig.with_sheet_stages`)."""

    def files(self) -> list[Path]:
        """The files the `path` globs match (sorted, each once); none is an error naming the
        key."""
        found: dict[Path, None] = {}
        for i, pattern in enumerate(self.paths):
            full = Path(pattern).expanduser()
            if not full.is_absolute():
                full = self.base / full
            matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            matches = [p for p in matches if p.is_file()]
            if not matches:
                key = f"{self.key}.path" + (f"[{i}]" if len(self.paths) > 1 else "")
                what = "no file matches" if glob.has_magic(pattern) else "the file does not exist:"
                raise InputError(
                    f"{self.origin}: `{key}` of source `{self.name}`: {what} {pattern} "
                    f"(looked in {full.parent})"
                )
            found.update(dict.fromkeys(matches))
        return list(found)

    def sheet_stage_names(self) -> list[tuple[str, str]]:
        """The Mapping sheet's stage rows for this source (its name or blank): stage, outcome."""
        mine = [r for r in self.sheet_stages if r.source.casefold() in ("", self.name.casefold())]
        return [(r.stage, r.outcome) for r in mine]

    def credentials_file(self) -> Path | None:
        """The `credentials` key file; a missing one is an error naming the key."""
        if self.credentials is not None and not self.credentials.is_file():
            raise InputError(
                f"{self.origin}: `{self.key}.credentials` of source `{self.name}`: the file "
                f"does not exist: {self.credentials}"
            )
        return self.credentials

    def options(self) -> SourceOptions:
        """The readers' `SourceOptions` for this source (with its column map, if configured)."""
        column_map = None
        if self.columns is not None:
            extra: dict[str, Any] = {}  # the UTM source and medium, when given
            if self.utm_source is not None:
                extra["utm_source"] = self.utm_source
            if self.utm_medium is not None:
                extra["utm_medium"] = self.utm_medium
            try:
                column_map = ColumnMap.from_dict(self.name, dict(self.columns), **extra)
            except InputError as exc:
                raise InputError(f"{self.origin}: `{self.key}.columns`: {exc}") from None
        stages = None
        if self.kind in CRM_KINDS:
            stages = vocabulary(self.crm, dict(self.stages), self.sheet_stages, self.name)
        return SourceOptions(
            source=self.name,
            rate=self.rate,
            vat=self.vat,
            vat_included=self.vat_included,
            spread_periods=self.spread_periods,
            platform=self.platform,
            column_map=column_map,
            stages=stages,
        )


@dataclass(frozen=True)
class SyncConfig:
    """A checked sync config; paths resolved against the config file's folder.

    A Google Sheet as the workbook sets `spreadsheet` (its id) and `credentials` (the key
    file, None for ``GOOGLE_APPLICATION_CREDENTIALS``); `workbook` then holds the text as
    written and is not a file."""

    workbook: Path
    store: Path
    basis: str = "event"
    sources: tuple[SourceConfig, ...] = ()
    mapping: tuple[dict[str, str], ...] = ()
    """Rules a new workbook's Mapping sheet starts with (keys
    `sheets_sync.mapping.MAPPING_HEADERS`)."""
    fresh_hours: float = 6.0
    lead_mismatch: float = 0.05
    path: Path | None = None
    base: Path = field(default_factory=Path.cwd)
    spreadsheet: str | None = None
    credentials: Path | None = None
    digest: Mapping[str, Any] = field(default_factory=dict)
    """The ``[digest]`` table as written (checked by `addin.digest.settings`)."""
    store_url: str | None = None
    """``store = "postgresql://..."``: the fact store is that PostgreSQL database (the
    password best left to ``PGPASSWORD`` or ``~/.pgpass``, which libpq reads). `store` then
    holds the config's folder, which no store can open, so code still opening `store` fails
    loudly instead of starting an empty DuckDB file; open `store_location`."""

    @property
    def store_location(self) -> Path | str:
        """What `sheets_sync.store.FactStore` opens: the PostgreSQL URL, else the DuckDB file."""
        return self.store_url if self.store_url is not None else self.store

    @property
    def target(self) -> str:
        """The workbook as a user names it: the file's name or the Google Sheet's id."""
        return f"Google Sheet {self.spreadsheet}" if self.spreadsheet else self.workbook.name

    @property
    def origin(self) -> str:
        return self.path.name if self.path is not None else "config"

    @property
    def fact_sources(self) -> tuple[SourceConfig, ...]:
        """The sources Sync Facts reads: every one but the `paths` (journeys) sources."""
        return tuple(s for s in self.sources if s.kind != "paths")

    @property
    def paths_sources(self) -> tuple[SourceConfig, ...]:
        """The `paths` (journeys) sources, for attribution."""
        return tuple(s for s in self.sources if s.kind == "paths")

    def with_sheet_stages(self, rules: tuple[StageRule, ...]) -> SyncConfig:
        """This config with the Mapping sheet's CRM stage rows given to its CRM sources."""
        sources = tuple(
            replace(s, sheet_stages=rules) if s.kind in CRM_KINDS else s for s in self.sources
        )
        return replace(self, sources=sources)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


def load_config(path: Path | str) -> SyncConfig:
    """Read and check a sync config file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"the sync config {path} does not exist (write one like "
            "sheets_sync/samples/sync.toml, or pass its path: funnelplan sync path/to/sync.toml)"
        )
    text = path.read_text(encoding="utf-8-sig")
    return parse_config(text, base=path.resolve().parent, origin=path.name, path=path)


def config_for_sheet(folder: Path | str, spreadsheet_id: str) -> Path:
    """The config in `folder` (``*.toml``) whose workbook is the Google Sheet `spreadsheet_id`:
    how the function server finds what Sync Facts on a sheet reads. Exactly one must match."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"the sync folder {folder} does not exist: put the sheet's sync config there "
            f'(workbook = "gsheet:{spreadsheet_id}")'
        )
    found: list[Path] = []
    broken: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            config = load_config(path)
        except InputError as exc:
            broken.append(str(exc))
            continue
        if config.spreadsheet == spreadsheet_id:
            found.append(path)
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(p.name for p in found)
        raise InputError(
            f"more than one sync config in {folder} syncs Google Sheet {spreadsheet_id} "
            f"({names}): keep one"
        )
    why = f" ({len(broken)} configs could not be read: {broken[0]})" if broken else ""
    raise InputError(
        f"no sync config in {folder} syncs Google Sheet {spreadsheet_id}: add one with "
        f'workbook = "gsheet:{spreadsheet_id}"{why}'
    )


def parse_config(
    text: str | Mapping[str, Any],
    base: Path | str | None = None,
    origin: str = "config",
    path: Path | None = None,
) -> SyncConfig:
    """Check a config (TOML text or an already parsed table); relative paths against `base`."""
    base_dir = Path(base) if base is not None else Path.cwd()
    if isinstance(text, str):
        try:
            data: Mapping[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{origin}: not valid TOML: {exc}") from None
    else:
        data = text
    check = _Checker(origin)
    check.known(data, _TOP_KEYS, "")
    workbook = check.text(data, "workbook", "", required=True)
    credentials = check.text(data, "credentials", "", default="")
    spreadsheet = spreadsheet_id_of(workbook)
    if spreadsheet is None and workbook.strip().lower().startswith(("gsheet:", "https://")):
        raise check.error(
            "workbook",
            "is neither a file nor a Google Sheet (its URL, or gsheet:SPREADSHEET_ID)",
            workbook,
        )
    store = check.text(data, "store", "", default="facts.duckdb")
    basis = check.choice(data, "basis", "", BASES, default="event")
    fresh = check.number(data, "fresh_hours", "", default=6.0, low=0.0)
    mismatch = check.number(data, "lead_mismatch", "", default=0.05, low=0.0)

    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
        raise check.error("sources", "must be a list of [[sources]] tables", raw_sources)
    sources: list[SourceConfig] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_sources):
        sources.append(_source(check, raw, f"sources[{i}]", base_dir))
        if sources[-1].name.casefold() in names:
            raise check.error(
                f"sources[{i}].name", "is used by an earlier source", sources[-1].name
            )
        names.add(sources[-1].name.casefold())

    raw_rules = data.get("mapping", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise check.error("mapping", "must be a list of [[mapping]] tables", raw_rules)
    rules = tuple(_rule(check, r, f"mapping[{i}]") for i, r in enumerate(raw_rules))
    digest = data.get("digest", {})
    if not isinstance(digest, dict):
        raise check.error("digest", "must be a [digest] table", digest)

    return SyncConfig(
        workbook=Path(workbook) if spreadsheet else _resolve(base_dir, workbook),
        spreadsheet=spreadsheet,
        credentials=_resolve(base_dir, credentials) if credentials else None,
        store=base_dir if is_url(store) else _resolve(base_dir, store),
        store_url=store.strip() if is_url(store) else None,
        basis=basis,
        sources=tuple(sources),
        mapping=rules,
        fresh_hours=fresh,
        lead_mismatch=mismatch,
        path=path,
        base=base_dir,
        digest=digest,
    )


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _source(check: _Checker, raw: Mapping[str, Any], key: str, base: Path) -> SourceConfig:
    check.known(raw, _SOURCE_KEYS, key)
    name = check.text(raw, "name", key, required=True)
    kind = check.choice(raw, "kind", key, KINDS, required=True)
    sql = kind == "sql" or (kind == "paths" and "query" in raw)
    files = kind in FILE_KINDS or (kind == "paths" and not sql)
    paths = _paths(check, raw, key, kind) if files else ()
    shape = _shape(check, raw, key, kind, sql)
    query = url = spreadsheet = tab = ""
    if sql:
        query = check.text(raw, "query", key, required=True)
        url = check.text(raw, "url", key, required=True)
        if not url.startswith(("duckdb://", "postgresql://", "postgres://")):
            raise check.error(
                f"{key}.url", "must start with duckdb:/// or postgresql://", raw.get("url")
            )
    credentials: Path | None = None
    if kind == "gsheet":
        spreadsheet = check.text(raw, "spreadsheet", key, required=True)
        tab = check.text(raw, "tab", key, required=True)
        key_file = check.text(raw, "credentials", key, default="")
        credentials = _resolve(base, key_file) if key_file else None
    elif "credentials" in raw:
        raise check.error(f"{key}.credentials", "is only for a `gsheet` source", None)
    platform = check.text(raw, "platform", key, default="") or None
    rate = check.number(raw, "rate", key, default=1.0, low=0.0, strict_low=True)
    vat = check.number(raw, "vat", key, default=0.0, low=0.0)
    if vat >= 1:
        raise check.error(f"{key}.vat", "is a share (0.2 for 20 %), not a percent", vat)
    vat_included = raw.get("vat_included", False)
    if not isinstance(vat_included, bool):
        raise check.error(f"{key}.vat_included", "must be true or false", vat_included)
    spread_periods = raw.get("spread_periods", False)
    if not isinstance(spread_periods, bool) or (spread_periods and kind != "ad"):
        raise check.error(
            f"{key}.spread_periods", "must be true or false, on an ad source", spread_periods
        )
    utm_source = check.text(raw, "utm_source", key, default="") or None
    utm_medium = check.text(raw, "utm_medium", key, default="") or None
    columns = _columns(check, raw["columns"], key) if "columns" in raw else None
    crm, stages = source_stages(raw, key, kind, check.origin)
    return SourceConfig(
        name=name,
        kind=kind,
        key=key,
        base=base,
        paths=paths,
        query=query,
        url=url,
        spreadsheet=spreadsheet,
        tab=tab,
        credentials=credentials,
        platform=platform,
        rate=rate,
        vat=vat,
        vat_included=vat_included,
        spread_periods=spread_periods,
        utm_source=utm_source,
        utm_medium=utm_medium,
        columns=columns,
        shape=shape,
        origin=check.origin,
        crm=crm,
        stages=stages,
    )


def _shape(check: _Checker, raw: Mapping[str, Any], key: str, kind: str, sql: bool) -> str:
    """A `paths` source's shape (``sql`` for a query); the key is only for `paths` sources."""
    if kind != "paths":
        if "shape" in raw:
            raise check.error(f"{key}.shape", "is only for a `paths` source", None)
        return ""
    if "columns" in raw:
        raise check.error(f"{key}.columns", "is not read by a `paths` source", None)
    if sql:
        if raw.get("shape", "sql") != "sql":
            raise check.error(
                f"{key}.shape", "must be sql (or left out) with a query", raw["shape"]
            )
        return "sql"
    return check.choice(raw, "shape", key, PATHS_SHAPES, default="auto")


def _paths(check: _Checker, raw: Mapping[str, Any], key: str, kind: str) -> tuple[str, ...]:
    """A file source's `path`: a file or glob, or a list of them."""
    value = raw.get("path")
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(v.strip() for v in value)
    raise check.error(
        f"{key}.path",
        f"is needed for a `{kind}` source: a file or glob (or a list of them)"
        + (", or a query and url" if kind == "paths" else ""),
        value,
    )


def _columns(check: _Checker, table: Any, key: str) -> dict[str, list[str]]:
    """A source's `columns` table: field = header text or a list of them."""
    if not isinstance(table, dict) or not table:
        raise check.error(f"{key}.columns", 'must be a table: field = ["Header", ...]', table)
    columns: dict[str, list[str]] = {}
    for field_name, headers in table.items():
        if isinstance(headers, str):
            headers = [headers]
        if not isinstance(headers, list) or not all(
            isinstance(h, str) and h.strip() for h in headers
        ):
            raise check.error(
                f"{key}.columns.{field_name}",
                "must be a header text or a list of them",
                headers,
            )
        columns[str(field_name)] = [h.strip() for h in headers]
    return columns


_RULE_ALIASES = {
    "data source": "data source",
    "data_source": "data source",
    "source": "data source",
    "field": "field",
    "match": "match",
    "pattern": "pattern",
    "channel": "channel",
    "campaign": "campaign",
}


def _rule(check: _Checker, raw: Mapping[str, Any], key: str) -> dict[str, str]:
    rule = dict.fromkeys(MAPPING_HEADERS, "")
    for k, v in raw.items():
        name = _RULE_ALIASES.get(str(k).strip().lower())
        if name is None:
            raise check.error(
                f"{key}.{k}", f"is not a rule key (use {', '.join(MAPPING_HEADERS)})", None
            )
        if not isinstance(v, str):
            raise check.error(f"{key}.{k}", "must be a text", v)
        rule[name] = v.strip()
    if rule["field"].lower() not in FIELDS:
        raise check.error(f"{key}.field", f"must be one of {', '.join(FIELDS)}", rule["field"])
    if rule["match"].lower() not in MATCHES:
        raise check.error(f"{key}.match", f"must be one of {', '.join(MATCHES)}", rule["match"])
    for required in ("pattern", "channel"):
        if not rule[required]:
            raise check.error(f"{key}.{required}", "is missing", None)
    return rule
