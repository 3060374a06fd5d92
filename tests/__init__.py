"""The test suite: one package per tier (docs/testing.md); fixtures shared by all tiers in conftest.py."""
