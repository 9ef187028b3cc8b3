"""Models: adjusted hazard ratios of one endpoint, crude beside adjusted, with the PH check."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    DEFINITIONS,
    FEW_EVENTS_PER_VARIABLE,
    IMMORTAL_TIME_BIAS,
    MODEL_COVARIATES,
    TIME_VARYING_COVARIATES,
)
from analytics.present import format as fmt
from analytics.present.figures.models import model_forest_plot
from analytics.present.tables import model_table, ph_table
from analytics.rules import MODEL_ASK_PATIENTS
from ui import data, state
from ui.page import require_patients, start_page
from ui.show import show_chart, show_table
from ui.text import plain

BASELINE = [c for c in MODEL_COVARIATES if c not in TIME_VARYING_COVARIATES]
TIME_VARYING, LEFT_OUT, AS_BASELINE = "time-varying", "not in the model", "baseline yes/no"
RECURRENT_DVT_CHOICES = (TIME_VARYING, LEFT_OUT, AS_BASELINE)
# The source paper's claim: primary patency worse with longer DVT and with recurrent DVT.
PAPER_COVARIATES = ["symptom_duration_months"]

context = start_page("Models")
require_patients(context)
k = context.privacy_k

endpoint_column, covariate_column = st.columns([2, 5])
endpoint = state.draw("endpoint", endpoint_column)
chosen = covariate_column.multiselect(
    "Covariates", BASELINE, default=PAPER_COVARIATES, format_func=MODEL_COVARIATES.get,
    key="model_covariates", placeholder="Pick the covariates to adjust for",
    help="Yes/no and category covariates are compared with their first level ('No', Left, "
    "Female, the first centre); continuous ones give the hazard ratio per unit.",
)  # fmt: skip
recurrent = st.radio(
    "Recurrent DVT", RECURRENT_DVT_CHOICES, horizontal=True, key="model_recurrent_dvt",
    help=DEFINITIONS["Time-varying covariate"],
)  # fmt: skip
if recurrent == AS_BASELINE:
    st.error(IMMORTAL_TIME_BIAS, icon=":material/block:")
covariates = (*chosen, *(["recurrent_dvt"] if recurrent == TIME_VARYING else []))
if not covariates:
    st.info("Pick one or more covariates to fit the model.", icon=":material/info:")
    st.stop()

if context.n > MODEL_ASK_PATIENTS and not st.button(
    f"Fit the model on {fmt.patients(context.n, k, context.n_hidden)}",
    help="A Cox model is fitted on one row per patient: on a registry this large it takes "
    "a while, so it runs when asked (and is kept for everyone after that).",
):
    st.stop()
model = data.model(context.key, context.cohort_filter, endpoint, tuple(covariates))
st.caption(
    f"Cox model (Efron ties) on {fmt.patients(model.patients, k)} with "
    f"{fmt.count(model.events, k)} events; {fmt.patients(model.excluded, k)} left out for a "
    "missing covariate (complete cases)."
)
for note in model.notes:
    st.caption(f"Note: {plain(note)}.")
if not model.terms:
    st.stop()
if model.few_events_per_variable:
    epv = fmt.events_per_variable(model, k)
    st.warning(f"{epv}: {FEW_EVENTS_PER_VARIABLE}.", icon=":material/warning:")
else:
    st.caption(fmt.events_per_variable(model, k) + ".")
show_chart(model_forest_plot(model), "models-forest", context.chart)
if context.is_demo:
    st.caption(
        "On the demo cohort this illustrates the analysis; a reconstruction cannot confirm the "
        "paper (its association of DVT duration with loss of patency is built into the "
        "reconstruction), and 34 patients with 14 losses of primary patency support very few "
        "covariates."
    )
show_table(model_table(model), "adjusted hazard ratios")

st.subheader("Proportional hazards")
if model.ph_test:
    st.markdown(f"**All terms together:** {fmt.ph_reading(model.ph_test[-1])}.")
    show_table(ph_table(model), "proportional-hazards test")
with st.expander("Definitions"):
    for term in (
        "Adjusted hazard ratio", "Time-varying covariate", "Events per variable",
        "Proportional-hazards test",
    ):  # fmt: skip
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
