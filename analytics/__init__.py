"""Outcome analytics for iliofemoral venous stenting: pure Python, no streamlit."""
