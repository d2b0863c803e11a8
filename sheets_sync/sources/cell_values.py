"""Vectorised parsers of exported cells: numbers, dates, durations and yes/no flags.

`parse_numbers`, `parse_dates`, `parse_durations`, `parse_flags`
    decimal comma or point, spaces / NBSP / narrow-NBSP / apostrophe thousands, currency signs
    and words (₽ $ € руб. RUB …), ``"--"`` and ``""`` as blank, ``12,5%``, ``(12.50)``; dates
    in one format per column (dd.mm.yyyy, yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy only when the file
    proves it, "1 ноября 2026", "Nov 1, 2026", with an optional time). A cell that cannot be
    read is marked, never raised: readers quarantine its row.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_sync.sources.date_order import OrderConflict, numeric_dates
from sheets_sync.sources.textfile import _SEP, BLANK_MARKERS, Bools, Floats, Ints, _objects

__all__ = ["DateParse", "parse_dates", "parse_durations", "parse_flags", "parse_numbers"]


_DELETE = dict.fromkeys(map(ord, " \t\u00a0\u202f\u2009\u2007'’₽$€£¥₸₴"), None)
_DELETE[ord("\u2212")] = ord("-")
_WORDS = re.compile(r"(?i)руб\.?|р\.|rub|rur|usd|eur|грн|тг|\+")
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3},\d{3}$")


_STRIP = (" ", "\t", "\u00a0", "\u202f", "\u2009", "\u2007", "'", "’", "₽", "$", "€", "£", "¥")


def parse_numbers(
    values: pd.Series | npt.NDArray[Any], decimal: str = "."
) -> tuple[Floats, Bools, Bools]:
    """Parse number cells: ``(values, bad, blank)``; NaN where blank or bad.

    The separators are settled per column: a comma followed by 1-2 or 4+ digits (or a
    ``1.234,5`` pattern) makes the comma the decimal point and dots / spaces thousands; the
    mirror pattern makes the point the decimal; a column with neither (only integers or
    ``1,234`` / ``1.234``) follows ``decimal``: ``","`` reads ``1,234`` as 1.234, ``"."`` as
    1234. A column with both patterns is read cell by cell (the last of ``,`` / ``.`` in a cell
    is its decimal point). Spaces, NBSP, narrow NBSP, apostrophes, currency signs and words
    (₽ $ € руб. RUB USD …) are ignored; ``(12.50)`` is negative; ``12,5%`` is 0.125.

    The work runs on one joined string and pandas' C number parser; only cells that fail
    that go through per-cell string handling.

    >>> parse_numbers(pd.Series(["1 234,50 ₽", "--", "abc", "(12)", "12,5%"]))[0].tolist()
    [1234.5, nan, nan, -12.0, 0.125]
    """
    if getattr(values, "dtype", np.dtype(object)).kind in "fiu":  # read whole by the C parser
        out = np.array(values, dtype=np.float64)
        blank = np.isnan(out)
        bad = np.isinf(out)
        out[bad] = np.nan
        return out, bad, blank
    raw = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    raw = np.asarray(raw, dtype=object)
    kind = pd.api.types.infer_dtype(raw, skipna=True) if len(raw) else "string"
    if kind != "string" and kind != "empty":
        return _parse_mixed(raw, decimal)
    array = _objects(raw)
    n = len(array)
    out = np.full(n, np.nan, dtype=np.float64)
    bad = np.zeros(n, dtype=bool)
    blank = np.zeros(n, dtype=bool)
    if n == 0:
        return out, bad, blank
    joined = _SEP.join(array)
    if joined.count(_SEP) != n - 1 or "\n" in joined or "\r" in joined:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    for char in _STRIP:
        if char in joined:
            joined = joined.replace(char, "")
    joined = joined.replace("\u2212", "-")
    comma, dot, letters = _evidence(joined)
    if letters:
        joined = _WORDS.sub("", joined)
        comma, dot, _ = _evidence(joined)
    if comma and dot:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    if comma:
        joined = joined.replace(".", "").replace(",", ".")
    elif dot or decimal != ",":
        joined = joined.replace(",", "")
    else:
        joined = joined.replace(",", ".")
    parsed, missing = _c_numbers(joined, n)
    if parsed is None:
        return _parse_each(pd.Series(array, dtype=object), decimal)
    out = parsed
    leftover = np.flatnonzero(np.isnan(out) & ~missing)
    blank = missing.copy()
    if len(leftover):
        more, more_bad, more_blank = _parse_each(pd.Series(array[leftover], dtype=object), decimal)
        out[leftover] = more
        bad[leftover] = more_bad
        blank[leftover] = more_blank
    infinite = np.isinf(out)
    bad |= infinite
    out[infinite] = np.nan
    return out, bad, blank


def _parse_mixed(raw: npt.NDArray[np.object_], decimal: str) -> tuple[Floats, Bools, Bools]:
    """`parse_numbers` of numbers and strings mixed (the C parser typed some chunks of the
    column, or a sheet holds some cells as numbers): numbers as they are, every string through
    the text path (so a text "1.234" follows the column's separators, never Python's float())."""
    is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=len(raw))
    texts = np.flatnonzero(is_text)
    out = np.full(len(raw), np.nan, dtype=np.float64)
    others = np.flatnonzero(~is_text)
    out[others] = pd.to_numeric(pd.Series(raw[others], dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    blank = np.isnan(out) & ~is_text
    bad = np.isinf(out)
    out[bad] = np.nan
    if len(texts):
        more, more_bad, more_blank = parse_numbers(
            pd.Series(raw[texts].astype(str), dtype=object), decimal
        )
        out[texts], bad[texts], blank[texts] = more, more_bad, more_blank
    return out, bad, blank


_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[list(b"0123456789.,-+eE\x1e")] = True


def _evidence(joined: str) -> tuple[bool, bool, bool]:
    """Scan cells joined by `_SEP` once (numpy over the bytes): is the comma a decimal point
    somewhere (``,`` + 1-2 or 4+ digits, or ``.ddd,``), is the point one (the mirror), and is
    there any character a plain number does not have (a currency word, a percent sign …)."""
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    letters = bool((~_ALLOWED[data]).any())
    commas = np.flatnonzero(data == ord(","))
    dots = np.flatnonzero(data == ord("."))
    if not len(commas) and not len(dots):
        return False, False, letters
    digit = (data >= ord("0")) & (data <= ord("9"))
    # end of the run of digits starting at each position (exclusive)
    stops = np.flatnonzero(~digit)
    stops = np.append(stops, len(data))

    def run_after(positions: Ints) -> Ints:
        start = positions + 1
        return stops[np.searchsorted(stops, start)] - start

    def decimal_like(positions: Ints) -> bool:
        if not len(positions):
            return False
        run = run_after(positions)
        return bool((((run >= 1) & (run <= 2)) | (run >= 4)).any())

    comma = decimal_like(commas) or _followed(dots, commas, run_after)
    dot = decimal_like(dots) or _followed(commas, dots, run_after)
    return comma, dot, letters


def _followed(first: Ints, second: Ints, run_after: Callable[[Ints], Ints]) -> bool:
    """Whether some ``first`` separator is followed by exactly 3 digits then a ``second`` one
    (``1.234,5``: the second is the decimal point)."""
    if not len(first) or not len(second):
        return False
    ends = first + 1 + run_after(first)
    return bool(((ends - first - 1 == 3) & np.isin(ends, second)).any())


def _c_numbers(joined: str, n: int) -> tuple[Floats | None, Bools]:
    """Numbers parsed by pandas' C reader from cells joined by `_SEP`: (values, blank)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = _read_column(joined)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None, np.zeros(n, dtype=bool)
    if len(frame) != n:
        return None, np.zeros(n, dtype=bool)
    column = frame["v"]
    missing = column.isna().to_numpy(dtype=bool)
    if column.dtype.kind in "fiu":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:  # some cell is not a number (or looked boolean): coerce the cleaned texts
        cells = np.array(joined.split(_SEP), dtype=object)
        cells[missing] = ""
        values = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return np.array(values, dtype=np.float64), missing


