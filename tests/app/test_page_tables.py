"""The Tables page through AppTest: Tables 1-3 and published vs reconstructed."""

from __future__ import annotations

PAGE = "pages/5_Tables.py"


def test_three_tables_and_every_published_item_reproduced(page_test):
    at = page_test(PAGE)
    assert not at.exception
    assert [h.value for h in at.subheader][:3] == ["Table 1", "Table 2", "Table 3"]
    table1 = at.table[0].value.set_index("Characteristic")
    assert table1.loc["Age, years, mean ± SD (range)", "Value"] == "66.2 ± 14.5 (37-86)"
    table2 = at.table[1].value.set_index("Outcome")["Value"]
    # the paper's Table 2: primary patency 25 limbs (73.5%) at 12 months; 4 minor bleedings
    assert table2["Primary patency at 12 months"].startswith("73.5% (95% CI")
    assert table2["Primary patency at 12 months"].endswith("at risk 25")
    assert "Primary patency at 0 months" not in table2.index
    assert table2["Minor bleeding (ecchymosis or haematoma), crude %"].startswith("4 (")
    comparison = next(d.value for d in at.table if "Published" in d.value.columns)
    assert len(comparison) >= 40
    assert (comparison["Same"] == "yes").all()
    contradictions = at.table[-1].value
    assert list(contradictions.columns) == ["What", "Contradiction", "Rule applied"]


def test_a_filter_recomputes_and_explains_why_no_comparison(page_test):
    at = page_test(PAGE, lesion_side="left")
    assert not at.exception
    table1 = at.table[0].value.set_index("Characteristic")
    assert table1.loc["Patients", "Value"] == "22"
    assert any("Reset the filters" in c.value for c in at.caption)


def test_every_table_stands_whole_on_the_page_for_screenshots_and_print(page_test):
    at = page_test(PAGE)
    assert not at.dataframe  # a data grid shows about ten rows, the rest behind its scroll bar
    assert len(at.table) == 5  # Tables 1-3, published vs reconstructed, contradictions
    table2, comparison = at.table[1].value, at.table[3].value
    assert len(comparison) >= 40 and len(table2) > 10  # all rows, however many


def test_table1_on_a_bilateral_registry_counts_limbs_in_patients(page_test, tmp_path, monkeypatch):
    """tests.cohorts.device_registry: 6 limbs of 4 patients; women are 2 of the 4 patients
    (4 of the 6 limbs), left legs 3 of the 6 limbs (hand counts in
    tests/unit/test_registry_variables.py)."""
    from tests.cohorts import device_registry

    path = tmp_path / "devices.duckdb"
    device_registry(str(path)).close()
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test(PAGE)
    assert not at.exception
    table1 = at.table[0].value.set_index("Characteristic")
    assert table1.loc["Limbs and patients", "Value"] == "6 limbs in 4 patients"
    assert tuple(table1.loc["Female", ["Value", "Counts"]]) == ("2 (50.0%)", "patients")
    assert tuple(table1.loc["Lesion side: left", ["Value", "Counts"]]) == ("3 (50.0%)", "limbs")
    assert table1.loc["Stent design: Laser-cut", "Value"] == "2 (33.3%)"
