"""What a database file holds: the generated demo company or a company's own data.

The demo build (``python -m cslib demo`` and the app's first start) records
``dataset = 'demo'`` in the table ``import_meta(key, value)`` (the table
cslib.renewals also writes). An import builds a new file, so imported data never
carries the marker; ``score`` copies the file and keeps it. The app shows "Demo data"
on every page of a file with the marker.
"""

from __future__ import annotations

import duckdb

from .renewals import META_TABLE

DATASET_KEY = "dataset"
DEMO = "demo"


def mark_demo(conn: duckdb.DuckDBPyConnection) -> None:
    """Record in ``import_meta`` that this file holds the generated demo company."""
    conn.execute(f"create table if not exists {META_TABLE} (key varchar primary key, value varchar)")
    conn.execute(f"delete from {META_TABLE} where key = ?", [DATASET_KEY])
    conn.execute(f"insert into {META_TABLE} values (?, ?)", [DATASET_KEY, DEMO])


def is_demo(conn: duckdb.DuckDBPyConnection) -> bool:
    """True when the file holds the generated demo company (see the module doc)."""
    try:
        row = conn.cursor().execute(
            f"select value from {META_TABLE} where key = ?", [DATASET_KEY]
        ).fetchone()
    except duckdb.CatalogException:  # a file built before import_meta existed
        return False
    return row is not None and row[0] == DEMO
