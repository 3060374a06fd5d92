"""Domain queries, one module per page or report: filters in, DataFrames out (no Streamlit)."""
