"""AppTest tier: the pages run headless by streamlit.testing, no browser."""
