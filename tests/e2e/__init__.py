"""Browser tier: a real Streamlit server driven by headless Chromium through Playwright."""
