"""The dashboard's plotly bundle (ui/plot.py): the plotly.js the Python package writes
figures for, with the trace types the charts use, served from the app's static folder."""

from __future__ import annotations

import re
import tomllib

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs_version

from analytics.cohort.db import ROOT
from ui.plot import BUNDLE, JS, TRACES, plotly_chart

ENTRY = ROOT / "tools" / "plotly_bundle" / "entry.js"


def test_the_bundle_is_the_plotly_js_the_python_package_writes_figures_for():
    banner = BUNDLE.read_text(encoding="utf-8").splitlines()[0]
    assert f"plotly.js v{get_plotlyjs_version()} " in banner


def test_the_bundle_registers_exactly_the_trace_types_the_charts_may_use():
    registered = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", ENTRY.read_text()))
    assert registered - {"core"} | {"scatter"} == TRACES  # scatter is in plotly's core
    assert (
        f"traces: {', '.join(sorted(TRACES, key=['scatter', 'bar', 'sankey'].index))}"
        in (BUNDLE.read_text(encoding="utf-8").splitlines()[0])
    )


def test_a_trace_type_outside_the_bundle_is_refused_before_it_reaches_a_browser():
    with pytest.raises(ValueError, match="pie"):
        plotly_chart(go.Figure(go.Pie(values=[1, 2])), key="chart-pie", config={})


def test_the_bundle_is_served_where_the_component_loads_it():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableStaticServing"] is True
    assert BUNDLE.parent == ROOT / "static"
    assert f'"app/static/{BUNDLE.name}"' in JS
    assert sorted(p.name for p in BUNDLE.parent.iterdir()) == [BUNDLE.name]  # nothing else served
