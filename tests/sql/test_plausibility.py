"""Plausibility rules of the import (issue 14 item 5; "Plausibility checks" in docs/data-contract.md): each rule
on a small hand-made folder with its exact line, `check` listing several in one run, the
database untouched after a refusal, header-only files and --allow-empty, the default month
when revenue runs past the usage data, one trimming rule for every text cell."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cslib import months
from cslib.errors import UserError
from cslib.store.importer import check_dir, import_dir

REPO = Path(__file__).resolve().parents[2]
IMPORT_OK = REPO / "tests" / "fixtures" / "import_ok"
PERIODS = REPO / "tests" / "fixtures" / "periods"
DB_NAME = "hg.duckdb"
ACCOUNTS_HEADER = "account_id,name,industry,region,segment,source_channel,csm,csm_team,signed_on,lifecycle_stage,is_target"
#: the fixture's revenue runs to 2024-03, its usage weeks to 2024-01 (a warning of its own)
LATE_REVENUE = ("revenue_monthly.csv: 9 revenue rows in 2 months after the last usage month (2024-02 to 2024-03, "
                "no health scores there); the app opens on 2024-01, the last month with both revenue and usage")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def src(tmp_path) -> Path:
    dst = tmp_path / "src"
    shutil.copytree(IMPORT_OK, dst)
    return dst


def _set_line(path: Path, line_no: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    if line_no == len(lines) + 1:
        lines.append(text)
    lines[line_no - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _append(path: Path, *texts: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write("".join(t + "\n" for t in texts))


def _header_only(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def _refusal(src: Path, tmp_path: Path, **kwargs) -> str:
    with pytest.raises(UserError) as err:
        import_dir(src, tmp_path / DB_NAME, build=False, **kwargs)
    return str(err.value)


# --------------------------------------------------------------------------- refused: one exact line each

REFUSED = [
    ("money_1e308", "revenue_monthly.csv", 4, "A-1,2024-03,core_suite,professional,1e308,0",
     "revenue_monthly.csv, line 4, column mrr_subscription: amount '1e308' is above the ceiling of "
     "10,000,000 (a month: HEALTHGRID_MAX_MRR)"),
    ("money_usage_above_ceiling", "revenue_monthly.csv", 5, "A-2,2024-01,core_suite,professional,400,10000000.01",
     "revenue_monthly.csv, line 5, column mrr_usage: amount '10000000.01' is above the ceiling of "
     "10,000,000 (a month: HEALTHGRID_MAX_MRR)"),
    ("arr_above_12x_ceiling", "renewals.csv", 3, "A-2,2024-02-29,120000001,,,deferred",
     "renewals.csv, line 3, column due_arr: amount '120000001' is above the ceiling of 120,000,000 "
     "(a year: 12 x HEALTHGRID_MAX_MRR)"),
    ("nps_1000", "events.csv", 2, "A-1,2024-01-12,nps,1000,key_user,",
     "events.csv, line 2, column score: NPS 1000 is outside 0-10"),
    ("nps_negative", "events.csv", 2, "A-1,2024-01-12,nps,-1,key_user,",
     "events.csv, line 2, column score: NPS -1 is outside 0-10"),
    ("satisfaction_0", "events.csv", 2, "A-1,2024-01-12,satisfaction,0,key_user,",
     "events.csv, line 2, column score: satisfaction 0 is outside 1-5"),
    ("satisfaction_5_5", "events.csv", 2, "A-1,2024-01-12,satisfaction,5.5,key_user,",
     "events.csv, line 2, column score: satisfaction 5.5 is outside 1-5"),
    ("nul_in_name", "accounts.csv", 3, "A-2,Birch\x00Retail,retail,south,mid_market,partner,Ben,team_b,2024-01-03,,TRUE",
     "accounts.csv, line 3, column name: control character NUL (U+0000) in 'Birch?Retail' (text may not contain them)"),
    ("bell_in_csm", "accounts.csv", 2, "A-1,Acme Tools,manufacturing,north,smb,inbound,Ada\x07,team_a,2023-11-15,adoption,true",
     "accounts.csv, line 2, column csm: control character U+0007 in 'Ada?' (text may not contain them)"),
    ("escape_in_note", "csm_logs.csv", 4, "L-3,A-1,2024-01-10,Ada,touchpoint,,Quarterly \x1b[31mreview",
     "csm_logs.csv, line 4, column note: control character U+001B in 'Quarterly ?[31mreview' (text may not contain "
     "them)"),
    ("nul_in_product", "revenue_monthly.csv", 2, "A-1,2024-01,core\x00suite,starter,100,0",
     "revenue_monthly.csv, line 2, column product: control character NUL (U+0000) in 'core?suite' (text may not "
     "contain them)"),
    ("padded_duplicate_id", "accounts.csv", 6, " A-1 ,Delta Foods,food,west,smb,inbound,Ben,team_b,2024-02-01,onboarding,0",
     "accounts.csv, line 6: duplicate account_id 'A-1' (first on line 2)"),
]


@pytest.mark.parametrize("name, line_no, text, expected", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_values_are_one_exact_line_and_the_database_is_unchanged(src, tmp_path, name, line_no, text,
                                                                         expected):
    db = tmp_path / DB_NAME
    import_dir(IMPORT_OK, db, build=False)
    before = _sha256(db)
    _set_line(src / name, line_no, text)
    assert _refusal(src, tmp_path) == expected
    assert _sha256(db) == before
    assert check_dir(src).problems.lines() == [expected]


def test_the_money_ceiling_is_a_setting(src, tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHGRID_MAX_MRR", "5000")  # the fixture's largest MRR is 2,000, its ARR 27,600
    _set_line(src / "revenue_monthly.csv", 10, "A-3,2024-01,core_suite,enterprise,5000.5,0")
    _set_line(src / "renewals.csv", 3, "A-2,2024-02-29,60001,,,deferred")
    assert _refusal(src, tmp_path) == (
        "revenue_monthly.csv, line 10, column mrr_subscription: amount '5000.5' is above the ceiling of 5,000 "
        "(a month: HEALTHGRID_MAX_MRR) (2 problems; run `python -m cslib check " + str(src) + "` to list them all)")
    assert check_dir(src).problems.lines() == [
        "revenue_monthly.csv, line 10, column mrr_subscription: amount '5000.5' is above the ceiling of 5,000 "
        "(a month: HEALTHGRID_MAX_MRR)",
        "renewals.csv, line 3, column due_arr: amount '60001' is above the ceiling of 60,000 "
        "(a year: 12 x HEALTHGRID_MAX_MRR)"]
    monkeypatch.setenv("HEALTHGRID_MAX_MRR", "lots")
    assert _refusal(src, tmp_path) == "HEALTHGRID_MAX_MRR: expected a positive amount, got 'lots'"


def test_tab_and_line_breaks_in_free_text_are_kept(src, tmp_path):
    _set_line(src / "csm_logs.csv", 4, 'L-3,A-1,2024-01-10,Ada,touchpoint,,"Quarterly\treview\nsecond line"')
    import_dir(src, tmp_path / DB_NAME, build=False)
    assert _rows(tmp_path / DB_NAME, "select note from raw_csm_logs where log_id = 'L-3'") == [
        ("Quarterly\treview\nsecond line",)]


# --------------------------------------------------------------------------- warned: a count and the first line

WARNED = [
    ("seats_above_purchased", lambda s: (
        _set_line(s / "usage_weekly.csv", 3, "A-1,2024-01-08,10,117,7,2,140"),
        _set_line(s / "usage_weekly.csv", 5, "A-2,2024-01-01,40,41,25,5,900")),
     "usage_weekly.csv: 2 rows with seats_activated above seats_purchased, kept as they are "
     "(first on line 3: 117 activated of 10 purchased)"),
    ("renewal_far_from_due", lambda s: _set_line(s / "renewals.csv", 2, "A-1,2024-03-31,1200,2019-03-20,1800,renewed"),
     "renewals.csv: 1 renewal with renewed_on more than 366 days from due_on, kept as it is "
     "(first on line 2: due_on 2024-03-31, renewed_on 2019-03-20)"),
    ("pending_in_the_past", lambda s: _append(s / "renewals.csv", "A-3,2019-02-01,100,,,pending",
                                              "A-2,2024-02-01,100,,,pending"),
     "renewals.csv: 2 'pending' renewals due before 2024-03, the data's last month (first on line 6: "
     "due_on 2019-02-01); pending renewals count in no renewal rate (one past its due date without an order "
     "is 'deferred')"),
    ("ids_differ_by_case", lambda s: _append(
        s / "accounts.csv", "a-1,Acme lower,manufacturing,north,smb,inbound,Ada,team_a,2023-11-15,adoption,true",
        "A-9,Nine,retail,north,smb,inbound,Ada,team_a,2024-01-01,onboarding,true",
        "a-2,Birch lower,retail,south,mid_market,partner,Ben,team_b,2024-01-03,,true"),
     "accounts.csv: 2 account ids differ from another only by case, kept as different accounts "
     "(first on line 6: 'a-1', like 'A-1' on line 2)"),
]


@pytest.mark.parametrize("edit, expected", [c[1:] for c in WARNED], ids=[c[0] for c in WARNED])
def test_implausible_values_are_kept_with_one_warning(src, tmp_path, edit, expected):
    edit(src)
    summary = import_dir(src, tmp_path / DB_NAME, build=False)
    assert expected in summary.warnings
    assert [w for w in summary.warnings if w.split(":")[0] == expected.split(":")[0]
            and "no data rows" not in w and w != LATE_REVENUE] == [expected]
    report = check_dir(src)
    assert not report.problems.total and f"warning: {expected}" in report.lines()


def test_a_clean_book_has_no_plausibility_warning(src, tmp_path):
    _append(src / "usage_weekly.csv", "A-1,2024-03-04,10,9,8,2,150")  # usage reaches the last revenue month
    summary = import_dir(src, tmp_path / DB_NAME, build=False)
    assert summary.warnings == ["no reason_taxonomy.csv: using the default reason taxonomy "
                                "(cslib/config/reason_taxonomy.csv)"]
    assert summary.default_month is None


# --------------------------------------------------------------------------- trimming

def test_surrounding_spaces_are_trimmed_in_every_text_cell_ids_included(src, tmp_path):
    _set_line(src / "accounts.csv", 2,
              " A-1 , Acme Tools ,manufacturing,north,smb,inbound,Emma Wright ,team_a,2023-11-15, adoption ,true")
    _set_line(src / "accounts.csv", 3,
              "A-2,Birch Retail,retail,south,mid_market,partner,  Emma Wright,team_b,2024-01-03,onboarding,TRUE")
    _set_line(src / "revenue_monthly.csv", 2, "A-1 ,2024-01, core_suite ,starter ,100,0")
    _set_line(src / "csm_logs.csv", 4, "L-3 , A-1,2024-01-10, Ada ,touchpoint,, Quarterly review ")
    import_dir(src, tmp_path / DB_NAME, build=False)
    db = tmp_path / DB_NAME
    assert _rows(db, "select account_id, name, csm, lifecycle_stage from raw_accounts where account_id in ('A-1', 'A-2')"
                 ) == [("A-1", "Acme Tools", "Emma Wright", "adoption"), ("A-2", "Birch Retail", "Emma Wright", "onboarding")]
    assert _rows(db, "select count(distinct csm) from raw_accounts where csm like '%Emma%'") == [(1,)]
    assert _rows(db, "select account_id, product, plan from raw_revenue_monthly where month = '2024-01' "
                     "and mrr_subscription = 100") == [("A-1", "core_suite", "starter")]
    assert _rows(db, "select log_id, account_id, author, note from raw_csm_logs where log_id = 'L-3'") == [
        ("L-3", "A-1", "Ada", "Quarterly review")]


def test_every_cell_of_every_file_padded_imports_the_same_rows(src, tmp_path):
    """Before: padding was trimmed in number, date and boolean columns but refused in enum
    columns (' renewed ') and kept in ids (' A-1 ' an unknown account)."""
    import csv

    for path in sorted(src.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([rows[0]] + [[f"  {c} " if c else c for c in r]
                                                                       for r in rows[1:]])
    padded, plain = tmp_path / "padded.duckdb", tmp_path / "plain.duckdb"
    import_dir(src, padded, build=False)
    import_dir(IMPORT_OK, plain, build=False)
    for table in ("accounts", "revenue_monthly", "usage_weekly", "module_usage_weekly", "renewals", "csm_logs",
                  "events"):
        sql = f"select * from raw_{table}"
        assert _rows(padded, sql) == _rows(plain, sql), table


# --------------------------------------------------------------------------- header-only files

EMPTY = [
    ("accounts", lambda s: _header_only(s / "accounts.csv"),
     "accounts.csv: no data rows; an import without accounts would empty the book "
     "(pass --allow-empty to import it anyway)"),
    ("revenue_monthly", lambda s: _header_only(s / "revenue_monthly.csv"),
     "revenue_monthly.csv: no data rows; an import without revenue would empty the book "
     "(pass --allow-empty to import it anyway)"),
    ("usage_weekly", lambda s: _header_only(s / "usage_weekly.csv"),
     "usage_weekly.csv: no data rows; every health score would be unscored "
     "(remove it to import without usage, or pass --allow-empty to import it anyway)"),
    ("usage_both_shapes", lambda s: (_header_only(s / "usage_weekly.csv"),
                                     (s / "usage_metrics.csv").write_text("account_id,date,metric,value\n")),
     "usage_weekly.csv and usage_metrics.csv: no data rows; every health score would be unscored "
     "(remove them to import without usage, or pass --allow-empty to import it anyway)"),
]


@pytest.mark.parametrize("edit, expected", [c[1:] for c in EMPTY], ids=[c[0] for c in EMPTY])
def test_header_only_files_that_would_empty_the_book_are_refused_unless_allowed(src, tmp_path, edit, expected):
    db = tmp_path / DB_NAME
    import_dir(IMPORT_OK, db, build=False)
    before = _sha256(db)
    edit(src)
    assert _refusal(src, tmp_path) == expected
    assert _sha256(db) == before
    assert check_dir(src).problems.lines() == [expected]
    if "accounts" in expected.split(":")[0]:  # every other file then names unknown accounts
        assert _refusal(src, tmp_path, allow_empty=True).startswith(
            "revenue_monthly.csv, line 2, column account_id: unknown account 'A-1' (not in accounts.csv)")
        return
    assert not check_dir(src, allow_empty=True).problems.total
    summary = import_dir(src, db, build=False, allow_empty=True)
    allowed = expected.split(" (")[0] + " (imported anyway: --allow-empty)"
    assert allowed in summary.warnings


def test_header_only_usage_metrics_beside_usage_weekly_rows_is_fine(src, tmp_path):
    """The demo's export has a header-only usage_metrics.csv beside a full usage_weekly.csv."""
    (src / "usage_metrics.csv").write_text("account_id,date,metric,value\n")
    summary = import_dir(src, tmp_path / DB_NAME, build=False)
    assert summary.rows["usage_weekly"] == 9 and summary.rows["usage_metrics"] == 0


