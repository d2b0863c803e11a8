"""The report's charts, drawn with matplotlib (Agg) as PNG bytes.

Two charts: plan vs actual by channel (grouped bars, one panel per count KPI: spend, leads, the
outcome) and the total waterfall of the outcome from plan to actual (grey ends). A step's colour
says whether it moved the metric the good way, not which way it moved: green (`GOOD_COLOUR`) and
red (`BAD_COLOUR`) are up and down for purchases and revenue, and the other way round for a cost
(CPA, CPL: ``lower_is_better``), as on the Review sheet's waterfall. Every number on a chart is
written the report's way (`addin.actions.texts.number`: ``1 500 000`` and ``+9,9`` in Russian).
Fixed colours and size, so a rendered page can be checked against a coarse layout.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from addin.actions.texts import ENGLISH, number, signed
from addin.report.content import ChannelRow, WaterfallBar
from sheets_sync.i18n import Translator

PLAN_COLOUR = "#9db4d3"
ACTUAL_COLOUR = "#1f4e8c"
GOOD_COLOUR = "#2e9e5b"
BAD_COLOUR = "#d04a3c"
END_COLOUR = "#7a7a7a"
SIZE = (10.5, 3.6)  # inches: the width of an A4 landscape page's text block
WATERFALL_SIZE = (10.5, 2.7)  # lower: the review table and the performers share its page
DPI = 150


_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", "\u202f"))


def bar_value(value: float, t: Translator, step: bool) -> str:
    """A bar's value as written above it: 1 decimal below 10 in size (a count of purchases moves
    by fractions), whole numbers above; a step signed; a step that rounds to 0 is ``0``."""
    digits = 1 if abs(value) < 9.95 else 0
    if step and abs(value) < 0.05:
        return "0"
    return signed(value, t, digits) if step else number(value, t, digits)


def step_colour(value: float, lower_is_better: bool = False) -> str:
    """A waterfall step's colour: `GOOD_COLOUR` when it moved the metric the good way (up for a
    count or revenue, down for a cost), `BAD_COLOUR` otherwise; a zero step is good."""
    good = value <= 0 if lower_is_better else value >= 0
    return GOOD_COLOUR if good else BAD_COLOUR


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def channels_chart(
    channels: Sequence[ChannelRow], keys: Sequence[str], plan_label: str, actual_label: str
) -> bytes:
    """Plan vs actual per channel, one panel per KPI key in `keys` (`channels_figure`) as PNG."""
    return _png(channels_figure(channels, keys, plan_label, actual_label))


def channels_figure(
    channels: Sequence[ChannelRow], keys: Sequence[str], plan_label: str, actual_label: str
) -> plt.Figure:
    """Plan vs actual per channel, one panel per KPI key in `keys`: the panels' titles are the
    KPIs' labels, the legend `plan_label` and `actual_label` (all in the report's language)."""
    fig, axes = plt.subplots(1, len(keys), figsize=SIZE)
    names = [c.channel for c in channels]
    x = range(len(names))
    for ax, key in zip(axes, keys, strict=True):
        rows = [next(k for k in c.kpis if k.key == key) for c in channels]
        ax.bar(
            [i - 0.2 for i in x], [r.plan for r in rows], 0.4, color=PLAN_COLOUR, label=plan_label
        )
        ax.bar(
            [i + 0.2 for i in x],
            [r.actual for r in rows],
            0.4,
            color=ACTUAL_COLOUR,
            label=actual_label,
        )
        ax.set_title(rows[0].label if rows else key)
        ax.set_xticks(list(x), names, rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.yaxis.set_major_formatter(_THOUSANDS)  # 1 500 000, not 1.5 with a "1e6" offset
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def waterfall_chart(
    bars: Sequence[WaterfallBar],
    title: str,
    t: Translator = ENGLISH,
    *,
    lower_is_better: bool = False,
) -> bytes:
    """The total waterfall: plan, one step per part, actual (`waterfall_figure`) as PNG."""
    return _png(waterfall_figure(bars, title, t, lower_is_better=lower_is_better))


def waterfall_figure(
    bars: Sequence[WaterfallBar],
    title: str,
    t: Translator = ENGLISH,
    *,
    lower_is_better: bool = False,
) -> plt.Figure:
    """The waterfall's figure: bar i is the i-th of `bars` (`step_colour` for a step, grey
    ends), its value written above it in `t`'s number format (`bar_value`)."""
    fig, ax = plt.subplots(figsize=WATERFALL_SIZE)
    for i, b in enumerate(bars):
        if b.kind == "step":
            low, height = min(b.before, b.after), abs(b.after - b.before)
            colour = step_colour(b.value, lower_is_better)
        else:
            low, height, colour = 0.0, b.value, END_COLOUR
        ax.bar(i, height, 0.6, bottom=low, color=colour)
        ax.annotate(
            bar_value(b.value, t, b.kind == "step"),
            (i, low + height),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(range(len(bars)), [b.label for b in bars], rotation=20, ha="right", fontsize=8)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
