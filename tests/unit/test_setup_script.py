"""scripts/setup.sh and scripts/start.sh, run on stand-ins for python, uv and streamlit.

Nothing is downloaded: each test copies the scripts into a temporary folder with small
requirement files, and puts first on PATH a stand-in (STUB below) that answers as python,
uv and streamlit do, logs each call, and fails where a test asks it to (STUB_FAIL). So
the steps, their messages, the stamp and each failure's message and leftovers are
checked in well under a second; the real installs are measured by hand (README).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from analytics.cohort.db import ROOT

# A stand-in for python3.11, python3, the venv's python, uv and streamlit. It logs each
# call to STUB_LOG; STUB_FAIL (comma-separated) names what fails: a command name (as if
# not installed), "venv" (no venv module), "uv-download" (pip cannot get uv),
# "uv-install" (uv cannot install), "pip" (pip cannot install), "network" (no PyPI).
STUB = r"""#!/usr/bin/env bash
name=$(basename "$0")
echo "$name $*" >> "$STUB_LOG"
fails() { [[ ",${STUB_FAIL:-}," == *",$1,"* ]]; }
fails "$name" && exit 127
if [ "$name" = uv ]; then
    [ "$1" = --version ] && echo "uv $STUB_UV_VERSION (x86_64-unknown-linux-gnu)"
    [ "$1" = pip ] && fails uv-install && { echo "error: uv stand-in fails" >&2; exit 1; }
    exit 0
fi
[ "$name" = streamlit ] && exit 0
case "$1" in
    -c)
        if [[ "$2" == *version_info* ]]; then
            version="STUB_VERSION_${name//./_}"
            version=${version^^}
            echo "${!version:-3.11}"
        elif [[ "$2" == *urlopen* ]] && fails network; then
            exit 1
        fi ;;
    -m)
        venv=$(dirname "$(dirname "$0")")
        case "$2 $3" in
            "venv "*)
                mkdir -p "$3/bin"
                fails venv && { echo "ensurepip is not available" >&2; exit 1; }
                cp "$0" "$3/bin/python" ;;
            "pip install")
                if [[ "$*" == *requirements-setup.txt* ]]; then
                    fails uv-download && exit 1
                    cp "$0" "$venv/bin/uv"
                elif [[ "$*" != *"--upgrade pip"* ]] && fails pip; then
                    exit 1
                fi ;;
            "analytics build-demo") touch data/cohort.duckdb ;;
        esac ;;