def _read_column(joined: str) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(joined.encode("utf-8")),
        sep="\x1f",
        lineterminator=_SEP,
        header=None,
        names=["v"],
        quoting=csv.QUOTE_NONE,
        na_values=sorted(BLANK_MARKERS),
        keep_default_na=False,
        skip_blank_lines=False,
        engine="c",
        true_values=[],
        false_values=[],
    )


def _parse_each(text: pd.Series, decimal: str) -> tuple[Floats, Bools, Bools]:
    """The per-cell path of `parse_numbers` (mixed columns, odd cells)."""
    text = text.astype(object).fillna("").astype(str).str.strip()
    blank = text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    out = np.array(
        pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        dtype=np.float64,
    )
    rest = np.flatnonzero(np.isnan(out) & ~blank)
    if len(rest):
        subset = text.iloc[rest].str.translate(_DELETE)
        parsed = _separators(subset, decimal)
        again = np.flatnonzero(np.isnan(parsed))
        if len(again):
            retry = subset.iloc[again]
            negative = retry.str.match(r"^\(.*\)$").to_numpy(dtype=bool)
            percent = retry.str.contains("%", regex=False).to_numpy(dtype=bool)
            retry = retry.str.replace(_WORDS, "", regex=True).str.replace(r"[()%]", "", regex=True)
            second = _separators(retry, decimal)
            second = np.where(negative, -second, second)
            second = np.where(percent, second / 100.0, second)
            parsed[again] = second
        out[rest] = parsed
    blank = blank | (
        text.str.translate(_DELETE).isin(BLANK_MARKERS).to_numpy(dtype=bool) & np.isnan(out)
    )
    bad = ~blank & ~np.isfinite(out)
    out[bad] = np.nan
    return out, bad, blank


