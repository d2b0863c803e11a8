"""The sample's customer journeys: a Yandex Metrica visits export and a small CRM touch history.

`write_visits` writes what the team would download from Metrica for the demo month to as-of and
the `WEEKS_BEFORE` weeks before it: one row per visit, Russian headers, CSV ``;`` (UTF-8 with
BOM), the visitor's ClientID, the visit's time, its traffic source and UTMs, and the goal
"Цель: Заявка" (0/1). `write_crm_history` writes a CRM export of the month's deals with each
deal's touches in one cell ("yandex / cpc / yd_rsya_retargeting > (direct) / (none)"), XLSX.

How the visits are made (the randomness is the caller's generator, a stream of its own so the
other exports stay as they were):

* every CRM lead of a line in the window is a visitor whose converting visit Metrica sees with
  probability `SEEN` (the rest called, or came from another device); the converting visit
  carries the line's UTMs, or with probability `DIRECT_FINISH` is a direct return right after
  a visit from the line;
* before it, 1 + Poisson(1.6) earlier visits (at most 12), an exponential ~2.5 days apart: from
  the ad channels in proportion to their clicks times `ASSIST` (programmatic, Telegram, RSYa
  and Meta mostly assist, search mostly closes), direct visits, search engines, social and
  links. Visits before the window are not in the export (the journey is cut, as in a real
  export);
* some converting visitors come back after converting (a new journey, ``clientid#2``, that
  does not convert), and about as many visitors again never convert (1-3 visits);
* mess: one visit exported twice, one row without a ClientID (quarantined).

So the goals per channel by the last non-direct click are `SEEN` (~90 %) of the CRM's leads of
the window per channel, up to binomial noise (a few % per channel); by the last click
(direct returns counted as Direct) about 80 %.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import Workbook

from sheets_sync.samples.campaigns import SAMPLE_CAMPAIGNS, insert_rows, to_csv
from sheets_sync.samples.channels import CHANNELS
from sheets_sync.samples.lead_exports import LineGrid

__all__ = [
    "ASSIST",
    "DIRECT_FINISH",
    "SEEN",
    "WEEKS_BEFORE",
    "Visits",
    "make_visits",
    "write_crm_history",
    "write_visits",
]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

WEEKS_BEFORE = 4
SEEN = 0.9
DIRECT_FINISH = 0.12
ASSIST: dict[str, float] = {
    "Google Search": 0.5,
    "Yandex Direct": 0.5,
    "Yandex RSYa": 1.8,
    "Programmatic": 3.0,
    "Meta Ads": 1.5,
    "VK Ads": 1.0,
    "Telegram Ads": 2.2,
}
"""How much more a channel's clicks show up as earlier (assisting) visits than as last ones."""

_OTHER = {  # traffic source -> share of the earlier visits, and of never-converting ones
    "Прямые заходы": (0.18, 0.20),
    "Переходы из поисковых систем": (0.08, 0.15),
    "Переходы из социальных сетей": (0.03, 0.04),
    "Переходы по ссылкам на сайтах": (0.02, 0.03),
}
_AD = "Рекламные переходы"
_PAGES = np.array(["/", "/pricing", "/demo", "/blog/budget-planning", "/cases"], dtype=object)


def _line_weights(grid: LineGrid, lo: int, hi: int, assist: bool) -> Floats:
    """Per line, its share of the clicks of days `lo`..`hi` (times its channel's `ASSIST`
    when `assist`)."""
    clicks = grid.metrics["traffic"][lo : hi + 1].sum(axis=0).astype(np.float64)
    if assist:
        clicks = clicks * np.array([ASSIST[c.channel] for c in SAMPLE_CAMPAIGNS])
    return np.asarray(clicks / clicks.sum(), dtype=np.float64)


class Visits:
    """The visits being drawn: per visit its visitor, time (seconds from day 0), line (-1 for
    a visit from no ad) and traffic source, and whether it reached the goal."""

    def __init__(self) -> None:
        self.visitor: list[Ints] = []
        self.seconds: list[Floats] = []
        self.line: list[Ints] = []
        self.traffic: list[npt.NDArray[np.object_]] = []
        self.goal: list[npt.NDArray[np.bool_]] = []

    def add(
        self,
        visitor: Ints,
        seconds: Floats,
        line: Ints,
        traffic: npt.NDArray[np.object_],
        goal: npt.NDArray[np.bool_],
    ) -> None:
        self.visitor.append(visitor)
        self.seconds.append(seconds)
        self.line.append(line)
        self.traffic.append(traffic)
        self.goal.append(goal)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "visitor": np.concatenate(self.visitor),
                "seconds": np.concatenate(self.seconds),
                "line": np.concatenate(self.line),
                "traffic": np.concatenate(self.traffic),
                "goal": np.concatenate(self.goal),
            }
        )


