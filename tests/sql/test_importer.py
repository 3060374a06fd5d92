"""Importer: a good folder lands exact rows; every bad input is one exact line, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cslib.errors import UserError
from cslib.store.importer import ImportSummary, import_dir

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
IMPORT_OK = FIXTURES / "import_ok"
PERIODS = FIXTURES / "periods"
DB_NAME = "hg.duckdb"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    """The folder's files, without the writers' lock file (``.<db>.lock``, see cslib.store.db)."""
    return sorted(p.name for p in folder.iterdir() if not (p.name.startswith(".") and p.name.endswith(".lock")))


def _rows(db: Path, sql: str, params=None) -> list[tuple]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    """A database made by a good import of the fixture (copied by tests that need one)."""
    db = tmp_path_factory.mktemp("good") / DB_NAME
    import_dir(IMPORT_OK, db, build=False)
    return db


@pytest.fixture
def bad_dir(tmp_path) -> Path:
    dst = tmp_path / "src"
    shutil.copytree(IMPORT_OK, dst)
    return dst


# --------------------------------------------------------------------------- good data


def test_good_import_lands_exact_rows_and_types(good_db):
    counts = {t: _rows(good_db, f"select count(*) from raw_{t}")[0][0] for t in (
        "accounts", "revenue_monthly", "usage_weekly", "module_usage_weekly",
        "renewals", "csm_logs", "events")}
    assert counts == {"accounts": 4, "revenue_monthly": 13, "usage_weekly": 9,
                      "module_usage_weekly": 6, "renewals": 4, "csm_logs": 3, "events": 2}
    types = dict(_rows(good_db, "select column_name, data_type from information_schema.columns "
                                "where table_name = 'raw_usage_weekly'"))
    assert types == {"account_id": "VARCHAR", "week_start": "DATE", "seats_purchased": "INTEGER",
                     "seats_activated": "INTEGER", "users_logged_in": "INTEGER",
                     "users_bi": "INTEGER", "records_created": "INTEGER"}
    # booleans: true / TRUE / yes / 0; empty optional cell -> NULL; file order kept
    assert _rows(good_db, "select account_id, is_target, lifecycle_stage, signed_on from raw_accounts") == [
        ("A-1", True, "adoption", dt.date(2023, 11, 15)),
        ("A-2", True, "onboarding", dt.date(2024, 1, 3)),
        ("A-3", True, None, dt.date(2022, 6, 30)),
        ("A-4", False, "onboarding", dt.date(2024, 2, 1)),
    ]
    assert _rows(good_db, "select sum(mrr_subscription), sum(mrr_usage), count(mrr_usage) "
                          "from raw_revenue_monthly") == [(6230.0, 55.75, 11)]
    assert _rows(good_db, "select renewed_on, renewed_arr, outcome from raw_renewals "
                          "where account_id = 'A-1'") == [(dt.date(2024, 3, 20), 1800.0, "renewed")]
    # quoted comma and doubled quotes survive; empty nullable cells are NULL
    assert _rows(good_db, "select log_id, reason_code, note from raw_csm_logs") == [
        ("L-1", "competitor", 'Moved to a rival, citing "price, support"'),
        ("L-2", "sponsor_left", None),
        ("L-3", None, "Quarterly review"),
    ]
    assert _rows(good_db, "select kind, score from raw_events") == [("nps", 9.0), ("admin_changed", None)]


def test_summary_and_optional_files_warn(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("accounts.csv", "revenue_monthly.csv"):
        shutil.copy(IMPORT_OK / name, src / name)
    (src / "notes.txt").write_text("hello")
    text = (src / "accounts.csv").read_text().splitlines()
    text = [text[0] + ",favourite_color"] + [line + ",blue" for line in text[1:]]
    (src / "accounts.csv").write_text("\n".join(text) + "\n")
    summary = import_dir(src, tmp_path / DB_NAME, build=False)
    assert isinstance(summary, ImportSummary)
    assert summary.rows["accounts"] == 4 and summary.rows["usage_weekly"] == 0
    assert summary.describe() == "2 tables, 17 rows"
    assert summary.warnings == [
        "ignored unknown file notes.txt",
        'no usage_weekly.csv or usage_metrics.csv: no health scores (pages say "No health data")',
        "no renewals.csv: derived 2 renewals from revenue (12-month terms from each account's first "
        "revenue month)",
        "no csm_logs.csv or churn_feedback.csv: churn reasons and risk flags will be empty",
        "no events.csv: event alerts will be empty",
        "accounts.csv: ignored extra column(s) favourite_color",
    ]
    assert _rows(tmp_path / DB_NAME, "select count(*) from raw_usage_weekly") == [(0,)]


def test_bom_crlf_and_header_case_are_accepted(bad_dir, good_db, tmp_path):
    """An Excel-style export (UTF-8 BOM, CRLF, ' Account_ID' header) loads the same rows."""
    path = bad_dir / "accounts.csv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("account_id", " Account_ID")
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    import_dir(bad_dir, tmp_path / DB_NAME, build=False)
    sql = "select * from raw_accounts"
    assert _rows(tmp_path / DB_NAME, sql) == _rows(good_db, sql)


def test_header_only_optional_file_is_zero_rows(bad_dir, tmp_path):
    (bad_dir / "events.csv").write_text("account_id,occurred_on,kind,score,role,note\n")
    summary = import_dir(bad_dir, tmp_path / DB_NAME, build=False)
    assert summary.rows["events"] == 0 and summary.rows["csm_logs"] == 3


def test_row_order_is_file_order_and_lines_are_exact_on_a_larger_file(bad_dir, tmp_path):
    """20,000 rows: raw rows keep file order, and an error in the last row names its line."""
    n = 20_000
    lines = ["account_id,month,product,plan,mrr_subscription,mrr_usage"]
    lines += [f"A-1,2024-01,p{i:05d},,{i},0" for i in range(n)]
    (bad_dir / "revenue_monthly.csv").write_text("\n".join(lines) + "\n")
    db = tmp_path / DB_NAME
    import_dir(bad_dir, db, build=False)
    got = _rows(db, "select product, mrr_subscription from raw_revenue_monthly")
    assert got == [(f"p{i:05d}", float(i)) for i in range(n)]
    lines[-1] = f"A-1,2024-01,p{n:05d},,12x,0"
    (bad_dir / "revenue_monthly.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as err:
        import_dir(bad_dir, tmp_path / "other.duckdb", build=False)
    assert str(err.value) == (f"revenue_monthly.csv, line {n + 1}, column mrr_subscription: "
                              "expected a number, got '12x'")


# --------------------------------------------------------------------------- bad data


def _replace_line(name: str, line_no: int, new: str):
    def corrupt(src: Path) -> None:
        lines = (src / name).read_text().splitlines()
        lines[line_no - 1] = new
        (src / name).write_text("\n".join(lines) + "\n")
    return corrupt


def _append(name: str, new: str):
    def corrupt(src: Path) -> None:
        with open(src / name, "a") as f:
            f.write(new + "\n")
    return corrupt


def _write_bytes(name: str, data: bytes):
    def corrupt(src: Path) -> None:
        (src / name).write_bytes(data)
    return corrupt


def _drop_column(name: str, column: str):
    def corrupt(src: Path) -> None:
        rows = list(csv.reader(io.StringIO((src / name).read_text())))
        i = rows[0].index(column)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])
        (src / name).write_text(out.getvalue())
    return corrupt


def _insert_blank_line_after(name: str, line_no: int):
    def corrupt(src: Path) -> None:
        lines = (src / name).read_text().splitlines()
        lines.insert(line_no, "")
        (src / name).write_text("\n".join(lines) + "\n")
    return corrupt


def _chain(*steps):
    def corrupt(src: Path) -> None:
        for step in steps:
            step(src)
    return corrupt


def _remove(name: str):
    def corrupt(src: Path) -> None:
        (src / name).unlink()
    return corrupt


ACCOUNT_ROW = "A-9,Nine,retail,north,smb,inbound,Ada,team_a,2024-01-01,onboarding,true"

BAD_CASES = [
    ("missing_column", _drop_column("usage_weekly.csv", "seats_activated"),
     "usage_weekly.csv: missing required column 'seats_activated' (INTEGER)"),
    ("wrong_type_number", _replace_line("revenue_monthly.csv", 7, "A-2,2024-02,e_invoicing,,0,abc"),
     "revenue_monthly.csv, line 7, column mrr_usage: expected a number, got 'abc'"),
    ("wrong_type_integer", _replace_line("usage_weekly.csv", 3, "A-1,2024-01-08,10,9.5,7,2,140"),
     "usage_weekly.csv, line 3, column seats_activated: expected a whole number, got '9.5'"),
    ("negative_count", _replace_line("usage_weekly.csv", 3, "A-1,2024-01-08,10,9,7,-2,140"),
     "usage_weekly.csv, line 3, column users_bi: expected a count >= 0, got '-2'"),
    ("wrong_type_boolean", _replace_line(
        "accounts.csv", 3, "A-2,Birch Retail,retail,south,mid_market,partner,Ben,team_b,2024-01-03,,maybe"),
     "accounts.csv, line 3, column is_target: expected true/false (or yes/no, 1/0), got 'maybe'"),
    ("empty_required_cell", _replace_line("usage_weekly.csv", 3, "A-1,,10,9,7,2,140"),
     "usage_weekly.csv, line 3, column week_start: empty value (required)"),
    ("duplicate_key", _append("accounts.csv", ACCOUNT_ROW.replace("A-9", "A-2")),
     "accounts.csv, line 6: duplicate account_id 'A-2' (first on line 3)"),
    ("duplicate_composite_key", _append("revenue_monthly.csv", "A-1,2024-01,core_suite,starter,5,0"),
     "revenue_monthly.csv, line 15: duplicate (account_id, month, product) "
     "('A-1', '2024-01', 'core_suite') (first on line 2)"),
    ("unknown_account", _replace_line("renewals.csv", 4, "X9,2024-01-31,27600,,,churned"),
     "renewals.csv, line 4, column account_id: unknown account 'X9' (not in accounts.csv)"),
    ("negative_money", _replace_line("renewals.csv", 2, "A-1,2024-03-31,-1200,2024-03-20,1800,renewed"),
     "renewals.csv, line 2, column due_arr: negative amount '-1200' (money must be >= 0)"),
    ("nan_money", _replace_line("revenue_monthly.csv", 4, "A-1,2024-03,core_suite,professional,NaN,0"),
     "revenue_monthly.csv, line 4, column mrr_subscription: expected a finite number, got 'NaN'"),
    ("infinity_money", _replace_line("revenue_monthly.csv", 5, "A-2,2024-01,core_suite,professional,400,Infinity"),
     "revenue_monthly.csv, line 5, column mrr_usage: expected a finite number, got 'Infinity'"),
    ("bad_month", _replace_line("revenue_monthly.csv", 3, "A-1,2024-13,core_suite,starter,100,0"),
     "revenue_monthly.csv, line 3, column month: expected a month YYYY-MM (month 01-12), got '2024-13'"),
    ("bad_date", _replace_line(
        "accounts.csv", 4, "A-3,Cobalt Bank,finance,north,enterprise,outbound,Ada,team_a,2022-02-30,,yes"),
     "accounts.csv, line 4, column signed_on: expected a date YYYY-MM-DD, got '2022-02-30'"),
    ("date_out_of_range", _replace_line("events.csv", 3, "A-2,1989-12-31,admin_changed,,admin,x"),
     "events.csv, line 3, column occurred_on: date '1989-12-31' is out of range (1990-01-01 to 2100-12-31)"),
    ("week_not_monday", _replace_line("usage_weekly.csv", 4, "A-1,2024-01-02,10,9,8,2,150"),
     "usage_weekly.csv, line 4, column week_start: '2024-01-02' is a Tuesday, not a Monday"),
    ("bad_enum", _replace_line("renewals.csv", 5, "A-4,2025-02-01,960,,,won"),
     "renewals.csv, line 5, column outcome: 'won' is not one of renewed, deferred, churned, pending"),
    ("renewed_needs_arr", _replace_line("renewals.csv", 2, "A-1,2024-03-31,1200,2024-03-20,,renewed"),
     "renewals.csv, line 2, column renewed_arr: outcome 'renewed' needs renewed_arr"),
    ("empty_file", _write_bytes("accounts.csv", b""), "accounts.csv: file is empty"),
    ("accounts_header_only", _write_bytes(
        "accounts.csv", b"account_id,name,industry,region,segment,source_channel,csm,csm_team,signed_on,is_target\n"),
     "accounts.csv: no data rows; an import without accounts would empty the book "
     "(pass --allow-empty to import it anyway)"),
    ("not_utf8", _replace_line(
        "accounts.csv", 3, "A-2,Birch Retail,retail,south,mid_market,partner,Ben,team_b,2024-01-03,,true"),
     None),  # bytes patched in the test below: keeps the table readable
    ("ragged_row", _replace_line("usage_weekly.csv", 5, "A-2,2024-01-01,40,30,25,5,900,7"),
     "usage_weekly.csv, line 5: expected 7 fields like the header, found 8"),
    ("short_row", _replace_line("events.csv", 2, "A-1,2024-01-12,nps"),
     "events.csv, line 2: expected 6 fields like the header, found 3"),
    ("unterminated_quote", _replace_line("csm_logs.csv", 3, 'L-2,A-2,2024-01-20,Ben,risk_flag,sponsor_left,"oops'),
     "csm_logs.csv, line 3: unterminated quoted value"),
    ("mixed_line_endings", _append("usage_weekly.csv", "A-1,2024-01-22,10,9,8,2,150\r"),
     "usage_weekly.csv, line 11: mixed line endings (LF and CRLF); save the file with one kind"),
    ("duplicate_header", _write_bytes(
        "renewals.csv", b"account_id,due_on,due_arr,outcome,due_arr\nA-1,2024-03-31,1,renewed,2\n"),
     "renewals.csv: duplicate column 'due_arr' in the header (columns 3 and 5)"),
    ("semicolon_delimiter", _write_bytes(
        "events.csv", b"account_id;occurred_on;kind;score;role;note\nA-1;2024-01-12;nps;9;;\n"),
     "events.csv: only one column found; the file must be comma-separated (the header contains ';')"),
    ("blank_line_keeps_line_numbers", _chain(
        _replace_line("usage_weekly.csv", 4, "A-1,2024-01-15,10,9,8,2,lots"),
        _insert_blank_line_after("usage_weekly.csv", 2)),
     "usage_weekly.csv, line 5, column records_created: expected a whole number, got 'lots'"),
    ("quoted_line_break_keeps_line_numbers", _chain(
        _replace_line("csm_logs.csv", 2, 'L-1,A-3,2024-02-05,Ada,churn_reason,competitor,"two\nlines"'),
        _replace_line("csm_logs.csv", 5, "L-3,A-1,2024-01-10,Ada,call,,Quarterly review")),
     "csm_logs.csv, line 5, column kind: 'call' is not one of churn_reason, risk_flag, touchpoint, note"),
    ("both_revenue_shapes", lambda src: shutil.copy(PERIODS / "subscription_periods.csv", src),
     "{src}: both revenue_monthly.csv and subscription_periods.csv found; keep one revenue file"),
    ("no_revenue", _remove("revenue_monthly.csv"),
     "{src}: no revenue file (need revenue_monthly.csv or subscription_periods.csv)"),
    ("no_accounts", _remove("accounts.csv"), "{src}: no accounts.csv (required)"),
]


@pytest.mark.parametrize("corrupt, expected", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_one_exact_line_and_old_db_untouched(good_db, bad_dir, tmp_path, corrupt, expected):
    target_dir = tmp_path / "db"
    target_dir.mkdir()
    db = target_dir / DB_NAME
    shutil.copy(good_db, db)
    before = _sha256(db)
    corrupt(bad_dir)
    if expected is None:  # non-UTF-8: a Latin-1 byte on line 3
        path = bad_dir / "accounts.csv"
        path.write_bytes(path.read_bytes().replace(b"Birch", b"Birch caf\xe9"))
        expected = "accounts.csv: not valid UTF-8 (line 3)"
    with pytest.raises(UserError) as err:
        import_dir(bad_dir, db, build=False)
    assert str(err.value) == expected.format(src=bad_dir)
    assert "\n" not in str(err.value)
    assert _sha256(db) == before
    assert _listing(target_dir) == [DB_NAME]


def test_failed_import_without_existing_db_creates_nothing(bad_dir, tmp_path):
    _replace_line("renewals.csv", 5, "A-4,2025-02-01,960,,,won")(bad_dir)
    target_dir = tmp_path / "db"
    with pytest.raises(UserError):
        import_dir(bad_dir, target_dir / DB_NAME, build=False)
    assert _listing(target_dir) == []


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="folder not found"):
        import_dir(tmp_path / "nope", tmp_path / DB_NAME, build=False)


# --------------------------------------------------------------------------- subscription periods


def test_subscription_periods_expand_to_hand_computed_months(tmp_path):
    """C1: 50 Jan-Mar + 20 Mar-Apr (overlap in Mar -> 70). C2: 10 Jan-Feb, a gap, 10 in May
    (end 2024-06-15 excludes June); a 'addon' period starting and ending in Feb covers Feb."""
    db = tmp_path / DB_NAME
    summary = import_dir(PERIODS, db, build=False)
    assert _rows(db, "select * from raw_revenue_monthly") == [
        ("C1", "2024-01", "default", None, 50.0, 0.0),
        ("C1", "2024-02", "default", None, 50.0, 0.0),
        ("C1", "2024-03", "default", None, 70.0, 0.0),
        ("C1", "2024-04", "default", None, 20.0, 0.0),
        ("C2", "2024-01", "default", None, 10.0, 0.0),
        ("C2", "2024-02", "addon", None, 30.0, 0.0),
        ("C2", "2024-02", "default", None, 10.0, 0.0),
        ("C2", "2024-05", "default", None, 10.0, 0.0),
    ]
    assert summary.rows["revenue_monthly"] == 8 and summary.rows["accounts"] == 2
    assert "subscription_periods.csv: ignored extra column(s) subscription_id" in summary.warnings


def test_subscription_periods_without_accounts_synthesizes_them(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(PERIODS / "subscription_periods.csv", src)
    summary = import_dir(src, tmp_path / DB_NAME, build=False)
    assert _rows(tmp_path / DB_NAME, "select * from raw_accounts") == [
        ("C1", "C1", "unassigned", "unassigned", "unassigned", "unassigned", "unassigned", "unassigned",
         dt.date(2024, 1, 1), None, True),
        ("C2", "C2", "unassigned", "unassigned", "unassigned", "unassigned", "unassigned", "unassigned",
         dt.date(2024, 1, 15), None, True),
    ]
    assert summary.warnings[-1].startswith("no accounts.csv: created 2 accounts from subscription_periods.csv")


@pytest.mark.parametrize("line, expected", [
    ("6,C3,2024-01-01,2024-02-01,5,",
     "subscription_periods.csv, line 7, column customer_id: unknown account 'C3' (not in accounts.csv)"),
    ("6,C1,2024-03-01,2024-02-01,5,",
     "subscription_periods.csv, line 7, column end_date: 2024-02-01 is before start_date 2024-03-01"),
    ("6,C1,2024-03-01,2024-04-01,-5,",
     "subscription_periods.csv, line 7, column monthly_amount: negative amount '-5' (money must be >= 0)"),
])
def test_bad_subscription_periods(tmp_path, line, expected):
    src = tmp_path / "src"
    shutil.copytree(PERIODS, src)
    _append("subscription_periods.csv", line)(src)
    with pytest.raises(UserError) as err:
        import_dir(src, tmp_path / DB_NAME, build=False)
    assert str(err.value) == expected


# --------------------------------------------------------------------------- CLI and live readers


def test_cli_bad_import_exits_2_with_one_error_line(bad_dir, tmp_path):
    _replace_line("revenue_monthly.csv", 7, "A-2,2024-02,e_invoicing,,0,abc")(bad_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "cslib", "import", str(bad_dir), "--db", str(tmp_path / DB_NAME)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: revenue_monthly.csv, line 7, column mrr_usage: expected a number, got 'abc'"
    ]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / DB_NAME).exists()


def test_import_while_a_reader_holds_the_old_file(good_db, tmp_path):
    """The old read-only connection keeps its snapshot; a new process sees the new file.

    (In one process duckdb.connect(path) returns the cached instance of the old file while
    any old connection is open, so the new reader runs in a subprocess, as the app would.)
    """
    db = tmp_path / DB_NAME
    shutil.copy(good_db, db)
    old = duckdb.connect(str(db), read_only=True)
    try:
        assert old.execute("select count(*) from raw_accounts").fetchone() == (4,)
        import_dir(PERIODS, db, build=False)
        assert old.execute("select count(*) from raw_accounts").fetchone() == (4,)
        code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                "print(c.execute('select string_agg(account_id, \\',\\' order by account_id) "
                "from raw_accounts').fetchone()[0])")
        proc = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True,
                              text=True, timeout=60, check=True)
        assert proc.stdout.strip() == "C1,C2"
    finally:
        old.close()
    assert _listing(tmp_path) == [DB_NAME]


# --------------------------------------------------------------------------- integration (needs the models)


def test_integration_build_true_creates_models(tmp_path):
    """INTEGRATION: build=True runs pipeline.build_models, which needs the SQL models and
    config loaders other helpers write (stg_revenue, health_weekly, mrr_movements,
    account_month, scorecard, value tiers). Fails until those exist."""
    db = tmp_path / DB_NAME
    import_dir(IMPORT_OK, db, build=True)
    tables = {r[0] for r in _rows(db, "select table_name from information_schema.tables")}
    assert {"account_month", "health_weekly"} <= tables
    # one row per usage row, plus A-3's week of 2024-01-15: paid for, no usage row (a zero-filled week)
    assert _rows(db, "select count(*) from health_weekly") == [(10,)]
    assert _rows(db, "select week_start from health_weekly where account_id = 'A-3' order by 1")[-1] == (
        dt.date(2024, 1, 15),)
