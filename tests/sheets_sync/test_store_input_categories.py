"""normalise_facts keeps a reader's Categorical key columns Categorical: the same texts as
``astype(str)`` gave, missing as "", categories equal as text merged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sheets_sync.facts import FACT_COLUMNS
from sheets_sync.store_input import normalise_facts


def _facts(campaign: pd.Categorical) -> pd.DataFrame:
    n = len(campaign)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-01"] * n),
            "source": "direct",
            "utm_source": pd.Categorical(["yandex"] * n),
            "utm_medium": ["cpc"] * n,  # plain text still works
            "utm_campaign": campaign,
            "metric": pd.Categorical(["spend"] * n),
            "basis": "event",
            "value": np.arange(n, dtype=np.float64),
        },
        columns=list(FACT_COLUMNS),
    )


def test_categorical_keys_stay_categorical_with_the_same_texts() -> None:
    # categories 1 (int) and "1" (str) are one text; code -1 (missing) is ""
    campaign = pd.Categorical.from_codes([0, 1, -1, 2, 0], pd.Index([1, "1", "b"], dtype=object))
    out = normalise_facts(_facts(campaign), "direct")
    assert isinstance(out["utm_campaign"].dtype, pd.CategoricalDtype)
    assert out["utm_campaign"].astype(str).tolist() == ["1", "1", "", "b", "1"]
    assert sorted(out["utm_campaign"].cat.categories) == ["", "1", "b"]
    assert isinstance(out["source"].dtype, pd.CategoricalDtype)
    assert out["source"].astype(str).tolist() == ["direct"] * 5
    assert out["utm_medium"].tolist() == ["cpc"] * 5
    assert out["utm_source"].astype(str).tolist() == ["yandex"] * 5
