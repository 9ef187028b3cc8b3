"""Four things a vascular surgeon reading a bilateral registry's pages would challenge:
healed ulcers counted among all limbs, a median "not reached (95% CI not reached to not
reached)", the landmark's words saying patients where limbs are counted, and recurrent DVT
split by a limb's variable without saying where a bilateral patient went. References: the
source paper (Table 2 and the text: 3 of the 8 C6 limbs healed by 3 months) and the files'
own rows."""

from __future__ import annotations

import pytest

from analytics import views
from analytics.cli import _parser
from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.glossary import DEFINITIONS, NOT_REACHED
from analytics.present import format as fmt
from analytics.present.report import report_text
from analytics.present.tables import time_summary_table


@pytest.fixture(scope="module")
def bilateral(bilateral_path):
    con = open_cohort(bilateral_path)
    yield con
    con.close()


@pytest.fixture(scope="module")
def demo(demo_path):
    con = open_cohort(demo_path)
    yield con
    con.close()


def test_a_median_and_lower_bound_not_reached_read_not_reached_alone():
    assert fmt.months_ci(None, None, None) == NOT_REACHED
    assert fmt.months_ci(float("nan"), float("nan"), float("nan"), "months") == NOT_REACHED
    assert fmt.months_ci(None, 13.0, None) == "not reached (95% CI 13.0 to not reached)"
    assert fmt.months_ci(31.0, 13.0, None, "months") == "31.0 (95% CI 13.0 to not reached) months"


def test_the_demos_secondary_patency_median_is_not_reached_on_every_surface(demo):
    """No secondary patency curve of the demo falls to 50%: nor does its lower limit."""
    text = report_text(views.report_view(demo, CohortFilter()))
    assert "to not reached to" not in text and "CI not reached" not in text
    assert "    all: median not reached; restricted mean 33.74 (SE 1.29) months" in text
    summary = time_summary_table(views.patency_view(demo, CohortFilter()))
    assert NOT_REACHED in summary["Median, months (95% CI)"].tolist()
    assert not any("CI not reached" in cell for cell in summary["Median, months (95% CI)"])


def test_the_landmark_words_name_the_unit_of_either_kind_of_file():
    """They said "among the patients", where a bilateral file's patency counts limbs."""
    help_text = _parser().format_help() + next(
        action.choices["report"].format_help()
        for action in _parser()._actions
        if getattr(action, "choices", None) and "report" in action.choices
    )
    words = " ".join(help_text.split())
    assert "among the patients whose time" not in words
    assert "where a patient may have two, the limbs" in words
    definition = DEFINITIONS["Landmark"]
    assert "among the patients" not in definition and "a patient who is still patent" not in (
        definition
    )
    assert "one treated limb per patient" in definition and "the limbs" in definition
