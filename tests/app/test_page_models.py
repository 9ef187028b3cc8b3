"""The Models page through AppTest: covariates picked, the EPV warning, baseline recurrent
DVT refused, and the same numbers as the model fitted directly (tests/unit/test_models.py
holds the R references)."""

from __future__ import annotations

from analytics.cohort.db import open_cohort
from analytics.filters import DEFAULT_FILTER
from analytics.glossary import TOO_FEW_EVENTS
from analytics.stats.models import adjusted_model
from tests.conftest import live_markup, plotly_charts, plotly_figures, unescaped

PAGE = "pages/8_Models.py"


def test_the_paper_claim_by_default_with_few_events_per_variable(page_test):
    at = page_test(PAGE)
    assert not at.exception
    assert at.multiselect(key="model_covariates").value == ["symptom_duration_months"]
    assert at.radio(key="model_recurrent_dvt").value == "time-varying"
    (forest,) = plotly_figures(at)
    assert forest["layout"]["title"]["text"].startswith("Primary patency: crude and adjusted")
    table = at.table[0].value
    assert table["Term"].tolist() == [
        "DVT duration (per 12 months)", "Recurrent DVT (time-varying)",
    ]  # fmt: skip
    # R: exp(coef ± 1.96 se) of DEMO_TV_R (tests/unit/test_models.py), duration per 12 months;
    # recurrent DVT: 2 events after it, too few for a hazard ratio
    assert table["Adjusted HR (95% CI)"].tolist() == ["2.43 (1.47-4.02)", TOO_FEW_EVENTS]
    assert table["Adjusted p"].tolist()[1] == "-"
    (warning,) = at.warning
    assert warning.value.startswith("7.0 events per coefficient (14 events, 2 coefficients)")
    assert any("a reconstruction cannot confirm the paper" in c.value for c in at.caption)
    assert any("no proportional-hazards test" in unescaped(c.value).lower() for c in at.caption)


def test_picked_covariates_give_the_fitted_model_and_its_ph_test(page_test, demo_path):
    at = page_test(PAGE)
    at.multiselect(key="model_covariates").set_value(["symptom_duration_months", "thrombophilia"])
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    with open_cohort(demo_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
        )
    terms, ph = (frame.value for frame in at.table)
    assert terms["Term"].tolist() == ["DVT duration (per 12 months)", "Thrombophilia: Yes vs No"]
    assert terms["Adjusted p"].tolist() == ["< 0.001", f"{model.terms[1].p:.3f}"]
    assert ph["Term"].tolist()[-1] == "All terms (global)"
    assert ph["p"].tolist()[-1] == f"{model.ph_test[-1].p:.3f}"
    assert any("no evidence that the hazard ratio changes" in m.value for m in at.markdown)
    assert any("0 patients left out for a missing covariate" in c.value for c in at.caption)


def test_baseline_recurrent_dvt_is_refused_saying_why(page_test):
    at = page_test(PAGE)
    at.radio(key="model_recurrent_dvt").set_value("baseline yes/no").run()
    assert not at.exception
    (error,) = at.error
    assert "immortal-time bias" in error.value
    assert "time-varying covariate" in error.value
    table = at.table[0].value
    assert table["Term"].tolist() == ["DVT duration (per 12 months)"]  # fitted without it


def test_enough_events_per_variable_shows_no_warning(page_test):
    at = page_test(PAGE)
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    assert not at.warning
    assert any(c.value.startswith("14.0 events per coefficient") for c in at.caption)


def test_no_covariate_asks_for_one(page_test):
    at = page_test(PAGE)
    at.multiselect(key="model_covariates").set_value([])
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    assert any("Pick one or more covariates" in info.value for info in at.info)
    assert plotly_figures(at) == []


def test_a_large_registry_fits_only_when_asked(page_test, monkeypatch):
    """Opening the page on a million patients must not start a minute-long fit."""
    from analytics import rules

    monkeypatch.setattr(rules, "MODEL_ASK_PATIENTS", 10)
    at = page_test("pages/8_Models.py")
    assert not at.exception
    assert [b.label for b in at.button if b.label.startswith("Fit the model")] == [
        "Fit the model on 34 patients"
    ]
    assert not at.table  # nothing fitted yet


