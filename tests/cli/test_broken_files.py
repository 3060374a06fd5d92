"""A broken or wrong database file is one line and exit status 2, never a traceback, and
DuckDB never tries to fetch an extension for it (issue 14)."""

import os
import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests_support.book import build_tiny_book
from tests_support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
IMPORT_OK = ROOT / "tests" / "fixtures" / "import_ok"


def _run(*args):
    """The CLI in this process (tests_support.cli: same status, stdout and stderr)."""
    return run_cli(*args)


def _one_line(proc) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    build_tiny_book(path)
    return path


def _sqlite(path):
    con = sqlite3.connect(path)
    con.execute("create table accounts (id text)")
    con.commit()
    con.close()


def _foreign(path):
    con = duckdb.connect(str(path))
    con.execute("create table orders (id integer)")
    con.close()


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda p: p.write_bytes(b""), "is an empty file, not a Healthgrid database"),
        (lambda p: p.write_text("account_id,name\na1,Acme\n"), "is not a DuckDB database file"),
        (_sqlite, "is a SQLite file, not a Healthgrid (DuckDB) database"),
        (_foreign, "a DuckDB file, but not a Healthgrid database (no raw_accounts table)"),
        (lambda p: p.mkdir(), "is a folder, not a database file"),
    ],
    ids=["zero-byte", "csv", "sqlite", "foreign-duckdb", "folder"],
)
@pytest.mark.parametrize("command", ["report", "score"])
def test_a_wrong_file_at_the_database_path_is_named_as_such(tmp_path, make, expected, command):
    path = tmp_path / "db.duckdb"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    args = ("report", "kpis", "--db", str(path)) if command == "report" else ("score", "--db", str(path))
    line = _one_line(_run(*args))
    assert line.startswith(f"error: {path}")
    assert expected in line
    assert "extension" not in line.lower() and "http" not in line  # nothing tried to download
    if before is not None:
        assert path.read_bytes() == before


def test_a_truncated_database_is_one_line(tmp_path, tiny):
    path = tmp_path / "cut.duckdb"
    path.write_bytes(tiny.read_bytes()[: 64 * 1024])
    line = _one_line(_run("report", "kpis", "--db", str(path)))
    assert "cannot open the database: damaged or truncated file?" in line


def test_a_database_built_by_an_older_version_says_to_rescore(tmp_path, tiny):
    path = tmp_path / "old.duckdb"
    path.write_bytes(tiny.read_bytes())
    con = duckdb.connect(str(path))
    con.execute("drop view health_indicator_weekly")
    con.close()
    line = _one_line(_run("report", "kpis", "--db", str(path)))
    assert "built by an older version of Healthgrid (missing health_indicator_weekly)" in line
    proc = _run("score", "--db", str(path))  # ... and the advice works
    assert proc.returncode == 0, proc.stderr
    assert _run("report", "kpis", "--db", str(path)).returncode == 0


def test_a_database_with_the_indicator_rows_stored_as_a_table_rescores(tmp_path, tiny):
    """Files built before health_indicator_weekly became a view hold it as a table: a re-score
    replaces the table with the view, and the rows read the same."""
    path = tmp_path / "old_table.duckdb"
    path.write_bytes(tiny.read_bytes())
    con = duckdb.connect(str(path))
    before = con.execute("select * from health_indicator_weekly order by all").fetchall()
    con.execute("create table hiw_rows as select * from health_indicator_weekly")
    con.execute("drop view health_indicator_weekly")
    con.execute("alter table hiw_rows rename to health_indicator_weekly")
    con.close()
    proc = _run("score", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(path), read_only=True)
    try:
        kind = con.execute("select table_type from information_schema.tables "
                           "where table_name = 'health_indicator_weekly'").fetchone()[0]
        assert kind == "VIEW"
        assert con.execute("select * from health_indicator_weekly order by all").fetchall() == before
    finally:
        con.close()


@pytest.mark.parametrize(
    "where,expected",
    [
        ("folder", "is a folder, not a database file; give a file path such as"),
        ("under-a-file", "cannot create the database: a part of its folder path is a file"),
        ("read-only", "cannot write in the folder /sys (Permission denied)"),
    ],
)
def test_a_database_path_that_cannot_be_written_is_one_line(tmp_path, where, expected):
    if where == "folder":
        target = tmp_path / "dir.duckdb"
        target.mkdir()
    elif where == "under-a-file":
        (tmp_path / "plain.txt").write_text("x")
        target = tmp_path / "plain.txt" / "db.duckdb"
    else:
        target = Path("/sys/healthgrid-test.duckdb")  # read-only even for root
        if os.access("/sys", os.W_OK) and os.geteuid() != 0:
            pytest.skip("/sys is writable here")
    line = _one_line(_run("import", str(IMPORT_OK), "--db", str(target)))
    assert expected in line


def test_an_unreadable_import_folder_is_one_line(tmp_path):
    line = _one_line(_run("import", str(tmp_path / "missing"), "--db", str(tmp_path / "x.duckdb")))
    assert "folder not found" in line
