"""Centre scope through AppTest, on a bilateral registry of four centres: a user whose
token names a centre sees that centre exactly or the other centres pooled with privacy
enforced, never the registry; the Centres page names their centre alone; a link or a
forged widget value widens nothing; a registry-level user sees all, as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.cohort.db import connect_hardened
from analytics.present import format as fmt
from tests.app.test_login import AUTH
from tests.conftest import page_runner, plotly_figures, unescaped

ACCESS = {
    "role_claim": "groups",
    "center_claim": "center",
    "roles": {"vs-viewers": "viewer", "vs-analysts": "analyst"},
}
SECRETS = {"auth": AUTH, "access": ACCESS}
OWN, OTHERS = "C02", ("C01", "C03", "C04")  # the fixture's centres (synth --centers 4)
CENTRES, PATENCY, SAFETY = "pages/7_Centres.py", "pages/1_Patency.py", "pages/3_Safety.py"
MODELS = "pages/8_Models.py"


def user(name: str, group: str, centre: object = None) -> dict[str, object]:
    signed_in: dict[str, object] = {"is_logged_in": True, "name": name, "sub": name.lower()}
    signed_in["groups"] = [group]
    if centre is not None:
        signed_in["center"] = centre
    return signed_in


SCOPED = user("Sam Scoped", "vs-analysts", OWN)
REGISTRY = user("Rita Registry", "vs-analysts")


def limbs(path: Path, where: str = "technical_success") -> int:
    """The limbs where ``where`` holds, counted by SQL on the file's own tables (opened as
    the app opens it: DuckDB refuses a second configuration of an open file)."""
    con = connect_hardened(path)
    try:
        (count,) = con.execute(
            f"SELECT count(*) FROM limbs JOIN patients USING (patient_id) WHERE {where}"
        ).fetchone()
    finally:
        con.close()
    return count


@pytest.fixture
def run_page(bilateral_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a page of the bilateral registry through AppTest as ``signed_in``."""
    runs = page_runner(bilateral_path, monkeypatch)
    run = next(runs)
    yield lambda page, signed_in, **params: run(
        page, secrets=SECRETS, user=signed_in, timeout=120, **params
    )
    next(runs, None)  # its clean-up


def sidebar_n(at: AppTest) -> str:
    (line,) = [unescaped(m.value) for m in at.sidebar.markdown if m.value.startswith("**n = ")]
    return line


def every_text(at: AppTest) -> str:
    """What the page shows as text: Markdown, captions, tables, and its charts' figures."""
    texts = [e.value for e in (*at.markdown, *at.caption, *at.sidebar.markdown,
                               *at.sidebar.caption, *at.info, *at.warning)]  # fmt: skip
    texts += [table.value.to_csv() for table in at.table]
    texts += [str(figure) for figure in plotly_figures(at)]
    return unescaped("\n".join(texts))


def test_a_scoped_analyst_sees_their_centre_exactly_and_its_totals_not_the_registrys(
    run_page, bilateral_path
):
    at = run_page("app.py", SCOPED)
    assert not at.exception and not at.error
    own = limbs(bilateral_path, f"technical_success AND center = '{OWN}'")
    assert sidebar_n(at).startswith(f"**n = {fmt.count(own)} limbs")
    (file_line,) = [c.value for c in at.sidebar.caption if c.value.startswith("The file:")]
    in_centre = limbs(bilateral_path, f"center = '{OWN}'")
    assert file_line.startswith(f"The file: {fmt.count(in_centre)} limbs")
    assert at.sidebar.toggle(key="privacy").value is False  # exact, as an analyst's
    scope = at.sidebar.radio(key="scope")
    assert scope.value == "mine" and scope.options == [
        f"My centre ({OWN})",
        "Other centres (pooled)",
    ]
    assert "center" not in [s.key for s in at.sidebar.selectbox]  # no centre filter to widen


def test_the_other_centres_are_pooled_with_privacy_on_even_for_an_analyst(run_page, bilateral_path):
    at = run_page(SAFETY, SCOPED)
    at.sidebar.radio(key="scope").set_value("others").run()
    assert not at.exception and not at.error
    others = limbs(bilateral_path, f"technical_success AND center IS DISTINCT FROM '{OWN}'")
    assert sidebar_n(at).startswith(f"**n = {fmt.count(others)} limbs")
    toggle = at.sidebar.toggle(key="privacy")
    assert toggle.value is True and toggle.disabled
    registry = limbs(bilateral_path)
    assert fmt.count(registry) not in every_text(at)
    in_file = limbs(bilateral_path, "true")
    assert f"The file: {fmt.count(in_file)}" not in every_text(at)


