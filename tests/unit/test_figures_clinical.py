"""Clinical charts: every Villalta pair drawn in a few traces; privacy mode hides what
would single a limb out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.filters import CohortFilter
from analytics.present.figures.clinical import (
    PAIR_WIDTH_STEPS,
    ceap_bars,
    ceap_sankey,
    pts_severity_bars,
    villalta_pairs,
)
from analytics.present.masking import mask
from analytics.stats.clinical import clinical_change, score_change
from analytics.views import clinical_ledger, score_ledger


def _villalta(pairs: pd.DataFrame, k: int | None):
    """The Villalta chart of ``pairs`` as a view of those pairs alone, masked with ``k``."""
    return villalta_pairs(pairs, score_change(pairs), mask(score_ledger("villalta", pairs), k))


def _pairs(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product([range(34), range(34)], names=["before", "after"])
    chosen = grid[rng.choice(len(grid), n, replace=False)].to_frame(index=False)
    return chosen.assign(patients=rng.integers(1, 500, n)).sort_values(["before", "after"])


def _pair_traces(fig) -> list:
    return [trace for trace in fig.data if trace.name != "Mean ± SD"]


def test_hundreds_of_pairs_take_one_trace_per_width_step():
    pairs = _pairs(400)
    fig = _villalta(pairs, None)
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


def test_privacy_mode_draws_no_limb_s_pair_of_scores():
    """A pair line is one limb's two scores: privacy mode keeps the means ± SD only."""
    pairs = pd.DataFrame({"before": [10, 12], "after": [3, 12], "patients": [2, 40]})
    fig = _villalta(pairs, 5)
    assert not _pair_traces(fig)
    assert "means ± SD only, no limb's pair" in fig.layout.title.subtitle.text
    few = pd.DataFrame({"before": [10], "after": [3], "patients": [3]})
    assert not _villalta(few, 5).data  # a mean of 3 limbs


def test_privacy_mode_sends_no_small_count_to_the_browser(demo):
    """Bars of a hidden class are not drawn and their hover says "<k" or "hidden"; the
    Sankey's flows (a table counted both ways) are not drawn at all."""
    change = clinical_change(demo, CohortFilter(lesion_side="right"))  # 12 limbs
    shown = mask(clinical_ledger(change), 5)
    ceap = ceap_bars(change.ceap_shift, change.severity_score, shown)  # a trace per class
    pts = pts_severity_bars(change.pts_severity, change.pts, shown)  # a trace per time
    for fig in (ceap, pts):
        for trace in fig.data:
            for y, text in zip(trace.y, trace.customdata, strict=True):
                assert (y is None) == (text in ("<5", "hidden")), (trace.name, y, text)
                assert not (text.isdigit() and 0 < int(text) < 5)
    per_time = [[t.y[i] is None for t in ceap.data] for i in range(2)]
    per_time += [[y is None for y in t.y] for t in pts.data]
    assert all(sum(hidden) != 1 for hidden in per_time)  # the total would give one away
    assert any(any(hidden) for hidden in per_time)
    sankey = ceap_sankey(change.ceap_shift, shown)
    assert not sankey.data and "not shown in privacy mode" in sankey.layout.annotations[
        0
    ].text.replace("<br>", " ")


def test_half_width_charts_break_a_subtitle_that_would_run_past_them(demo):
    """Six patients: both tests' subtitles carry the few-pairs caution, which ran past
    the half-width charts of the Overview ("... p = 0.031 (caution: fewer than 10 pa");
    the browser's layout check measures the drawn lines (tests/browser LONG_TEXTS)."""
    from analytics.present.figures.theme import SUBTITLE_CHARS

    change = clinical_change(
        demo, CohortFilter(lesion_side="left").with_risk("thrombophilia", True)
    )
    exact = mask(clinical_ledger(change), None)
    charts = (
        ceap_bars(change.ceap_shift, change.severity_score, exact),
        pts_severity_bars(change.pts_severity, change.pts, exact),
    )
    for fig in charts:
        lines = fig.layout.title.subtitle.text.split("<br>")
        assert "caution" in fig.layout.title.subtitle.text and len(lines) > 1
        assert max(len(line) for line in lines) <= SUBTITLE_CHARS
        shown = 44 + 24 * len(lines)  # the title and each subtitle line (theme's TITLE_PX...)
        assert fig.layout.margin.t >= shown
