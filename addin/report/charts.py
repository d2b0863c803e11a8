"""The report's charts, drawn with matplotlib (Agg) as PNG bytes.

Two charts: plan vs actual by channel (grouped bars, one panel per count KPI: spend, leads, the
outcome) and the total waterfall of the outcome from plan to actual (green bars up, red down,
grey ends). Fixed colours and size, so a rendered page can be checked against a coarse layout.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from addin.report.content import ChannelRow, WaterfallBar

PLAN_COLOUR = "#9db4d3"
ACTUAL_COLOUR = "#1f4e8c"
UP_COLOUR = "#2e9e5b"
DOWN_COLOUR = "#d04a3c"
END_COLOUR = "#7a7a7a"
SIZE = (10.5, 3.6)  # inches: the width of an A4 landscape page's text block
WATERFALL_SIZE = (10.5, 2.7)  # lower: the review table and the performers share its page
DPI = 150


_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", "\u202f"))


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def channels_chart(
    channels: Sequence[ChannelRow], keys: Sequence[str], plan_label: str, actual_label: str
) -> bytes:
    """Plan vs actual per channel, one panel per KPI key in `keys`."""
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
    return _png(fig)


def waterfall_chart(bars: Sequence[WaterfallBar], title: str) -> bytes:
    """The total waterfall: plan, one step per part, actual."""
    fig, ax = plt.subplots(figsize=WATERFALL_SIZE)
    for i, b in enumerate(bars):
        if b.kind == "step":
            low, height = min(b.before, b.after), abs(b.after - b.before)
            colour = UP_COLOUR if b.value >= 0 else DOWN_COLOUR
        else:
            low, height, colour = 0.0, b.value, END_COLOUR
        ax.bar(i, height, 0.6, bottom=low, color=colour)
        ax.annotate(
            f"{b.value:+,.0f}" if b.kind == "step" else f"{b.value:,.0f}",
            (i, low + height),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(range(len(bars)), [b.label for b in bars], rotation=20, ha="right", fontsize=8)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)