def _separators(text: pd.Series, decimal: str) -> Floats:
    commas = text.str.count(",").to_numpy(dtype=np.int64)
    dots = text.str.count(r"\.").to_numpy(dtype=np.int64)
    result = text.copy()
    both = (commas > 0) & (dots > 0)
    comma_decimal = np.zeros(len(text), dtype=bool)
    comma_thousands = np.zeros(len(text), dtype=bool)
    if both.any():
        last_comma = text.str.rfind(",").to_numpy(dtype=np.int64)
        last_dot = text.str.rfind(".").to_numpy(dtype=np.int64)
        comma_decimal |= both & (last_comma > last_dot)
        comma_thousands |= both & (last_dot > last_comma)
    only_commas = (commas > 0) & (dots == 0)
    if only_commas.any():
        single = only_commas & (commas == 1)
        if decimal == ".":
            looks_thousands = text.str.match(_THOUSANDS_COMMA).to_numpy(dtype=bool)
        else:
            looks_thousands = np.zeros(len(text), dtype=bool)
        comma_thousands |= only_commas & ((commas > 1) | (single & looks_thousands))
        comma_decimal |= single & ~looks_thousands
    if comma_decimal.any():
        idx = comma_decimal
        result[idx] = (
            result[idx].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        )
    if comma_thousands.any():
        result[comma_thousands] = result[comma_thousands].str.replace(",", "", regex=False)
    many_dots = (dots > 1) & (commas == 0)
    if many_dots.any():
        result[many_dots] = result[many_dots].str.replace(".", "", regex=False)
    parsed = pd.to_numeric(result, errors="coerce")
    return np.array(parsed.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


_RU_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6,
    "июл": 7, "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_RU_MONTH = re.compile(
    r"^(\d{1,2})\s+(январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]|июн\w*|июл\w*|август\w*|"
    r"сентябр\w*|октябр\w*|ноябр\w*|декабр\w*|янв|фев|мар|апр|авг|сен|окт|ноя|дек)\.?\s+"
    r"(\d{4})(?:\s*г\.?)?$",
    re.IGNORECASE,
)
_RU_SHORT = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}  # fmt: skip
_TIME = re.compile(r"^(.*?)(?:[ T,]+(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2})?)?$")
"""A date, then an optional time and UTC offset (only after a time: ``01-11-2026``'s ``-2026``
is the year, not an offset)."""

DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%d.%m.%Y", "dd.mm.yyyy"),
    ("%Y-%m-%d", "yyyy-mm-dd"),
    ("%d/%m/%Y", "dd/mm/yyyy"),
    ("%m/%d/%Y", "mm/dd/yyyy"),
    ("%d.%m.%y", "dd.mm.yy"),
    ("%Y/%m/%d", "yyyy/mm/dd"),
    ("%d-%m-%Y", "dd-mm-yyyy"),
    ("%Y.%m.%d", "yyyy.mm.dd"),
    ("%b %d, %Y", "Mon d, yyyy"),
    ("%d %b %Y", "d Mon yyyy"),
    ("%B %d, %Y", "Month d, yyyy"),
    ("%d %B %Y", "d Month yyyy"),
)
_SLASH_PAIR = {"%d/%m/%Y": "%m/%d/%Y", "%m/%d/%Y": "%d/%m/%Y"}
_NUMERIC_FORMATS = {"%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%y", "%d-%m-%Y"}
"""The ``a?b?y`` formats `date_order.numeric_dates` reads with the column's one order."""


