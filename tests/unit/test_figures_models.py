"""The Models forest plot: crude and adjusted markers per term, the Subgroups plot's look."""

from __future__ import annotations

import pytest

from analytics.filters import DEFAULT_FILTER
from analytics.present.figures.models import ADJUSTED, CRUDE, model_forest_plot
from analytics.stats.models import adjusted_model


@pytest.fixture
def model(demo):
    covariates = ["symptom_duration_months", "recurrent_dvt"]
    return adjusted_model(demo, DEFAULT_FILTER, "primary", covariates)


def test_crude_and_adjusted_markers_for_every_term(model):
    fig = model_forest_plot(model)
    series = {trace.name: trace for trace in fig.data if trace.mode == "markers"}
    assert set(series) == {CRUDE, ADJUSTED}
    assert list(series[ADJUSTED].x) == pytest.approx([t.hr for t in model.terms])
    assert list(series[CRUDE].x) == pytest.approx([t.hr for t in model.crude])
    assert list(fig.layout.yaxis.ticktext) == [
        "DVT duration (per month)", "Recurrent DVT (time-varying)",
    ]  # fmt: skip


def test_the_reference_line_and_favours_labels_as_on_subgroups(model):
    fig = model_forest_plot(model)
    (line,) = [trace for trace in fig.data if trace.name == "HR = 1"]
    assert list(line.x) == [1, 1]
    assert fig.layout.xaxis.type == "log"
    assert [a.text for a in fig.layout.annotations][:2] == [
        "← less loss of patency in the group", "less loss of patency in the reference →",
    ]  # fmt: skip
    cells = [text for trace in fig.data if trace.mode == "text" for text in trace.text]
    assert "8.55 (0.53-136.94)" in cells and f"<b>{CRUDE}</b>" in cells
