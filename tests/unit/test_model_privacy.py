"""An adjusted model's counts as part of the one masked view (issue 22): the model's
patients, those left out and its events, each level's and each reference's, declared
beside the sidebar's n (views.model_ledger) and decided once with it, on the Models page,
in the report and in the deck; and no formatter takes k.

The attacker here reads what a surface prints and knows the sums a model's counts make:
patients + left out = n, its events are part of its patients; a "<k" is 1 to k-1, a
withheld count ("hidden", null) k or more unless it is part of a count that may be fewer
than k, a count a surface does not print 0 or more. It tries every whole-number value.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
from dataclasses import replace

import duckdb

from analytics.cohort.summary import create_summary
from analytics.filters import CohortFilter
from analytics.present import format as fmt
from analytics.present.masking import exact, mask
from analytics.present.privacy import SUPPRESSED, model_mask
from analytics.present.report import report_json, report_text
from analytics.stats.models import GLOBAL, AdjustedModel, LevelCounts, Term
from analytics.views import N, curve_key, model_key, model_ledger, report_view
from tests.conftest import add_events, add_patient


def test_no_formatter_takes_k():
    """Privacy reaches a formatter as a Cell (or whether a value is withheld), never as k."""
    takes_k = [
        name
        for name, function in inspect.getmembers(fmt, inspect.isfunction)
        if function.__module__ == fmt.__name__
        and {"k", "privacy_k"} & set(inspect.signature(function).parameters)
    ]
    assert takes_k == []


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


def test_a_levels_ratios_are_withheld_when_the_mask_says_it_or_its_reference_is_few():
    """C03's 3 patients are "<5": its hazard ratio describes those few; C02's 20 against
    the reference's 30 still shows. The reference's few (C01 of 3) withholds C02's."""
    model = _model(53, 20, {"C02": (20, 8), "C03": (3, 2)})
    masked = model_mask(model, mask(model_ledger(model), 5))
    assert masked.ratios == {"center=C03"} and not masked.everything
    assert fmt.level_patients(model.terms[1], masked) == "<5"
    small_reference = _model(26, 12, {"C02": (23, 10)})
    assert model_mask(small_reference, mask(model_ledger(small_reference), 5)).ratios == {
        "center=C02"
    }
    off = model_mask(model, exact(model_ledger(model)))
    assert not off.ratios and fmt.level_patients(model.terms[1], off) == "3"


def test_the_global_ph_test_is_withheld_with_any_terms():
    """With one term the global proportional-hazards test is that term's statistic: the
    deck's and the Models page's "all terms" line gave the hidden term's test away."""
    model = _model(26, 12, {"C02": (23, 10)})
    masked = model_mask(model, mask(model_ledger(model), 5))
    assert masked.ratios == {"center=C02"} and masked.ratio_hidden(GLOBAL)
    shown = model_mask(model, exact(model_ledger(model)))
    assert not shown.ratio_hidden(GLOBAL)


def test_a_model_of_few_events_withholds_every_ratio():
    model = _model(40, 4, {"C02": (20, 2)})
    assert model_mask(model, mask(model_ledger(model), 5)).everything


def test_model_counts_and_events_per_variable_follow_the_mask():
    """32 events of 34 patients, all modelled, leave 2 without: the patients or the events
    are withheld, and the events per variable (the events over the coefficients shown) with
    the events; 2 of 36 left out are "<5"."""
    model = _model(34, 32, {"C02": (17, 16)})
    masked = model_mask(model, mask(model_ledger(model), 5))
    counts = fmt.model_counts(masked)
    assert "on 34 patients with 32 events" not in counts
    assert SUPPRESSED in counts and "; 0 patients left out" in counts
    per = fmt.events_per_variable(model, masked)
    assert per.startswith(f"{SUPPRESSED} events per") == masked.cell("events").hidden
    off = model_mask(model, exact(model_ledger(model)))
    assert fmt.events_per_variable(model, off).startswith("32.0 events per coefficient (32")
    left_out = _model(34, 20, {"C02": (17, 10)}, excluded=2)
    masked = model_mask(left_out, mask(model_ledger(left_out), 5))
    assert "; <5 patients left out" in fmt.model_counts(masked)


