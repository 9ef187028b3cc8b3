"""Login and roles through AppTest: without [auth] the dashboard runs as before and says
it has no login; with it, a signed-out visitor, a user without a role, a viewer, an
analyst and a data manager each get what their role allows, decided on the server (a
link or a forged widget value changes nothing), and a bad [access] opens nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import page_runner, plotly_charts, unescaped
from ui import data
from ui.access import LOG_IN, LOG_OUT, NO_LOGIN
from ui.page import MAKE_DECK_LABEL
from ui.plot import NO_CAMERA
from ui.show import EXPORT_LABEL

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-secret-of-any-deployment",
    "client_id": "dashboard",
    "client_secret": "dashboard-secret",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}
ACCESS = {
    "role_claim": "groups",
    "roles": {"vs-viewers": "viewer", "vs-analysts": "analyst", "vs-managers": "data manager"},
}
SECRETS = {"auth": AUTH, "access": ACCESS}
SAFETY, MODELS, DATA = "pages/3_Safety.py", "pages/8_Models.py", "pages/6_Data.py"
EMBOLISM = "Pulmonary embolism"  # published: 3 of the 34 patients


def user(name: str, *groups: str) -> dict[str, object]:
    return {"is_logged_in": True, "name": name, "sub": name.lower(), "groups": list(groups)}


VIEWER, ANALYST = user("Ada Viewer", "vs-viewers"), user("Alan Analyst", "other", "vs-analysts")
MANAGER = user("Grace Manager", "vs-viewers", "vs-managers")


@pytest.fixture
def run_page(demo_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a page of the demo through AppTest with ``secrets`` and ``user`` (st.user)."""
    runs = page_runner(demo_path, monkeypatch)
    run = next(runs)

    def signed(page: str, secrets: dict, signed_in: dict | None = None, **params: str):
        user = signed_in if signed_in is not None else {"is_logged_in": False}
        return run(page, secrets=secrets, user=user, **params)

    yield signed
    next(runs, None)  # its clean-up


def sidebar_text(at: AppTest) -> list[str]:
    return [unescaped(e.value) for e in [*at.sidebar.caption, *at.sidebar.markdown]]


def buttons(at: AppTest, where=None) -> list[str]:
    return [b.label for b in (where or at).button]


def embolism_patients(at: AppTest) -> str:
    return str(at.table[0].value.set_index("Event").loc[EMBOLISM, "Patients"])


def test_without_auth_the_sidebar_says_there_is_no_login_and_pages_work_as_before(page_test):
    at = page_test("app.py")
    assert not at.exception and not at.error
    assert NO_LOGIN in sidebar_text(at)
    assert LOG_OUT not in buttons(at, at.sidebar) and LOG_IN not in buttons(at)
    assert at.metric  # the Overview's tiles
    safety = page_test(SAFETY)
    assert not safety.exception and embolism_patients(safety) == "3"  # exact, as before


@pytest.mark.parametrize("page", ["app.py", SAFETY, DATA, MODELS])
def test_signed_out_every_page_offers_log_in_and_shows_nothing(run_page, page):
    at = run_page(page, SECRETS)
    assert not at.exception
    assert buttons(at) == [LOG_IN]
    assert not (at.metric or at.table or at.sidebar.toggle or at.get("download_button"))
    assert not plotly_charts(at)


@pytest.mark.parametrize("page", ["app.py", SAFETY])
def test_a_user_without_a_mapped_role_is_refused_not_shown_the_data(run_page, page):
    at = run_page(page, SECRETS, user("Eve Nobody", "other-group"))
    assert not at.exception
    (refusal,) = at.error
    assert unescaped(refusal.value).startswith("Eve Nobody is signed in, but this account has")
    assert "has no role on this dashboard" in refusal.value
    assert buttons(at) == [LOG_OUT]
    assert not (at.metric or at.table or at.sidebar.toggle or at.get("download_button"))


def test_the_sidebar_says_who_is_signed_in_and_as_what_with_log_out(run_page):
    at = run_page("app.py", SECRETS, ANALYST)
    assert not at.exception and not at.error
    assert "Signed in as **Alan Analyst**, analyst." in sidebar_text(at)
    assert LOG_OUT in buttons(at, at.sidebar)
    assert NO_LOGIN not in sidebar_text(at)


def test_a_provider_name_is_shown_as_text_not_markup(run_page):
    at = run_page("app.py", SECRETS, user("[x](https://evil.example) *Bo*", "vs-viewers"))
    (line,) = [c.value for c in at.sidebar.caption if "Signed in as" in c.value]
    assert "](" not in line.replace("\\]\\(", "") and "\\*Bo\\*" in line


def test_a_viewer_sees_small_counts_hidden_though_the_deployment_is_off(run_page):
    at = run_page(SAFETY, SECRETS, VIEWER)
    assert not at.exception
    assert embolism_patients(at) == "<5"
    toggle = at.sidebar.toggle(key="privacy")
    assert toggle.value is True and toggle.disabled


def test_a_link_cannot_lift_a_viewers_privacy_nor_lower_its_k(run_page):
    at = run_page(SAFETY, SECRETS, VIEWER, privacy="no", privacy_k="3")
    assert not at.exception
    assert embolism_patients(at) == "<5"  # 3 patients: shown at k = 3, hidden at k = 5
    notices = [unescaped(w.value) for w in at.sidebar.warning]
    assert any("privacy_k='3': below the k = 5 this deployment enforces" in n for n in notices)


