"""The Villalta pair chart: every pair drawn and named, in a few traces whatever the cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.present.figures.clinical import PAIR_WIDTH_STEPS, villalta_pairs
from analytics.stats.clinical import score_change


def _pairs(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product([range(34), range(34)], names=["before", "after"])
    chosen = grid[rng.choice(len(grid), n, replace=False)].to_frame(index=False)
    return chosen.assign(patients=rng.integers(1, 500, n)).sort_values(["before", "after"])


def _pair_traces(fig) -> list:
    return [trace for trace in fig.data if trace.name != "Mean ± SD"]


def test_hundreds_of_pairs_take_one_trace_per_width_step():
    pairs = _pairs(400)
    fig = villalta_pairs(pairs, score_change(pairs))
    traces = _pair_traces(fig)
    assert len(traces) <= PAIR_WIDTH_STEPS
    segments = {
        (y0, y1)
        for trace in traces
        for y0, y1, gap in zip(trace.y[0::3], trace.y[1::3], trace.y[2::3], strict=True)
        if gap is None
    }
    assert segments == set(zip(pairs["before"], pairs["after"], strict=True))
    # the most frequent pair gets the widest line, as when each pair was its own trace
    top = pairs.loc[pairs["patients"].idxmax()]
    widest = max(traces, key=lambda trace: trace.line.width)
    assert widest.line.width == 4
    assert f"{top.before} → {top.after}: {top.patients} limb(s)" in widest.text


def test_hover_hides_small_counts_in_privacy_mode():
    pairs = pd.DataFrame({"before": [10, 12], "after": [3, 12], "patients": [2, 40]})
    fig = villalta_pairs(pairs, score_change(pairs), k=5)
    texts = [t for trace in _pair_traces(fig) for t in trace.text if t]
    assert "10 → 3: <5 limb(s)" in texts
    assert "12 → 12: 40 limb(s)" in texts