def _sources(
    n: int, weights: Floats, other: int, rng: np.random.Generator
) -> tuple[Ints, npt.NDArray[np.object_]]:
    """`n` visit sources: a line (ads, by `weights`) or -1 with a traffic source (`_OTHER`'s
    column `other`)."""
    names = list(_OTHER)
    shares = np.array([_OTHER[k][other] for k in names])
    pick = rng.choice(len(names) + 1, size=n, p=np.append(shares, 1.0 - shares.sum()))
    ad = pick == len(names)
    line = np.full(n, -1, dtype=np.int64)
    line[ad] = rng.choice(len(weights), size=int(ad.sum()), p=weights)
    traffic = np.array([*names, _AD], dtype=object)[pick]
    return line, traffic


def make_visits(grid: LineGrid, lo: int, hi: int, rng: np.random.Generator) -> pd.DataFrame:
    """The visits of days `lo`..`hi` (day numbers of `grid`): ``visitor`` (int), ``seconds``
    (from day 0), ``line`` (-1: not an ad), ``traffic`` (Metrica's traffic source), ``goal``;
    sorted by time."""
    seen = rng.binomial(grid.metrics["leads"][lo : hi + 1].astype(np.int64), SEEN)
    day, line = np.nonzero(seen)
    count = seen[day, line]
    day, line = np.repeat(day + lo, count), np.repeat(line, count)
    n = day.size
    visits = Visits()
    visitor = np.arange(n, dtype=np.int64)
    at = day * 86400.0 + rng.uniform(8 * 3600, 22 * 3600, n)
    direct = rng.random(n) < DIRECT_FINISH
    traffic = np.where(direct, "Прямые заходы", _AD).astype(object)
    visits.add(visitor, at, np.where(direct, -1, line), traffic, np.ones(n, dtype=bool))
    # a direct finish follows the line's own visit
    anchor = at.copy()
    d = np.flatnonzero(direct)
    anchor[d] = at[d] - rng.uniform(600, 3 * 86400, d.size)
    visits.add(visitor[d], anchor[d], line[d], np.full(d.size, _AD, dtype=object),
               np.zeros(d.size, dtype=bool))  # fmt: skip
    earlier = np.minimum(rng.poisson(1.6, n), 12)
    owner = np.repeat(visitor, earlier)
    back = _group_cumsum(rng.exponential(2.5 * 86400, owner.size) + 300, earlier)
    lines, sources = _sources(owner.size, _line_weights(grid, lo, hi, True), 0, rng)
    visits.add(owner, anchor[owner] - back, lines, sources, np.zeros(owner.size, dtype=bool))
    # some come back after converting (journey #2, not converting)
    again = np.flatnonzero(rng.random(n) < 0.06)
    later = at[again] + rng.exponential(4 * 86400, again.size) + 600
    lines, sources = _sources(again.size, _line_weights(grid, lo, hi, False), 1, rng)
    visits.add(visitor[again], later, lines, sources, np.zeros(again.size, dtype=bool))
    # as many visitors again never convert (1-3 visits)
    per = 1 + np.minimum(rng.poisson(0.7, n), 2)
    who = np.repeat(n + np.arange(n, dtype=np.int64), per)
    when = rng.uniform(lo * 86400.0, (hi + 1) * 86400.0, who.size)
    lines, sources = _sources(who.size, _line_weights(grid, lo, hi, False), 1, rng)
    visits.add(who, when, lines, sources, np.zeros(who.size, dtype=bool))
    frame = visits.frame()
    inside = (frame["seconds"] >= lo * 86400.0) & (frame["seconds"] < (hi + 1) * 86400.0)
    return frame[inside].sort_values(["seconds", "visitor"], kind="stable", ignore_index=True)


def _group_cumsum(values: Floats, sizes: Ints) -> Floats:
    """Cumulative sums of `values` restarting at each group of `sizes` consecutive items."""
    total = np.cumsum(values)
    starts = np.cumsum(sizes) - sizes
    offset = np.repeat(np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0), sizes)
    return total - offset if total.size else total


def _client_ids(visitor: Ints, rng: np.random.Generator) -> npt.NDArray[np.object_]:
    """Metrica-like ClientIDs (19 digits: a first-visit second and a random tail)."""
    unique, inverse = np.unique(visitor, return_inverse=True)
    head = 1_790_000_000 + unique * 37 % 9_000_000
    tail = rng.integers(100_000_000, 999_999_999, unique.size)
    ids = np.array([f"{h}{t}" for h, t in zip(head.tolist(), tail.tolist(), strict=True)])
    return ids.astype(object)[inverse]


