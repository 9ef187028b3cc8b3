"""The KMunicate figure: curves, CI bands, censor marks, dotted unreliable stretch, risk table."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.present.figures.patency import (
    AALEN_JOHANSEN,
    ONE_MINUS_KM,
    CurveSpec,
    incidence_figure,
    km_figure,
)
from analytics.present.figures.theme import contrast, group_style
from analytics.stats.engine.counts import Counts
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.survival import endpoint_survival
from analytics.views import PatencyView


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
    masked = curve_specs(view, k=5)  # a group of fewer than k is not drawn: its steps are people
    assert [s.label for s in masked] == ["Trauma: No (n = hidden)"]  # 21 = 22 - the 1
    figure = patency_figure(view, False, 5, "Demo")
    assert "not drawn, fewer than 5 patients: Trauma: Yes" in figure.layout.title.subtitle.text
    assert "Cox HR Yes vs No: hidden" in figure.layout.title.subtitle.text


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
    }
