"""Unit tier: pure functions, rules, settings, docs and lint on hand-made values (docs/testing.md)."""
