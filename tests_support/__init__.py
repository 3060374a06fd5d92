"""Shared test data builders (importable from tests: pytest runs with pythonpath = .)."""
