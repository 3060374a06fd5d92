"""The command line: one-line errors with exit status 2, never a traceback.

Most tests call the CLI's main() in this process (tests_support.cli.run_cli: the same exit
status, stdout and stderr, without a new interpreter per call); the first test runs the
real ``python -m cslib`` in a subprocess, so the entry point and its exit status stay tested.
"""

import subprocess
import sys
from pathlib import Path

from tests_support.cli import run_cli as _run

ROOT = Path(__file__).resolve().parents[2]


def test_report_on_missing_database_is_one_line(tmp_path):
    """The real entry point: ``python -m cslib`` in a new process exits with status 2."""
    missing = tmp_path / "nope.duckdb"
    proc = subprocess.run([sys.executable, "-m", "cslib", "report", "kpis", "--db", str(missing)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {missing}: database not found "
                                   "(build it with 'python -m cslib demo' or import your data)")
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


def test_report_kpis_prints_the_overview_numbers(tmp_path):
    """`report kpis` gives the hand-computed tile values of the tiny book, JSON and CSV."""
    import csv
    import io
    import json

    import pytest

    from tests_support.book import TINY_EXPECTED, build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)
    proc = _run("report", "kpis", "--db", str(db), "--month", "2026-03")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    values = {row["name"]: row["value"] for row in payload["rows"]}
    expected = TINY_EXPECTED["2026-03"]
    for name in ("arr", "health_rate", "health_rate_mom", "renewal_rate_arr",
                 "renewal_rate_count", "nrr", "grr"):
        assert values[name] == pytest.approx(expected[name], abs=1e-6), name
    previous = {row["name"]: row["previous"] for row in payload["rows"]}
    assert previous["arr"] == pytest.approx(TINY_EXPECTED["2026-02"]["arr"])

    proc = _run("report", "kpis", "--db", str(db), "--month", "2026-03", "--format", "csv")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert float(rows["arr"]["value"]) == pytest.approx(216_000.0)
    assert float(rows["arr"]["delta"]) == pytest.approx(216_000.0 - 204_000.0)


def test_report_kpis_bad_month_is_one_line(tmp_path):
    from tests_support.book import build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)
    proc = _run("report", "kpis", "--db", str(db), "--month", "2026-13")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_score_recomputes_with_another_scorecard(tmp_path):
    """`score --scorecard` rebuilds health and the marts; a lower bar makes more ARR healthy.

    In the tiny book a2 (48,000 ARR) scores 35.0: at-risk at 70, healthy at 30.
    """
    import json

    import duckdb
    import pytest

    from cslib.settings import CONFIG_DIR
    from tests_support.book import build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)

    def health_rate():
        out = _run("report", "kpis", "--db", str(db), "--month", "2026-03")
        return {r["name"]: r["value"] for r in json.loads(out.stdout)["rows"]}["health_rate"]

    before = health_rate()
    lenient = tmp_path / "lenient.toml"
    text = (CONFIG_DIR / "scorecard.toml").read_text(encoding="utf-8")
    lenient.write_text(text.replace("healthy_min = 70", "healthy_min = 35").replace("unhealthy_below = 30", "unhealthy_below = 20"), encoding="utf-8")
    assert "healthy_min = 35" in lenient.read_text(encoding="utf-8")
    proc = _run("score", "--db", str(db), "--scorecard", str(lenient))
    assert proc.returncode == 0, proc.stderr
    after = health_rate()
    assert before == pytest.approx(120_000 / 216_000, abs=1e-6)
    assert after == pytest.approx(168_000 / 216_000, abs=1e-6)
    conn = duckdb.connect(str(db), read_only=True)
    params = conn.execute("select healthy_min from cfg_score_params").fetchall()
    conn.close()
    assert params == [(35.0,)]


def test_demo_command_is_deterministic(tmp_path):
    import hashlib

    import duckdb

    def build(name):
        db = tmp_path / name
        proc = _run("demo", "--db", str(db), "--accounts", "60", "--months", "8", "--seed", "3")
        assert proc.returncode == 0, proc.stderr
        conn = duckdb.connect(str(db), read_only=True)
        rows = conn.execute(
            "select account_id, month, product, mrr_subscription, mrr_usage "
            "from raw_revenue_monthly order by all"
        ).fetchall()
        n_accounts = conn.execute("select count(*) from account_month").fetchone()[0]
        conn.close()
        return hashlib.sha256(repr(rows).encode()).hexdigest(), n_accounts

    first, n_rows = build("a.duckdb")
    second, _ = build("b.duckdb")
    assert first == second
    assert n_rows > 60


def test_report_on_a_database_from_an_older_version_is_one_line(tmp_path):
    import duckdb

    from tests_support.book import build_tiny_book

    db = tmp_path / "old.duckdb"
    build_tiny_book(db)
    conn = duckdb.connect(str(db))
    conn.execute("drop table health_alerts")
    conn.close()
    proc = _run("report", "alerts", "--db", str(db))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {db}: built by an older version of Healthgrid (missing health_alerts); "
        f"rebuild its models with 'python -m cslib score --db {db}'"
    )


