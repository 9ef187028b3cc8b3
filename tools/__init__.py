"""Development tools: benchmarks that print figures; never imported by the app."""
