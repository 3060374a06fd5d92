"""Helpers shared by the AppTest suites (tests/app)."""

from __future__ import annotations


def assert_clean(at) -> None:
    """The run showed no exception and no error box (the values say what, when it did)."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
