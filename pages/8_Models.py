"""Models: adjusted hazard ratios of one endpoint, crude beside adjusted, with the PH check.

The model shown is the link's (``adjust``, ``model_endpoint``: ui.state): the covariate
widgets start from it, and once a model is fitted it is written back, so the link and the
sidebar's deck carry it. Models are fitted by the server's fitting process, one at a
time for every user (ui.heavy): while this one waits, the page shows its place in line.
"""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    CHECK_AGAIN,
    DEFINITIONS,
    IMMORTAL_TIME_BIAS,
    MODEL_DEMO_CAVEAT,
    NO_PH_TEST,
    RECURRENT_DVT,
    TOO_FEW_EVENTS_NOTE,
)
from analytics.present import format as fmt
from analytics.present.figures.models import model_forest_plot
from analytics.present.privacy import SUPPRESSED_NOTE, model_mask
from analytics.present.tables import model_table, ph_table
from analytics.rules import MODEL_ASK_PATIENTS, TIME_VARYING_MAX_PATIENTS
from analytics.variables import Kind, Registry, Role
from analytics.views import PEOPLE, N, model_ledger
from ui import data, state
from ui.access import session_scope
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_table
from ui.text import plain

TIME_VARYING, LEFT_OUT, AS_BASELINE = "time-varying", "not in the model", "baseline yes/no"
RECURRENT_DVT_CHOICES = (TIME_VARYING, LEFT_OUT, AS_BASELINE)
# The source paper's claim: primary patency worse with longer DVT and with recurrent DVT.
PAPER_COVARIATES = ["symptom_duration_months"]
COVARIATES, RECURRENT = "model_covariates", "model_recurrent_dvt"  # the widgets' keys
FITTED = "_model_fit_asked"  # the fit a click asked for, on a registry above the ask size


def _baseline(variables: Registry) -> dict[str, str]:
    """The cohort's covariates in their order, each labelled with its unit; the time-varying
    one (recurrent DVT) has its own choice."""
    return {
        v.key: v.covariate_label
        for v in variables.with_role(Role.COVARIATE)
        if v.kind is not Kind.TIME_VARYING
    }


def _widgets_from_link(baseline: dict[str, str]) -> None:
    """Start the covariate widgets from the chosen model (the paper's when none is), among
    the cohort's covariates."""
    chosen = state.value("adjust")
    if COVARIATES not in st.session_state:
        st.session_state[COVARIATES] = [
            c for c in (chosen if chosen else PAPER_COVARIATES) if c in baseline
        ]
    if RECURRENT not in st.session_state:
        st.session_state[RECURRENT] = (
            TIME_VARYING if not chosen or RECURRENT_DVT in chosen else LEFT_OUT
        )


def _choose(covariates: tuple[str, ...]) -> None:
    """Make ``covariates`` the chosen model: run again so that the link and the sidebar's
    deck, drawn before this page, carry it."""
    if state.value("adjust") != covariates:
        st.session_state["adjust"] = covariates
        st.rerun()


context = start_page("Models")
require_patients(context)

scope = session_scope()  # a centre's user adjusts for no centre (analytics.scope)
baseline = {
    key: label for key, label in _baseline(context.cohort_filter.variables).items()
    if scope.allows(key)
}  # fmt: skip
_widgets_from_link(baseline)
endpoint_column, covariate_column = st.columns([2, 5])
endpoint = state.draw("model_endpoint", endpoint_column)
chosen = covariate_column.multiselect(
    "Covariates", list(baseline), format_func=baseline.get, key=COVARIATES,
    placeholder="Pick the covariates to adjust for", **state.CHANGED,
    help="Yes/no and category covariates are compared with their first level ("
    f"{fmt.reference_levels(context.cohort_filter.variables)}); continuous ones give the "
    "hazard ratio per the unit in their label.",
)  # fmt: skip
recurrent = LEFT_OUT  # a cohort without the time-varying covariate is not offered it
if RECURRENT_DVT in context.cohort_filter.variables.covariates():
    recurrent = st.radio(
        "Recurrent DVT", RECURRENT_DVT_CHOICES, horizontal=True, key=RECURRENT,
        help=DEFINITIONS["Time-varying covariate"], **state.CHANGED,
    )  # fmt: skip
if recurrent == AS_BASELINE:
    st.error(IMMORTAL_TIME_BIAS, icon=":material/block:")
chosen = [c for c in chosen if c in baseline]  # a forged widget value adds nothing
covariates = (*chosen, *([RECURRENT_DVT] if recurrent == TIME_VARYING else []))
if not covariates:
    _choose(())
    st.info("Pick one or more covariates to fit the model.", icon=":material/info:")
    st.stop()

asked = (context.key, context.cohort_filter, endpoint, covariates)
refused = RECURRENT_DVT in covariates and context.n > TIME_VARYING_MAX_PATIENTS  # at once
if context.n > MODEL_ASK_PATIENTS and not refused and st.session_state.get(FITTED) != asked:
    n_words = (
        fmt.limbs_of(context.mask.cell(N), context.mask.cell(PEOPLE))
        if context.header.bilateral_file
        else fmt.patients(context.mask.cell(N))
    )
    st.button(
        f"Fit the model on {n_words}",
        on_click=lambda: st.session_state.update({FITTED: asked}),
        help="A Cox model is fitted on one row per patient: on a registry this large it takes "
        "a while, so it runs when asked (and is kept for everyone after that).",
    )  # fmt: skip
    st.stop()
_choose(covariates)
model = data.model(context.key, context.cohort_filter, endpoint, covariates)
if model is None:  # the line of fits is full, or the wait ran out: said above
    st.button(CHECK_AGAIN, icon=":material/refresh:")
    st.stop()
# the sidebar's n and the model's counts, decided together
context, decided = masked(context, model_ledger(model))
mask = model_mask(model, decided)
st.caption(f"{fmt.model_counts(mask, model.clustered)}.")
for note in model.notes:
    if note != NO_PH_TEST:  # said under its heading
        st.caption(f"Note: {plain(note)}.")
if not model.terms:
    st.stop()
if model.few_events_per_variable:
    st.warning(fmt.events_per_variable_sentence(model, mask), icon=":material/warning:")
else:
    st.caption(fmt.events_per_variable_sentence(model, mask))
show_chart(model_forest_plot(model, mask), "models-forest", context.chart, model=True)
if context.is_demo:
    st.caption(MODEL_DEMO_CAVEAT)
show_table(model_table(model, mask), "adjusted hazard ratios", model=True)
if not all(t.estimable for t in model.terms):
    st.caption(f"{TOO_FEW_EVENTS_NOTE} The model is fitted with the covariate all the same.")
hidden = fmt.hidden_ratios_note(model, mask)
if hidden:
    st.caption(plain(f"{hidden}. {SUPPRESSED_NOTE}."))

st.subheader("Proportional hazards")
if not model.ph_test:
    st.caption(f"{NO_PH_TEST.capitalize()}.")
if model.ph_test and not mask.global_test_hidden:
    st.markdown(f"**All terms together:** {fmt.ph_reading(model.ph_test[-1])}.")
if model.ph_test:
    show_table(ph_table(model, mask), "proportional-hazards test", model=True)
with st.expander("Definitions"):
    for term in (
        "Adjusted hazard ratio", "Time-varying covariate", "Events per variable",
        "Proportional-hazards test",
    ):  # fmt: skip
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
