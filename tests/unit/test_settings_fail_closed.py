"""A deployment setting that is none of its values stops the program: it never serves
exact counts for a mistyped privacy mode, nor runs with another k than the one written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from analytics.cli import main
from analytics.cohort.db import ROOT
from analytics.present.privacy import K_ENV, MODE_ENV, PrivacyError, Setting, setting

MODE_REFUSAL = "is not a privacy mode: use off, on or enforced"
K_REFUSAL = "is not a privacy k: use a whole number from 3 to 20"
BAD_SETTINGS = [
    (MODE_ENV, "enforce", f"COHORT_PRIVACY='enforce' {MODE_REFUSAL}"),
    (MODE_ENV, "yes", f"COHORT_PRIVACY='yes' {MODE_REFUSAL}"),
    (MODE_ENV, "0n", f"COHORT_PRIVACY='0n' {MODE_REFUSAL}"),
    (K_ENV, "50", f"COHORT_PRIVACY_K='50' {K_REFUSAL}"),
    (K_ENV, "1", f"COHORT_PRIVACY_K='1' {K_REFUSAL}"),
    (K_ENV, "abc", f"COHORT_PRIVACY_K='abc' {K_REFUSAL}"),
    (K_ENV, "5.5", f"COHORT_PRIVACY_K='5.5' {K_REFUSAL}"),
    (K_ENV, "1_0", f"COHORT_PRIVACY_K='1_0' {K_REFUSAL}"),  # int() reads it as 10
]


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch):
    """Set the deployment's privacy environment (unset before each test)."""
    monkeypatch.delenv(MODE_ENV, raising=False)
    monkeypatch.delenv(K_ENV, raising=False)
    return monkeypatch.setenv


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS)
def test_a_setting_that_is_none_of_its_values_is_an_error_naming_it(
    deployment, name, value, message
):
    deployment(name, value)
    with pytest.raises(PrivacyError) as refused:
        setting()
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("mode", "k", "read"),
    [("", "", Setting("off", 5)), (" On ", "", Setting("on", 5)),
     ("ENFORCED", " 10 ", Setting("enforced", 10)), ("off", "20", Setting("off", 20)),
     ("on", "3", Setting("on", 3))],
)  # fmt: skip
def test_case_spaces_and_empty_values_are_read_as_meant(deployment, mode, k, read):
    """Empty is unset (off, k 5), as a shell's ``VAR=``; case and spaces are ignored."""
    deployment(MODE_ENV, mode)
    deployment(K_ENV, k)
    assert setting() == read


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS)
def test_every_command_stops_on_it_with_one_line_and_no_traceback(
    deployment, capsys, demo_path, name, value, message
):
    deployment(name, value)
    for argv in (["report", "--db", str(demo_path)], ["template", "--out", "/dev/null"]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"error: {message}\n")


def test_the_command_line_stops_before_any_count_is_written(demo_path):
    """Through ``python -m analytics``: the exit status, stderr, no traceback, no report."""
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--db", str(demo_path), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, MODE_ENV: "enforce"},
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"error: COHORT_PRIVACY='enforce' {MODE_REFUSAL}\n"
