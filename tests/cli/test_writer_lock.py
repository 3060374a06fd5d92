"""Writers take turns (cslib.store.db.writer_lock): nothing a writer did is lost, a writer that
cannot get its turn says so in one line, and killed writers' temp files are cleaned up."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cslib.store import db
from cslib.errors import UserError
from tests_support.book import build_tiny_book

ROOT = Path(__file__).resolve().parents[2]
IMPORT_OK = ROOT / "tests" / "fixtures" / "import_ok"


def _cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "cslib", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _accounts(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("select account_id from raw_accounts").fetchall()}
    finally:
        con.close()


def test_score_started_during_an_import_keeps_the_imported_data(tmp_path):
    """The race of issue 14: `score` copies the database and renames its result over it.
    Started while `import` ran, it renamed a re-scored OLD book over the freshly imported
    one. Reproduced deterministically: the test plays the import (holds the lock, lands the
    imported file with os.replace as replace_atomically does); `score` must wait and then
    re-score the imported book."""
    from cslib.store.importer import import_dir

    target = tmp_path / "book.duckdb"
    build_tiny_book(target)
    staged = tmp_path / "staged" / "imported.duckdb"
    import_dir(IMPORT_OK, staged)
    imported = _accounts(staged)
    assert imported and imported != _accounts(target)

    with db.writer_lock(target):
        score = _cli("score", "--db", str(target))
        # the first thing `score` says is that it waits (however long a loaded machine takes
        # to start it); only then does the import land
        first = score.stderr.readline()
        assert "waiting for another writer" in first, first + score.communicate()[1]
        assert score.poll() is None  # waiting, not writing
        os.replace(staged, target)  # the import lands
    out, err = score.communicate(timeout=120)
    assert score.returncode == 0, err
    assert _accounts(target) == imported


def test_import_and_score_run_together_and_the_import_survives(tmp_path):
    """Both started at once, in either order of arrival: the end state holds the imported
    accounts, and both commands succeed."""
    target = tmp_path / "book.duckdb"
    build_tiny_book(target)
    imp = _cli("import", str(IMPORT_OK), "--db", str(target))
    score = _cli("score", "--db", str(target))
    for proc in (imp, score):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    imported = {line.split(",")[0] for line in
                (IMPORT_OK / "accounts.csv").read_text(encoding="utf-8").splitlines()[1:]}
    assert _accounts(target) == imported


def test_a_writer_that_cannot_get_its_turn_gives_up_in_one_line(tmp_path):
    target = tmp_path / "book.duckdb"
    build_tiny_book(target)
    before = target.read_bytes()
    with db.writer_lock(target):
        proc = _cli("score", "--db", str(target), env_extra={"HEALTHGRID_WRITE_WAIT": "0.5"})
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "another writer (process" in lines[0] and "is updating this database" in lines[0]
    assert "Traceback" not in err
    assert target.read_bytes() == before


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    target = tmp_path / "book.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from cslib.store import db\n"
         "with db.writer_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(600)",
         str(target)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(UserError, match="another writer"):
        with db.writer_lock(target, wait_seconds=0.3):
            pass
    holder.kill()
    holder.wait()
    with db.writer_lock(target, wait_seconds=5):
        pass


def test_a_writer_removes_temp_files_left_by_killed_writers(tmp_path):
    target = tmp_path / "book.duckdb"
    build_tiny_book(target)
    stale = [tmp_path / ".book.duckdb.tmp-999999", tmp_path / ".book.duckdb.tmp-999999.wal",
             tmp_path / ".book.duckdb.tmp-1"]
    for path in stale:
        path.write_bytes(b"x" * 1024)
    other_db = tmp_path / ".other.duckdb.tmp-999999"
    other_db.write_bytes(b"x")
    with db.replace_atomically(target, copy_existing=True):
        pass
    assert not any(p.exists() for p in stale)
    assert other_db.exists()  # another database's temp file is not ours to delete
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".book")) == [".book.duckdb.lock"]


def test_a_killed_writer_leaves_the_old_file_and_its_temp_is_cleaned_next_time(tmp_path):
    target = tmp_path / "book.duckdb"
    build_tiny_book(target)
    before = target.read_bytes()
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from cslib.store import db\n"
         "with db.replace_atomically(sys.argv[1], copy_existing=True) as conn:\n"
         " conn.execute('create table filler as select range as x from range(100000)')\n"
         " print('writing', flush=True); time.sleep(600)",
         str(target)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert writer.stdout.readline().strip() == "writing"
    leftovers = [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert leftovers
    writer.kill()
    writer.wait()
    assert target.read_bytes() == before
    assert all(p.exists() for p in leftovers)  # a killed writer cannot clean up after itself
    proc = _cli("score", "--db", str(target))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert not any(".tmp-" in p.name for p in tmp_path.iterdir())


def test_a_bad_wait_setting_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHGRID_WRITE_WAIT", "soon")
    with pytest.raises(UserError, match="HEALTHGRID_WRITE_WAIT"):
        with db.writer_lock(tmp_path / "x.duckdb"):
            pass
