// The trace types the dashboard draws (scatter is in plotly's core): ui/plot.py TRACES.
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/sankey')]);

module.exports = Plotly;
