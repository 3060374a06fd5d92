"""Altair chart builders: DataFrames in, charts out (no queries, no Streamlit)."""