def test_a_link_naming_another_centre_or_privacy_off_changes_nothing(run_page, bilateral_path):
    at = run_page("app.py", SCOPED, center="C01", scope="others", privacy="no", by="center")
    assert not at.exception
    others = limbs(bilateral_path, f"technical_success AND center IS DISTINCT FROM '{OWN}'")
    assert sidebar_n(at).startswith(f"**n = {fmt.count(others)} limbs")  # not C01's
    assert at.sidebar.toggle(key="privacy").value is True
    notices = " ".join(unescaped(w.value) for w in at.sidebar.warning)
    assert "center='C01'" in notices and "by='center'" in notices
    mine = run_page("app.py", SCOPED, center="C01")
    own = limbs(bilateral_path, f"technical_success AND center = '{OWN}'")
    assert sidebar_n(mine).startswith(f"**n = {fmt.count(own)} limbs")


def test_a_forged_centre_widget_value_changes_nothing(run_page, bilateral_path):
    at = run_page("app.py", SCOPED)
    at.session_state["center"] = "C01"
    at.run()
    assert not at.exception
    own = limbs(bilateral_path, f"technical_success AND center = '{OWN}'")
    assert sidebar_n(at).startswith(f"**n = {fmt.count(own)} limbs")


def test_no_comparison_by_centre_is_offered(run_page):
    at = run_page(PATENCY, SCOPED)
    assert not at.exception
    by = at.selectbox(key="by")
    assert by.options and "Centre" not in by.options


def test_no_adjustment_for_centre_is_offered_nor_taken_from_a_link(run_page):
    at = run_page(MODELS, SCOPED, adjust="center,age_years")
    assert not at.exception
    assert "Centre" not in at.multiselect(key="model_covariates").options
    assert at.session_state["adjust"] == ("age_years",)
    notices = " ".join(unescaped(w.value) for w in at.sidebar.warning)
    assert "adjust='center,age_years': not adjusted for centre" in notices


@pytest.mark.parametrize("page", ["app.py", CENTRES, SAFETY])
@pytest.mark.parametrize("choice", ["mine", "others"])
def test_a_scoped_viewer_sees_both_scopes_with_privacy_on(run_page, page, choice):
    at = run_page(page, user("Vera Viewer", "vs-viewers", OWN), scope=choice)
    assert not at.exception and not at.error
    assert at.sidebar.toggle(key="privacy").value is True
    assert at.sidebar.radio(key="scope").value == choice


def test_the_funnel_names_only_their_centre_and_shows_no_registry_total(run_page, bilateral_path):
    at = run_page(CENTRES, SCOPED)
    assert not at.exception and not at.error
    shown = every_text(at)
    assert OWN in shown and "Centre A" in shown and "Centre C" in shown
    assert not any(code in shown for code in OTHERS)
    assert fmt.count(limbs(bilateral_path)) not in shown
    table = at.table[-1].value
    assert table.iloc[0, 0] == OWN  # theirs first, then the others by size


def test_a_malformed_centre_claim_is_refused(run_page):
    at = run_page("app.py", user("Two Centres", "vs-analysts", ["C01", "C02"]))
    assert not at.exception
    (refusal,) = at.error
    assert "does not name one centre" in unescaped(refusal.value)
    assert not (at.metric or at.table or at.sidebar.toggle)


def test_a_registry_level_analyst_sees_all_as_before(run_page, bilateral_path):
    at = run_page("app.py", REGISTRY)
    assert not at.exception and not at.error
    assert sidebar_n(at).startswith(f"**n = {fmt.count(limbs(bilateral_path))} limbs")
    assert not [r for r in at.sidebar.radio if r.key == "scope"]
    assert "center" in [s.key for s in at.sidebar.selectbox]
    centres = run_page(CENTRES, REGISTRY)
    shown = every_text(centres)
    assert all(code in shown for code in (OWN, *OTHERS)) and "Centre A" not in shown
