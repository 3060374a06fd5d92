"""One way into the database.

* ``query(conn, sql, params)`` returns a DataFrame; values are always bound.
* ``sql_file(name)`` reads a SQL file from ``cslib/sql`` (any of its folders) by name.
* ``replace_atomically(path)`` is how every writer (import, demo, score) produces a new
  database: build a fresh file beside the old one, CHECKPOINT, then ``os.replace``.
  A running app holds read-only connections to the old inode and reopens when the
  file version (``file_version``) changes. DuckDB allows one writer or many readers
  per file, never both, so nothing ever writes in place under a live app.
* ``writer_lock(path)`` makes writers take turns: every ``replace_atomically`` holds an
  exclusive lock on ``.<name>.lock`` beside the database for its whole run, so a
  ``score`` started during an ``import`` waits for it (and then re-scores the imported
  data) instead of renaming its copy of the old file over the new one. While holding the
  lock, a writer removes the temp files that killed writers left behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cslib import settings
from cslib.errors import UserError
from cslib.settings import SQL_DIR


#: DuckDB never installs or loads an extension for us: a file that needs one (a SQLite file
#: at the database path, say) is an error, never a download from outside the machine.
NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
#: Bytes 8-11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


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
        self._instance = duckdb.connect(":memory:", config=NO_EXTENSIONS)
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
    return duckdb.connect(str(path), config=NO_EXTENSIONS)


def file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be a database file, in words (None when it looks like DuckDB):
    missing, a folder, empty, unreadable, or another kind of file (SQLite, CSV, ...)."""
    path = Path(path)
    if not path.exists():
        return "database not found"
    if path.is_dir():
        return "is a folder, not a database file"
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as err:
        return f"cannot read the database file ({err.strerror})"
    if not head:
        return "is an empty file, not a Healthgrid database"
    if head.startswith(b"SQLite format 3"):
        return "is a SQLite file, not a Healthgrid (DuckDB) database"
    if head[8:12] != _DUCKDB_MAGIC:
        return "is not a DuckDB database file"
    return None


def open_checked(path: str | os.PathLike, need_models: bool = True) -> ReadOnlyDatabase:
    """Open a Healthgrid database read-only, or raise one UserError that says what the file
    is and what to do: missing, a folder, empty, SQLite or another format, damaged or
    truncated, a DuckDB file that is not Healthgrid's, or (with ``need_models``) one built
    by an older version."""
    problem = file_problem(path)
    if problem == "database not found":
        raise UserError(f"{path}: database not found (build it with 'python -m cslib demo' or import your data)")
    if problem:
        raise UserError(f"{path}: {problem}")
    try:
        conn = ReadOnlyDatabase(path)
        tables = set(conn.execute("select table_name from duckdb_tables()").df()["table_name"])
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: cannot open the database: damaged or truncated file? ({first})") from None
    if "raw_accounts" not in tables:
        conn.close()
        raise UserError(
            f"{path}: a DuckDB file, but not a Healthgrid database (no raw_accounts table); "
            "point --db / HEALTHGRID_DB at a Healthgrid database, or import your data into a new file"
        )
    from cslib.store.pipeline import missing_models

    missing = missing_models(conn) if need_models else []
    if missing:
        conn.close()
        raise UserError(
            f"{path}: built by an older version of Healthgrid (missing {', '.join(missing)}); "
            f"rebuild its models with 'python -m cslib score --db {path}'"
        )
    return conn


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


@functools.cache
def _sql_paths() -> dict[str, Path]:
    """Every SQL file under ``cslib/sql`` by its name (names are unique across the folders)."""
    paths: dict[str, Path] = {}
    for path in sorted(SQL_DIR.rglob("*.sql")):
        if path.stem in paths:
            raise RuntimeError(f"two SQL files are named {path.stem}: {paths[path.stem]} and {path}")
        paths[path.stem] = path
    return paths


def sql_file(name: str) -> str:
    """Text of the SQL file ``<name>.sql``, wherever it sits under ``cslib/sql``.

    The folders say what a file is (``staging/`` cleans one raw table, ``marts/`` are the
    stored models, ``queries/<page>/`` a page's reads, ``import/`` and ``whatif/``); the
    name alone finds it, so callers do not depend on the layout.
    """
    return _sql_paths()[name].read_text(encoding="utf-8")


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


def _lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _write_wait_seconds() -> float:
    raw = settings.get("HEALTHGRID_WRITE_WAIT")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise UserError(f"HEALTHGRID_WRITE_WAIT: expected a number of seconds >= 0, got {raw!r}")
    return value


@contextlib.contextmanager
def writer_lock(target: str | os.PathLike, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of the database ``target`` (``.<name>.lock`` beside it).

    A second writer waits up to ``wait_seconds`` (default: setting HEALTHGRID_WRITE_WAIT),
    saying once on stderr that it waits, and then gives up with a one-line UserError; it
    never writes without the lock. The lock is an ``flock`` on an open file, so the kernel
    releases it when the holder exits, however it exits (a killed writer leaves no lock).
    """
    target = Path(target)
    wait = _write_wait_seconds() if wait_seconds is None else wait_seconds
    lock_path = _lock_path(target)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise UserError(f"{target}: cannot write in the folder {target.parent} ({err.strerror})") from None
    try:
        deadline = time.monotonic() + wait
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            holder = _lock_holder(fd)
            if time.monotonic() >= deadline:
                raise UserError(
                    f"{target}: another writer{holder} is updating this database; "
                    "try again when it has finished"
                )
            if not said:
                print(f"waiting for another writer{holder} to finish with {target} ...", file=sys.stderr)
                said = True
            time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _remove_stale_temp_files(target)
        yield
    finally:
        os.close(fd)  # releases the flock


def _lock_holder(fd: int) -> str:
    """' (process N)' from the lock file's content, or '' when unknown."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""


_TMP_NAME = re.compile(r"\.(?P<db>.+)\.tmp-(?P<pid>[0-9]+)(\.wal)?")


def _remove_stale_temp_files(target: Path) -> list[Path]:
    """Delete ``.<name>.tmp-PID[.wal]`` files of writers that are gone (caller holds the lock,
    so no other writer is running: every temp file but our own is a leftover)."""
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.fullmatch(entry.name)
        if m and m["db"] == target.name and int(m["pid"]) != os.getpid():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed


@contextlib.contextmanager
def replace_atomically(
    target: str | os.PathLike, copy_existing: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable connection to a new database; on success it replaces ``target``.

    With ``copy_existing`` the new file starts as a copy of ``target`` (used by re-scoring),
    taken after the writer lock is held, so it is never a copy of a file being replaced.

    On any exception the new file is deleted and ``target`` is left byte-for-byte as it was.
    """
    target = Path(target)
    if target.is_dir():
        raise UserError(f"{target}: is a folder, not a database file; give a file path such as "
                        f"{target / 'healthgrid.duckdb'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{target}: cannot create the database: a part of its folder path is a file") from None
    except OSError as err:
        raise UserError(f"{target}: cannot create the database folder ({err.strerror})") from None
    with writer_lock(target):
        tmp = _tmp_path(target)
        for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
            stale.unlink(missing_ok=True)
        if copy_existing:
            open_checked(target, need_models=False).close()  # a Healthgrid database, not missing/empty/foreign
            shutil.copyfile(target, tmp)
        try:
            conn = duckdb.connect(str(tmp), config=NO_EXTENSIONS)
        except duckdb.Error as err:
            tmp.unlink(missing_ok=True)
            raise UserError(f"{target}: cannot write the database here ({str(err).splitlines()[0][:160]})") from None
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
