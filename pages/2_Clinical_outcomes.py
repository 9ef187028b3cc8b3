"""Clinical outcomes: CEAP shift, Villalta, PTS and reflux, before vs the last visit."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    CEAP_REGRESSION,
    DEFINITIONS,
    NOT_COMPUTABLE,
    REFLUX,
    SEVERITY_SCORE,
    TABLE3_NOT_PUBLISHED,
    VILLALTA,
)
from analytics.present.figures import clinical as figures
from analytics.present.tables import (
    binary_metrics,
    ceap_shift_table,
    ceap_shift_title,
    ceap_test_metrics,
    score_change_line,
    table3,
)
from analytics.views import clinical_ledger
from ui import data
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_definitions, show_table

context = start_page("Clinical outcomes")
require_patients(context)
change = data.clinical(context.key, context.cohort_filter)
context, mask = masked(context, clinical_ledger(change))
chart = context.chart

st.caption(
    "Each limb is compared with itself: the assessment before the procedure against its last "
    "later assessment of the same measure."
)
for note in change.notes:
    st.caption(note)
st.subheader("CEAP clinical class", help=DEFINITIONS["CEAP"])
if context.is_demo:
    st.caption(CEAP_REGRESSION)
sankey, bars = st.columns(2)
with sankey:
    show_chart(figures.ceap_sankey(change.ceap_shift, mask), "ceap-shift-sankey", chart)
with bars:
    show_chart(
        figures.ceap_bars(change.ceap_shift, change.severity_score, mask), "ceap-classes", chart
    )
matrix, tests = st.columns([2, 1])
with matrix:
    st.markdown(ceap_shift_title(mask))
    show_table(ceap_shift_table(change.ceap_shift, mask), "CEAP shift matrix", hide_index=False)
with tests:
    for label, p, statistic, term in ceap_test_metrics(change, mask):
        reason = p == NOT_COMPUTABLE  # why, in a sentence: a caption wraps it, a chip cuts it
        st.metric(
            label, p, delta=None if reason else statistic, delta_color="off", delta_arrow="off",
            help=DEFINITIONS[term],
        )  # fmt: skip
        if reason:
            st.caption(statistic.capitalize() + ".")
    st.caption(score_change_line(SEVERITY_SCORE, change.severity_score, "ceap", mask))

st.subheader("Villalta score and post-thrombotic syndrome", help=DEFINITIONS["PTS"])
villalta, pts = st.columns(2)
with villalta:
    figure = figures.villalta_pairs(change.villalta_pairs, change.villalta, mask)
    show_chart(figure, "villalta-pairs", chart)
    st.caption(score_change_line(VILLALTA, change.villalta, "villalta", mask))
with pts:
    figure = figures.pts_severity_bars(change.pts_severity, change.pts, mask)
    show_chart(figure, "pts-severity", chart)

st.subheader("Valvular incompetence", help=DEFINITIONS["Reflux"])
reflux = binary_metrics(change.reflux, "reflux", mask)
before, after, test = st.columns(3)
before.metric(f"{REFLUX}, before", reflux.before)
after.metric(f"{REFLUX}, last visit", reflux.after)
test.metric(
    "Exact McNemar", reflux.p, help=DEFINITIONS["McNemar test"], delta=reflux.discordant,
    delta_color="off", delta_arrow="off",
)  # fmt: skip

st.subheader("Table 3: clinical outcomes before and at the last visit")
show_table(table3(change, mask, context.is_demo), "table 3")
if context.is_demo:
    st.caption(TABLE3_NOT_PUBLISHED)
with st.expander("Definitions and tests"):
    show_definitions(
        ("Clinical severity score", "Villalta", "PTS", "Wilcoxon signed-rank test",
         "Hodges-Lehmann", "Stuart-Maxwell test", "Bowker test", "McNemar test")
    )  # fmt: skip
