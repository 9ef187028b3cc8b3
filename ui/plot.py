"""Charts drawn by plotly.js with the dashboard's own trace types only.

``st.plotly_chart`` loads Streamlit's plotly chunk, the whole of plotly.js (4.7 MB),
which the browser evaluated for 0.3-0.9 s before the first chart of a fresh tab could
draw. This component loads ``static/plotly-dashboard.min.js`` instead (1.3 MB: the
scatter, bar and Sankey traces; ``tools/plotly_bundle/build.sh`` builds it from the pinned
plotly.js that the Python package writes figures for), once per page, as an ES module
served by Streamlit's static file serving (``.streamlit/config.toml``). The component is
drawn in the page, not in a frame, so the charts share that one module and plotly's
stylesheet, and a page's CSS reaches them (``.dashboard-chart``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from ui.access import session_allowed

TRACES = frozenset({"scatter", "bar", "sankey"})  # those of tools/plotly_bundle/entry.js
BUNDLE = Path(__file__).resolve().parents[1] / "static" / "plotly-dashboard.min.js"
CHART_CLASS = "dashboard-chart"
COMPONENT = "dashboard_chart"
UNLOADED = "This chart could not be drawn: its plotting code did not load. Reload the page."
NO_CAMERA = {"modeBarButtonsToRemove": ["toImage"]}  # plotly's "Download plot as a png"

# One module for the page, imported by the first chart; each chart keeps its element and
# is redrawn in place (Plotly.react) when a run sends it new data; a change in the width
# of its column (the sidebar folded, the window resized) redraws it to the new width at
# the next frame (Plotly.Plots.resize would wait 100 ms first).
# Until the module has loaded, the chart's element holds the figure's height, so the page
# does not jump when it draws.
JS = """
let plotly = null;
const observers = new WeakMap();

function load() {
  plotly ??= import(new URL("app/static/plotly-dashboard.min.js", document.baseURI).href)
    .then(module => module.default);
  return plotly;
}

function followWidth(Plotly, chart) {
  let width = chart.clientWidth;
  let frame = null;
  const observer = new ResizeObserver(() => {
    if (chart.clientWidth === width || frame !== null) return;
    frame = requestAnimationFrame(() => {
      frame = null;
      width = chart.clientWidth;
      Plotly.relayout(chart, { autosize: true });
    });
  });
  observer.observe(chart);
  observers.set(chart, observer);
}

export default function ({ parentElement, data }) {
  let chart = parentElement.querySelector(":scope > .CHART_CLASS");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "CHART_CLASS";
    parentElement.appendChild(chart);
  }
  const figure = JSON.parse(data.figure);
  chart.style.minHeight = figure.layout.height ? `${figure.layout.height}px` : "";
  load().then(Plotly => {
    Plotly.react(chart, figure.data, figure.layout, data.config);
    if (!observers.has(chart)) followWidth(Plotly, chart);
  }, () => { chart.textContent = UNLOADED; });
  return () => {
    observers.get(chart)?.disconnect();
    observers.delete(chart);
  };
}
""".replace("CHART_CLASS", CHART_CLASS).replace("UNLOADED", json.dumps(UNLOADED))

_mount = st.components.v2.component(COMPONENT, js=JS, isolate_styles=False)


def plotly_chart(fig: go.Figure, key: str, config: dict[str, Any]) -> None:
    """Draw ``fig`` in the current container, its element keyed ``key`` (a stable key:
    a rerun redraws the same chart in place rather than building a new one). Without the
    camera button for a role that may not export in the browser (analytics.access)."""
    kinds = {trace.type for trace in fig.data} - TRACES
    if kinds:
        raise ValueError(f"trace types not in the dashboard's plotly bundle: {sorted(kinds)}")
    if not session_allowed().browser_exports:
        config = {**config, **NO_CAMERA}
    _mount(data={"figure": pio.to_json(fig, validate=False), "config": config}, key=key)
