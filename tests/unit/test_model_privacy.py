"""An adjusted model's counts as part of the one masked view (issue 22): the model's
patients, those left out and its events, each level's and each reference's, declared
beside the sidebar's n (views.model_ledger)."""

from __future__ import annotations

from dataclasses import replace

from analytics.stats.models import AdjustedModel, LevelCounts, Term
from analytics.views import N, model_key, model_ledger


def _model(patients: int, events: int, levels: dict[str, tuple[int, int]], excluded: int = 0):
    """A fitted-looking model of ``center`` levels against C01 (ratios irrelevant here)."""
    terms = tuple(
        Term(f"center={level}", "center", level, "C01", 0.1, 0.2, 1.1, 0.8, 1.6, 0.5,
             LevelCounts(n, e))
        for level, (n, e) in levels.items()
    )  # fmt: skip
    return AdjustedModel("primary", ("center",), False, patients, events, excluded, terms, terms)


def test_the_model_ledger_s_sums_hold_and_name_the_reference_as_the_rest():
    model = _model(53, 20, {"C02": (20, 8), "C03": (3, 2)}, excluded=4)
    view = model_ledger(model)
    for s in view.sums:
        assert view.counts[s.total] == sum(view.counts[p] for p in s.parts), s
    key = lambda *count: model_key(model, *count)  # noqa: E731
    assert view.counts[N] == 57
    assert view.counts[key("center", "reference", "patients")] == 30
    assert view.counts[key("center", "reference", "events")] == 10
    assert view.counts[key("center=C03", "without event")] == 1


def test_a_models_patients_are_one_count_under_every_endpoint_its_events_are_not():
    primary = _model(53, 20, {"C02": (20, 8)})
    assisted = replace(primary, endpoint="assisted", events=18)
    assert model_key(primary, "patients") == model_key(assisted, "patients")
    assert model_key(primary, "events") != model_key(assisted, "events")
    both = model_ledger(primary) | model_ledger(assisted)  # one count, one value
    assert both.counts[model_key(primary, "center=C02", "patients")] == 20