def test_privacy_hides_the_ratios_of_a_centre_of_three_patients(
    page_test, small_centre_path, monkeypatch
):
    """center=C07 holds 3 patients: its crude and adjusted HR, CI and p are "hidden" in the
    table and its CSV, not drawn (nor in the figure's data), and a caption says why."""
    import json

    from analytics.present.privacy import SUPPRESSED, SUPPRESSED_NOTE

    monkeypatch.setenv("COHORT_DB", str(small_centre_path))
    at = page_test(PAGE, privacy="yes", adjust="center,symptom_duration_months")
    assert not at.exception
    with open_cohort(small_centre_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["center", "symptom_duration_months"]
        )
    table = at.table[0].value.set_index("Term")
    centre = table.loc["Centre: C07 vs C01"]
    # its events are part of its "<5" patients: left out with them (masking)
    assert centre[["Patients", "Events"]].tolist() == ["<5", SUPPRESSED]
    ratios = ["Crude HR (95% CI)", "Crude p", "Adjusted HR (95% CI)", "Adjusted p"]
    assert centre[ratios].tolist() == [SUPPRESSED] * 4
    assert table.loc["DVT duration (per 12 months)", "Patients"] == "-"  # continuous: no level
    assert table.loc["DVT duration (per 12 months)", "Adjusted p"] == "< 0.001"
    captions = " ".join(unescaped(c.value) for c in at.caption)
    assert SUPPRESSED_NOTE in captions and "Hazard ratios hidden for Centre: C07 vs C01" in captions
    (forest,) = plotly_figures(at)
    sent = json.dumps(forest)
    for term in (model.terms[0], model.crude[0]):
        assert f"{term.hr:.2f} (" not in sent and repr(term.hr) not in sent
    ph = at.table[1].value.set_index("Term")
    assert ph.loc["Centre: C07", "p"] == SUPPRESSED


def test_a_link_opens_the_page_with_its_model_and_the_page_writes_its_model_back(page_test):
    link = {"adjust": "symptom_duration_months,thrombophilia", "model_endpoint": "assisted_primary"}
    at = page_test(PAGE, **link)
    assert not at.exception
    assert at.multiselect(key="model_covariates").value == [
        "symptom_duration_months",
        "thrombophilia",
    ]
    assert at.radio(key="model_recurrent_dvt").value == "not in the model"
    assert at.selectbox(key="model_endpoint").value == "assisted_primary"
    (forest,) = plotly_figures(at)
    assert forest["layout"]["title"]["text"].startswith("Assisted primary patency: crude")
    assert at.table[0].value["Term"].tolist() == [
        "DVT duration (per 12 months)", "Thrombophilia: Yes vs No",
    ]  # fmt: skip
    at.multiselect(key="model_covariates").set_value(["age_years"]).run()
    assert at.session_state["adjust"] == ("age_years",)
    assert at.query_params["adjust"] == "age_years"
    assert at.query_params["model_endpoint"] == "assisted_primary"


def test_opening_the_page_chooses_the_papers_model_for_the_link_and_the_deck(page_test):
    at = page_test(PAGE)
    assert at.session_state["adjust"] == ("symptom_duration_months", "recurrent_dvt")
    assert at.query_params["adjust"] == "symptom_duration_months,recurrent_dvt"
    at.multiselect(key="model_covariates").set_value([])
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert at.session_state["adjust"] == ()  # no model: no slide in the deck
    assert "adjust" not in at.query_params


def test_an_unknown_covariate_in_the_link_is_named_in_a_plain_notice(page_test):
    at = page_test(PAGE, adjust="symptom_duration_months,[x](https://evil.example)")
    assert not at.exception
    (notice,) = [w for w in at.sidebar.warning if "adjust=" in unescaped(w.value)]
    assert "cannot adjust for '[x](https://evil.example)'" in unescaped(notice.value)
    assert not live_markup(notice.value)
    assert at.multiselect(key="model_covariates").value == [
        "symptom_duration_months"
    ]  # the default


def test_a_linked_model_on_a_large_registry_still_waits_for_a_click(page_test, monkeypatch):
    from analytics import rules

    monkeypatch.setattr(rules, "MODEL_ASK_PATIENTS", 10)
    at = page_test(PAGE, adjust="age_years,sex")
    assert not at.exception
    assert at.multiselect(key="model_covariates").value == ["age_years", "sex"]
    assert not at.table
    (fit,) = [b for b in at.button if b.label.startswith("Fit the model")]
    fit.click().run()
    assert not at.exception
    assert at.table[0].value["Term"].tolist() == ["Age (per 10 years)", "Sex: Male vs Female"]


