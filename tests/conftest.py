"""Fixtures shared by every test tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests_support.book import build_small_demo


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory) -> Path:
    """A small demo database (150 accounts x 15 months), built once per test session."""
    path = tmp_path_factory.mktemp("small_demo") / "demo.duckdb"
    build_small_demo(path)
    return path
