"""The importer's fast path (cslib.store.reading._stage_direct): a single clean file is checked
in one scan and inserted straight into its raw table. It must store exactly what the
usual staged path stores (same rows, same order, same types), and a file with a problem
must still be reported line by line (the fast path then writes nothing and steps aside)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from cslib.store import contract, reading
from cslib.store.importer import check_dir, import_dir

REPO = Path(__file__).resolve().parents[2]
IMPORT_OK = REPO / "tests" / "fixtures" / "import_ok"
METRICS = """account_id,date,metric,value
A-1,2024-01-02,login,1
A-1,2024-01-02 09:15:00,login,2
A-2,2024-01-03T10:00:00Z,seats, 12
A-1,2024-01-09,report_exported,0.5
A-2,2024-01-10,login,3
"""


def _tables(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t.name: conn.execute(f"select * from raw_{t.name} order by rowid").fetchall()
                for t in contract.TABLES}


def _folder(root: Path) -> Path:
    src = root / "src"
    shutil.copytree(IMPORT_OK, src)
    (src / "usage_metrics.csv").write_text(METRICS)
    return src


def test_the_fast_path_stores_what_the_staged_path_stores(tmp_path, monkeypatch):
    src = _folder(tmp_path)
    fast = tmp_path / "fast.duckdb"
    direct, original = [], reading._stage_direct

    def spy(conn, table, *args):
        n = original(conn, table, *args)
        direct.append((table.name, n))
        return n

    monkeypatch.setattr(reading, "_stage_direct", spy)
    import_dir(src, fast, build=False)
    assert ("usage_metrics", 5) in direct and ("usage_weekly", 9) in direct  # the fast path was taken
    monkeypatch.undo()
    # a mapping whose drop rule matches nothing sends every file through the staged path
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("".join(
        f'[tables.{t}]\ndrop = [{{ column = "account_id", equals = "no-such-account" }}]\n'
        for t in ("revenue_monthly", "usage_weekly", "module_usage_weekly", "usage_metrics", "renewals",
                  "csm_logs", "events")))
    staged = tmp_path / "staged.duckdb"
    import_dir(src, staged, build=False, mapping=mapping)
    got, want = _tables(fast), _tables(staged)
    assert got == want
    assert got["usage_metrics"][2] == ("A-2", got["usage_metrics"][2][1], "seats", 12.0)  # trimmed, typed
    assert [r[1].isoformat() for r in got["usage_metrics"]] == [
        "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-09", "2024-01-10"]


def test_a_bad_cell_is_still_listed_and_nothing_is_left_half_loaded(tmp_path):
    src = _folder(tmp_path)
    (src / "usage_metrics.csv").write_text(METRICS + "A-1,2024-01-11,login,-4\nA-9,2024-01-11,login,x\n")
    lines = check_dir(src).problems.lines()
    assert lines == [
        "usage_metrics.csv, line 7, column value: expected a value >= 0, got '-4'",
        "usage_metrics.csv, line 8, column value: expected a number, got 'x'",
        "usage_metrics.csv, line 8, column account_id: unknown account 'A-9' (not in accounts.csv)",
    ]
