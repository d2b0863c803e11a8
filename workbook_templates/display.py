"""A cell's value as a spreadsheet shows it under its number format: what fits or does not fit
its column.

Covers the formats the workbook uses (`styles.py` and the Russian post-pass): General, fixed
decimals with or without thousands grouping (a comma, or a space under ``ru``), percent, signed
sections (``+#,##0;-#,##0;0``), scientific, text (``@``) and dates and times built from
``yyyy mm dd hh mm ss`` with any separators. Decision: a format outside that set raises
`UnknownFormat` rather than being guessed, so a new format in a sheet is met by this module
(and by the visual test that measures with it) before a user sees it clipped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

_DATE_TOKENS = re.compile(r"yyyy|yy|mm|dd|d|hh|h|ss|m", re.IGNORECASE)
_LOCALE = re.compile(r"\[\$[^\]]*\]|\[[A-Za-z]+\]")


class UnknownFormat(ValueError):
    """A number format this module does not render."""


def _date_text(value: dt.date | dt.datetime, fmt: str) -> str:
    moment = value if isinstance(value, dt.datetime) else dt.datetime(*value.timetuple()[:3])
    tokens = {
        "yyyy": f"{moment.year:04d}",
        "yy": f"{moment.year % 100:02d}",
        "dd": f"{moment.day:02d}",
        "d": str(moment.day),
        "hh": f"{moment.hour:02d}",
        "h": str(moment.hour),
        "ss": f"{moment.second:02d}",
    }
    out: list[str] = []
    pos = 0
    after_hour = False
    for match in _DATE_TOKENS.finditer(fmt):
        out.append(fmt[pos : match.start()])
        token = match.group(0).lower()
        if token == "mm" or token == "m":
            minute = after_hour
            out.append(f"{moment.minute:02d}" if minute else f"{moment.month:02d}")
        else:
            out.append(tokens[token])
        after_hour = token in ("hh", "h")
        pos = match.end()
    out.append(fmt[pos:])
    return "".join(out).replace("\\", "").replace('"', "")


def _grouped(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))]
    return sep.join(parts)


def _number_text(value: float, section: str) -> str:
    """`value` (its sign already chosen by the section) under one format section."""
    body = section.replace("\\", "").replace('"', "")
    percent = "%" in body
    if percent:
        value *= 100
    if "E+" in body.upper():
        mantissa = body.upper().split("E+")[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        text = f"{value:.{decimals}E}"
        base, exp = text.split("E")
        return f"{base}E{exp[0]}{int(exp[1:]):02d}"
    core = re.search(r"[#0][#0,. \u00a0]*", body)
    if core is None:
        raise UnknownFormat(section)
    pattern = core.group(0).rstrip(" \u00a0")
    integer, _, fraction = pattern.partition(".")
    decimals = sum(1 for ch in fraction if ch in "0#")
    sep = "," if "," in integer else (" " if re.search(r"[#0][ \u00a0][#0]", integer) else "")
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    if whole == "0" and integer.replace(",", "").strip(" #") == "":
        whole = ""
    whole = _grouped(whole, sep) if sep and whole else whole
    number = whole + ("." + frac if decimals else "")
    sign = "-" if value < 0 and not re.search(r"[-+]", body[: core.start()]) else ""
    return body[: core.start()] + sign + number + body[core.start() + len(core.group(0)) :]


def _general(value: float) -> str:
    if value == int(value) and abs(value) < 1e11:
        return str(int(value))
    text = f"{value:.10G}"
    return text.replace("E+", "E+0" if "E+" in text and len(text.split("E+")[1]) == 1 else "E+")


def shown_text(value: Any, number_format: str | None) -> str:
    """`value` as a cell with `number_format` shows it (General's longest form for floats)."""
    fmt = _LOCALE.sub("", number_format or "General").strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        if isinstance(value, dt.time):
            return value.strftime("%H:%M:%S")
        if fmt.lower() == "general" or not _DATE_TOKENS.search(fmt):
            return str(value)
        return _date_text(value, fmt)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return "#NUM!"
    if fmt.lower() == "general":
        return _general(number)
    if fmt == "@":
        return _general(number)
    if re.search(r"(?<![#0.])\b(yyyy|yy|dd)\b", fmt, re.IGNORECASE):
        epoch = dt.datetime(1899, 12, 30) + dt.timedelta(days=number)
        return _date_text(epoch, fmt)
    sections = fmt.split(";")
    if number < 0 and len(sections) > 1:
        return _number_text(-number, sections[1])
    if number == 0 and len(sections) > 2:
        return _number_text(0.0, sections[2])
    return _number_text(number, sections[0])