def _pinned(n: object, patients: object, excluded: object, events: object, k: int) -> bool:
    """Whether the model's left-out count, printed "<k", is the one value that n, the
    model's patients and events as printed allow: patients + left out = n, events +
    without event = patients."""
    top = 4 * k + 60

    def values(shown: object, within: range) -> range:
        if isinstance(shown, int):
            return range(shown, shown + 1)
        if shown == f"<{k}":
            return range(1, k)
        # withheld: k or more, as a smaller count would show "<k", unless it is a part
        # of a count that may be fewer than k (then left out with it: 0 or more)
        return range(0 if within.start < k else k, top)

    n_values = values(n, range(0, top))  # n withheld: 0 or more, as the weakest reading
    patient_values = values(patients, n_values)
    allowed = {
        x
        for p, x in itertools.product(patient_values, values(excluded, n_values))
        for e in values(events, patient_values)
        if e <= p and p + x in n_values
    }
    return len(allowed) == 1


def _printed(text: str | None) -> object:
    return int(text.replace(",", "")) if text and text.replace(",", "").isdigit() else text


def _all_lost_but_one_left_out(con: duckdb.DuckDBPyConnection) -> None:
    """11 patients: 5 in C01 and 5 in C02, each losing patency; 1 with no centre, who
    does not: a model on the centre leaves 1 out and its 10 patients all had the event."""
    for i in range(10):
        add_patient(con, f"P{i}", center="C01" if i < 5 else "C02")
        add_events(con, f"P{i}", (3.0 + i, "occlusion"))
    add_patient(con, "P10", center=None)
    con.execute("INSERT INTO cohort_metadata VALUES ('name', 'All lost, one left out')")
    create_summary(con)


def test_the_reports_model_does_not_give_the_patients_left_out_by_n(blank):
    """Before, the report decided the model's counts alone: n 11, the modelled patients
    hidden beside the 1 left out ("<5"), but their 10 events shown, so n - 10 left 1."""
    _all_lost_but_one_left_out(blank)
    data = report_json(report_view(blank, CohortFilter(), adjust=["center"]), 5)
    model = data["patency"]["primary"]
    assert model["adjusted_excluded"] == "<5"
    shown = (model[key] for key in ("adjusted_patients", "adjusted_excluded", "adjusted_events"))
    assert not _pinned(_printed(data["n_patients"]), *shown, 5)
    for level in model["adjusted_levels"]:
        assert level["patients"] is None or level["patients"] == "<5" or level["patients"] >= 5
    text = report_text(report_view(blank, CohortFilter(), adjust=["center"]), 5)
    assert "<5 patients left out for a missing covariate" in text


def test_the_deck_mask_holds_the_model_it_shows(demo):
    from analytics.present.deck import deck_mask
    from analytics.views import deck_view, models_view

    model = models_view(demo, CohortFilter(), "primary", ["thrombophilia"])
    view = deck_view(demo, CohortFilter(), model=model)
    decided = deck_mask(view, 5)
    assert set(model_ledger(model).counts) <= set(decided.counts)
    assert decided.counts[N] == model.patients + model.excluded == view.report.safety.patients


# ---- the same patients under one name across models, and beside Table 1 (issue 22) ----------


def test_a_time_varying_models_patients_are_those_of_its_covariates_without_it():
    """The report fits recurrent DVT as a time-varying covariate for each patency and,
    for the recurrent-DVT endpoint, the model without it: with no patient left out for
    no follow-up time both hold the same patients, so each count of them is one count;
    the time-varying covariate's own counts split each endpoint's time: not."""
    terms = (
        Term("sex=M", "sex", "M", "F", 0.1, 0.2, 1.1, 0.8, 1.6, 0.5, LevelCounts(17, 6)),
        Term("recurrent_dvt", "recurrent_dvt", None, None, 0.1, 0.2, 1.1, 0.8, 1.6, 0.5,
             LevelCounts(3, 2)),
    )  # fmt: skip
    varying = AdjustedModel("primary", ("sex", "recurrent_dvt"), True, 34, 14, 0, terms, terms)
    without = AdjustedModel("recurrent_dvt", ("sex",), False, 34, 7, 0, terms[:1], terms[:1])
    for count in (("patients",), ("excluded",), ("sex=M", "patients"),
                  ("sex", "reference", "patients")):  # fmt: skip
        assert model_key(varying, *count) == model_key(without, *count), count
    assert model_key(varying, "events") != model_key(without, "events")
    assert model_key(varying, "recurrent_dvt", "patients") != model_key(
        replace(varying, endpoint="secondary"), "recurrent_dvt", "patients"
    )


