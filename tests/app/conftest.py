"""Fixtures for the AppTest suite: databases built once per session, an app runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests_support.book import build_tiny_book
from tests_support.apptest_mode import keep_navigation_mode

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 30


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    build_tiny_book(path)
    return path


def new_app() -> AppTest:
    """A fresh AppTest of app.py (a new browser session)."""
    return AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT)


@pytest.fixture
def app_on(monkeypatch):
    """app_on(db_path, **query_params) -> an AppTest reading ``db_path``, not yet run."""

    def make(db_path: Path, **query_params: str) -> AppTest:
        monkeypatch.setenv("HEALTHGRID_DB", str(db_path))
        monkeypatch.delenv("HEALTHGRID_INCLUDE_NON_TARGET", raising=False)
        at = new_app()
        for key, value in query_params.items():
            at.query_params[key] = value
        return at

    return make


@pytest.fixture(autouse=True)
def _navigation_mode_sticks():
    """Every AppTest run behaves like a running server (see tests_support.apptest_mode)."""
    undo = keep_navigation_mode()
    yield
    undo()
