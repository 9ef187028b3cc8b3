#!/usr/bin/env bash
# Create .venv and install the pinned requirements (default requirements.txt; pass
# requirements-dev.txt for the test tools), one line per step with its usual time.
# Silent when nothing changed: a stamp named for the requirement files' hash is written
# only once every step has succeeded. A set-up that stopped half way (an error, no
# network, Ctrl-C) leaves a mark in .venv; the next run removes that .venv and starts
# again, so a half-made .venv is never trusted.
#
# The installer is uv, pinned in requirements-setup.txt and installed into .venv by the
# venv's own pip. That needs only python3.11 and its venv module (Debian and Ubuntu:
# python3.11-venv) and leaves the system's Python alone: `pip install --user` is refused
# there (PEP 668, from Debian 12 and Ubuntu 23.04), and uv's own install script fetches
# its binary from outside PyPI. uv installs the same pinned versions pip would, from
# PyPI (or UV_DEFAULT_INDEX; it does not read pip's configuration), downloading in
# parallel. For the test set it also compiles the packages to bytecode, as pip does:
# the suite's processes (workers, servers, command-line runs) would each compile what
# they import where PYTHONDONTWRITEBYTECODE is set. For the dashboard's set it does not:
# its first start compiles only what it imports, a few seconds once, where compiling
# every package takes about 20 s on 2 cores. If uv cannot be installed, or fails, pip
# installs the packages instead (and compiles them all).
#
# PYTHON=/path/to/python3.11 names the interpreter; SETUP_INSTALLER=pip skips uv.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
venv=.venv
unfinished="$venv/.setup-unfinished"
index="${PIP_INDEX_URL:-https://pypi.org/simple/}"

say() { printf '%s\n' "$*"; }

fail() {
    printf 'Set-up stopped: %s\n' "$*" >&2
    exit 1
}

# Seconds each installer took from PyPI with empty caches, then from its cache, on the
# project's 2-core machine (2026-12-07, other jobs running; README, "Two commands").
case "$req" in
    requirements-dev.txt) uv_times=(45 30) pip_times=(75 65) compile=(--compile-bytecode) ;;
    *) uv_times=(15 10) pip_times=(60 50) compile=() ;;
esac

[ -f "$req" ] || fail "there is no requirements file named $req in $PWD."
stamp_of() {
    echo "$venv/.installed-$(cat requirements-setup.txt requirements.txt "$1" | sha256sum | cut -c1-16)"
}
stamp=$(stamp_of "$req")
# Nothing to do when this set, or one that includes it (-r: the test set holds the
# dashboard's), was installed from the files as they are.
installed() {
    local other
    [ -f "$stamp" ] && return
    for other in requirements*.txt; do
        grep -qx -- "-r $req" "$other" && [ -f "$(stamp_of "$other")" ] && return
    done
    return 1
}
if installed && [ ! -e "$unfinished" ] && "$venv/bin/python" -c '' 2>/dev/null; then
    exit 0
fi
started=$SECONDS

find_python() {
    local candidate version tried=""
    local candidates=(python3.11 python3)
    if [ -n "${PYTHON:-}" ]; then candidates=("$PYTHON"); fi
    for candidate in "${candidates[@]}"; do
        if ! version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
            2>/dev/null); then
            tried="${tried:+$tried, }no $candidate"
        elif [ "$version" = 3.11 ]; then
            python=$candidate
            return
        else
            tried="${tried:+$tried, }$candidate is Python $version"
        fi
    done
    fail "no Python 3.11 found ($tried). On Debian or Ubuntu: sudo apt-get install python3.11" \
        "python3.11-venv; elsewhere install Python 3.11 and name it before the command:" \
        "PYTHON=/path/to/python3.11 bash scripts/..."
}

reachable() {
    local probe='import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)'
    "$venv/bin/python" -c "$probe" "$index" 2>/dev/null
}

no_network() {
    fail "no connection to PyPI ($index): the first set-up downloads the pinned packages." \
        "Check the network (or set HTTPS_PROXY) and run this again; it will start .venv afresh."
}

if [ -e "$unfinished" ]; then
    say "The last set-up did not finish: removing .venv to start again ..."
    rm -rf "$venv"
elif [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    say "The Python in .venv does not run (moved or removed?): removing .venv to start again ..."
    rm -rf "$venv"
fi
if [ ! -e "$venv" ]; then
    find_python
    mkdir "$venv"
    touch "$unfinished"
    say "Creating .venv with $python (about 3 s) ..."
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        fail "$python could not create .venv (above). On Debian or Ubuntu its venv module is" \
            "a package of its own: sudo apt-get install python3.11-venv"
    fi
else
    touch "$unfinished"
fi

installer="${SETUP_INSTALLER:-uv}"
case "$installer" in
    uv | pip) ;;
    *) fail "SETUP_INSTALLER is uv or pip, not $installer." ;;
esac
uv_pin=$(sed -n 's/^uv==\([^[:space:]]*\).*/\1/p' requirements-setup.txt)
uv_now=$("$venv/bin/uv" --version 2>/dev/null | cut -d' ' -f1-2 || true)
if [ "$installer" = uv ] && [ "$uv_now" != "uv $uv_pin" ]; then
    say "Installing the installer, uv $uv_pin (about 3 s) ..."
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r requirements-setup.txt; then
        reachable || no_network
        say "uv could not be installed (above): installing with pip instead, which is slower ..."
        installer=pip
    fi
fi
# The pins of $req and of the files it includes (-r), one level deep as ours are.
included=$(sed -n 's/^-r[[:space:]]*//p' "$req")
pinned=$(cat "$req" $included | grep -c -E '^[A-Za-z0-9._-]+==' || true)
if [ "$installer" = uv ]; then
    say "Installing $pinned pinned packages and their dependencies with uv (about" \
        "${uv_times[0]} s from PyPI the first time, ${uv_times[1]} s from uv's cache) ..."
    if ! UV_PYTHON_DOWNLOADS=never "$venv/bin/uv" pip install --quiet "${compile[@]}" \
        --python "$venv/bin/python" -r "$req"; then
        say "uv could not install them (above): trying pip instead ..."
        installer=pip
    fi
fi
if [ "$installer" = pip ]; then
    say "Installing $pinned pinned packages and their dependencies with pip (about" \
        "${pip_times[0]} s from PyPI the first time, ${pip_times[1]} s from pip's cache) ..."
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip ||
        ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"; then
        reachable || no_network
        fail "pip could not install the packages of $req (above). Run this again to start" \
            ".venv afresh."
    fi
fi
rm -f "$unfinished"
touch "$stamp"
say "Done in $((SECONDS - started)) s."
