"""App-side helpers for the Streamlit pages (the only place besides pages/ that imports streamlit)."""
