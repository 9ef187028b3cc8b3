#!/bin/sh
# Rebuild static/plotly-dashboard.min.js: plotly.js with the trace types the dashboard
# draws (scatter, bar, sankey), as an ES module. Run from anywhere; needs node and npm
# (Debian's `nodejs`, `npm`). The versions are pinned in package.json and package-lock.json;
# plotly.js must be the version the Python plotly package writes figures for
# (plotly.offline.get_plotlyjs_version(); tests/unit/test_plot_bundle.py checks it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
npm ci --no-audit --no-fund --ignore-scripts
version=$(node -p "require('plotly.js/package.json').version")
# The same esbuild settings as plotly.js's own build (its esbuild-config.js), as a module;
# the only stylesheet imported (maplibre's, for map traces) is not needed.
npx esbuild entry.js --bundle --minify --format=esm --target=es2016 \
  --define:global=window --define:define.amd=false --loader:.css=empty \
  --banner:js="/*! plotly.js v$version (traces: scatter, bar, sankey) | Copyright 2012-2026, Plotly, Inc. | MIT license | built by tools/plotly_bundle/build.sh */" \
  --log-level=warning --outfile="$here/../../static/plotly-dashboard.min.js"
