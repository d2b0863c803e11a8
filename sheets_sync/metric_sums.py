"""Sums per metric over a million fact rows, grouped by integer codes rather than by strings.

The Data Quality report's file totals (`sheets_sync.quality.file_totals`) sum every fact of a
file per metric. Grouping the frame by its metric strings (an object column) took seconds on a
million rows; the store and the readers hand the metric over as a categorical, whose codes
group in milliseconds. The sums are pandas' own groupby sums over the same values in the same
order, so the numbers are those of ``groupby("metric", sort=False).sum()`` exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["metric_sums"]


def metric_sums(metric: pd.Series, columns: dict[str, npt.NDArray[np.float64]]) -> pd.DataFrame:
    """Per metric, in order of first appearance, the sums of `columns` (arrays aligned with
    `metric`): a ``metric`` column and one per entry of `columns`, as
    ``groupby("metric", sort=False).sum()`` gives them (a blank metric is left out, as there).

    Grouped by the metric's integer codes: a categorical's own, else `pd.factorize`'s.
    """
    if isinstance(metric.dtype, pd.CategoricalDtype):
        codes = metric.cat.codes.to_numpy()
        names = np.asarray(metric.cat.categories, dtype=object)
    else:
        codes, uniques = pd.factorize(metric)
        names = np.asarray(uniques, dtype=object)
    keep = codes >= 0
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float64)[keep] for k, v in columns.items()})
    sums = frame.groupby(codes[keep], sort=False).sum()
    out = pd.DataFrame({"metric": names[sums.index.to_numpy(dtype=np.int64)]})
    for k in columns:
        out[k] = sums[k].to_numpy(dtype=np.float64)
    return out
