"""Privacy mode through AppTest: small counts hidden on every page that shows counts."""

from __future__ import annotations

from tests.conftest import plotly_figures


def test_safety_hides_events_in_fewer_than_five_patients(page_test):
    at = page_test("pages/3_Safety.py", privacy="yes")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Event")
    # published: minor bleeding 4, pulmonary embolism 3, recurrent DVT 7 of 34
    assert table.loc["Pulmonary embolism"].drop("Within 30 days").tolist() == ["<5"] * 6
    assert table.loc["Minor bleeding (ecchymosis or haematoma)", "Patients"] == "<5"
    assert table.loc["Recurrent DVT", "Patients"] == "7"
    assert table.loc["Death", "Patients"] == "0"
    bars = plotly_figures(at)[0]
    labels = [label.strip() for label in bars["data"][1]["text"]]
    assert labels.count("<5") == 2 and "7 (20.6%)" in labels


def test_a_small_subgroup_is_not_counted_anywhere_on_the_patency_page(page_test):
    at = page_test("pages/1_Patency.py", privacy="yes", segments="IVC")  # 4 IVC lesions
    assert not at.exception
    assert any("n = <5 of 37" in m.value for m in at.sidebar.markdown)
    (fig,) = plotly_figures(at)
    risk = [t for t in fig["data"] if t.get("mode") == "text"]
    assert risk and all(cell in ("0", "<5") for t in risk for cell in t["text"])
    table = at.dataframe[0].value
    assert set(table["At risk"]) == {"<5"}


def test_k_is_configurable_from_the_link(page_test):
    at = page_test("pages/3_Safety.py", privacy="yes", privacy_k="10")
    table = at.dataframe[0].value.set_index("Event")
    assert table.loc["Recurrent DVT", "Patients"] == "<10"


def test_tables_hide_small_counts_in_formatted_cells(page_test):
    at = page_test("pages/5_Tables.py", privacy="yes")
    table2 = at.dataframe[1].value.set_index("Outcome")
    assert table2.loc["Ulcers healed by 3 months", "Value"] == "<5"  # published 3 (8.8%)
    assert table2.loc["PTS at last visit", "Value"] == "24 (70.6%)"


def test_off_by_default_and_enforced_by_the_deployment(page_test, monkeypatch):
    table = page_test("pages/3_Safety.py").dataframe[0].value.set_index("Event")
    assert table.loc["Pulmonary embolism", "Patients"] == 3
    monkeypatch.setenv("COHORT_PRIVACY", "enforced")
    at = page_test("pages/3_Safety.py", privacy="no")
    assert at.sidebar.toggle(key="privacy").value is True
    assert at.sidebar.toggle(key="privacy").proto.disabled
    table = at.dataframe[0].value.set_index("Event")
    assert table.loc["Pulmonary embolism", "Patients"] == "<5"


def test_timeline_does_not_plot_event_types_with_few_events(page_test):
    at = page_test("pages/3_Safety.py", privacy="yes")
    timeline = plotly_figures(at)[1]
    plotted = {t["y"][0] for t in timeline["data"] if t.get("mode") == "markers"}
    hidden = {t["y"][0] for t in timeline["data"] if t.get("mode") == "text"}
    assert plotted == {"Recurrent DVT"}  # 7 events
    assert hidden == {"Minor bleeding (ecchymosis or haematoma)", "Pulmonary embolism"}
