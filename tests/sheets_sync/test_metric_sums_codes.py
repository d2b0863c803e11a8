"""`metric_sums`: the sums per metric of a groupby on the strings, from the integer codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_sync.metric_sums import metric_sums


def _by_strings(metric: pd.Series, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The obvious way: a groupby on the metric's strings."""
    frame = pd.DataFrame({"metric": metric.astype(object).to_numpy(), **columns})
    return frame.groupby("metric", sort=False).sum().reset_index()


def test_known_numbers() -> None:
    metric = pd.Series(["spend", "leads", "spend", "leads", "traffic"], dtype="category")
    value = np.array([100.0, 2.0, 50.5, 3.0, 7.0])
    out = metric_sums(metric, {"total": value, "half": value / 2})
    # first appearance: spend (100 + 50.5 = 150.5), leads (2 + 3 = 5), traffic (7)
    assert out["metric"].tolist() == ["spend", "leads", "traffic"]
    assert out["total"].tolist() == [150.5, 5.0, 7.0]
    assert out["half"].tolist() == [75.25, 2.5, 3.5]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["spend", "leads", "traffic", "revenue", None]),
            st.floats(-1e9, 1e9, allow_nan=False),
        ),
        max_size=60,
    ),
    categorical=st.booleans(),
    extra_categories=st.booleans(),
)
def test_the_same_sums_as_a_groupby_on_strings(
    rows: list[tuple[str | None, float]], categorical: bool, extra_categories: bool
) -> None:
    names = [m for m, _ in rows]
    metric = pd.Series(names, dtype=object)
    if categorical:
        cats = ["calls", "leads", "revenue", "spend", "traffic"] if extra_categories else None
        metric = pd.Series(pd.Categorical(names, categories=cats))
    value = np.array([v for _, v in rows], dtype=np.float64)
    columns = {"total": value, "restated": np.where(value > 0, value, 0.0)}
    ours = metric_sums(metric, columns)
    kept = metric.notna().to_numpy()
    expected = _by_strings(metric[kept], {k: v[kept] for k, v in columns.items()})
    assert ours["metric"].tolist() == expected["metric"].tolist()
    for k in columns:
        assert ours[k].tolist() == expected[k].tolist()  # bit for bit