def write_visits(
    grid: LineGrid, lo: int, hi: int, path: Path, rng: np.random.Generator
) -> pd.DataFrame:
    """Write the Metrica visits export of days `lo`..`hi`; the visits drawn (`make_visits`)."""
    visits = make_visits(grid, lo, hi, rng)
    line = visits["line"].to_numpy()
    ad = line >= 0
    pick = np.where(ad, line, 0)
    utm = {
        key: np.where(ad, np.array([getattr(c, key) for c in SAMPLE_CAMPAIGNS])[pick], "")
        for key in ("utm_source", "utm_medium", "utm_campaign")
    }
    stamps = pd.Timestamp(grid.first) + pd.to_timedelta(np.floor(visits["seconds"]), unit="s")
    table = pd.DataFrame(
        {
            "ID визита": (7_310_000_000 + np.arange(len(visits)) * 3).astype(str),
            "ClientID": _client_ids(visits["visitor"].to_numpy(), rng),
            "Дата и время визита": pd.Series(stamps).dt.strftime("%d.%m.%Y %H:%M:%S"),
            "Источник трафика": visits["traffic"].to_numpy(),
            "UTM Source": utm["utm_source"],
            "UTM Medium": utm["utm_medium"],
            "UTM Campaign": utm["utm_campaign"],
            "Страница входа": _PAGES[rng.integers(0, _PAGES.size, len(visits))],
            "Цель: Заявка": visits["goal"].astype(int).to_numpy(),
        }
    )
    # One visit exported twice, and one row that lost its ClientID.
    at = int(rng.integers(0, len(table)))
    table = insert_rows(table, at, table.iloc[[at]])
    lost = table.iloc[[len(table) // 3]].assign(ClientID="")
    table = insert_rows(table, len(table) // 3 + 1, lost)
    path.write_text("\ufeff" + to_csv(table, ";"), encoding="utf-8", newline="")
    return visits


_TOUCH = {
    "Прямые заходы": "(direct) / (none)",
    "Переходы из поисковых систем": "yandex / organic",
    "Переходы из социальных сетей": "vk.com / referral",
    "Переходы по ссылкам на сайтах": "habr.com / referral",
}


def write_crm_history(
    visits: pd.DataFrame,
    grid: LineGrid,
    month_day: int,
    path: Path,
    rng: np.random.Generator,
    deals: int = 150,
) -> None:
    """Write the CRM's touch-history export: `deals` of the converting visitors from day
    `month_day` on, each with its visits as the path, stage, status and budget."""
    goal = visits[visits["goal"] & (visits["seconds"] >= month_day * 86400.0)]
    chosen = np.sort(rng.choice(len(goal), size=min(deals, len(goal)), replace=False))
    goal = goal.iloc[chosen]
    by_visitor = visits[visits["visitor"].isin(goal["visitor"])].groupby("visitor")
    specs = {spec.name: spec for spec in CHANNELS}
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Сделки")
    sheet.append(["ID сделки", "Дата создания", "Этап", "Статус", "Бюджет", "Путь клиента"])
    first = pd.Timestamp(grid.first)
    for k, (who, at) in enumerate(
        zip(goal["visitor"].tolist(), goal["seconds"].tolist(), strict=True)
    ):
        mine = by_visitor.get_group(who)
        mine = mine[mine["seconds"] <= at]
        steps = zip(mine["line"].tolist(), mine["traffic"].tolist(), strict=True)
        path_text = " > ".join(_touch_text(int(ln), str(tr)) for ln, tr in steps)
        last = next((int(x) for x in mine["line"].tolist()[::-1] if x >= 0), 0)
        spec = specs[SAMPLE_CAMPAIGNS[last].channel]
        won = rng.random() < 0.12
        stage = "Покупка" if won else str(rng.choice(["Лид", "КП", "Переговоры"]))
        status = "Успешно" if won else str(rng.choice(["В работе", "В работе", "Проиграна"]))
        budget = round(spec.revenue_per_purchase * rng.lognormal(0, 0.25), -3) if won else None
        created = (first + pd.Timedelta(seconds=int(at))).to_pydatetime()
        sheet.append([str(204_000 + k), created, stage, status, budget, path_text])
    book.save(path)


def _touch_text(line: int, traffic: str) -> str:
    if line < 0:
        return _TOUCH.get(traffic, traffic)
    c = SAMPLE_CAMPAIGNS[line]
    return f"{c.utm_source} / {c.utm_medium} / {c.utm_campaign}"


def window_days(grid: LineGrid, month: dt.date) -> tuple[int, int]:
    """The day numbers of the visits export: `WEEKS_BEFORE` weeks before `month` (not before
    the history) through the last day."""
    lo = max((month - grid.first).days - 7 * WEEKS_BEFORE, 0)
    return lo, grid.n_days - 1
