"""The command line's variables: its help lists the declared ones, and --by and --adjust
take the opened cohort's, whatever it declares."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import analytics.cli as cli
from analytics.cohort.db import cohort_variables, open_cohort
from analytics.variables import BUILTIN, Kind, Registry, Role, Variable

README = Path(__file__).resolve().parents[2] / "README.md"

# The unused `access_vein` column (data/schema.sql): five coded levels, declared here only.
ACCESS_VEIN = Variable(
    "access_vein",
    "access_vein",
    Kind.CATEGORY,
    "Access vein",
    levels=tuple(
        (raw, raw.replace("_", " ").capitalize())
        for raw in ("popliteal", "small_saphenous", "femoral", "jugular", "other")
    ),
    roles=(Role.FILTER, Role.GROUPING, Role.COVARIATE),
)


def _options(command: str) -> dict[str, argparse.Action]:
    """The options of a subcommand, by their flag."""
    commands = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {flag: a for a in commands.choices[command]._actions for flag in a.option_strings}


@pytest.mark.parametrize("command", ["report", "deck"])
def test_the_help_names_every_declared_filter_grouping_and_covariate(command, capsys):
    options = _options(command)
    names = {
        "--where": BUILTIN.filter_keys(),
        "--by": tuple(BUILTIN.groupings()),
        "--adjust": tuple(BUILTIN.covariates()),
    }
    for flag, keys in names.items():
        words = set(re.findall(r"\w+", options[flag].help))
        assert set(keys) <= words, (flag, set(keys) - words)
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "A cohort file may declare variables of its own" in shown


def test_the_help_is_generated_from_the_registry_it_is_given():
    smaller = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
    for helped in (cli.filter_help, cli.grouping_help, cli.covariate_help):
        assert "smoking" in helped(BUILTIN) and "smoking" not in helped(smaller)
    extended = BUILTIN.extended((ACCESS_VEIN,))
    assert "access_vein" in cli.grouping_help(extended)
    assert "access_vein" in cli.covariate_help(extended)


def test_a_cohorts_variables_are_the_builtins_until_a_file_declares_its_own(demo_path):
    with open_cohort(demo_path) as con:
        assert cohort_variables(con) == BUILTIN


@pytest.fixture
def reached(monkeypatch) -> dict:
    """The report's and the deck's views replaced by a record of what they were asked."""
    import analytics.present.deck as deck
    import analytics.present.report as report
    import analytics.views as views

    asked: dict = {}

    def record(name):
        def view(con, cohort_filter, *args, **kwargs):
            asked[name] = (args, kwargs)
            asked[f"{name} filter"] = cohort_filter
            return name

        return view

    monkeypatch.setattr(views, "report_of", record("report"))
    monkeypatch.setattr(views, "models_view", record("model"))
    monkeypatch.setattr(views, "deck_view", record("deck"))
    monkeypatch.setattr(report, "report_text", lambda view, k: f"{view} shown")
    monkeypatch.setattr(deck, "build_deck", lambda view, k: b"deck")
    return asked


def test_by_and_adjust_take_a_variable_the_cohort_declares(
    demo_path, tmp_path, monkeypatch, reached, capsys
):
    monkeypatch.setattr(cli, "cohort_variables", lambda con: BUILTIN.extended((ACCESS_VEIN,)))
    asked = ["--db", str(demo_path), "--where", "access_vein=femoral", "--by", "access_vein",
             "--adjust", "access_vein,age_years"]  # fmt: skip
    assert cli.main(["report", *asked]) == 0, capsys.readouterr().err
    (request,), _ = reached["report"]
    assert request.by == "access_vein" and request.adjust == ("access_vein", "age_years")
    assert reached["report filter"].values == (("access_vein", "femoral"),)
    assert cli.main(["deck", *asked, "--out", str(tmp_path / "view.pptx")]) == 0
    assert reached["model"][0][1] == ("access_vein", "age_years")
    assert reached["deck"][1]["by"] == "access_vein"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--by", "access_vein"], "cannot group by 'access_vein'"),
        (["--adjust", "access_vein"], "cannot adjust for 'access_vein'"),
    ],
)
def test_a_variable_the_cohort_does_not_declare_is_one_line(
    demo_path, option, message, reached, capsys
):
    assert cli.main(["report", "--db", str(demo_path), *option]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert "report" not in reached


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--by", "smoking"], "cannot group by 'smoking'; choose one of lesion_side,"),
        (["--adjust", "smoking"], "cannot adjust for 'smoking'; choose from malignancy, imm"),
    ],
)
def test_the_choices_are_the_cohorts_not_the_builtins(
    demo_path, option, message, monkeypatch, reached, capsys
):
    without = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
    monkeypatch.setattr(cli, "cohort_variables", lambda con: without)
    assert cli.main(["report", "--db", str(demo_path), *option]) == 1
    assert capsys.readouterr().err.startswith(f"error: {message}")
    assert "report" not in reached


def _readme_keys(start: str, end: str) -> list[str]:
    """The backquoted keys of the README from ``start`` to ``end``, outside parentheses."""
    text = " ".join(README.read_text().split())
    part = text[text.index(start) + len(start) :]
    part = re.sub(r"\([^()]*\)", "", part[: part.index(end)])
    return re.findall(r"`(\w+)`", part)


def test_the_readme_lists_the_declared_keys_of_where_by_and_adjust():
    assert _readme_keys("`--where` takes the filter keys:", "`--by` takes") == list(
        BUILTIN.filter_keys()
    )
    assert _readme_keys("`--by` takes one of the grouping keys", ". These") == list(
        BUILTIN.groupings()
    )
    assert _readme_keys(
        "with `--adjust COL[,COL...]` (one or more of", ", which is the time-varying"
    ) == list(BUILTIN.covariates())
