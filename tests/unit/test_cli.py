"""The command line: one-line errors with exit status 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "cslib", *args], cwd=ROOT, capture_output=True, text=True, env=env
    )


def test_report_on_missing_database_is_one_line(tmp_path):
    missing = tmp_path / "nope.duckdb"
    proc = _run("report", "kpis", "--db", str(missing))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {missing}: database not found (run 'python -m cslib demo' first)"
    assert "Traceback" not in proc.stderr


def test_score_on_missing_database_is_one_line(tmp_path):
    proc = _run("score", "--db", str(tmp_path / "nope.duckdb"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("error: ")


def test_bad_scorecard_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = not toml [", encoding="utf-8")
    db = tmp_path / "x.duckdb"
    import duckdb

    duckdb.connect(str(db)).close()
    before = db.read_bytes()
    proc = _run("score", "--db", str(db), "--scorecard", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and str(bad) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == before
