"""The KMunicate figure: curves, CI bands, censor marks, dotted unreliable stretch, risk table."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter

from analytics.cohort.summary import endpoint_columns
from analytics.filters import CohortFilter
from analytics.glossary import ENDPOINTS, PRIVACY_CURVE
from analytics.present.figures.patency import (
    AALEN_JOHANSEN,
    AALEN_JOHANSEN_CI,
    ONE_MINUS_KM,
    CurveSpec,
    TimeAxis,
    incidence_figure,
    km_figure,
    patency_figure,
)
from analytics.present.figures.theme import (
    LEGEND_ROW_PX,
    SUBTITLE_PX,
    TITLE_PX,
    contrast,
    group_style,
)
from analytics.present.masking import mask as masked_by
from analytics.present.tables import unreliable_note, unreliable_start
from analytics.stats.engine.counts import Counts
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.survival import covering_months, endpoint_survival
from analytics.views import PatencyView, patency_ledger, patency_view
from tests.unit.test_clinical_privacy import assert_none_follows


def one_group(months, events, censored) -> Counts:
    return Counts(("all",), np.zeros(len(months), int), np.array(months, float),
                  np.array(events), np.array(censored))  # fmt: skip


# Ten patients: events at 2 and 5 months, censored at 5, 8 and six at 12.
COUNTS = one_group([2.0, 5.0, 8.0, 12.0], [1, 1, 0, 0], [0, 1, 1, 6])
MONTHS = (0, 6, 12)


def figure(show_ci: bool = True, counts: Counts = COUNTS):
    curve = kaplan_meier(counts)
    spec = CurveSpec("Primary patency", "#0072B2", curve, at_months(curve, MONTHS))
    return km_figure([spec], MONTHS, show_ci=show_ci, title="t", subtitle="Log-rank p = 0.5")


def traces(fig, name: str):
    return [t for t in fig.data if t.name == name]


def test_curve_starts_at_one_and_steps_down_to_the_km_estimate():
    (solid,) = traces(figure(), "Primary patency")
    (dotted,) = traces(figure(), "Primary patency: SE > 10%")
    assert solid.line.shape == "hv"
    assert solid.y[0] == 1.0
    # product limit: 9/10 after month 2, then 9/10 * 8/9 = 0.8 after month 5, whose
    # Greenwood SE 0.8 * sqrt(1/90 + 1/72) = 0.126 exceeds 10%: drawn dotted
    assert min(solid.y) == pytest.approx(0.9)
    assert min(dotted.y) == pytest.approx(0.8)


def test_ci_band_can_be_switched_off():
    assert traces(figure(show_ci=True), "Primary patency 95% CI")
    assert not traces(figure(show_ci=False), "Primary patency 95% CI")


def test_censor_marks_at_censored_times():
    (marks,) = traces(figure(), "Primary patency censored")
    assert list(marks.x) == [5.0, 8.0, 12.0]


def table_rows(fig) -> dict[str, list[str]]:
    """The KMunicate table's text rows by their label, block by block ("Block: At risk")."""
    axis = fig.layout.yaxis2
    labels = dict(zip(axis.tickvals, axis.ticktext, strict=True))
    rows, block = {}, ""
    for y in sorted(labels, reverse=True):
        label = labels[y]
        if "<b>" in label:
            block = label.split("<b>")[1].split("</b>")[0]
            continue
        (trace,) = [t for t in fig.data if t.mode == "text" and t.y[0] == y]
        rows[f"{block}: {label}"] = list(trace.text)
    return rows


def test_risk_table_under_the_axis_matches_the_counts():
    fig = figure()
    rows = table_rows(fig)
    # at risk = time >= month: 10 at 0; 7 at 6 (two events and one censored by then); 6 at 12
    assert rows["Primary patency: At risk"] == ["10", "7", "6"]
    # KMunicate: events and censored before the month, so the three add up to 10
    assert rows["Primary patency: Events"] == ["0", "2", "2"]
    assert rows["Primary patency: Censored"] == ["0", "1", "2"]
    assert all(t.xaxis == "x2" for t in fig.data if t.mode == "text")  # shares the month axis


