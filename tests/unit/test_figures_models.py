"""The Models forest plot: crude and adjusted markers per term, the Subgroups plot's look."""

from __future__ import annotations

import json

import pytest

from analytics.filters import DEFAULT_FILTER
from analytics.glossary import TOO_FEW_EVENTS, TOO_FEW_EVENTS_REASON
from analytics.present.figures.models import ADJUSTED, CRUDE, model_forest_plot
from analytics.present.masking import exact, mask
from analytics.present.privacy import model_mask
from analytics.stats.models import AdjustedModel, adjusted_model
from analytics.views import model_ledger


def privacy_off(model: AdjustedModel):
    """The model's mask with privacy off: every count exact, no ratio withheld."""
    return model_mask(model, exact(model_ledger(model)))


@pytest.fixture
def model(demo):
    covariates = ["symptom_duration_months", "recurrent_dvt"]
    return adjusted_model(demo, DEFAULT_FILTER, "primary", covariates)


def test_crude_and_adjusted_markers_for_every_term(model):
    fig = model_forest_plot(model, privacy_off(model))
    series = {trace.name: trace for trace in fig.data if trace.mode == "markers"}
    assert set(series) == {CRUDE, ADJUSTED}
    # recurrent DVT: 2 events after it, too few for a hazard ratio: no point, no number
    duration, recurrent = model.terms
    assert not recurrent.estimable and recurrent.reason == TOO_FEW_EVENTS_REASON
    assert list(series[ADJUSTED].x) == pytest.approx([duration.hr])
    assert list(series[CRUDE].x) == pytest.approx([model.crude[0].hr])
    assert list(fig.layout.yaxis.ticktext) == [
        "DVT duration (per 12 months)", "Recurrent DVT (time-varying)",
    ]  # fmt: skip


def test_the_reference_line_and_favours_labels_as_on_subgroups(model):
    fig = model_forest_plot(model, privacy_off(model))
    (line,) = [trace for trace in fig.data if trace.name == "HR = 1"]
    assert list(line.x) == [1, 1]
    assert fig.layout.xaxis.type == "log"
    assert [a.text for a in fig.layout.annotations][:2] == [
        "← less loss of patency in the group", "less loss of patency in the reference →",
    ]  # fmt: skip
    cells = [text for trace in fig.data if trace.mode == "text" for text in trace.text]
    assert "2.43 (1.47-4.02)" in cells and f"<b>{CRUDE}</b>" in cells
    assert cells.count(TOO_FEW_EVENTS) == 2  # recurrent DVT's crude and adjusted
    data = json.dumps(fig.to_plotly_json(), default=str)
    assert "8.55" not in data and "43.2" not in data


def test_privacy_leaves_a_small_levels_ratios_out_of_the_figure_data(small_centre_path):
    """center=C07 holds 3 patients: no marker, whisker, hover or table cell of its crude or
    adjusted HR is in the figure sent to the browser; its row says hidden, a note why."""
    from analytics.cohort.db import open_cohort
    from analytics.present.privacy import SUPPRESSED

    with open_cohort(small_centre_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["center", "symptom_duration_months"]
        )
    centre = model.terms[0]
    crude = model.crude[0]
    assert centre.term == crude.term == "center=C07"
    shown = model_forest_plot(model, privacy_off(model))
    fig = model_forest_plot(model, model_mask(model, mask(model_ledger(model), 5)))
    data = json.dumps(fig.to_plotly_json(), default=str)
    # without privacy its 3 patients' events are too few for a hazard ratio anyway
    assert not centre.estimable and not crude.estimable
    assert TOO_FEW_EVENTS in json.dumps(shown.to_plotly_json(), default=str)
    for term in (centre, crude):
        for value in (term.hr, term.ci_lower, term.ci_upper, term.ci_upper - term.hr):
            assert repr(value) not in data and f"{value:.2f} (" not in data
    series = {trace.name: trace for trace in fig.data if trace.mode == "markers"}
    assert list(series[ADJUSTED].x) == pytest.approx([model.terms[1].hr])
    assert list(series[CRUDE].x) == pytest.approx([model.crude[1].hr])
    assert list(series[ADJUSTED].y) == [1 + 0.18]  # the duration's row; C07's row stays
    assert fig.layout.yaxis.ticktext[0] == "Centre: C07 vs C01"
    cells = [text for trace in fig.data if trace.mode == "text" for text in trace.text]
    assert cells.count(SUPPRESSED) == 2
    assert any(a.text.startswith(f"{SUPPRESSED}: not drawn") for a in fig.layout.annotations)


def test_a_term_of_too_few_events_is_not_called_hidden_by_privacy(model):
    """Recurrent DVT has 2 events after it: no point, 'too few events' in its cells, and no
    privacy note under the plot ("... has under None patients"), privacy being off."""
    from analytics.present.privacy import SUPPRESSED

    fig = model_forest_plot(model, privacy_off(model))
    notes = [a.text for a in fig.layout.annotations]
    assert not any(text.startswith(SUPPRESSED) or "None" in text for text in notes), notes
