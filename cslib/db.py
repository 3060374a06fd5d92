"""One way into the database.

* ``query(conn, sql, params)`` returns a DataFrame; values are always bound.
* ``sql_file(name)`` reads a model from ``cslib/sql``.
* ``replace_atomically(path)`` is how every writer (import, demo, score) produces a new
  database: build a fresh file beside the old one, CHECKPOINT, then ``os.replace``.
  A running app holds read-only connections to the old inode and reopens when the
  file version (``file_version``) changes. DuckDB allows one writer or many readers
  per file, never both, so nothing ever writes in place under a live app.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from .settings import SQL_DIR


def connect(path: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only)


def query(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] | dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run ``sql`` with bound ``params`` on a fresh cursor; return a DataFrame."""
    cur = conn.cursor()
    try:
        return cur.execute(sql, params).df() if params else cur.execute(sql).df()
    finally:
        cur.close()


def execute(conn: duckdb.DuckDBPyConnection, sql: str, params=None) -> None:
    conn.execute(sql, params) if params else conn.execute(sql)



def sql_file(name: str) -> str:
    """Text of ``cslib/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def file_version(path: str | os.PathLike) -> tuple[str, int, int] | None:
    """(path, inode, mtime_ns) of the database file, or None if it does not exist.

    Used as the app's cache key so a replaced file is noticed and reopened.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(Path(path).resolve()), st.st_ino, st.st_mtime_ns)


def _tmp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def replace_atomically(
    target: str | os.PathLike, copy_existing: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable connection to a new database; on success it replaces ``target``.

    With ``copy_existing`` the new file starts as a copy of ``target`` (used by re-scoring).

    On any exception the new file is deleted and ``target`` is left byte-for-byte as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(target)
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    if copy_existing:
        shutil.copyfile(target, tmp)
    conn = duckdb.connect(str(tmp))
    try:
        yield conn
        conn.execute("checkpoint")
        conn.close()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(Exception):
            conn.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