@dataclass
class DateParse:
    """Parsed date cells: datetime64 values (NaT where blank or bad), masks and the format."""

    values: npt.NDArray[np.datetime64]
    bad: Bools
    blank: Bools
    format: str
    """Human form of the format used (``"dd.mm.yyyy hh:mm"``), ``""`` when nothing parsed."""
    warnings: list[str] = field(default_factory=list)
    conflict: OrderConflict | None = None
    """Values proving both day/month orders (their row positions in the column): the reader
    refuses the column (`date_order`)."""


def _rows_of(conflict: OrderConflict, codes: Ints) -> OrderConflict:
    """`conflict` with distinct-value indices turned into the first row holding each."""
    a, b = conflict.day_first, conflict.month_first
    first_row = (int(np.flatnonzero(codes == a[0])[0]), a[1])
    second_row = (int(np.flatnonzero(codes == b[0])[0]), b[1])
    return OrderConflict(first_row, second_row)


def _ru_month_dates(text: pd.Series) -> pd.Series:
    def one(value: str) -> str:
        match = _RU_MONTH.match(value)
        if match is None:
            return value
        word = match.group(2).lower()
        month = _RU_SHORT.get(word[:3]) if len(word) <= 3 else None
        if month is None:
            month = next(
                (m for stem, m in _RU_MONTHS.items() if word.startswith(stem) and stem != "ма"), 0
            )
            if not month and word.startswith("ма"):
                month = 5
        return f"{int(match.group(1)):02d}.{month:02d}.{match.group(3)}"

    return text.map(one)


def parse_dates(values: pd.Series, *, what: str = "date") -> DateParse:
    """Parse date or datetime cells, one date format per column (chosen on the whole column).

    Formats tried: see `DATE_FORMATS`, each with an optional time (``hh:mm[:ss]``, separated by
    a space or ``T``). The day/month order of numeric ``a/b/yyyy``, ``a.b.yyyy``, ``a-b-yy``
    columns is decided from all their values (`date_order.numeric_dates`: proven day-first,
    proven month-first, ambiguous = day first and warned; proof of both sets
    `DateParse.conflict`). Parsing runs on the distinct values only.
    """
    codes, uniques = pd.factorize(_objects(values))
    unique_text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.strip()
    n_unique = len(unique_text)
    parsed = np.full(n_unique, np.datetime64("NaT"), dtype="datetime64[ns]")
    warnings: list[str] = []
    human = ""
    conflict: OrderConflict | None = None
    nonblank = ~unique_text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    if n_unique and nonblank.any():
        parts = unique_text.str.extract(_TIME)
        date_part = parts[0].fillna("").str.strip()
        time_part = parts[1].fillna("")
        if date_part.str.contains("[а-яА-ЯёЁ]", regex=True).any():
            date_part = _ru_month_dates(date_part)
        has_time = (time_part != "").to_numpy(dtype=bool)
        clock = time_part.where(time_part.str.count(":") != 1, time_part + ":00")
        offsets = pd.to_timedelta(clock.where(has_time, "0:00:00"), errors="coerce")
        offsets_ns = offsets.to_numpy(dtype="timedelta64[ns]")
        numeric = numeric_dates(date_part, nonblank, what)
        if numeric is None:
            days, fmt = _best_format(date_part, nonblank)
            human = "" if fmt is None else dict(DATE_FORMATS)[fmt]
            skip = {fmt or "", _SLASH_PAIR.get(fmt or "", "")}
        else:
            days, human, skip = numeric.days.copy(), numeric.format, _NUMERIC_FORMATS
            warnings += [numeric.warning] if numeric.warning else []
            if numeric.conflict is not None:
                conflict = _rows_of(numeric.conflict, codes)
        ok = ~np.isnat(days) & nonblank
        if human:
            # a few cells in another unambiguous format (an xlsx date cell among text dates)
            for other, _ in DATE_FORMATS:
                if (ok | ~nonblank).all():
                    break
                if other in skip:
                    continue
                todo = ~ok & nonblank
                more = pd.to_datetime(date_part[todo], format=other, errors="coerce")
                fill = more.to_numpy(dtype="datetime64[ns]")
                days_todo = days[todo]
                take = ~np.isnat(fill)
                days_todo[take] = fill[take]
                days[todo] = days_todo
                ok = ~np.isnat(days) & nonblank
            if has_time[ok].any():
                seconds = time_part[ok & has_time].str.count(":").max()
                human += " hh:mm:ss" if seconds == 2 else " hh:mm"
        timed = days + np.where(np.isnat(offsets_ns), np.timedelta64(0, "ns"), offsets_ns)
        bad_time = has_time & np.isnat(offsets_ns)
        parsed = np.where(ok & ~bad_time, timed, np.datetime64("NaT"))
    out = np.asarray(parsed[codes], dtype="datetime64[ns]")
    blank = ~nonblank[codes] if n_unique else np.zeros(len(codes), dtype=bool)
    bad = np.isnat(out) & ~blank
    return DateParse(out, bad, blank, human, warnings, conflict)


