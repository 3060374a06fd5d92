"""Facts about a database file, recorded by the build that made it, in one small table
``import_meta(key, value)``: where the renewals came from (cslib.store.renewals), whether the
file is the generated demo (cslib.store.dataset), the month the app opens on (cslib.months).
A database built before a key existed simply lacks it."""

from __future__ import annotations

import duckdb

from cslib.store.db import query

META_TABLE = "import_meta"


def write_meta(conn: duckdb.DuckDBPyConnection, **values: str | None) -> None:
    """Set each key to its value (text); a value of None removes the key."""
    conn.execute(f"create table if not exists {META_TABLE} (key varchar primary key, value varchar)")
    conn.execute(f"delete from {META_TABLE} where list_contains(?, key)", [list(values)])
    for key, value in values.items():
        if value is not None:
            conn.execute(f"insert into {META_TABLE} values (?, ?)", [key, str(value)])


def read_meta(conn, key: str) -> str | None:
    """The value of ``key``, or None when it (or the whole table) is absent."""
    try:
        rows = query(conn, f"select value from {META_TABLE} where key = ?", [key])
    except duckdb.CatalogException:
        return None
    return None if rows.empty else str(rows["value"].iloc[0])