def test_each_curve_has_a_block_with_its_swatch_and_dark_text():
    first, second = kaplan_meier(COUNTS), kaplan_meier(one_group([3.0, 9.0], [1, 0], [0, 4]))
    specs = [
        CurveSpec("Primary patency", "#0072B2", first, at_months(first, MONTHS)),
        CurveSpec("Assisted primary patency", "#E69F00", second, at_months(second, MONTHS)),
    ]
    fig = km_figure(specs, MONTHS)
    headers = [label for label in fig.layout.yaxis2.ticktext if "<b>" in label]
    assert headers == [
        '<span style="color:#0072B2">■</span> <b>Primary patency</b>',
        '<span style="color:#E69F00">■</span> <b>Assisted primary patency</b>',
    ]
    for trace in (t for t in fig.data if t.mode == "text"):
        assert contrast(trace.textfont.color) >= 4.5  # Okabe-Ito orange on white: 2.1
    assert contrast(fig.layout.yaxis2.tickfont.color) >= 4.5
    rows = table_rows(fig)
    for name, patients in (("Primary patency", 10), ("Assisted primary patency", 5)):
        columns = zip(
            *(rows[f"{name}: {r}"] for r in ("At risk", "Events", "Censored")), strict=True
        )
        assert [sum(map(int, cell)) for cell in columns] == [patients] * len(MONTHS)


def test_kmunicate_blocks_of_the_demo_add_up_for_every_group_and_month(demo):
    from analytics.filters import CohortFilter
    from analytics.present.figures.patency import patency_figure
    from analytics.views import patency_view

    for by in (None, "thrombophilia", "age_band"):
        view = patency_view(demo, CohortFilter(), by)
        rows = table_rows(patency_figure(view))
        blocks = {name.split(": ")[0] if by is None else name.rsplit(": ", 1)[0]
                  for name in rows}  # fmt: skip
        for block in blocks:
            kinds = ("At risk", "Events", "Censored")
            cells = zip(*(rows[f"{block}: {kind}"] for kind in kinds), strict=True)
            totals = {sum(int(c) for c in cell) for cell in cells}
            assert len(totals) == 1, block  # the same total, the curve's patients, every month


def test_stretch_with_se_over_ten_percent_is_dotted():
    small = one_group([1.0, 3.0, 6.0], [1, 1, 0], [0, 0, 2])
    dotted = traces(figure(counts=small), "Primary patency: SE > 10%")
    assert dotted and dotted[0].line.dash == "dot"


def test_the_comparison_stands_under_the_title_not_over_the_curves():
    fig = figure()
    assert "Log-rank" in fig.layout.title.subtitle.text
    assert not fig.layout.annotations


def test_cut_stops_the_curve_where_the_se_first_exceeds_ten_percent():
    fig = km_figure(
        [CurveSpec("Primary patency", "#0072B2", kaplan_meier(COUNTS),
                   at_months(kaplan_meier(COUNTS), MONTHS))],
        MONTHS, unreliable="cut",
    )  # fmt: skip
    assert not traces(fig, "Primary patency: SE > 10%")
    (solid,) = traces(fig, "Primary patency")
    assert max(solid.x) == 5.0  # from the first SE > 10% on, nothing is drawn
    (band,) = traces(fig, "Primary patency 95% CI")
    assert max(band.x) == 5.0


def test_a_curve_without_a_reliable_stretch_names_itself_on_its_dotted_line():
    # 3 patients, one failing at month 0: the curve's first step already has SE > 10%
    counts = one_group([0.0, 4.0], [1, 0], [0, 2])
    fig = figure(counts=counts)
    named = [t for t in fig.data if t.showlegend is not False and t.name == "Primary patency"]
    assert len(named) == 1 and named[0].line.dash == "dot"
    assert any(t.name == "Dotted: SE > 10%" for t in fig.data)


