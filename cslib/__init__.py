"""cslib: Healthgrid's customer-success domain library (never imports streamlit)."""

__version__ = "0.1.0"
