"""Renewals derived from revenue (cslib.store.renewals, cslib/sql/import/import_derive_renewals.sql) on a
hand-computed book imported through cslib.store.importer.import_dir without a renewals.csv.

Data: 2024-01 .. 2026-06 (the last month D = 2026-06). MRR = every product's subscription +
usage MRR. Default terms: 12 months from the first month of each revenue run; a renewal is
due on the first day of the month after the term.

=====  ==================================  ==========================================================
id     revenue                              derived renewals (due_on, due_arr, renewed_arr, outcome)
=====  ==================================  ==========================================================
r1     2024-01..2026-06; MRR 1000 in 2024,  2025-01-01 12,000 -> 13,200 renewed;
       1100 in 2025, 1210 in 2026           2026-01-01 13,200 -> 14,520 renewed;
                                            2027-01-01 14,520 pending (due after the data)
r2     2024-03..2025-02, MRR 500            2025-03-01 6,000 churned (no revenue in 2025-03)
r3     2024-06..2025-11; 2000, 1500 from    2025-06-01 24,000 -> 18,000 renewed; then it stops in
       2025-06                              2025-12, mid-term: no renewal for the second term
r4     2025-09..2026-06; two products       2026-09-01 10,200 pending
       (core 600 + addon 200 + usage 50)
r5     2024-01..2024-12 at 400; again       2025-01-01 4,800 churned; the new run is anchored on
       2025-04..2026-06 at 450              2025-04: 2026-04-01 5,400 -> 5,400 renewed;
                                            2027-04-01 5,400 pending
r6     2024-07..2024-12 at 300, a 0 row     none (stopped mid-term; a zero row is no revenue)
       in 2025-01
=====  ==================================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from cslib.cli import main as cli
from cslib.store import renewals
from cslib.errors import UserError
from cslib.store.importer import import_dir

D = dt.date
ACCOUNT_HEADER = "account_id,name,industry,region,segment,source_channel,csm,csm_team,signed_on,is_target\n"
EXPECTED = [  # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("r1", D(2025, 1, 1), 12_000.0, D(2025, 1, 1), 13_200.0, "renewed"),
    ("r1", D(2026, 1, 1), 13_200.0, D(2026, 1, 1), 14_520.0, "renewed"),
    ("r1", D(2027, 1, 1), 14_520.0, None, None, "pending"),
    ("r2", D(2025, 3, 1), 6_000.0, None, None, "churned"),
    ("r3", D(2025, 6, 1), 24_000.0, D(2025, 6, 1), 18_000.0, "renewed"),
    ("r4", D(2026, 9, 1), 10_200.0, None, None, "pending"),
    ("r5", D(2025, 1, 1), 4_800.0, None, None, "churned"),
    ("r5", D(2026, 4, 1), 5_400.0, D(2026, 4, 1), 5_400.0, "renewed"),
    ("r5", D(2027, 4, 1), 5_400.0, None, None, "pending"),
]


def _months(first: str, last: str) -> list[str]:
    out, (y, m) = [], (int(first[:4]), int(first[5:]))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _revenue_rows() -> list[str]:
    rows = []

    def add(account, first, last, mrr, product="core", usage=0.0):
        rows.extend(f"{account},{month},{product},std,{mrr(month) if callable(mrr) else mrr},{usage}"
                    for month in _months(first, last))

    add("r1", "2024-01", "2026-06", lambda m: {"2024": 1000, "2025": 1100, "2026": 1210}[m[:4]])
    add("r2", "2024-03", "2025-02", 500)
    add("r3", "2024-06", "2025-11", lambda m: 2000 if m < "2025-06" else 1500)
    add("r4", "2025-09", "2026-06", 600)
    add("r4", "2025-09", "2026-06", 200, product="addon", usage=50.0)
    add("r5", "2024-01", "2024-12", 400)
    add("r5", "2025-04", "2026-06", 450)
    add("r6", "2024-07", "2024-12", 300)
    add("r6", "2025-01", "2025-01", 0)
    return rows


def write_book(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    accounts = "".join(f"{a},Account {a},retail,emea,smb,inbound,Ana,North,2024-01-01,true\n"
                       for a in ("r1", "r2", "r3", "r4", "r5", "r6"))
    (folder / "accounts.csv").write_text(ACCOUNT_HEADER + accounts)
    (folder / "revenue_monthly.csv").write_text(
        "account_id,month,product,plan,mrr_subscription,mrr_usage\n" + "\n".join(_revenue_rows()) + "\n")
    return folder


def _renewals(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("select * from raw_renewals order by account_id, due_on").fetchall()


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    root = tmp_path_factory.mktemp("derived")
    db = root / "hg.duckdb"
    summary = import_dir(write_book(root / "src"), db)
    return summary, db


def test_every_derived_row_is_hand_computed(derived):
    _, db = derived
    assert _renewals(db) == EXPECTED


def test_import_records_and_says_the_renewals_are_derived(derived):
    summary, db = derived
    assert summary.rows["renewals"] == 0  # what the files held
    assert ("no renewals.csv: derived 9 renewals from revenue "
            "(12-month terms from each account's first revenue month)") in summary.warnings
    assert not any("renewal rates will be empty" in w for w in summary.warnings)
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_source(conn) == "derived"
        assert renewals.renewals_term_months(conn) == 12
        assert renewals.renewals_source_text(conn).startswith("Renewals are derived from revenue (12-month terms")


def test_derived_renewals_feed_the_renewal_rates_and_the_model_features(derived):
    _, db = derived
    with duckdb.connect(str(db), read_only=True) as conn:
        jan = conn.execute(
            "select sum(renewals_due), sum(renewals_decided), sum(renewals_renewed), sum(renewal_due_arr), "
            "sum(renewal_kept_arr) from account_month where month = '2025-01'").fetchone()
        # r1 renewed 12,000 (kept = min(13,200, 12,000)) and r5 churned 4,800
        assert jan == (2, 2, 1, 16_800.0, 12_000.0)
        june = conn.execute(
            "select renewals_due, renewals_renewed, renewal_due_arr, renewal_kept_arr from account_month "
            "where account_id = 'r3' and month = '2025-06'").fetchone()
        assert june == (1, 1, 24_000.0, 18_000.0)  # a contraction at renewal keeps 18,000
        # renewed on the due date: never a deferred month
        assert conn.execute("select count(*) from account_month where is_overdue").fetchone()[0] == 0
        features = conn.execute("select count(*), count(*) filter (where is_decided) from model_renewal_features"
                                ).fetchone()
        assert features == (9, 6)


def test_the_term_length_comes_from_the_caller(tmp_path):
    db = tmp_path / "hg.duckdb"
    summary = import_dir(write_book(tmp_path / "src"), db, term_months=6)
    got = {(a, due.isoformat(), outcome) for a, due, _, _, _, outcome in _renewals(db)}
    # r2: 2024-03..2025-02 is two 6-month terms; r4: 2025-09..2026-06 renews in March 2026
    assert {("r2", "2024-09-01", "renewed"), ("r2", "2025-03-01", "churned")} <= got
    assert {("r4", "2026-03-01", "renewed"), ("r4", "2026-09-01", "pending")} <= got
    # r6: six months then nothing: churned at the end of its first 6-month term
    assert ("r6", "2025-01-01", "churned") in got
    assert any("6-month terms" in w for w in summary.warnings)
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_term_months(conn) == 6


def test_a_renewals_file_is_used_as_given(tmp_path):
    src = write_book(tmp_path / "src")
    (src / "renewals.csv").write_text("account_id,due_on,due_arr,renewed_on,renewed_arr,outcome\n"
                                      "r1,2025-01-15,12000,2025-01-10,13200,renewed\n")
    db = tmp_path / "hg.duckdb"
    summary = import_dir(src, db, term_months=6)  # term_months is not used with a renewals file
    assert "renewals come from renewals.csv: term_months = 6 is not used" in summary.warnings
    assert _renewals(db) == [("r1", D(2025, 1, 15), 12_000.0, D(2025, 1, 10), 13_200.0, "renewed")]
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_source(conn) == "file"
        assert renewals.renewals_term_months(conn) is None


def test_nothing_to_derive_is_source_none(tmp_path):
    src = write_book(tmp_path / "src")
    (src / "revenue_monthly.csv").write_text(
        "account_id,month,product,plan,mrr_subscription,mrr_usage\nr1,2025-01,core,std,1000,0\n")
    db = tmp_path / "hg.duckdb"
    summary = import_dir(src, db)  # one month of data: r1 is due 2026-01-01, after the data: pending
    assert [r[-1] for r in _renewals(db)] == ["pending"]
    (src / "revenue_monthly.csv").write_text("account_id,month,product,plan,mrr_subscription,mrr_usage\n"
                                             "r1,2025-01,core,std,0,0\n")
    summary = import_dir(src, db, build=False)
    assert _renewals(db) == []
    assert "no renewals.csv and no revenue to derive renewals from: renewal rates will be n/a" in summary.warnings
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_source(conn) == "none"


@pytest.mark.parametrize("term,message", [
    (0, "renewals term_months: expected 1 to 120 months, got 0"),
    (121, "renewals term_months: expected 1 to 120 months, got 121"),
    ("twelve", "renewals term_months: expected a whole number of months, got 'twelve'"),
    (1.5, "renewals term_months: expected a whole number of months, got 1.5"),
    (True, "renewals term_months: expected a whole number of months, got True"),
])
def test_a_bad_term_is_one_line_and_nothing_is_written(tmp_path, term, message):
    db = tmp_path / "hg.duckdb"
    with pytest.raises(UserError) as err:
        import_dir(write_book(tmp_path / "src"), db, term_months=term)
    assert str(err.value) == message
    assert not db.exists()


def test_a_database_without_import_meta_reads_as_file():
    conn = duckdb.connect()
    assert renewals.renewals_source(conn) == "file"
    assert renewals.renewals_source_text(conn) == "Renewals are imported from renewals.csv."


def test_the_demo_records_file(tmp_path):
    from sample_data.generator import write_demo

    db = tmp_path / "demo.duckdb"
    write_demo(db, n_accounts=60, n_months=14)
    with duckdb.connect(str(db), read_only=True) as conn:
        assert renewals.renewals_source(conn) == "file"
        assert conn.execute("select count(*) from raw_churn_feedback").fetchone()[0] == 0


def test_report_model_names_the_source(derived, capsys):
    _, db = derived
    code = cli.main(["report", "model", "--db", str(db), "--format", "json"])
    err = capsys.readouterr().err
    # nine derived renewals are too few to fit: the one-line error says where they came from
    assert code == 2
    assert err.startswith("error: the renewal model could not be fitted on this book: ")
    assert err.rstrip().endswith("never deferred.)")
    assert "Renewals are derived from revenue (12-month terms" in err


def test_derivation_invariants_on_a_demo_book():
    """On a generated book: derived rows are unique per (account, due_on), due on a month's
    first day, renewed ones carry renewed_on = due_on, every derived churn is an account
    churn of mrr_movements in the due month with due_arr = 12 x the churned MRR, and every
    account paying in the last month has exactly one pending renewal."""
    from cslib.store.db import sql_file
    from sample_data import generator as gen

    conn = duckdb.connect()
    try:
        gen.populate(conn, gen.generate(n_accounts=120, n_months=30))
        conn.execute("delete from raw_renewals")
        n = renewals.derive_renewals(conn)
        assert n > 100
        for model in ("stg_revenue", "mrr_movements"):
            conn.execute(sql_file(model))
        bad = conn.execute(
            "select count(*) from raw_renewals where day(due_on) <> 1 "
            "or (outcome = 'renewed') <> (renewed_on is not null) "
            "or (outcome = 'renewed' and renewed_on <> due_on) or outcome = 'deferred' or due_arr <= 0"
        ).fetchone()[0]
        assert bad == 0
        assert conn.execute("select count(*) - count(distinct (account_id, due_on)) from raw_renewals"
                            ).fetchone()[0] == 0
        churned_without_churn = conn.execute(
            "select count(*) from raw_renewals r where outcome = 'churned' and not exists ("
            "select 1 from (select account_id, month, sum(churn_mrr) as churn_mrr from mrr_movements group by all) m "
            "where m.account_id = r.account_id and m.month = strftime(r.due_on, '%Y-%m') "
            "and abs(-12 * m.churn_mrr - r.due_arr) < 1e-6)"
        ).fetchone()[0]
        assert churned_without_churn == 0
        assert conn.execute("select count(*) from raw_renewals where outcome = 'churned'").fetchone()[0] > 0
        pending = conn.execute(
            "select count(*), count(distinct account_id) from raw_renewals where outcome = 'pending'").fetchone()
        active_at_end = conn.execute(
            "select count(distinct account_id) from stg_revenue "
            "where month = (select max(month) from stg_revenue) and mrr > 0"
        ).fetchone()[0]
        assert pending == (active_at_end, active_at_end)
    finally:
        conn.close()
