"""What a database file holds: the generated demo company or a company's own data.

The demo build (``python -m cslib demo`` and the app's first start) records
``dataset = 'demo'`` in the table ``import_meta(key, value)`` (the table
cslib.store.renewals also writes). An import builds a new file, so imported data never
carries the marker; ``score`` copies the file and keeps it. The app shows "Demo data"
on every page of a file with the marker.
"""

from __future__ import annotations

import duckdb

from cslib.store.meta import read_meta, write_meta

DATASET_KEY = "dataset"
DEMO = "demo"


def mark_demo(conn: duckdb.DuckDBPyConnection) -> None:
    """Record in ``import_meta`` that this file holds the generated demo company."""
    write_meta(conn, **{DATASET_KEY: DEMO})


def is_demo(conn) -> bool:
    """True when the file holds the generated demo company (see the module doc)."""
    return read_meta(conn, DATASET_KEY) == DEMO