def test_a_forged_widget_value_cannot_lift_a_viewers_privacy(run_page):
    """The toggle is disabled for a viewer; a browser that sends its value anyway sets the
    widget's state, as here."""
    at = run_page(SAFETY, SECRETS, VIEWER)
    at.session_state["privacy"], at.session_state["privacy_k"] = False, 3
    at.run()
    assert not at.exception
    assert embolism_patients(at) == "<5"
    assert at.sidebar.toggle(key="privacy").value is True


def test_the_viewers_k_is_the_deployments(run_page, monkeypatch):
    monkeypatch.setenv("COHORT_PRIVACY_K", "8")
    at = run_page(SAFETY, SECRETS, VIEWER)
    assert embolism_patients(at) == "<8"


def test_an_analyst_sees_exact_counts(run_page):
    at = run_page(SAFETY, SECRETS, ANALYST)
    assert not at.exception
    assert embolism_patients(at) == "3"
    assert at.sidebar.toggle(key="privacy").disabled is False


@pytest.mark.parametrize("signed_in", [ANALYST, MANAGER])
def test_an_enforced_deployment_is_a_floor_for_every_role(run_page, monkeypatch, signed_in):
    monkeypatch.setenv("COHORT_PRIVACY", "enforced")
    at = run_page(SAFETY, SECRETS, signed_in, privacy="no")
    assert embolism_patients(at) == "<5"


def test_a_viewer_gets_no_model_export_and_no_camera_button(run_page):
    at = run_page(MODELS, SECRETS, VIEWER)
    assert not at.exception
    assert at.table  # the model is shown, masked
    assert not at.get("download_button")
    assert not [p for p in at.get("popover") if p.proto.popover.label == EXPORT_LABEL]
    assert all(chart["config"].items() >= NO_CAMERA.items() for chart in plotly_charts(at))
    safety = run_page(SAFETY, SECRETS, VIEWER)  # other tables' CSVs stay: they are masked
    assert [b.proto.label for b in safety.get("download_button")]
    assert all(chart["config"].items() >= NO_CAMERA.items() for chart in plotly_charts(safety))


def test_an_analyst_exports_the_model_and_keeps_the_camera_button(run_page):
    at = run_page(MODELS, SECRETS, ANALYST)
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download adjusted hazard ratios (CSV)" in labels
    assert [p for p in at.get("popover") if p.proto.popover.label == EXPORT_LABEL]
    charts = plotly_charts(at)
    assert charts and not any("modeBarButtonsToRemove" in chart["config"] for chart in charts)


@pytest.mark.parametrize(("signed_in", "imports"), [(VIEWER, False), (ANALYST, False),
                                                     (MANAGER, True)])  # fmt: skip
def test_only_a_data_manager_imports(run_page, signed_in, imports):
    at = run_page(DATA, SECRETS, signed_in)
    assert not at.exception
    assert bool(at.get("file_uploader")) is imports
    refused = any("for this dashboard's data managers" in c.value for c in at.caption)
    assert refused is not imports


def test_no_page_has_a_table_toolbar_to_download_from(run_page):
    """st.table, every table of the dashboard, has no toolbar; st.dataframe's has one
    with a CSV download, so no page may draw one."""
    for page in ("app.py", SAFETY, MODELS, DATA):
        assert not run_page(page, SECRETS, VIEWER).dataframe


@pytest.mark.parametrize(
    ("secrets", "said"),
    [
        ({"auth": AUTH, "access": {**ACCESS, "roles": {"vs-analysts": "analist"}}},
         "maps 'vs-analysts' to 'analist', which is not a role"),
        ({"auth": AUTH}, "[auth] turns login on, but there is no [access] section"),
        ({"access": ACCESS}, "[access] maps roles but there is no [auth] section"),
        ({"auth": AUTH, "access": {**ACCESS, "claim": "groups"}},
         "[access] has 'claim', which is not a setting"),
    ],
)  # fmt: skip
def test_a_bad_access_setting_stops_every_page_with_its_message(run_page, secrets, said):
    for signed_in in (MANAGER, {"is_logged_in": False}):
        at = run_page("app.py", secrets, signed_in)
        assert not at.exception
        (error,) = at.error
        assert said in unescaped(error.value)
        assert not (at.metric or at.table or at.sidebar.toggle or at.button)


@pytest.mark.parametrize(("signed_in", "has_model"), [(VIEWER, False), (ANALYST, True)])
def test_a_viewers_deck_leaves_the_model_out(run_page, monkeypatch, signed_in, has_model):
    """The deck of the Models page's view: the model's slides only for a role that may
    export models (the deck itself is built by tests/unit/test_deck.py)."""
    asked = []
    monkeypatch.setattr(data, "deck_bytes", lambda key, request: asked.append(request) or b"")
    at = run_page(MODELS, SECRETS, signed_in)
    (make,) = [b for b in at.sidebar.button if b.label == MAKE_DECK_LABEL]
    make.click().run()
    assert not at.exception
    (request,) = asked
    assert bool(request.adjust) is has_model