def test_the_reports_models_do_not_give_away_whom_the_time_varying_fit_left_out(demo):
    """All 37 enrolled: the 3 technical failures lose patency at month 0, so each
    patency's time-varying model leaves them out (a note says so) and the recurrent-DVT
    endpoint's model keeps them. Before, the report printed 17 men in the first and 19 in
    the second: 2 of the failures, fewer than 5, were men."""
    view = report_view(demo, CohortFilter(population="all"), adjust=["sex", "recurrent_dvt"])
    models = view.adjusted
    assert models["primary"].excluded == 3 and models["recurrent_dvt"].excluded == 0
    data = report_json(view, 5)

    def men(endpoint: str) -> object:
        rows = data["patency"][endpoint]["adjusted_levels"]
        return next((r["patients"] for r in rows if r["term"] == "sex=M"), None)

    kept = men("recurrent_dvt")
    for endpoint in ("primary", "assisted_primary"):
        fitted = men(endpoint)
        if isinstance(fitted, int) and isinstance(kept, int):
            assert not 0 < kept - fitted < 5, (endpoint, kept, fitted)
    leaves = json.dumps(data["patency"])
    assert "no follow-up time (month 0) left out" in leaves


def _women_left_out_by_sex(con: duckdb.DuckDBPyConnection) -> None:
    """24 patients: 15 women and 4 men with a centre, 5 men without one. A model on sex
    and centre leaves the 5 out (and centre, one level left); 4 men are modelled."""
    for i in range(24):
        add_patient(con, f"P{i:02}", sex="F" if i < 15 else "M", center=None if i >= 19 else "C01")
        if i % 3 == 0 or i == 16:
            add_events(con, f"P{i:02}", (3.0 + i, "occlusion"))
    create_summary(con)


def _men_in_the_model(n: object, women: object, patients: object, left_out: object, k: int) -> set:
    """The modelled men's counts that n, Table 1's women and the model's patients and
    left out as printed allow: the model's women are Table 1's less those left out, its
    men the rest of its patients, and those left out women or men."""
    top = 4 * k + 60

    def values(shown: object) -> range:
        if isinstance(shown, int):
            return range(shown, shown + 1)
        return range(1, k) if shown == f"<{k}" else range(k, top)

    return {
        men
        for total, w, p, x in itertools.product(
            values(n), values(women), values(patients), values(left_out)
        )
        if p + x == total
        for men in range(1, k)
        if 0 <= w - (p - men) <= x
    }


def test_the_deck_does_not_give_the_modelled_men_away_by_table1s_women(blank):
    """Before, Table 1 showed 15 women of 24 and the model 19 patients, 5 left out and
    "<5" men: its women are at most Table 1's 15, so its men at least 19 - 15 = 4."""
    from analytics.present.deck import deck_mask
    from analytics.present.tables import table1
    from analytics.views import deck_view, models_view

    _women_left_out_by_sex(blank)
    model = models_view(blank, CohortFilter(), "primary", ["sex", "center"])
    assert (model.patients, model.excluded, model.terms[0].at_level.patients) == (19, 5, 4)
    view = deck_view(blank, CohortFilter(), model=model)
    decided = deck_mask(view, 5)
    rows = table1(view.baseline, decided).set_index("Characteristic")["Value"]
    reading = fmt.model_reading(model, model_mask(model, decided))
    counts = re.search(r"on (\S+) patients with \S+ events; (\S+) patients left out", reading[0])
    assert counts and re.search(r"Male vs Female \(<5 patients", "\n".join(reading))
    women = rows["Female"].split(" ")[0]
    shown = [_printed(v) for v in (rows["Patients"], women, *counts.groups())]
    assert len(_men_in_the_model(*shown, 5)) > 1, shown
    # the subgroup slides' women on the primary patency curve: the same 15
    group = fmt.cell(decided.cell(curve_key("primary", "F", "patients", by="sex")))
    shown[1] = _printed(group)
    assert len(_men_in_the_model(*shown, 5)) > 1, shown


