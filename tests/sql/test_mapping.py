"""Issue 12: your own export files through a column mapping, forgiving accounts and
subscription semantics (open-ended periods, add vs replace), on hand-computed books."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from cslib.store.contract import ALL_SHAPES
from cslib.errors import UserError
from cslib.store.importer import import_dir
from cslib.store.mapping import load_mapping

REPO = Path(__file__).resolve().parents[2]
BILLING = REPO / "examples" / "billing_export"
IMPORT_OK = REPO / "tests" / "fixtures" / "import_ok"


def _rows(db: Path, sql: str, params=None) -> list[tuple]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def _monthly(db: Path) -> dict[str, float]:
    return dict(_rows(db, "select month, sum(mrr_subscription) from raw_revenue_monthly group by month order by month"))


def _movements(db: Path) -> list[tuple]:
    """Per month: new, expansion (upsell + cross-sell + usage), contraction, churn, MRR."""
    return _rows(db, """
        select month, sum(new_mrr), sum(upsell_mrr + cross_sell_mrr + usage_expansion_mrr),
               sum(contraction_mrr), sum(churn_mrr), sum(mrr)
        from mrr_movements group by month order by month""")


# --------------------------------------------------------------------------- the shipped example


@pytest.fixture(scope="module")
def billing_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("billing") / "hg.duckdb"
    summary = import_dir(BILLING, db, mapping=BILLING / "mapping.toml")
    assert "subscriptions.csv: ignored extra column(s) Subscription ID, Currency" in summary.warnings
    assert "subscriptions.csv: dropped 3 of 12 rows (tables.subscription_periods.drop in mapping.toml)" in summary.warnings
    assert ("subscriptions.csv: 8 open-ended periods (no end_date) run through 2024-06 (the latest month of "
            "revenue or usage in the import; set [subscriptions] through = \"YYYY-MM\" in a mapping to say when "
            "the export was taken)") in summary.warnings
    assert not any("unknown file mapping.toml" in w for w in summary.warnings)  # the mapping file is not data
    return db


def test_billing_export_monthly_mrr_is_hand_computed(billing_db):
    """CUST-1: Starter 100 open-ended from January + extra seats 40 (March) and 40 (May), which add.
    CUST-2: trial dropped; Starter 200 (February, left open) replaced by Pro 500 from 15 April.
    CUST-3: Pro 300 (left open), Business 450 on 3 March and Pro 280 on 20 March (ends 10 May):
    a same-month replace, so March is 280 and Business never counts; no revenue from May.
    CUST-4: a trial and a 0.00 free plan, both dropped: no revenue. CUST-5: Starter 150 from June,
    which makes June the data's last month, through which the open periods run."""
    assert _rows(billing_db, "select account_id, month, product, plan, mrr_subscription "
                             "from raw_revenue_monthly order by all") == [
        ("CUST-1", "2024-01", "platform", "starter", 100.0),
        ("CUST-1", "2024-02", "platform", "starter", 100.0),
        ("CUST-1", "2024-03", "addons", "extra_seats", 40.0),
        ("CUST-1", "2024-03", "platform", "starter", 100.0),
        ("CUST-1", "2024-04", "addons", "extra_seats", 40.0),
        ("CUST-1", "2024-04", "platform", "starter", 100.0),
        ("CUST-1", "2024-05", "addons", "extra_seats", 80.0),
        ("CUST-1", "2024-05", "platform", "starter", 100.0),
        ("CUST-1", "2024-06", "addons", "extra_seats", 80.0),
        ("CUST-1", "2024-06", "platform", "starter", 100.0),
        ("CUST-2", "2024-02", "platform", "starter", 200.0),
        ("CUST-2", "2024-03", "platform", "starter", 200.0),
        ("CUST-2", "2024-04", "platform", "pro", 500.0),
        ("CUST-2", "2024-05", "platform", "pro", 500.0),
        ("CUST-2", "2024-06", "platform", "pro", 500.0),
        ("CUST-3", "2024-01", "platform", "pro", 300.0),
        ("CUST-3", "2024-02", "platform", "pro", 300.0),
        ("CUST-3", "2024-03", "platform", "pro", 280.0),
        ("CUST-3", "2024-04", "platform", "pro", 280.0),
        ("CUST-5", "2024-06", "platform", "starter", 150.0),
    ]


