"""The digest's picture: a metric's month so far and to come (plan vs fact vs run-rate), as a
PNG made with matplotlib (no display needed)."""

from __future__ import annotations

import datetime as dt
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from addin.digest.texts import Texts
from planning.morning import Volume


def plan_chart(daily: pd.DataFrame, volume: Volume, month: dt.date, t: Texts, title: str) -> bytes:
    """Cumulative `volume.metric` by day: the plan as a straight line to month end, the fact
    through the as-of day, the run-rate from there to its month-end forecast."""
    days_in_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month
    n = days_in_month.days
    days = [month + dt.timedelta(days=i) for i in range(n)]
    frame = daily.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    per_day = frame.groupby("date")[volume.metric].sum()
    fact, running = [], 0.0
    for day in days:
        if day > volume.day:
            break
        running += float(per_day.get(day, 0.0))
        fact.append(running)
    names = {"ru": ("план", "факт", "прогноз"), "en": ("plan", "fact", "run-rate")}[t.lang]
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    x = list(range(1, n + 1))
    if not math.isnan(volume.plan):
        ax.plot(
            x, [volume.plan * d / n for d in x], color="#7f7f7f", linestyle="--", label=names[0]
        )
    ax.plot(x[: len(fact)], fact, color="#1f4e79", linewidth=2.2, label=names[1])
    if fact and not math.isnan(volume.rr) and len(fact) < n:
        ax.plot(
            [len(fact), n],
            [fact[-1], volume.rr],
            color="#c55a11",
            linewidth=2,
            linestyle=":",
            label=names[2],
        )
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlim(1, n)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: t.number(v)))
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
