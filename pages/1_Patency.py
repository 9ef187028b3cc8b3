"""Patency: Kaplan-Meier curves (KMunicate style), overall or compared by a factor."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    CLUSTERED_BY_PATIENT,
    DEFINITIONS,
    PAIRWISE_TESTS,
    PATENCY_ROWS_SWAPPED,
    PRIVACY_CURVE,
    ROBUST_SCORE_TEST,
)
from analytics.present import format as fmt
from analytics.present.figures.patency import (
    drawn_unreliable_note,
    incidence_figure,
    landmark_figure,
    patency_figure,
)
from analytics.present.figures.theme import STYLED_GROUPS
from analytics.present.tables import (
    against,
    comparison_table,
    comparison_test,
    counts_limbs,
    estimates_table,
    first_limb_group,
    pairwise_table,
    rmst_notes,
    time_summary_table,
    trend_line,
)
from analytics.views import patency_page_ledger
from ui import data, state
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_table
from ui.text import plain

context = start_page("Patency")
require_patients(context)

# the endpoint's column holds its longest, "Freedom from recurrent DVT", at 1280 wide
by_column, endpoint_column, ci_column, unreliable_column = st.columns([3, 3.5, 2, 3])
by = state.draw("by", by_column)
state.draw(
    "endpoint", endpoint_column, label="Endpoint compared", disabled=by is None,
    help="With 'Compare by', one curve per group for this endpoint.",
)  # fmt: skip
show_ci = state.draw("ci", ci_column)
unreliable = state.draw("unreliable", unreliable_column)
incidence = state.draw("cuminc", st)
with st.expander("Time axis"):
    months_column, xmax_column, unit_column, at_risk_column = st.columns([4, 2, 2, 2])
    chosen = state.draw("months", months_column)
    state.draw("xmax", xmax_column)
    state.draw("unit", unit_column)
    state.draw("min_at_risk", at_risk_column)
    if not chosen:
        st.caption("No month chosen: the table shows the default months.")
axis = state.time_axis()

# comparisons: the landmark, and with 'Compare by' the reference group among the view's groups
reference_column, landmark_column = st.columns([3, 5])
state.draw("landmark", landmark_column)
request = state.patency_request()
view = data.patency(context.key, context.cohort_filter, request)
context, mask = masked(context, patency_page_ledger(view, context.n))
levels = view.compared.comparison.levels if view.compared is not None else ()
state.draw("ref", reference_column, levels=levels, by=by)
if view.compared is not None and len(view.compared.groups) > STYLED_GROUPS:
    st.warning(
        f"{len(view.compared.groups)} groups: beyond {STYLED_GROUPS} the colours and dashes "
        "repeat. A factor with fewer groups reads better.",
        icon="⚠️",
    )
figure = patency_figure(view, show_ci, mask, unreliable=unreliable, axis=axis)
show_chart(figure, "patency", context.chart)
if context.is_demo:
    st.caption(PATENCY_ROWS_SWAPPED)
clustered = counts_limbs(view)  # a limb endpoint where a patient may have two limbs
if clustered:
    st.caption(CLUSTERED_BY_PATIENT)
first_limb = first_limb_group(view.endpoint, by, view.variables, context.header.bilateral_file)
if first_limb:
    st.caption(first_limb)
unit = "limbs" if clustered else "patients"
at_risk_rule = (
    ""
    if axis.min_at_risk is None
    else f", or after which fewer than {fmt.count(axis.min_at_risk)} {unit} remain at risk"
)
st.caption(
    f"Under the axis, for each curve: the {unit} at risk (still followed and free of the "
    f"endpoint) at each month, and the {unit} whose event or censoring came before it; the "
    f"three add up to the curve's {unit}. A dotted line, or the curve's end when cut, marks "
    f"where the standard error first exceeds 10%{at_risk_rule}: reporting standards treat the "
    "estimate as unreliable from there on. "
    + (
        f"Ticks on the curves are censored {unit} (left out on a curve with more than 100 "
        "censoring times). "
        if mask.k is None
        else f"{PRIVACY_CURVE}, without censoring ticks. "
    )
    + plain(drawn_unreliable_note(view, mask, axis.min_at_risk))
)
if incidence:
    show_chart(
        incidence_figure(view, mask, show_ci, axis), "patency cumulative incidence", context.chart
    )
    st.caption(
        "Solid: 1 - Kaplan-Meier, which censors deaths as if the dead could still reach the "
        "endpoint. Dashed: Aalen-Johansen, death a competing event. Where patients die before "
        "the endpoint, the solid line lies above the dashed one by what it overstates."
        + (
            " Shaded: the Aalen-Johansen 95% CI, on the log(-log) scale with the delta-method "
            "variance (see Definitions)."
            if show_ci
            else ""
        )
    )
if view.compared is not None and view.compared.comparison.logrank is not None:
    st.markdown(f"**Comparison** (Cox hazard ratio of each group against {plain(against(view))})")
    show_table(comparison_table(view, mask), "patency comparison")
comparison = view.compared.comparison if view.compared is not None else None
if comparison is not None and comparison.pairwise:
    st.markdown(
        f"**{PAIRWISE_TESTS[comparison_test(view)]}** (each pair of groups alone; Holm-adjusted p)"
    )
    show_table(pairwise_table(view, mask), "patency pairwise")
if comparison is not None and comparison.ordered and len(comparison.levels) > 1:
    st.markdown(plain(trend_line(view, mask)))
show_table(estimates_table(view, mask), "patency estimates")
st.markdown(f"**Median time and restricted mean** (to {fmt.months(view.horizon)} months)")
show_table(time_summary_table(view, mask), "patency medians")
for note in rmst_notes(view):
    st.caption(plain(note.capitalize()))
if view.landmark is not None:
    figure = landmark_figure(view, show_ci, mask, unreliable, axis)
    show_chart(figure, "patency landmark", context.chart)
    st.caption(
        f"Landmark at month {fmt.months(view.landmark_month)}: {DEFINITIONS['Landmark']} "
        "The months below count from the landmark."
    )
    show_table(estimates_table(view.landmark, mask), "patency landmark estimates")

with st.expander("Definitions"):
    tests = (
        (ROBUST_SCORE_TEST,) if clustered
        else ("Log-rank test", "Pairwise log-rank tests", "Log-rank test for trend")
    )  # fmt: skip
    for term in ("Primary patency", "Assisted primary patency", "Secondary patency", "Kaplan-Meier",
                 "Number at risk", *tests, "Hazard ratio", "Median time",
                 "Restricted mean", "Cumulative incidence, death competing", "Reference group",
                 "Landmark"):  # fmt: skip
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