esac
exit 0
"""
UV_PIN = re.search(r"^uv==(\S+)", (ROOT / "requirements-setup.txt").read_text(), re.M)[1]
Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The scripts beside a two-package requirements.txt, a dev file on top, the real
    requirements-setup.txt, and the stand-ins in stub/ (first on PATH)."""
    (tmp_path / "scripts").mkdir()
    for script in ("setup.sh", "start.sh"):
        shutil.copy(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    shutil.copy(ROOT / "requirements-setup.txt", tmp_path)
    (tmp_path / "requirements.txt").write_text("# runtime\nduckdb==2.0.1\npandas==2.3.3\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\npytest==9.2.0\n")
    (tmp_path / "data").mkdir()
    stub = tmp_path / "stub"
    stub.mkdir()
    for name in ("python3.11", "python3"):
        (stub / name).write_text(STUB)
        (stub / name).chmod(stat.S_IRWXU)
    return tmp_path


@pytest.fixture
def run(repo: Path) -> Run:
    """Run a script of `repo` (default setup.sh) with the stand-ins: `env` added to the
    environment, each other keyword as STUB_<KEYWORD>."""

    def run_script(
        *args: str, script: str = "setup.sh", env: dict[str, str] | None = None, **stub: str
    ) -> subprocess.CompletedProcess:
        env = {
            **(env or {}),
            "PATH": f"{repo / 'stub'}:{os.environ['PATH']}",
            "HOME": str(repo),
            "STUB_LOG": str(repo / "calls.log"),
            "STUB_UV_VERSION": UV_PIN,
            **{f"STUB_{key.upper()}": value for key, value in stub.items()},
        }
        (repo / "calls.log").write_text("")
        return subprocess.run(
            ["bash", f"scripts/{script}", *args],
            cwd=repo, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    return run_script


def calls(repo: Path) -> list[str]:
    """The stand-ins' calls of the last run, less the checks that the venv's python runs."""
    return [line for line in (repo / "calls.log").read_text().splitlines() if line != "python -c "]


def stamps(repo: Path) -> list[Path]:
    return sorted((repo / ".venv").glob(".installed-*"))


def test_a_first_set_up_says_each_step_with_its_time_then_writes_the_stamp(repo: Path, run: Run):
    result = run()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Creating .venv with python3.11 (about 3 s) ..."
    assert lines[1] == f"Installing the installer, uv {UV_PIN} (about 3 s) ..."
    assert re.fullmatch(
        r"Installing 2 pinned packages and their dependencies with uv \(about \d+ s from PyPI "
        r"the first time, \d+ s from uv's cache\) \.\.\.",
        lines[2],
    )
    assert re.fullmatch(r"Done in \d+ s\.", lines[3]) and len(lines) == 4
    assert "uv pip install --quiet --python .venv/bin/python -r requirements.txt" in calls(repo)
    assert len(stamps(repo)) == 1 and not (repo / ".venv/.setup-unfinished").exists()


def test_a_rerun_with_nothing_changed_prints_nothing_and_installs_nothing(repo: Path, run: Run):
    run()
    result = run()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert calls(repo) == []


def test_the_test_set_counts_the_pins_it_includes_and_is_compiled(repo: Path, run: Run):
    """Compiled at install, as pip does: the suite's processes would otherwise each compile
    what they import where PYTHONDONTWRITEBYTECODE is set."""
    result = run("requirements-dev.txt")
    assert "Installing 3 pinned packages" in result.stdout
    assert (
        "uv pip install --quiet --compile-bytecode --python .venv/bin/python "
        "-r requirements-dev.txt"
    ) in calls(repo)


def test_the_dashboards_set_after_the_test_set_that_holds_it_is_silent(repo: Path, run: Run):
    run("requirements-dev.txt")
    assert run().stdout == "" and calls(repo) == []
    (repo / "requirements.txt").write_text("duckdb==2.0.1\npandas==2.3.4\n")
    assert "Installing 2 pinned packages" in run().stdout


def test_a_changed_requirement_installs_again_in_the_same_venv(repo: Path, run: Run):
    run()
    (repo / "requirements.txt").write_text("duckdb==2.0.1\npandas==2.3.4\n")
    result = run()
    assert result.returncode == 0, result.stderr
    assert "Creating" not in result.stdout and "uv " + UV_PIN not in result.stdout
    assert any(call.startswith("uv pip install") for call in calls(repo))
    assert len(stamps(repo)) == 2


def test_no_python_311_is_named_with_how_to_get_it_and_leaves_no_venv(repo: Path, run: Run):
    result = run(fail="python3.11", version_python3="3.9")
    assert result.returncode == 1
    assert "no Python 3.11 found (no python3.11, python3 is Python 3.9)" in result.stderr
    assert "sudo apt-get install python3.11 python3.11-venv" in result.stderr
    assert not (repo / ".venv").exists()


def test_python_named_in_the_environment_is_the_one_used(repo: Path, run: Run):
    result = run(env={"PYTHON": str(repo / "stub" / "python3")})
    assert result.stdout.startswith(f"Creating .venv with {repo / 'stub' / 'python3'} ")


def test_a_python_without_its_venv_module_names_the_package_and_leaves_no_venv(
    repo: Path, run: Run
):
    result = run(fail="venv")
    assert result.returncode == 1
    assert "sudo apt-get install python3.11-venv" in result.stderr
    assert not (repo / ".venv").exists()


def test_no_network_is_named_and_the_next_run_starts_afresh(repo: Path, run: Run):
    offline = run(fail="uv-download,network")
    assert offline.returncode == 1
    assert "no connection to PyPI (https://pypi.org/simple/)" in offline.stderr
    assert stamps(repo) == [] and (repo / ".venv/.setup-unfinished").exists()

    again = run()
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:2] == [
        "The last set-up did not finish: removing .venv to start again ...",
        "Creating .venv with python3.11 (about 3 s) ...",
    ]
    assert len(stamps(repo)) == 1 and not (repo / ".venv/.setup-unfinished").exists()


def test_uv_out_of_reach_falls_back_to_pip_with_a_message(repo: Path, run: Run):
    result = run(fail="uv-download")
    assert result.returncode == 0, result.stderr
    assert "uv could not be installed (above): installing with pip instead" in result.stdout
    assert "python -m pip install --quiet --disable-pip-version-check -r requirements.txt" in calls(
        repo
    )
    assert len(stamps(repo)) == 1


def test_pip_asked_for_installs_without_uv(repo: Path, run: Run):
    result = run(env={"SETUP_INSTALLER": "pip"})
    assert result.returncode == 0, result.stderr
    assert "Installing 2 pinned packages and their dependencies with pip" in result.stdout
    assert not any("uv" in call for call in calls(repo))


def test_a_failed_install_names_it_and_writes_no_stamp(repo: Path, run: Run):
    result = run(fail="uv-install,pip")
    assert result.returncode == 1
    assert "uv could not install them (above): trying pip instead" in result.stdout
    assert "pip could not install the packages of requirements.txt (above)" in result.stderr
    assert stamps(repo) == [] and (repo / ".venv/.setup-unfinished").exists()


def test_a_venv_whose_python_no_longer_runs_is_made_again(repo: Path, run: Run):
    run()
    (repo / ".venv/bin/python").write_text("#!/bin/sh\nexit 1\n")
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The Python in .venv does not run")
    assert "Creating .venv" in result.stdout


def test_an_unknown_requirements_file_is_named(run: Run):
    result = run("requirments.txt")
    assert result.returncode == 1
    assert "there is no requirements file named requirments.txt" in result.stderr


def test_the_first_start_builds_the_demo_before_streamlit_and_says_so(repo: Path, run: Run):
    run()
    shutil.copy(repo / "stub" / "python3", repo / ".venv" / "bin" / "streamlit")
    first = run(script="start.sh")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "Building the demo cohort from data/demo/*.csv (about 5 s, the first time only) ...",
        "Starting the dashboard (Ctrl-C stops it) ...",
    ]
    assert calls(repo) == ["python -m analytics build-demo", "streamlit run app.py"]

    later = run(script="start.sh")
    assert later.stdout == "Starting the dashboard (Ctrl-C stops it) ...\n"
    assert calls(repo) == ["streamlit run app.py"]
