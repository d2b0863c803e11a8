"""Charts in the workbook's language: titles, axis titles and the series' sheet references.

openpyxl writes a chart's data references as fixed strings when the series is added, so a
renamed sheet leaves them pointing nowhere unless they are rewritten here (with
`localize_refs.rewrite_formula`). Titles are rich text: each title's runs are read as one
text, translated, and written back as one run (the template's titles have one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from openpyxl.chart.title import Title
from openpyxl.worksheet.worksheet import Worksheet

from workbook_templates.localize_refs import rewrite_formula

__all__ = ["localize_charts"]

_REF_HOLDERS = ("tx", "val", "cat", "xVal", "yVal", "bubbleSize")
_REF_KINDS = ("strRef", "numRef", "multiLvlStrRef")


def _title_text(title: Title | None) -> str | None:
    if title is None or title.tx is None or title.tx.rich is None:
        return None
    runs = [r.t for p in title.tx.rich.p for r in (p.r or []) if r.t]
    return "".join(runs) if runs else None


def _set_title(title: Title, text: str) -> None:
    assert title.tx is not None and title.tx.rich is not None
    first = True
    for p in title.tx.rich.p:
        for r in p.r or []:
            r.t = text if first else ""
            first = False


def _retitle(title: Title | None, text: Callable[[str], str]) -> None:
    old = _title_text(title)
    if title is not None and old is not None:
        new = text(old)
        if new != old:
            _set_title(title, new)


def _charts(ws: Worksheet) -> Iterator[Any]:
    for chart in getattr(ws, "_charts", []):  # openpyxl keeps a sheet's charts only here
        yield chart
        yield from getattr(chart, "_charts", [])


def _rewrite_series(series: Any, renames: Mapping[str, str]) -> None:
    for holder_name in _REF_HOLDERS:
        holder = getattr(series, holder_name, None)
        if holder is None:
            continue
        for kind in _REF_KINDS:
            ref = getattr(holder, kind, None)
            if ref is not None and isinstance(ref.f, str):
                ref.f = rewrite_formula(ref.f, renames)


def localize_charts(ws: Worksheet, text: Callable[[str], str], renames: Mapping[str, str]) -> None:
    """Translate `ws`'s chart and axis titles with `text`; rename sheets in their series."""
    for chart in _charts(ws):
        _retitle(chart.title, text)
        for axis_name in ("x_axis", "y_axis", "z_axis"):
            axis = getattr(chart, axis_name, None)
            if axis is not None:
                _retitle(axis.title, text)
        for series in chart.series:
            _rewrite_series(series, renames)