def test_the_table_downloads_as_csv_and_the_forest_plot_exports(page_test, monkeypatch):
    from analytics.present.render import CHROMIUM
    from ui import show

    monkeypatch.setattr(show, "render", lambda fig, fmt: fmt.encode())  # the files: no matter
    at = page_test(PAGE)
    at.session_state[show.export_key("models-forest")] = True  # its export menu opened
    at.run()
    labels = [button.label for button in at.get("download_button")]
    assert "Download adjusted hazard ratios (CSV)" in labels
    (chart,) = plotly_charts(at)
    assert chart["config"]["toImageButtonOptions"]["filename"] == "models-forest"
    if CHROMIUM.exists():
        assert {"PNG (16:9 slide size)", "SVG (16:9 slide size)", "PDF (16:9 slide size)"} <= set(
            labels
        )


def test_the_sidebar_deck_of_every_page_carries_the_model_once_chosen(page_test, monkeypatch):
    from analytics.present.deck import DeckRequest
    from ui import page

    requests = []

    def recorded(*args) -> DeckRequest:
        requests.append(DeckRequest(*args))
        return requests[-1]

    monkeypatch.setattr(page, "DeckRequest", recorded)
    at = page_test("pages/3_Safety.py")
    assert requests[-1].adjust == ()  # no model chosen yet: no model slide
    at.switch_page(PAGE).run()
    at.selectbox(key="model_endpoint").set_value("secondary").run()
    at.switch_page("pages/3_Safety.py").run()
    assert not at.exception
    assert (requests[-1].adjust, requests[-1].model_endpoint) == (
        ("symptom_duration_months", "recurrent_dvt"), "secondary",
    )  # fmt: skip


def test_the_sidebar_deck_never_fits_and_takes_the_pages_fitted_model(demo_path, monkeypatch):
    """Before the Models page has fitted the chosen model, the deck leaves its slide out
    and its title slide says where to fit it (no fit started); once the page has fitted
    it, the deck shows that model, the one fit of both."""
    import io

    import pytest
    from pptx import Presentation

    from analytics.glossary import MODEL_NOT_IN_DECK
    from analytics.present.deck import DeckRequest
    from analytics.present.render import CHROMIUM
    from analytics.views import models_view_of_file
    from ui import data, heavy

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    fits = []

    def fit(request: heavy.FitRequest):
        fits.append(request)
        return models_view_of_file(
            request.key[0], request.cohort_filter, request.endpoint, request.covariates
        )

    monkeypatch.setattr(heavy, "FITS", heavy.FitQueue(fit))
    key = data.cohort_key(demo_path)
    covariates = ("symptom_duration_months", "thrombophilia")
    request = DeckRequest(DEFAULT_FILTER, k=5, adjust=covariates)
    before = Presentation(io.BytesIO(data.deck_bytes(key, request)))
    assert fits == []
    titles = [s.shapes.title.text for s in before.slides]
    assert not any(title.startswith("Adjusted hazard ratios") for title in titles)
    title_slide = before.slides[0]
    assert MODEL_NOT_IN_DECK in title_slide.placeholders[1].text_frame.text
    assert MODEL_NOT_IN_DECK in title_slide.notes_slide.notes_text_frame.text

    model = data.model(key, DEFAULT_FILTER, "primary", covariates)
    deck = data.deck_bytes(key, request)
    assert len(fits) == 1
    slides = {s.shapes.title.text: s for s in Presentation(io.BytesIO(deck)).slides}
    notes = slides["Adjusted hazard ratios: primary patency (Cox)"].notes_slide
    duration = model.terms[0]
    assert f"adjusted HR (95% CI) {duration.hr:.2f} ({duration.ci_lower:.2f}-" in (
        notes.notes_text_frame.text
    )
    assert MODEL_NOT_IN_DECK not in slides[titles[0]].notes_slide.notes_text_frame.text


