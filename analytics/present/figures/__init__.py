"""Plotly figure builders: data frames in, figures out. No streamlit here."""