def test_header_only_subscription_periods_are_refused(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(PERIODS, src)
    _header_only(src / "subscription_periods.csv")
    assert _refusal(src, tmp_path) == (
        "subscription_periods.csv: no data rows; an import without revenue would empty the book "
        "(pass --allow-empty to import it anyway)")


def test_an_empty_book_allowed_imports_and_builds(src, tmp_path):
    for name in ("revenue_monthly.csv", "usage_weekly.csv", "module_usage_weekly.csv", "renewals.csv",
                 "csm_logs.csv", "events.csv"):
        _header_only(src / name)
    db = tmp_path / DB_NAME
    summary = import_dir(src, db, allow_empty=True)
    assert summary.rows["accounts"] == 4 and summary.rows["revenue_monthly"] == 0
    assert _rows(db, "select count(*) from account_month") == [(0,)]


# --------------------------------------------------------------------------- the default month

def test_revenue_past_the_usage_data_is_warned_and_the_default_month_is_the_last_with_both(src, tmp_path):
    _append(src / "revenue_monthly.csv", "A-1,2026-01,core_suite,starter,100,0")
    db = tmp_path / DB_NAME
    summary = import_dir(src, db)
    late = ("revenue_monthly.csv: 10 revenue rows in 3 months after the last usage month (2024-02 to 2026-01, "
            "no health scores there); the app opens on 2024-01, the last month with both revenue and usage")
    assert late in summary.warnings and summary.default_month == "2024-01"
    conn = duckdb.connect(str(db), read_only=True)
    try:
        assert months.data_months(conn) == ("2024-01", "2026-01")  # every month stays selectable
        assert months.default_month(conn) == "2024-01"
        from cslib.views.metrics import latest_month

        assert latest_month(conn) == "2024-01"
    finally:
        conn.close()
    proc = subprocess.run([sys.executable, "-m", "cslib", "report", "kpis", "--db", str(db)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"month": "2024-01"' in proc.stdout
    import json

    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    for name in ("kpis", "ninebox", "flows", "alerts", "revenue", "churn-reasons", "incentives"):
        payload = json.loads(render_report(name, db, ReportArgs(month=None, filters=Filters()), "json"))
        assert payload["month"] == "2024-01", name
    later = json.loads(render_report("kpis", db, ReportArgs(month="2026-01", filters=Filters()), "json"))
    assert later["month"] == "2026-01"  # still selectable


def test_usage_through_the_last_revenue_month_keeps_the_last_month(src, tmp_path):
    _append(src / "usage_weekly.csv", "A-1,2024-03-25,10,9,8,2,150")
    db = tmp_path / DB_NAME
    summary = import_dir(src, db, build=False)
    assert summary.default_month is None and LATE_REVENUE not in summary.warnings
    assert _rows(db, "select count(*) from import_meta where key = 'default_month'") == [(0,)]


# --------------------------------------------------------------------------- the command line

def _cli(*args) -> subprocess.CompletedProcess:
    """The CLI in this process (tests_support.cli: same status, stdout and stderr)."""
    from tests_support.cli import run_cli

    return run_cli(*args, cwd=REPO)


def test_check_lists_several_rules_in_one_run(src, tmp_path):
    _set_line(src / "accounts.csv", 3, "A-2,Birch\x00Retail,retail,south,mid_market,partner,Ben,team_b,2024-01-03,,TRUE")
    _append(src / "accounts.csv", "a-1,Acme lower,manufacturing,north,smb,inbound,Emma Wright ,team_a,2023-11-15,,true")
    _set_line(src / "revenue_monthly.csv", 4, "A-1,2024-03,core_suite,professional,1e308,0")
    _set_line(src / "usage_weekly.csv", 3, "A-1,2024-01-08,10,117,7,2,140")
    _set_line(src / "events.csv", 2, "A-1,2024-01-12,nps,1000,key_user,")
    _append(src / "events.csv", "A-2,2024-01-25,satisfaction,7,user,")
    _set_line(src / "renewals.csv", 2, "A-1,2024-03-31,1200,2019-03-20,1800,renewed")
    _append(src / "renewals.csv", "A-3,2019-02-01,100,,,pending")
    _header_only(src / "module_usage_weekly.csv")  # optional: header-only is fine
    proc = _cli("check", str(src))
    assert proc.returncode == 2
    lines = proc.stdout.split("\n\ncoverage:")[0].splitlines()
    assert lines == [
        "error: accounts.csv, line 3, column name: control character NUL (U+0000) in 'Birch?Retail' "
        "(text may not contain them)",
        "error: revenue_monthly.csv, line 4, column mrr_subscription: amount '1e308' is above the ceiling of "
        "10,000,000 (a month: HEALTHGRID_MAX_MRR)",
        "error: events.csv, line 2, column score: NPS 1000 is outside 0-10",
        "error: events.csv, line 4, column score: satisfaction 7 is outside 1-5",
        "warning: accounts.csv: 1 account id differs from another only by case, kept as different accounts "
        "(first on line 6: 'a-1', like 'A-1' on line 2)",
        "warning: usage_weekly.csv: 1 row with seats_activated above seats_purchased, kept as it is "
        "(first on line 3: 117 activated of 10 purchased)",
        "warning: renewals.csv: 1 renewal with renewed_on more than 366 days from due_on, kept as it is "
        "(first on line 2: due_on 2024-03-31, renewed_on 2019-03-20)",
        "warning: " + LATE_REVENUE,
        "warning: renewals.csv: 1 'pending' renewal due before 2024-03, the data's last month (first on line 6: "
        "due_on 2019-02-01); pending renewals count in no renewal rate (one past its due date without an order "
        "is 'deferred')",
        "4 problems in 3 files; nothing can be imported until they are fixed",
    ]
    db = tmp_path / DB_NAME
    refused = _cli("import", str(src), "--db", str(db))
    assert refused.returncode == 2 and not db.exists()
    assert refused.stderr.splitlines() == [
        "error: accounts.csv, line 3, column name: control character NUL (U+0000) in 'Birch?Retail' (text may not "
        f"contain them) (4 problems; run `python -m cslib check {src}` to list them all)"]


def test_allow_empty_flag_on_import_and_check(src, tmp_path):
    _header_only(src / "usage_weekly.csv")
    db = tmp_path / DB_NAME
    refused = _cli("import", str(src), "--db", str(db))
    assert refused.returncode == 2 and not db.exists()
    assert refused.stderr.splitlines() == [
        "error: usage_weekly.csv: no data rows; every health score would be unscored (remove it to import "
        "without usage, or pass --allow-empty to import it anyway)"]
    assert _cli("check", str(src)).returncode == 2
    checked = _cli("check", str(src), "--allow-empty")
    assert checked.returncode == 0
    assert ("warning: usage_weekly.csv: no data rows; every health score would be unscored "
            "(imported anyway: --allow-empty)") in checked.stdout.splitlines()
    done = _cli("import", str(src), "--db", str(db), "--allow-empty")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and db.exists()


# --------------------------------------------------------------------------- issue 14 item 4: no traceback

@pytest.fixture(scope="module")
def demo_export(tmp_path_factory) -> Path:
    """A small demo company's contract CSVs: enough renewals for the renewal model's fit."""
    from sample_data.generator import write_demo

    base = tmp_path_factory.mktemp("demo")
    write_demo(base / "demo.duckdb", n_accounts=150, n_months=24, export_dir=base / "csv")
    return base / "csv"


@pytest.mark.parametrize("case", ["no_usage_files", "header_only_usage", "header_only_revenue"])
def test_imports_without_usage_or_revenue_end_in_a_line_or_a_database_never_a_traceback(demo_export, tmp_path, case):
    """Before: the renewal fit failed on features without any value (a traceback from
    scikit-learn's binning); now the model says why it is not fitted."""
    src = tmp_path / "src"
    shutil.copytree(demo_export, src)
    args = []
    if case == "no_usage_files":
        for name in ("usage_weekly.csv", "module_usage_weekly.csv", "usage_metrics.csv"):
            (src / name).unlink()
    elif case == "header_only_usage":
        for name in ("usage_weekly.csv", "module_usage_weekly.csv"):
            _header_only(src / name)
        args = ["--allow-empty"]
    else:
        _header_only(src / "revenue_monthly.csv")
        args = ["--allow-empty"]
    db = tmp_path / DB_NAME
    proc = _cli("import", str(src), "--db", str(db), *args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    fit = _rows(db, "select is_fitted, message from model_renewal_fit")
    if case != "header_only_revenue":
        assert fit == [(False, "no health scores before the renewals the model learns from (no usage data): "
                               "the model needs them")]
        report = _cli("report", "model", "--db", str(db))
        assert report.returncode == 2 and "Traceback" not in report.stderr
        assert report.stderr.startswith("error: the renewal model could not be fitted on this book: no health scores")


def test_a_control_character_never_reaches_a_message(src, tmp_path):
    """Usage tables' ids are not checked for control characters (speed): an id with one is an
    unknown account, and the message shows it as '?'."""
    _set_line(src / "usage_weekly.csv", 2, "A\x01-1,2024-01-01,10,8,6,1,120")
    assert _refusal(src, tmp_path) == (
        "usage_weekly.csv, line 2, column account_id: unknown account 'A?-1' (not in accounts.csv)")
