"""CLI tier: python -m cslib as a user runs it: exit status, one-line errors, writers taking turns."""
