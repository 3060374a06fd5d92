"""Deterministic generator of Healthgrid's demo company (see ``sample_data.generator``)."""
