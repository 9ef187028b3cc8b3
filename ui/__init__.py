"""Streamlit-only helpers shared by the pages; analytics/ stays free of streamlit."""