def test_table1s_rows_are_a_models_levels_and_those_it_left_out(blank):
    """Each Table 1 row of a covariate (a share's level; a number's patients with a value)
    is the model's patients at it plus those it left out there, counted on the rows."""
    from analytics.stats.baseline import baseline
    from analytics.views import model_table1_ledger, models_view, table1_key

    _women_left_out_by_sex(blank)
    model = models_view(blank, CohortFilter(), "primary", ["sex", "age_years", "center"])
    view = model_table1_ledger(model, baseline(blank, CohortFilter()))
    for s in view.sums:
        assert view.counts[s.total] == sum(view.counts[p] for p in s.parts), s
    assert view.counts[table1_key("sex")] == 15 and view.counts[table1_key("age_years", "values")]
    # the 5 without a centre are men of known age
    assert view.counts[model_key(model, "sex", "left out")] == 0
    assert view.counts[model_key(model, "age_years", "values", "left out")] == 5


# (patient, sex, follow-up months, (month, event) or None): 15 patients all modelled
CURVE_AND_MODEL = [
    ("P00", "F", 36.0, (10.0, "occlusion")), ("P01", "F", 24.0, (4.0, "restenosis")),
    ("P02", "M", 36.0, None), ("P03", "F", 36.0, (1.0, "occlusion")),
    ("P04", "F", 12.0, (1.0, "restenosis")), ("P05", "M", 36.0, None),
    ("P06", "M", 24.0, None), ("P07", "M", 24.0, (3.0, "restenosis")),
    ("P08", "F", 36.0, (11.0, "restenosis")), ("P09", "M", 24.0, (9.0, "restenosis")),
    ("P10", "F", 36.0, None), ("P11", "F", 36.0, None), ("P12", "F", 36.0, None),
    ("P13", "F", 36.0, None), ("P14", "M", 12.0, (11.0, "restenosis")),
]  # fmt: skip


def test_the_reports_model_events_are_its_curves_when_it_leaves_none_out(blank):
    """A model that leaves nobody out has its endpoint curve's events: before, the report
    decided the two apart, printed the model's 8 and hid the curve's, and with the curve's
    KMunicate columns that gave its "<5" events between 6 and 24 months away. The attacker
    knows the report's sums and that the two counts are one."""
    from analytics.glossary import ALL_PATIENTS
    from analytics.partitions import Sum, ledger
    from analytics.present.report import report_mask
    from analytics.views import (
        PRIMARY,
        PatencyView,
        clinical_ledger,
        curve_key,
        patency_ledger,
        safety_ledger,
    )
    from tests.unit.test_masked_views import another_solution

    for patient, sex, months, event in CURVE_AND_MODEL:
        add_patient(blank, patient, sex=sex, follow_up_months=months)
        if event:
            add_events(blank, patient, event)
    create_summary(blank)
    view = report_view(blank, CohortFilter(), adjust=["sex"])
    curves = PatencyView(None, PRIMARY, view.months, view.survival, view.horizon,
                         view.risk_months, view.cohort_filter.variables)  # fmt: skip
    shown = safety_ledger(view.safety) | clinical_ledger(view.clinical)
    shown |= patency_ledger(curves, view.safety.patients)
    for endpoint, model in view.adjusted.items():
        assert model.excluded == 0
        one = Sum(curve_key(endpoint, ALL_PATIENTS, "events"), (model_key(model, "events"),))
        counts = {key: view.survival[endpoint].overall.events for key in (one.total, *one.parts)}
        shown |= model_ledger(model) | ledger(counts, [one])
    decided = report_mask(view, 5)
    assert report_json(view, 5)["patency"]["primary"]["adjusted_excluded"] == 0
    for key in sorted(decided.small | decided.omitted, key=str):
        if key in shown.counts and 0 < shown.counts[key] < 5:
            assert another_solution(shown, decided, key) is not None, (key, shown.counts[key])