def test_many_groups_take_eight_colours_then_dashes_and_a_legend_beside_the_chart():
    curve = kaplan_meier(COUNTS)
    styles = [group_style(i) for i in range(12)]
    specs = [CurveSpec(f"Centre {i}", colour, curve, at_months(curve, MONTHS), dash)
             for i, (colour, dash) in enumerate(styles)]  # fmt: skip
    assert len({colour for colour, _ in styles[:8]}) == 8
    assert [dash for _, dash in styles[:8]] == ["solid"] * 8
    assert len({(c, d) for c, d in styles}) == 12 and "solid" not in {d for _, d in styles[8:]}
    fig = km_figure(specs, MONTHS, title="t", subtitle="Log-rank p = 0.5")
    # the legend's rows stand between the subtitle and the plot: the margin holds them
    assert fig.layout.legend.entrywidthmode == "fraction" and fig.layout.legend.yanchor == "bottom"
    rows = -(-12 // round(1 / fig.layout.legend.entrywidth))
    assert fig.layout.margin.t >= 44 + 24 + 24 * rows
    assert fig.layout.height >= 140 + 24 * 4 * 12  # the table has room for every block


def test_groups_are_named_with_their_size(demo):
    from analytics.filters import CohortFilter
    from analytics.present.figures.patency import curve_specs, patency_figure
    from analytics.views import patency_view

    specs = curve_specs(patency_view(demo, CohortFilter(), "lesion_side"))
    assert [s.label for s in specs] == ["Lesion side: Left (n = 22)", "Lesion side: Right (n = 12)"]
    view = patency_view(demo, CohortFilter(lesion_side="left"), "trauma")
    masked = curve_specs(
        view, masked_by(patency_ledger(view), 5)
    )  # a group of fewer than k is not drawn: its steps are people
    assert [s.label for s in masked] == ["Trauma: No (n = hidden)"]  # 21 = 22 - the 1
    figure = patency_figure(view, False, masked_by(patency_ledger(view), 5), "Demo")
    comparison, withheld, drawn, *undrawn = figure.layout.title.subtitle.text.split("<br>")
    assert withheld == "Not drawn, fewer than 5 patients: Trauma: Yes"  # a line of its own
    assert "Cox HR Yes vs No: hidden" in comparison
    assert drawn == PRIVACY_CURVE  # why the curve is coarser, on a line of its own
    assert all(line.startswith("Not drawn, no month to show: ") for line in undrawn)
    # the top margin holds the title, every subtitle line and the legend's row
    lines = 3 + len(undrawn)
    assert figure.layout.margin.t == TITLE_PX + lines * SUBTITLE_PX + LEGEND_ROW_PX + 8


def step_value(x: list[float], y: list[float], at: float) -> float:
    """The value an "hv" step line drawn through (x, y) shows at ``at``."""
    return y[int(np.searchsorted(np.asarray(x), at, side="right")) - 1]


def test_dotted_stretch_starts_at_the_first_time_whose_se_exceeds_ten_percent():
    fig = figure()
    (solid,) = traces(fig, "Primary patency")
    (dotted,) = traces(fig, "Primary patency: SE > 10%")
    # SE is 0.095 after month 2 (reliable) and 0.126 after month 5: dotted from month 5,
    # drawn from the level just before (0.9) down to 0.8; the run from 2 to 5 stays solid
    assert dotted.x[0] == 5.0 and dotted.y[0] == pytest.approx(0.9)
    assert solid.x[-1] == 5.0 and step_value(list(solid.x), list(solid.y), 4.9) == 0.9


def test_a_registrys_many_small_steps_are_merged_within_a_tenth_of_a_point():
    rng = np.random.default_rng(3)
    months = np.round(np.sort(rng.uniform(0.1, 60, 600)), 3)
    # 600 times, about 10 events among tens of thousands each: steps of 0.02-0.05 points
    counts = one_group(months, rng.integers(5, 15, 600), rng.integers(20, 120, 600))
    fig = figure(counts=counts)
    (solid,) = traces(fig, "Primary patency")
    curve = kaplan_meier(counts)
    assert len(solid.x) < 300  # from 601 steps
    drawn = [step_value(list(solid.x), list(solid.y), t) for t in curve.time]
    assert np.max(np.abs(np.array(drawn) - curve.estimate)) < 0.001
    assert not traces(fig, "Primary patency censored")  # 600 censoring times: no tick band


def test_incidence_figure_shows_how_far_one_minus_km_overstates_with_deaths():
    """Ten patients: endpoints at 2 and 5 months, deaths at 3 and 4, censored at 8 and
    12. 1 - KM = 1 - 9/10 * 6/7 = 0.2286; Aalen-Johansen 1/10 + 7/10 * 1/7 = 0.2."""
    counts = Counts(("all",), np.zeros(6, int), np.array([2.0, 3.0, 4.0, 5.0, 8.0, 12.0]),
                    np.array([1, 0, 0, 1, 0, 0]), np.array([0, 1, 1, 0, 1, 5]),
                    np.array([0, 1, 1, 0, 0, 0]))  # fmt: skip
    view = PatencyView(None, "primary", MONTHS, {"primary": endpoint_survival("primary", counts,
                       None, MONTHS)})  # fmt: skip
    fig = incidence_figure(view)
    (km,) = traces(fig, "Primary patency")
    (aj,) = traces(fig, f"Primary patency: {AALEN_JOHANSEN}")
    assert km.y[-1] == pytest.approx(1 - 0.9 * 6 / 7)
    assert aj.y[-1] == pytest.approx(0.2)
    assert aj.line.dash == "dash" and km.line.dash is None
    assert fig.layout.title.subtitle.text is None  # deaths competed: no "coincide" note
    assert {t.name for t in fig.data if t.showlegend is not False} == {
        "Primary patency",
        ONE_MINUS_KM,
        AALEN_JOHANSEN,
        AALEN_JOHANSEN_CI,
    }


# ---- the time axis: risk-table months, axis end, years, the at-risk rule -------------------


def km_traces(fig, name: str) -> list[float]:
    (trace,) = traces(fig, name)
    return list(trace.x)


def patient_rows(con, endpoint: str) -> pd.DataFrame:
    """One row per technical success (the default population): the endpoint's time and event."""
    months, event = endpoint_columns(endpoint)
    return con.execute(
        f"SELECT {months} AS months, {event} AS event FROM limb_summary WHERE technical_success"
    ).df()


def test_risk_table_stands_at_the_chosen_months_and_matches_the_patient_rows(demo):
    months = (0, 3, 18, 30, 48)
    view = patency_view(demo, CohortFilter(), risk_months=months)
    fig = patency_figure(view)
    assert list(fig.layout.xaxis.tickvals) == list(months)
    assert list(fig.layout.xaxis.ticktext) == ["0", "3", "18", "30", "48"]
    rows = table_rows(fig)
    for endpoint in ("primary", "assisted_primary", "secondary"):
        patients = patient_rows(demo, endpoint)
        label = ENDPOINTS[endpoint]
        # KMunicate, from the rows: at risk = time >= m; events, censored: before m
        assert rows[f"{label}: At risk"] == [str((patients.months >= m).sum()) for m in months]
        before = [patients[patients.months < m] for m in months]
        assert rows[f"{label}: Events"] == [str(b.event.sum()) for b in before]
        assert rows[f"{label}: Censored"] == [str((~b.event).sum()) for b in before]
    cells = [t for t in fig.data if t.mode == "text"]
    assert all(list(t.x) == list(months) for t in cells)


def test_years_label_the_ticks_the_axis_and_the_hover_and_place_everything_in_years():
    fig = figure_with(TimeAxis(unit="years"))
    assert list(fig.layout.xaxis.ticktext) == ["0", "0.5", "1"]  # months 0, 6, 12
    assert list(fig.layout.xaxis.tickvals) == pytest.approx([0, 0.5, 1])
    assert fig.layout.xaxis2.title.text == "Years since the procedure"
    assert all(list(t.x) == pytest.approx([0, 0.5, 1]) for t in fig.data if t.mode == "text")
    (marks,) = traces(fig, "Primary patency censored")
    assert list(marks.x) == pytest.approx([5 / 12, 8 / 12, 1])  # censored at 5, 8, 12 months
    (solid,) = traces(fig, "Primary patency")
    assert "years" in solid.hovertemplate and "months" not in solid.hovertemplate
    assert figure().layout.xaxis2.title.text == "Months since the procedure"


def test_an_axis_limit_ends_the_axis_and_leaves_later_risk_table_months_out():
    fig = figure_with(TimeAxis(xmax=6))
    # the table's cells at 6 months as much room as month 0's before 0
    assert fig.layout.xaxis.range[1] == pytest.approx(6 + 0.06 * 6 + 1)
    assert list(fig.layout.xaxis.tickvals) == [0, 6]
    rows = table_rows(fig)
    assert rows["Primary patency: At risk"] == ["10", "7"]
    assert figure().layout.xaxis.range[1] == pytest.approx(12 + 0.06 * 12 + 1)  # to 12 months


def figure_with(axis: TimeAxis, counts: Counts = COUNTS, unreliable: str = "dotted"):
    curve = kaplan_meier(counts)
    spec = CurveSpec("Primary patency", "#0072B2", curve, at_months(curve, MONTHS))
    return km_figure([spec], MONTHS, unreliable=unreliable, axis=axis)


def test_the_earlier_of_the_se_and_at_risk_rules_makes_the_curve_dotted():
    """COUNTS: 10 patients; 9 remain after month 2, 7 after month 5 (whose SE is 0.126)."""
    # fewer than 8 remain only after month 5, whose own step is already SE > 10%: SE rule
    fig = figure_with(TimeAxis(min_at_risk=8))
    (dotted,) = traces(fig, "Primary patency: SE > 10%")
    assert (dotted.x[0], dotted.y[0]) == (5.0, pytest.approx(0.9))
    # fewer than 10 remain after month 2: dotted from there, its step (on 10) still solid
    fig = figure_with(TimeAxis(min_at_risk=10))
    (dotted,) = traces(fig, "Primary patency: fewer than 10 at risk")
    assert (dotted.x[0], dotted.y[0]) == (2.0, pytest.approx(0.9))
    assert km_traces(fig, "Primary patency")[-1] == 2.0
    assert any(t.name == "Dotted: SE > 10% or fewer than 10 at risk" for t in fig.data)
    # fewer than 11 patients in all: no solid stretch, the dotted line carries the name
    named = [t for t in figure_with(TimeAxis(min_at_risk=11)).data if t.name == "Primary patency"]
    assert len(named) == 1 and named[0].line.dash == "dot" and named[0].x[0] == 0


def view_of(counts: Counts) -> PatencyView:
    """The primary patency view of one group's counts (nobody died)."""
    counts = replace(counts, competing=np.zeros(counts.time.size, int))
    return PatencyView(None, "primary", MONTHS, {"primary": endpoint_survival("primary", counts,
                       None, MONTHS)}, risk_months=MONTHS)  # fmt: skip


def test_the_note_says_which_rule_made_each_curve_unreliable():
    view = view_of(COUNTS)
    assert unreliable_note(view) == "SE > 10%: Primary patency from 5 months."
    assert unreliable_note(view, 10) == "Fewer than 10 at risk: Primary patency from 2 months."
    assert unreliable_note(view, 5) == "SE > 10%: Primary patency from 5 months."


@pytest.mark.parametrize("at_least", [10, 20, 30])
def test_curves_turn_dotted_where_fewer_than_n_remain_at_risk_in_the_patient_rows(demo, at_least):
    view = patency_view(demo, CohortFilter())
    fig = patency_figure(view, axis=TimeAxis(min_at_risk=at_least))
    cut = patency_figure(view, axis=TimeAxis(min_at_risk=at_least), unreliable="cut")
    for endpoint in ("primary", "assisted_primary", "secondary"):
        label, times = ENDPOINTS[endpoint], patient_rows(demo, endpoint).months
        assert unreliable_start(view.survival[endpoint].overall.curve) is None  # no SE > 10%
        # the first time after which fewer than N patients remain (time > t)
        after = [t for t in sorted(times.unique()) if (times > t).sum() < at_least]
        last = after[0]
        assert (times >= last).sum() >= at_least  # its own step still stood on N or more
        assert last < times.max()  # some follow-up after it, drawn dotted
        dotted = km_traces(fig, f"{label}: fewer than {at_least} at risk")
        assert km_traces(fig, label)[-1] == dotted[0] == last and dotted[-1] == times.max()
        # cut: the curve and its band stop there
        assert km_traces(cut, label)[-1] == last
        assert max(km_traces(cut, f"{label} 95% CI")) == last


def test_risk_table_cells_at_new_months_keep_complementary_suppression(demo):
    """At risk + events + censored is the curve's n at every month, also at months the
    default table does not show: the mask decides those months' cells with the rest, so no
    small count follows from what the table shows (one hidden cell beside shown ones is
    safe only where its group's n is withheld too, which the attacker checks)."""
    months = (0, 3, 18, 30, 48, 60)
    view = patency_view(demo, CohortFilter(), "thrombophilia", risk_months=months)
    ledger = patency_ledger(view)
    decided = masked_by(ledger, 5)
    fig = patency_figure(view, False, decided, "Demo")
    rows = [list(t.text) for t in fig.data if t.mode == "text" and t.xaxis == "x2"]
    assert len(rows) == 6 and all(len(row) == len(months) for row in rows)
    plain = [list(t.text) for t in patency_figure(view).data if t.mode == "text"]
    assert any(cell.isdigit() and 0 < int(cell) < 5 for row in plain for cell in row)
    assert not any(cell.isdigit() and 0 < int(cell) < 5 for row in rows for cell in row)
    assert_none_follows(ledger, decided)


# Eight patients, no tied times: endpoints at 1, 4 and 6 months, deaths at 2 and 5,
# censored at 3, 7 and 8.
DEATHS = pd.DataFrame({"months": [1.0, 2, 3, 4, 5, 6, 7, 8], "state": [1, 2, 0, 1, 2, 1, 0, 0]})


def test_incidence_figure_draws_the_aalen_johansen_ci_as_a_band():
    counts = Counts(("all",), np.zeros(8, int), DEATHS["months"].to_numpy(),
                    (DEATHS["state"] == 1).to_numpy(int), (DEATHS["state"] != 1).to_numpy(int),
                    (DEATHS["state"] == 2).to_numpy(int))  # fmt: skip
    view = PatencyView(None, "primary", MONTHS,
                       {"primary": endpoint_survival("primary", counts, None, MONTHS)})  # fmt: skip
    fig = incidence_figure(view)
    upper, lower = [t for t in fig.data if t.legendgroup and t.hoverinfo == "skip"]
    assert lower.fill == "tonexty" and lower.name == f"Primary patency: {AALEN_JOHANSEN_CI}"
    assert any(t.name == AALEN_JOHANSEN_CI and t.showlegend is not False for t in fig.data)
    ajf = AalenJohansenFitter().fit(DEATHS["months"], DEATHS["state"], event_of_interest=1)
    bounds = np.sort(ajf.confidence_interval_.to_numpy(), axis=1)
    (estimate,) = traces(fig, f"Primary patency: {AALEN_JOHANSEN}")
    for time, (low, high) in zip(ajf.confidence_interval_.index, bounds, strict=True):
        drawn = step_value(list(estimate.x), list(estimate.y), time)
        if 0 < drawn < 1 and time < 8:  # no interval at 0; lifelines' is NaN once all leave
            assert step_value(list(lower.x), list(lower.y), time) == pytest.approx(low, rel=1e-6)
            assert step_value(list(upper.x), list(upper.y), time) == pytest.approx(high, rel=1e-6)
    assert (
        step_value(list(lower.x), list(lower.y), 0.5)
        == 0
        == step_value(list(upper.x), list(upper.y), 0.5)
    )  # before the first endpoint the band is the estimate, 0
    assert not [t for t in incidence_figure(view, show_ci=False).data if t.fill]


def test_incidence_figure_follows_the_time_axis():
    view = view_of(COUNTS)
    fig = incidence_figure(view, axis=TimeAxis(xmax=6, unit="years"))
    assert list(fig.layout.xaxis.ticktext) == ["0", "0.5"]
    assert fig.layout.xaxis.range[1] == pytest.approx(7 / 12)
    assert fig.layout.xaxis.title.text == "Years since the procedure"


def test_the_table_and_the_ticks_reach_a_registrys_60_months_of_follow_up(registry_path):
    """The registry follows patients to 60 months: the default table (0-36) gains 48 and
    60, each cell counted from the patient rows, and the axis's ticks stand at them all."""
    from analytics.cohort.db import open_cohort

    with open_cohort(registry_path) as con:
        view = patency_view(con, CohortFilter())
        rows = {e: patient_rows(con, e) for e in ("primary", "assisted_primary", "secondary")}
    assert max(r.months.max() for r in rows.values()) == 60
    months = [0, 6, 12, 24, 36, 48, 60]
    assert list(view.risk_months) == months
    fig = patency_figure(view)
    assert list(fig.layout.xaxis.tickvals) == months
    assert fig.layout.xaxis.range[1] == pytest.approx(60 * 1.06 + 1)  # ends with the table
    table = table_rows(fig)
    for endpoint, patients in rows.items():
        at_risk = [f"{(patients.months >= m).sum():,}" for m in months]
        assert table[f"{ENDPOINTS[endpoint]}: At risk"] == at_risk


@pytest.mark.parametrize(
    ("asked", "last", "months"),
    [
        ((0, 6, 12, 24, 36), 60.0, (0, 6, 12, 24, 36, 48, 60)),
        # the curve's end covered: the year past it, with nobody at risk
        ((0, 6, 12, 24, 36), 59.5, (0, 6, 12, 24, 36, 48, 60)),
        ((0, 6, 12, 24, 36), 45.5, (0, 6, 12, 24, 36, 48)),  # the demo: 36-45.5 months
        ((0, 6, 12, 24, 36), 36.0, (0, 6, 12, 24, 36)),  # the last column at the end
        ((36, 0, 12), 12.0, (0, 12, 36)),  # sorted; a month asked for beyond is kept
        ((0, 18, 30), 45.5, (0, 18, 30, 36, 48)),  # whole years after the months asked for
    ],
)
def test_risk_table_months_cover_the_follow_up_a_year_at_a_time(asked, last, months):
    assert covering_months(asked, last) == months


def test_a_projectors_compact_table_keeps_its_last_months_cells_and_the_title_off_it(demo):
    """Compact (presenting): cells ("0" over "(14, 20)") stand centred on the last month,
    so the axis runs past it as far as it starts before 0, and the short plot carries no
    y title to run down into the table's row labels."""
    view = patency_view(demo, CohortFilter())
    last = view.risk_months[-1]
    assert last == 48  # the demo's curves end at 45.5 months
    compact = patency_figure(view, compact=True).layout
    left, right = compact.xaxis.range
    assert right - last >= -left > 1
    assert not compact.yaxis.title.text
    assert patency_figure(view).layout.yaxis.title.text == "Patients free of the endpoint"


def compact_cells(fig) -> list[tuple[str, ...]]:
    """A compact KMunicate table's cells, curve by curve (its text traces, top row first)."""
    rows = sorted((t for t in fig.data if t.mode == "text"), key=lambda t: -t.y[0])
    return [tuple(t.text) for t in rows]


def test_a_projectors_compact_cells_stand_at_risk_over_events_and_censored(demo):
    """A compact cell in one line, "hidden (hidden, 0)" or a registry's "14,798 (3,501, 86)",
    ran into its neighbours six months away at 1280x720: at risk stands over "(events,
    censored)", the same counts (Table 2 after the swap rule, 28 of 34 patent at 6 months,
    and privacy's masks), in two lines no wider than the widest count pair."""
    view = patency_view(demo, CohortFilter())
    primary, _, secondary = compact_cells(patency_figure(view, compact=True))
    assert primary[:2] == ("34<br>(0, 0)", "28<br>(6, 0)")
    *_, masked = compact_cells(
        patency_figure(view, mask=masked_by(patency_ledger(view), 5), compact=True)
    )
    assert masked[:2] == ("34<br>(0, 0)", "hidden<br>(hidden, 0)")  # 0 and 0: n shows
    assert secondary[0] == "34<br>(0, 0)"


def test_a_projectors_legend_leaves_the_curves_to_the_tables_swatches(demo):
    """Compact, each table row names its curve beside a swatch of its colour: the legend's
    two rows at 1280x720 (the three patencies) would only repeat them, and took the height
    the two-line cells need; the full chart keeps its legend."""
    view = patency_view(demo, CohortFilter())
    compact = patency_figure(view, compact=True)
    assert compact.layout.showlegend is False
    assert not [t.name for t in compact.data if t.showlegend is not False and t.mode == "lines"]
    full = patency_figure(view)
    assert {t.name for t in full.data if t.showlegend is not False and t.mode == "lines"} == {
        "Primary patency",
        "Assisted primary patency",
        "Secondary patency",
    }