def test_billing_export_movements_are_hand_computed(billing_db):
    """Jan: new 100 + 300. Feb: new 200. Mar: cross-sell 40 (seats), contraction -20 (CUST-3
    300 -> 280). Apr: upsell 300 (CUST-2). May: upsell 40 (seats), churn -280 (CUST-3).
    Jun: new 150 (CUST-5). MRR 400, 600, 620, 920, 680, 830."""
    assert _movements(billing_db) == [
        ("2024-01", 400.0, 0.0, 0.0, 0.0, 400.0),
        ("2024-02", 200.0, 0.0, 0.0, 0.0, 600.0),
        ("2024-03", 0.0, 40.0, -20.0, 0.0, 620.0),
        ("2024-04", 0.0, 300.0, 0.0, 0.0, 920.0),
        ("2024-05", 0.0, 40.0, 0.0, -280.0, 680.0),
        ("2024-06", 150.0, 0.0, 0.0, 0.0, 830.0),
    ]


def test_billing_export_accounts_from_a_crm_export_with_only_id_and_name(billing_db):
    assert _rows(billing_db, "select * from raw_accounts where account_id = 'CUST-4'") == [
        ("CUST-4", "Delta Foods", "unassigned", "unassigned", "unassigned", "unassigned",
         "unassigned", "unassigned", None, None, True)]
    assert _rows(billing_db, "select count(*) from raw_accounts") == [(5,)]


def test_the_same_export_added_up_triples_mrr(tmp_path):
    """Without the mapping's replace rule the plan-change rows add up: CUST-3 pays 300 + 450 +
    280 = 1,030 in March and CUST-2 700 from April (the issue's 3x MRR)."""
    mapping = (BILLING / "mapping.toml").read_text().replace('overlap = "replace"', 'overlap = "add"')
    _write(tmp_path, "add.toml", mapping)
    db = tmp_path / "hg.duckdb"
    import_dir(BILLING, db, build=False, mapping=tmp_path / "add.toml")
    assert _rows(db, "select account_id, month, mrr_subscription from raw_revenue_monthly "
                     "where account_id in ('CUST-2', 'CUST-3') and month in ('2024-03', '2024-04') order by all") == [
        ("CUST-2", "2024-03", 200.0), ("CUST-2", "2024-04", 700.0),
        ("CUST-3", "2024-03", 1030.0), ("CUST-3", "2024-04", 1030.0)]


# --------------------------------------------------------------------------- subscription semantics


PERIODS_HEADER = "customer_id,product,start_date,end_date,monthly_amount\n"


def _periods_book(tmp_path: Path, rows: str, mapping: str | None = None, build: bool = True) -> Path:
    src = tmp_path / "src"
    _write(src, "subscription_periods.csv", PERIODS_HEADER + rows.lstrip("\n"))
    db = tmp_path / "hg.duckdb"
    if mapping is not None:
        _write(tmp_path, "mapping.toml", mapping)
    import_dir(src, db, build=build, mapping=tmp_path / "mapping.toml" if mapping is not None else None)
    return db


def test_open_ended_periods_run_through_the_last_month_of_any_revenue(tmp_path):
    """O: 10 open from Feb. C: 20 from Jan, ends 2024-05-01 (covers Jan-Apr). Without a mapping
    overlap adds up: O's second open period (5 from Mar) adds to the first. Data ends in April."""
    db = _periods_book(tmp_path, """
O,p,2024-02-10,,10
O,p,2024-03-01,,5
C,p,2024-01-01,2024-05-01,20
""")
    assert _rows(db, "select account_id, month, mrr_subscription from raw_revenue_monthly order by all") == [
        ("C", "2024-01", 20.0), ("C", "2024-02", 20.0), ("C", "2024-03", 20.0), ("C", "2024-04", 20.0),
        ("O", "2024-02", 10.0), ("O", "2024-03", 15.0), ("O", "2024-04", 15.0)]
    assert _movements(db) == [
        ("2024-01", 20.0, 0.0, 0.0, 0.0, 20.0),
        ("2024-02", 10.0, 0.0, 0.0, 0.0, 30.0),
        ("2024-03", 0.0, 5.0, 0.0, 0.0, 35.0),
        ("2024-04", 0.0, 0.0, 0.0, 0.0, 35.0),
    ]


def test_replace_per_product_upgrade_same_month_replace_and_tie(tmp_path):
    """Default replace, 'seats' adds. U: basic 100 (Jan, open), upgrade to 250 on 2024-07-15 ->
    100 Jan-Jun, 250 Jul-Dec (data ends in December through S). S: seats 10 + 10 both open from Nov
    (add) and platform 50 Jan-Dec closed. M: 80 from 2024-03-02, 120 from 2024-03-25 (same month:
    120 counts for all of March), ends 2024-06-01 -> Mar-May 120. T: two rows with the same
    start_date: the later row (70) wins; ends 2024-12-31 -> Jan-Nov."""
    mapping = """
[subscriptions]
overlap = "replace"
[subscriptions.products.seats]
overlap = "add"
"""
    db = _periods_book(tmp_path, """
U,platform,2024-01-05,,100
U,platform,2024-07-15,,250
S,seats,2024-11-01,,10
S,seats,2024-11-20,,10
S,platform,2024-01-01,2025-01-01,50
M,platform,2024-03-02,,80
M,platform,2024-03-25,2024-06-01,120
T,platform,2024-01-01,2024-12-31,60
T,platform,2024-01-01,2024-12-31,70
""", mapping)
    got = {}
    for account, month, product, mrr in _rows(db, "select account_id, month, product, mrr_subscription "
                                                  "from raw_revenue_monthly order by all"):
        got.setdefault((account, product), {})[month] = mrr
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    assert got[("U", "platform")] == {m: (100.0 if m < "2024-07" else 250.0) for m in months}
    assert got[("S", "seats")] == {"2024-11": 20.0, "2024-12": 20.0}
    assert got[("S", "platform")] == {m: 50.0 for m in months}
    assert got[("M", "platform")] == {"2024-03": 120.0, "2024-04": 120.0, "2024-05": 120.0}
    assert got[("T", "platform")] == {m: 70.0 for m in months[:11]}
    movements = {row[0]: row[1:] for row in _movements(db)}
    # Jan: new U 100 + S 50 + T 70; Mar: new M 120; Jun: churn M -120; Jul: upsell U +150;
    # Nov: cross-sell S seats +20; Dec: churn T -70
    assert movements["2024-01"] == (220.0, 0.0, 0.0, 0.0, 220.0)
    assert movements["2024-03"] == (120.0, 0.0, 0.0, 0.0, 340.0)
    assert movements["2024-06"] == (0.0, 0.0, 0.0, -120.0, 220.0)
    assert movements["2024-07"] == (0.0, 150.0, 0.0, 0.0, 370.0)
    assert movements["2024-11"] == (0.0, 20.0, 0.0, 0.0, 390.0)
    assert movements["2024-12"] == (0.0, 0.0, 0.0, -70.0, 320.0)
    for month in ("2024-02", "2024-04", "2024-05", "2024-08", "2024-09", "2024-10"):
        assert movements[month][:4] == (0.0, 0.0, 0.0, 0.0), month


def test_end_date_column_may_be_absent(tmp_path):
    src = tmp_path / "src"
    _write(src, "subscription_periods.csv", "customer_id,start_date,monthly_amount\nA,2024-01-01,5\nB,2024-03-01,7\n")
    import_dir(src, tmp_path / "hg.duckdb", build=False)
    assert _monthly(tmp_path / "hg.duckdb") == {"2024-01": 5.0, "2024-02": 5.0, "2024-03": 12.0}


# --------------------------------------------------------------------------- forgiving accounts


def test_accounts_with_only_an_id_and_free_text_segments(tmp_path):
    src = tmp_path / "src"
    _write(src, "accounts.csv", """
account_id,segment,name,is_target
A1, Mid Market ,,
A2,Enterprise,Two,false
A3,mid-market,Three,yes
A4,,Four,
""")
    _write(src, "revenue_monthly.csv", "account_id,month,product,mrr_subscription\nA1,2024-01,p,10\n")
    db = tmp_path / "hg.duckdb"
    import_dir(src, db, build=False)
    assert _rows(db, "select account_id, name, segment, industry, csm, csm_team, signed_on, is_target "
                     "from raw_accounts") == [
        ("A1", "A1", "mid_market", "unassigned", "unassigned", "unassigned", None, True),
        ("A2", "Two", "enterprise", "unassigned", "unassigned", "unassigned", None, False),
        ("A3", "Three", "mid_market", "unassigned", "unassigned", "unassigned", None, True),
        ("A4", "Four", "unassigned", "unassigned", "unassigned", "unassigned", None, True),
    ]


def test_every_missing_required_column_in_one_line(tmp_path):
    src = tmp_path / "src"
    _write(src, "accounts.csv", "account_id\nA1\n")
    _write(src, "revenue_monthly.csv", "account_id,plan\nA1,x\n")
    with pytest.raises(UserError) as err:
        import_dir(src, tmp_path / "hg.duckdb", build=False)
    assert str(err.value) == ("revenue_monthly.csv: missing required columns 'month' (VARCHAR), "
                              "'product' (VARCHAR), 'mrr_subscription' (DOUBLE)")


# --------------------------------------------------------------------------- the mapping's keys


CRM = """
ID,Company,Tier,Owner,Since,Kind
c-1,Acme,Enterprise,Ada,31/12/2023,customer
c-2,Birch,SMB,,01/02/2024,test
c-3,Cobalt,Mid Market,Ben,15/03/2024,customer
"""
REVENUE = """
acct,period,amount,sku
c-1,2024-01,100,core
c-1,2024-02,0,core
c-3,2024-02,50,
c-1,2024-02,110,addon
"""
MAPPING = """
[tables.accounts]
file = "crm.csv"
columns = { account_id = "ID", name = "Company", segment = "Tier", csm = "Owner", signed_on = "Since" }
defaults = { csm = "nobody", region = "emea" }
values = { segment = { "SMB" = "small" } }
date_format = { signed_on = "%d/%m/%Y" }
drop = [{ column = "Kind", in = ["test"] }]

[tables.revenue_monthly]
file = "rev*.csv"
columns = { account_id = "acct", month = "period", mrr_subscription = "amount", product = "sku" }
defaults = { product = "core" }
drop = [{ column = "mrr_subscription", equals = 0 }]
"""


@pytest.fixture
def crm_dir(tmp_path) -> Path:
    src = tmp_path / "src"
    _write(src, "crm.csv", CRM)
    _write(src, "revenue.csv", REVENUE)
    _write(tmp_path, "mapping.toml", MAPPING)
    return src


def test_mapping_renames_defaults_value_maps_dates_and_drops(crm_dir, tmp_path):
    db = tmp_path / "hg.duckdb"
    summary = import_dir(crm_dir, db, build=False, mapping=tmp_path / "mapping.toml")
    assert _rows(db, "select account_id, name, segment, region, csm, signed_on, is_target from raw_accounts") == [
        ("c-1", "Acme", "enterprise", "emea", "Ada", dt.date(2023, 12, 31), True),
        ("c-3", "Cobalt", "mid_market", "emea", "Ben", dt.date(2024, 3, 15), True),
    ]
    assert _rows(db, "select account_id, month, product, mrr_subscription from raw_revenue_monthly") == [
        ("c-1", "2024-01", "core", 100.0), ("c-3", "2024-02", "core", 50.0), ("c-1", "2024-02", "addon", 110.0)]
    assert "crm.csv: ignored extra column(s) Tier" not in summary.warnings
    assert summary.rows["accounts"] == 2


def test_errors_name_the_source_file_and_line_after_dropped_rows(crm_dir, tmp_path):
    """The dropped test account (line 3) keeps line numbers: the bad date is on line 4; an
    unmapped value of a second revenue file names that file and its own line."""
    crm = (crm_dir / "crm.csv").read_text().replace("15/03/2024", "15.03.2024")
    (crm_dir / "crm.csv").write_text(crm)
    _write(crm_dir, "revenue_2.csv", "acct,period,amount,sku\nc-3,2024-03,60,core\nc-2,2024-03,5,core\n")
    db = tmp_path / "hg.duckdb"
    with pytest.raises(UserError) as err:
        import_dir(crm_dir, db, build=False, mapping=tmp_path / "mapping.toml")
    assert str(err.value) == (
        "crm.csv, line 4, column signed_on: expected a date like '%d/%m/%Y' "
        "(tables.accounts.date_format), got '15.03.2024' (2 problems; run "
        f"`python -m cslib check {crm_dir} --mapping {tmp_path / 'mapping.toml'}` to list them all)")
    from cslib.store.importer import check_dir

    report = check_dir(crm_dir, tmp_path / "mapping.toml")
    assert report.problems.lines() == [
        "crm.csv, line 4, column signed_on: expected a date like '%d/%m/%Y' (tables.accounts.date_format), "
        "got '15.03.2024'",
        "revenue_2.csv, line 3, column account_id: unknown account 'c-2' (not in crm.csv)",
    ]
    assert not db.exists()


@pytest.mark.parametrize("text, message", [
    ("[tables.acounts]\nfile = 'x.csv'\n",
     "mapping.toml: [tables.acounts]: unknown contract table (one of " + ", ".join(sorted(ALL_SHAPES)) + ")"),
    ("[tables.accounts]\ncolums = { name = 'x' }\n",
     "mapping.toml: tables.accounts.colums: unknown key (expected one of file, columns, defaults, values, "
     "date_format, drop, attributes)"),
    ("[tables.accounts]\ncolumns = { nmae = 'x' }\n",
     "mapping.toml: tables.accounts.columns.nmae: unknown column of accounts (one of account_id, name, industry, "
     "region, segment, source_channel, csm, csm_team, signed_on, lifecycle_stage, is_target)"),
    ("[tables.accounts\n", None),
    ("[subscriptions]\noverlap = 'sum'\n", "mapping.toml: subscriptions.overlap: expected \"add\" or \"replace\", got 'sum'"),
    ("[renewals]\nterm_months = 0\n", "mapping.toml: renewals.term_months: expected a whole number of months 1-120, got 0"),
    ("[tables.accounts]\ndefaults = { is_target = 'maybe' }\n",
     "mapping.toml: tables.accounts.defaults.is_target: 'maybe' is not a valid boolean for is_target"),
    ("[tables.accounts]\ndrop = [{ column = 'x' }]\n",
     "mapping.toml: tables.accounts.drop[0]: expected exactly one of in = [...] or equals = ..."),
    ("[tables.accounts]\ndate_format = { name = '%d' }\n",
     "mapping.toml: tables.accounts.date_format.name: name is not a date or month column"),
    ("colour = 'blue'\n", "mapping.toml: colour: unknown key (expected one of tables, subscriptions, renewals)"),
])
def test_a_bad_mapping_is_one_line_naming_the_key(tmp_path, text, message):
    path = _write(tmp_path, "mapping.toml", text)
    with pytest.raises(UserError) as err:
        load_mapping(path)
    if message is None:
        assert str(err.value).startswith("mapping.toml: invalid TOML (")
    else:
        assert str(err.value) == message
    assert "\n" not in str(err.value)
    if message and "unknown contract table" in message:
        assert "accounts, churn_feedback, csm_logs, events, module_usage_weekly" in message


def test_a_mapped_column_the_file_lacks_names_mapping_key_and_file(crm_dir, tmp_path):
    _write(tmp_path, "mapping.toml", MAPPING.replace('csm = "Owner"', 'csm = "Account Owner"'))
    with pytest.raises(UserError) as err:
        import_dir(crm_dir, tmp_path / "hg.duckdb", build=False, mapping=tmp_path / "mapping.toml")
    assert str(err.value) == ("mapping.toml: tables.accounts.columns.csm: column 'Account Owner' not in crm.csv "
                              "(its columns: ID, Company, Tier, Owner, Since, Kind)")


def test_a_glob_that_matches_nothing_is_one_line(crm_dir, tmp_path):
    _write(tmp_path, "mapping.toml", MAPPING.replace('file = "crm.csv"', 'file = "companies*.csv"'))
    with pytest.raises(UserError) as err:
        import_dir(crm_dir, tmp_path / "hg.duckdb", build=False, mapping=tmp_path / "mapping.toml")
    assert str(err.value) == f"mapping.toml: tables.accounts.file: no file in {crm_dir} matches 'companies*.csv'"


def test_without_a_mapping_contract_files_import_unchanged(tmp_path):
    """The mapping is optional: the contract fixture lands the same rows with an empty mapping."""
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    import_dir(IMPORT_OK, a, build=False)
    _write(tmp_path, "empty.toml", "")
    import_dir(IMPORT_OK, b, build=False, mapping=tmp_path / "empty.toml")
    for table in ("accounts", "revenue_monthly", "usage_weekly", "renewals", "csm_logs", "events"):
        assert _rows(a, f"select * from raw_{table}") == _rows(b, f"select * from raw_{table}")


# --------------------------------------------------------------------------- check


def _bad_folder(tmp_path: Path) -> Path:
    """Seven problems in three files (revenue, usage, renewals) of the contract fixture."""
    src = tmp_path / "bad"
    shutil.copytree(IMPORT_OK, src)

    def edit(name: str, line_no: int, new: str) -> None:
        lines = (src / name).read_text().splitlines()
        lines[line_no - 1] = new
        (src / name).write_text("\n".join(lines) + "\n")

    edit("usage_weekly.csv", 3, "A-1,2024-01-09,10,9,7,2,140")
    edit("usage_weekly.csv", 6, "A-2,2024-01-08,40,3.5,20,4,850")
    edit("renewals.csv", 3, "A-2,2024-02-29,4800,,,lost")
    edit("renewals.csv", 4, "A-9,2024-01-31,27600,,,churned")
    edit("revenue_monthly.csv", 3, "A-1,2024-13,core_suite,starter,100,0")
    edit("revenue_monthly.csv", 5, "A-2,2024-01,core_suite,professional,-400,")
    edit("revenue_monthly.csv", 6, "A-2,2024-01,core_suite,professional,400,")
    return src


BAD_LINES = [
    "revenue_monthly.csv, line 3, column month: expected a month YYYY-MM (month 01-12), got '2024-13'",
    "revenue_monthly.csv, line 5, column mrr_subscription: negative amount '-400' (money must be >= 0)",
    "revenue_monthly.csv, line 6: duplicate (account_id, month, product) ('A-2', '2024-01', 'core_suite') "
    "(first on line 5)",
    "usage_weekly.csv, line 3, column week_start: '2024-01-09' is a Tuesday, not a Monday",
    "usage_weekly.csv, line 6, column seats_activated: expected a whole number, got '3.5'",
    "renewals.csv, line 3, column outcome: 'lost' is not one of renewed, deferred, churned, pending",
    "renewals.csv, line 4, column account_id: unknown account 'A-9' (not in accounts.csv)",
]


def test_check_lists_every_problem_in_one_run(tmp_path):
    from cslib.store.importer import check_dir

    src = _bad_folder(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    report = check_dir(src)
    assert report.problems.lines() == BAD_LINES
    assert report.problems.total == 7
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_import_refuses_with_the_first_problem_and_the_count(tmp_path):
    src = _bad_folder(tmp_path)
    db = tmp_path / "hg.duckdb"
    import_dir(IMPORT_OK, db, build=False)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(UserError) as err:
        import_dir(src, db, build=False)
    assert str(err.value) == (f"{BAD_LINES[0]} (7 problems; run `python -m cslib check {src}` to list them all)")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_check_caps_each_file_at_twenty(tmp_path):
    from cslib.store.importer import check_dir

    src = tmp_path / "src"
    shutil.copytree(IMPORT_OK, src)
    lines = ["account_id,month,product,plan,mrr_subscription,mrr_usage"]
    lines += [f"A-1,2024-{m:02d},p{i},,x{i},0" for i in range(3) for m in range(1, 13)]  # 36 bad amounts
    lines += ["A-1,2024-01,p0,,5,zz"]  # and a bad usage amount + a duplicate key on the last line
    (src / "revenue_monthly.csv").write_text("\n".join(lines) + "\n")
    got = check_dir(src).problems.lines()
    assert len(got) == 21
    assert got[0] == "revenue_monthly.csv, line 2, column mrr_subscription: expected a number, got 'x0'"
    assert got[19] == "revenue_monthly.csv, line 21, column mrr_subscription: expected a number, got 'x1'"
    assert got[20] == "... and 18 more problems in revenue_monthly.csv"


def test_check_coverage_of_the_billing_example():
    from cslib.store.importer import check_dir

    report = check_dir(BILLING, BILLING / "mapping.toml")
    assert report.problems.total == 0
    coverage = report.coverage
    assert coverage[0] == "accounts (companies.csv): 5 rows, 5 accounts"
    assert coverage[1] == "revenue_monthly (from subscriptions.csv): 20 rows, 4 accounts, months 2024-01..2024-06"
    assert "accounts without revenue: 1" in coverage
    assert "accounts with revenue but no usage: 4 (never any usage row: their health is unscored)" in coverage
    assert any(line.startswith("  - no usage data: every account's health is unscored") for line in coverage)
    assert any(line.startswith("  - no csm_logs or churn_feedback: no churn reasons") for line in coverage)


def test_files_of_one_table_need_one_header_and_one_table(crm_dir, tmp_path):
    from cslib.store.importer import check_dir

    _write(crm_dir, "revenue_2.csv", "acct,period,amount\nc-3,2024-03,60\n")
    report = check_dir(crm_dir, tmp_path / "mapping.toml")
    assert report.problems.lines() == [
        "revenue_2.csv: its columns differ from revenue.csv (all files of revenue_monthly need the same header)"]
    _write(tmp_path, "mapping.toml", MAPPING.replace('file = "crm.csv"', 'file = "*.csv"'))
    with pytest.raises(UserError) as err:
        check_dir(crm_dir, tmp_path / "mapping.toml")
    assert str(err.value) == ("mapping.toml: tables.revenue_monthly.file: revenue.csv is also matched by "
                              "tables.accounts.file")


def test_each_file_of_a_glob_gets_its_own_problems_and_cap(crm_dir, tmp_path):
    """25 bad amounts in the first revenue file do not hide the second file's two problems."""
    from cslib.store.importer import check_dir

    bad = "\n".join(f"c-1,2024-{m:02d},x{m},core{k}" for k in range(3) for m in range(1, 10))
    _write(crm_dir, "revenue.csv", "acct,period,amount,sku\n" + bad + "\n")
    _write(crm_dir, "revenue_2.csv", "acct,period,amount,sku\nc-3,2024-03,60,core\nc-3,2024-03,y,core\nc-9,2024-04,1,core\n")
    lines = check_dir(crm_dir, tmp_path / "mapping.toml").problems.lines()
    assert len(lines) == 24
    assert lines[0] == "revenue.csv, line 2, column mrr_subscription: expected a number, got 'x1'"
    assert lines[19] == "revenue.csv, line 21, column mrr_subscription: expected a number, got 'x2'"
    assert lines[20] == "... and 7 more problems in revenue.csv"
    assert lines[21:] == [
        "revenue_2.csv, line 3, column mrr_subscription: expected a number, got 'y'",
        "revenue_2.csv, line 3: duplicate (account_id, month, product) ('c-3', '2024-03', 'core') (first on line 2)",
        "revenue_2.csv, line 4, column account_id: unknown account 'c-9' (not in crm.csv)",
    ]


def test_the_mappings_term_months_reaches_the_derived_renewals(tmp_path):
    mapping = (BILLING / "mapping.toml").read_text().replace("term_months = 12", "term_months = 3")
    _write(tmp_path, "m.toml", mapping)
    db = tmp_path / "hg.duckdb"
    import_dir(BILLING, db, build=False, mapping=tmp_path / "m.toml")
    assert dict(_rows(db, "select key, value from import_meta")) == {
        "renewals_source": "derived", "renewals_term_months": "3"}
    # CUST-2 from February on 3-month terms: due 1 May (renewed), due 1 August (after the data: pending)
    assert _rows(db, "select due_on, outcome from raw_renewals where account_id = 'CUST-2' order by due_on") == [
        (dt.date(2024, 5, 1), "renewed"), (dt.date(2024, 8, 1), "pending")]
