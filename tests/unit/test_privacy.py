"""Small-count suppression: counts 1 to k-1 and what reveals them become "<k"; zero stays."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.present.privacy import count_text, mask_table, mask_text


@pytest.mark.parametrize(
    ("count", "k", "shown"),
    [(0, 5, "0"), (1, 5, "<5"), (4, 5, "<5"), (5, 5, "5"), (34, 5, "34"), (9, 10, "<10"),
     (3, None, "3"), (920455, 5, "920,455"), (1000, None, "1,000")],
)  # fmt: skip
def test_count_text(count, k, shown):
    assert count_text(count, k) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("3 (8.8%)", "<5"),
        ("0 (0.0%)", "0 (0.0%)"),
        ("24 (70.6%)", "24 (70.6%)"),
        ("2/37 (5.4%)", "<5"),
        ("34/37 (91.9%)", "34/37 (91.9%)"),
        ("82.4% (95% CI 64.9-91.7); at risk 3", "82.4% (95% CI 64.9-91.7); at risk <5"),
        ("66.2 ± 14.5 (37-86)", "66.2 ± 14.5 (37-86)"),
        ("4", "<5"),
        # a registry's counts carry thousands separators
        ("1,234 (5.0%)", "1,234 (5.0%)"),
        ("3/1,234 (0.2%)", "<5"),
        ("1,234/2,000 (61.7%)", "1,234/2,000 (61.7%)"),
        ("61.7% (95% CI 59.5-63.8); at risk 1,234", "61.7% (95% CI 59.5-63.8); at risk 1,234"),
        ("at risk 4, then 1,234", "at risk <5, then 1,234"),
    ],
)
def test_mask_text(text, shown):
    assert mask_text(text, 5) == shown


def test_mask_table_hides_small_counts_and_the_rates_that_reveal_them():
    safety = pd.DataFrame(
        {
            "Event": ["Minor bleeding", "Recurrent DVT", "Death"],
            "Patients": [4, 7, 0],
            "Percent": [11.8, 20.6, 0.0],
            "95% CI (%)": ["3.3-27.5", "8.7-37.9", "0.0-10.3"],
            "Events": [4, 7, 0],
            "Per 100 patient-years": [3.87, 6.77, 0.0],
        }
    )
    masked = mask_table(safety, 5).set_index("Event")
    assert masked.loc["Minor bleeding"].tolist() == ["<5"] * 5
    assert masked.loc["Recurrent DVT"].tolist() == ["7", "20.6", "8.7-37.9", "7", "6.77"]
    assert masked.loc["Death"].tolist() == ["0", "0", "0.0-10.3", "0", "0"]
    assert mask_table(safety, None) is safety


def test_columns_that_are_not_counts_are_left_alone():
    report = pd.DataFrame({"file": ["a.csv"], "row": [3], "column": ["x"], "value": ["2"]})
    assert mask_table(report, 5).equals(report)