def test_report_as_a_user_is_scoped_by_the_role_map(tmp_path):
    """Tiny book, March 2026 ARR: whole book 216,000; team Growth (a2 + a3 + a5) 96,000;
    CSM Ben Okafor (a2 + a3) 60,000 (tests/app/test_access_app.py); deny by default."""
    import json
    import os

    from tests_support.book import build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)
    roles = tmp_path / "roles.toml"
    roles.write_text(
        '[users."ceo@example.com"]\nrole = "executive"\n\n'
        '[users."dana@example.com"]\nrole = "director"\nteams = ["Growth"]\n\n'
        '[users."ben@example.com"]\nrole = "csm"\ncsm = "Ben Okafor"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HEALTHGRID_ROLES": str(roles)}

    def arr(*extra):
        proc = _run("report", "kpis", "--db", str(db), "--month", "2026-03", *extra, env=env)
        assert proc.returncode == 0, proc.stderr
        return {row["name"]: row["value"] for row in json.loads(proc.stdout)["rows"]}["arr"]

    assert arr("--as", "ceo@example.com") == 216_000
    assert arr("--as", "Dana@Example.com") == 96_000
    assert arr("--as", "ben@example.com") == 60_000
    # a director asking for another team's accounts gets nothing of them
    assert arr("--as", "dana@example.com", "--csm-team", "Enterprise") == 0
    proc = _run("report", "kpis", "--db", str(db), "--as", "eve@example.com", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: eve@example.com: not in the role map {roles}: no access"


# --------------------------------------------------------------------------- import --mapping and check (issue 12)


def test_check_lists_every_problem_exits_2_and_writes_nothing(tmp_path):
    import shutil

    src = tmp_path / "bad"
    shutil.copytree(ROOT / "tests" / "fixtures" / "import_ok", src)
    (src / "events.csv").write_text("account_id,occurred_on,kind,score,role,note\n"
                                    "A-1,2024-01-12,nps,ten,,\nA-7,2024-13-01,party,,,\n")
    (src / "accounts.csv").write_text((src / "accounts.csv").read_text() + "A-4,Again,,,,,,,,,\n")
    (src / "usage_weekly.csv").write_text("account_id,week_start\nA-1,2024-01-01\n")
    proc = _run("check", str(src))
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stdout.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: accounts.csv, line 6: duplicate account_id 'A-4' (first on line 5)",
        "error: usage_weekly.csv: missing required columns 'seats_purchased' (INTEGER), 'seats_activated' "
        "(INTEGER), 'users_logged_in' (INTEGER), 'users_bi' (INTEGER), 'records_created' (INTEGER)",
        "error: events.csv, line 2, column score: expected a number, got 'ten'",
        "error: events.csv, line 3, column occurred_on: expected a date YYYY-MM-DD, got '2024-13-01'",
        "error: events.csv, line 3, column kind: 'party' is not one of admin_changed, dept_head_changed, nps, "
        "satisfaction, complaint",
        "error: events.csv, line 3, column account_id: unknown account 'A-7' (not in accounts.csv)",
    ]
    assert "6 problems in 3 files; nothing can be imported until they are fixed" in proc.stdout
    assert "coverage:" in proc.stdout and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


def test_import_and_check_with_the_shipped_billing_mapping(tmp_path):
    folder = ROOT / "examples" / "billing_export"
    proc = _run("check", str(folder), "--mapping", str(folder / "mapping.toml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems found" in proc.stdout
    db = tmp_path / "billing.duckdb"
    proc = _run("import", str(folder), "--mapping", str(folder / "mapping.toml"), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"imported 2 tables, 25 rows into {db}"
    proc = _run("import", str(folder), "--mapping", str(tmp_path / "missing.toml"), "--db", str(db))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: missing.toml: mapping file not found ({tmp_path / 'missing.toml'})"


def test_a_filter_value_no_account_has_is_one_line_not_an_empty_report(tmp_path):
    """`--csm-team Enterprise` on a book whose teams are codes: one line naming the values the
    data has, exit 2, no traceback (it once ended in a KeyError in report flows)."""
    from tests_support.book import build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)
    run = _run("report", "flows", "--db", str(db), "--csm-team", "Strategic")
    assert run.returncode == 2
    assert run.stderr.strip() == "error: no account has csm_team 'Strategic' (the data has: Enterprise, Growth)"
    assert "Traceback" not in run.stderr
    ok = _run("report", "flows", "--db", str(db), "--csm-team", "Enterprise",
              "--segment", "smb")  # real values, no account in both
    assert ok.returncode == 0, ok.stderr
    assert '"value": null' in ok.stdout


def test_the_old_bench_command_says_where_the_benchmarks_went():
    """``python -m cslib bench`` (with or without its old options) is one line and status 2:
    the benchmarks live outside the product, in ``python -m bench``."""
    for args in (["bench"], ["bench", "--accounts", "3000", "--months", "15"]):
        proc = _run(*args)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.strip() == ("error: the benchmarks run outside the product: python -m bench "
                               "[--accounts N,...] [--months M] from the repository's folder (docs/benchmarks.md)")


def test_an_unknown_option_is_still_refused():
    proc = _run("report", "kpis", "--bogus")
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr
