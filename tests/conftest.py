"""Fixtures shared by every test tier, and how the tiers share out over xdist workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests_support.book import build_small_demo


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    """Give each test an ``xdist_group`` (``--dist loadgroup`` in pytest.ini): every test
    file is its own group, so a module fixture (a book, an app run) is built on one worker
    only. The browser tier's files spread over the workers too, each worker starting its own
    Streamlit server and Chromium once: on one worker the browser tier alone outlasted every
    other tier together. Without xdist (``-n 0`` or ``-p no:xdist``) the marks do nothing."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(str(item.path)))


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory) -> Path:
    """A small demo database (150 accounts x 15 months), built once per test session."""
    path = tmp_path_factory.mktemp("small_demo") / "demo.duckdb"
    build_small_demo(path)
    return path