def test_the_demo_caveat_under_a_filter_states_no_count_but_the_models_own(page_test):
    """Women only: the model's own patients and events, not the whole demo's 34 and 14, and
    the caveat beside it claims no other count."""
    import re

    at = page_test(PAGE, sex="F")
    assert not at.exception
    captions = [unescaped(c.value) for c in at.caption]
    (counts,) = [c for c in captions if c.startswith("Cox model (Efron ties) on ")]
    patients, events = re.search(r"on (\d+) patients with (\d+) events", counts).groups()
    assert patients != "34"  # the filter changed whom the model was fitted on
    (caveat,) = [c for c in captions if "a reconstruction cannot confirm the paper" in c]
    assert {n for n in re.findall(r"(\d+) patients", caveat)} <= {patients}
    assert {n for n in re.findall(r"(\d+) (?:losses|events)", caveat)} <= {events}


PAPER_MODEL = ("symptom_duration_months", "recurrent_dvt")  # the page's model on opening
OTHER = "/another-registry.duckdb"  # another session's fit, which holds the fitting process


def busy_fits(monkeypatch, length: int = 8):
    """The server's line of fits with another session's model being fitted until the test
    lets it end (``release``), and no wait in a page run: what the page says in line, at
    once. The page's own models are fitted directly (this is the test's process)."""
    import threading

    from analytics.views import models_view_of_file
    from ui import heavy

    release, started = threading.Event(), threading.Event()
    fitted: list = []

    def fit(request: heavy.FitRequest):
        if request.key[0] == OTHER:
            started.set()
            release.wait(60)
            return None
        fitted.append(request)
        return models_view_of_file(
            request.key[0], request.cohort_filter, request.endpoint, request.covariates
        )

    line = heavy.FitQueue(fit, length=length, wait_s=0)
    monkeypatch.setattr(heavy, "FITS", line)
    line.ask("another session", heavy.FitRequest((OTHER, 1.0), DEFAULT_FILTER, "primary", ()))
    assert started.wait(60)
    return line, release, fitted


def test_a_model_waiting_its_turn_shows_its_place_and_a_later_run_shows_it(
    page_test, demo_path, monkeypatch
):
    from analytics.glossary import CHECK_AGAIN, FIT_STILL_IN_LINE, FITS_ONE_AT_A_TIME
    from ui import data, heavy

    line, release, fitted = busy_fits(monkeypatch)
    try:
        at = page_test(PAGE)
        assert not at.exception
        (status,) = at.status
        assert status.label == (
            f"Your model is 2nd in line: {FITS_ONE_AT_A_TIME}. {FIT_STILL_IN_LINE}"
        )
        assert not at.table and not plotly_figures(at)
        (check,) = [b for b in at.button if b.label == CHECK_AGAIN]
    finally:
        release.set()
    ours = heavy.FitRequest(data.cohort_key(demo_path), DEFAULT_FILTER, "primary", PAPER_MODEL)
    assert line.wait(ours, 60)
    check.click().run()
    assert not at.exception
    assert at.table[0].value["Term"].tolist()[0] == "DVT duration (per 12 months)"
    assert fitted == [ours]  # fitted once, in its turn


def test_a_sessions_new_model_replaces_the_one_it_had_waiting(page_test, demo_path, monkeypatch):
    from ui import data, heavy

    line, release, fitted = busy_fits(monkeypatch)
    key = data.cohort_key(demo_path)
    try:
        at = page_test(PAGE)
        at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
        assert not at.exception
        first = heavy.FitRequest(key, DEFAULT_FILTER, "primary", PAPER_MODEL)
        newest = heavy.FitRequest(key, DEFAULT_FILTER, "primary", PAPER_MODEL[:1])
        assert line.place(first) is None
        assert line.place(newest) == 2
        assert line.waiting == 1
    finally:
        release.set()
    assert line.wait(newest, 60)
    assert fitted == [newest]


def test_a_full_line_is_said_in_plain_words_and_nothing_is_fitted(page_test, monkeypatch):
    from analytics.glossary import CHECK_AGAIN, FIT_QUEUE_FULL
    from ui import heavy

    line, release, fitted = busy_fits(monkeypatch, length=1)
    try:
        line.ask("a third session", heavy.FitRequest((OTHER, 2.0), DEFAULT_FILTER, "primary", ()))
        at = page_test(PAGE)
        assert not at.exception
        assert [w.value for w in at.warning] == [FIT_QUEUE_FULL]
        assert not at.status and not at.table
        assert [b.label for b in at.button if b.label == CHECK_AGAIN] == [CHECK_AGAIN]
        assert line.waiting == 1
    finally:
        release.set()
    assert fitted == []
