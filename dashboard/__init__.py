"""Streamlit-side helpers for the dashboard: filters kept in the URL, cached
metric access, download buttons and empty-state messages.

Only this package and the pages import streamlit; ``analytics`` never does.
Its pure helpers (``exporting``, ``privacy``, ``labels``) import no streamlit.
"""