def _best_format(
    date_part: pd.Series, nonblank: Bools
) -> tuple[npt.NDArray[np.datetime64], str | None]:
    best: npt.NDArray[np.datetime64] = np.full(len(date_part), np.datetime64("NaT"), "M8[ns]")
    best_fmt: str | None = None
    best_count = 0
    sample = date_part[nonblank]
    if len(sample) > 400:
        sample = sample.iloc[np.linspace(0, len(sample) - 1, 400).astype(np.int64)]
    scores: list[tuple[int, int, str]] = []
    for rank, (fmt, _) in enumerate(DATE_FORMATS):
        count = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        if count:
            scores.append((-count, rank, fmt))
    for _, _, fmt in sorted(scores)[:3]:
        days = pd.to_datetime(date_part, format=fmt, errors="coerce").to_numpy(
            dtype="datetime64[ns]"
        )
        count = int((~np.isnat(days) & nonblank).sum())
        if count > best_count:
            best, best_fmt, best_count = days, fmt, count
    return best, best_fmt


def parse_durations(values: pd.Series) -> tuple[Floats, Bools, Bools]:
    """Durations in seconds from ``"65"``, ``"1:05"`` (mm:ss) or ``"0:01:05"`` (hh:mm:ss)."""
    text = (
        values.astype(str).str.strip().str.replace(r"(?i)\s*(сек\.?|с\.?|sec|s)$", "", regex=True)
    )
    blank = text.isin(BLANK_MARKERS).to_numpy(dtype=bool)
    pieces = text.str.split(":", expand=True, n=2)
    count = text.str.count(":").to_numpy(dtype=np.int64)
    numbers = [
        pd.to_numeric(pieces[i], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if i in pieces.columns
        else np.full(len(text), np.nan)
        for i in range(3)
    ]
    total = np.select(
        [count == 0, count == 1, count == 2],
        [
            numbers[0],
            numbers[0] * 60 + numbers[1],
            numbers[0] * 3600 + numbers[1] * 60 + numbers[2],
        ],
        default=np.nan,
    )
    total[blank] = np.nan
    bad = ~blank & (~np.isfinite(total) | (total < 0))
    total[bad] = np.nan
    return total, bad, blank


_TRUE = frozenset({"да", "yes", "y", "1", "true", "истина", "+", "target", "целевой", "д", "x"})
_FALSE = frozenset({"нет", "no", "n", "0", "false", "ложь", "-", "нецелевой", "not target", "н"})


def parse_flags(values: pd.Series) -> tuple[Bools, Bools, Bools]:
    """Yes/no cells (Да/Нет, Yes/No, 1/0, true/false): ``(flag, bad, blank)``; blank = no."""
    text = values.astype(str).str.strip().str.casefold()
    blank = (text == "").to_numpy(dtype=bool)
    flag = text.isin(_TRUE).to_numpy(dtype=bool)
    known = flag | text.isin(_FALSE).to_numpy(dtype=bool) | blank
    return flag, ~known, blank
