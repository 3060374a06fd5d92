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


class ReadOnlyDatabase:
    """One version of the database file, opened read-only in a DuckDB instance of its own.

    ``duckdb.connect(path)`` reuses an instance already open on the same path in this
    process, so after an atomic replace it would keep showing the old file. Attaching
    the file to a fresh in-memory instance always opens the file that is there now.
    ``cursor()`` gives each caller (thread) its own connection, as DuckDB requires.
    """

    _ALIAS = "healthgrid"

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self._instance = duckdb.connect(":memory:")
        self._instance.execute(f"attach ? as {self._ALIAS} (read_only)", [self.path])

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self._instance.cursor()
        cur.execute(f"use {self._ALIAS}")
        return cur

    def execute(self, sql: str, params=None) -> duckdb.DuckDBPyConnection:
        """Run on a new cursor and return it (for ``.fetchall()`` / ``.df()``)."""
        cur = self.cursor()
        return cur.execute(sql, params) if params is not None else cur.execute(sql)

    def close(self) -> None:
        self._instance.close()


def connect(path: str | os.PathLike, read_only: bool = True):
    """A read-only ``ReadOnlyDatabase`` (default) or a writable DuckDB connection."""
    if read_only:
        if not Path(path).exists():
            raise FileNotFoundError(path)
        return ReadOnlyDatabase(path)
    return duckdb.connect(str(path))


def query(
    conn,
    sql: str,
    params: Sequence[Any] | dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run ``sql`` with bound ``params`` on a fresh cursor; return a DataFrame.

    ``conn`` is a ``ReadOnlyDatabase`` or a DuckDB connection.
    """
    cur = conn.cursor()
    try:
        return cur.execute(sql, params).df() if params else cur.execute(sql).df()
    finally:
        cur.close()


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
