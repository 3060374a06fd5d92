"""Derived renewals with terms read from subscription periods (issue 12: "term length from
the mapping, or from period ends"; cslib.store.renewals.record_period_terms,
cslib/sql/import/import_derive_renewals.sql) on a hand-computed book.

The mapping sets no ``[renewals] term_months``; the export was taken at the end of June
2026 (``through``), so the data's last month D is 2026-06. A period's term is start to
end_date in days / (365.25 / 12), rounded to whole months; each revenue run takes the term
of the period that starts it; an open-ended period gives 12 months.

===  ==============================================  ====  ==========================================
id   periods (monthly_amount)                         term  derived renewals
===  ==============================================  ====  ==========================================
A    2024-01-01 .. 2026-01-01 at 1,000 (731 days)      24    2026-01-01 12,000 churned (revenue stops
                                                             after 2025-12); nothing at month 12
B    2024-03-15 .. 2025-03-14 at 500 (364 days), then  12    2025-03-01 6,000 -> 6,600 renewed;
     2025-03-15 open at 550                                  2026-03-01 6,600 -> 6,600 renewed;
                                                             2027-03-01 6,600 pending
C    2025-01-10 open at 200                            12    2026-01-01 2,400 -> 2,400 renewed;
                                                             2027-01-01 2,400 pending
E    2025-07-01 .. 2026-01-01 at 300 (184 days), then   6    2026-01-01 3,600 -> 3,600 renewed;
     2026-01-01 .. 2026-07-01 at 300                         2026-07-01 3,600 pending (after D)
F    2024-01-01 .. 2024-04-01 at 100 (91 days)          3    2024-04-01 1,200 churned
===  ==============================================  ====  ==========================================
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from cslib.store import renewals
from cslib.store.importer import check_dir, import_dir

D = dt.date
PERIODS = """customer_id,product,start_date,end_date,monthly_amount
A,core,2024-01-01,2026-01-01,1000
B,core,2024-03-15,2025-03-14,500
B,core,2025-03-15,,550
C,core,2025-01-10,,200
E,core,2025-07-01,2026-01-01,300
E,core,2026-01-01,2026-07-01,300
F,core,2024-01-01,2024-04-01,100
"""
MAPPING = '[subscriptions]\nthrough = "2026-06"\n'
EXPECTED = [  # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("A", D(2026, 1, 1), 12_000.0, None, None, "churned"),
    ("B", D(2025, 3, 1), 6_000.0, D(2025, 3, 1), 6_600.0, "renewed"),
    ("B", D(2026, 3, 1), 6_600.0, D(2026, 3, 1), 6_600.0, "renewed"),
    ("B", D(2027, 3, 1), 6_600.0, None, None, "pending"),
    ("C", D(2026, 1, 1), 2_400.0, D(2026, 1, 1), 2_400.0, "renewed"),
    ("C", D(2027, 1, 1), 2_400.0, None, None, "pending"),
    ("E", D(2026, 1, 1), 3_600.0, D(2026, 1, 1), 3_600.0, "renewed"),
    ("E", D(2026, 7, 1), 3_600.0, None, None, "pending"),
    ("F", D(2024, 4, 1), 1_200.0, None, None, "churned"),
]


def _book(tmp_path: Path, mapping: str = MAPPING) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "subscription_periods.csv").write_text(PERIODS)
    (tmp_path / "mapping.toml").write_text(mapping)
    return src, tmp_path / "mapping.toml"


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("period_terms")
    src, mapping = _book(root)
    db = root / "hg.duckdb"
    summary = import_dir(src, db, mapping=mapping, build=False)
    return summary, db


def test_each_run_takes_the_term_of_the_period_that_starts_it(imported):
    _, db = imported
    assert _rows(db, "select * from raw_renewals order by account_id, due_on") == EXPECTED


def test_a_24_month_contract_is_due_at_its_end_not_at_month_12(imported):
    _, db = imported
    assert _rows(db, "select due_on, outcome from raw_renewals where account_id = 'A'") == [
        (D(2026, 1, 1), "churned")]


def test_the_import_says_the_terms_come_from_the_periods(imported):
    summary, db = imported
    line = next(w for w in summary.warnings if w.startswith("no renewals.csv"))
    assert line == (
        "no renewals.csv: derived 9 renewals from revenue (terms from the subscription periods: each run "
        "of revenue months takes the length of the period that starts it, start to end date in whole "
        "months (12 when open-ended))")
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_source(conn) == "derived"
        assert renewals.renewals_term_months(conn) is None
        assert renewals.renewals_terms_from_periods(conn)
        assert renewals.renewals_source_text(conn).startswith(
            "Renewals are derived from revenue (terms from the subscription periods:")
        # the temp table of period terms does not outlive the import
        assert conn.execute("select count(*) from duckdb_tables() where table_name like '_import%'"
                            ).fetchone()[0] == 0


def test_check_derives_the_same_renewals(tmp_path):
    src, mapping = _book(tmp_path)
    report = check_dir(src, mapping)
    assert any(w.startswith("no renewals.csv: derived 9 renewals from revenue (terms from the subscription periods")
               for w in report.warnings)


def test_the_mappings_term_months_wins_over_period_ends(tmp_path):
    src, mapping = _book(tmp_path, MAPPING + "\n[renewals]\nterm_months = 12\n")
    db = tmp_path / "hg.duckdb"
    summary = import_dir(src, db, mapping=mapping, build=False)
    # A on 12-month terms: renewed at month 12, churned at month 24
    assert _rows(db, "select due_on, outcome from raw_renewals where account_id = 'A' order by due_on") == [
        (D(2025, 1, 1), "renewed"), (D(2026, 1, 1), "churned")]
    # F: three months of revenue, then nothing: stopped mid-term, no renewal
    assert _rows(db, "select count(*) from raw_renewals where account_id = 'F'") == [(0,)]
    assert any("12-month terms from each account's first revenue month" in w for w in summary.warnings)
    assert _rows(db, "select key, value from import_meta order by key") == [
        ("renewals_source", "derived"), ("renewals_term_months", "12")]


def test_only_open_ended_periods_keep_12_month_terms(tmp_path):
    src, mapping = _book(tmp_path)
    (src / "subscription_periods.csv").write_text(
        "customer_id,product,start_date,end_date,monthly_amount\nC,core,2025-01-10,,200\n")
    db = tmp_path / "hg.duckdb"
    summary = import_dir(src, db, mapping=mapping, build=False)
    assert _rows(db, "select due_on, outcome from raw_renewals order by due_on") == [
        (D(2026, 1, 1), "renewed"), (D(2027, 1, 1), "pending")]
    assert any("(12-month terms from each account's first revenue month)" in w for w in summary.warnings)
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_term_months(conn) == 12
        assert not renewals.renewals_terms_from_periods(conn)
