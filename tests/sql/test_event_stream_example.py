"""examples/event_stream imports with its own scorecard: hand-computed weekly scores and tiers
(see examples/event_stream/README.md), the unlisted-feature warning, and the what-if's
scorecard rebuilt from the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cslib.store import db
from cslib.views import whatif
from cslib.store.importer import import_dir
from cslib.rules.scorecard import load_scorecard

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "event_stream"
MONDAYS = [dt.date(2025, 1, 6) + dt.timedelta(weeks=n) for n in range(8)]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    path = tmp_path_factory.mktemp("event_stream") / "ev.duckdb"
    summary = import_dir(EXAMPLE / "data", path, scorecard_path=EXAMPLE / "scorecard.toml")
    conn = db.connect(path)
    yield conn, summary, path
    conn.close()


def _weeks(conn, account_id):
    return db.query(
        conn, "select week_start, score, tier from health_weekly where account_id = ? order by week_start",
        [account_id],
    )


def test_acme_scores_by_hand(imported):
    conn, _, _ = imported
    acme = _weeks(conn, "acme")
    assert [d.date() for d in acme.week_start] == MONDAYS
    assert list(acme.score) == [100.0, 100.0, 92.5, 92.5, 92.5, 77.5, 77.5, 85.0]
    assert set(acme.tier) == {"healthy"}


def test_globex_turns_unhealthy_when_silent_while_paying(imported):
    conn, _, _ = imported
    globex = _weeks(conn, "globex")
    assert [d.date() for d in globex.week_start] == MONDAYS  # weeks 6-8 filled (no rows)
    assert list(globex.score) == [25.0, 25.0, 42.5, 42.5, 25.0, 12.5, 0.0, 0.0]
    assert list(globex.tier) == ["unhealthy", "unhealthy", "at_risk", "at_risk"] + ["unhealthy"] * 4


def test_a_trial_without_revenue_is_not_filled(imported):
    conn, _, _ = imported
    assert list(_weeks(conn, "initech").score) == [10.0, 10.0]


def test_indicators_explain_a_week(imported):
    conn, _, _ = imported
    rows = db.query(
        conn,
        "select h.indicator, i.label, h.value, h.week_points from health_indicator_weekly as h "
        "join cfg_indicators as i using (indicator) where account_id = 'acme' and week_start = ? "
        "order by i.ordinal",
        [MONDAYS[4]],
    )
    # week 5: 5 login days -> 40; seats 12 (changed on Wednesday), 8 users -> 0.667 -> 20;
    # invoice_sent + report_exported -> 25 points, 2 features used
    assert list(rows.itertuples(index=False, name=None)) == [
        ("modules", "Modules", 2.0, 25.0),
        ("active_days", "Active days", 5.0, 40.0),
        ("seat_usage", "Seat usage", pytest.approx(8 / 12), 20.0),
    ]


def test_the_import_warns_about_the_unlisted_feature(imported):
    _, summary, _ = imported
    assert "scorecard: 1 feature(s) not in [modules.points] score the default 0 point(s): api_call" in summary.warnings


def test_the_database_scorecard_is_the_example_scorecard(imported):
    conn, _, _ = imported
    assert whatif.current_scorecard(conn) == load_scorecard(EXAMPLE / "scorecard.toml")


def test_the_what_if_rescores_any_indicator_set(imported):
    """Unchanged: the stored scores exactly; login days weighing half: acme's week-8 score
    drops from 85 to 85 - 40/2 = 65 (both weeks of its window have 5 login days)."""
    conn, _, _ = imported
    from cslib.filters import Filters

    base = whatif.current_scorecard(conn)
    for sc, week8 in ((base, 85.0), (whatif.scorecard_with(base, weights={"active_days": 0.5}), 65.0)):
        mem = whatif.rescore_book(conn, sc, Filters(include_non_target=True))
        try:
            got = mem.execute(
                "select score from health_weekly where account_id = 'acme' and week_start = ?", [MONDAYS[7]]
            ).fetchone()[0]
            if sc is base:
                new = mem.execute("select * from health_weekly order by account_id, week_start").df()
                old = mem.execute(
                    "select h.* from src.health_weekly as h semi join whatif_accounts as a using (account_id) "
                    "order by account_id, week_start").df()  # the book: accounts with revenue
                assert len(new) == 16 and new.equals(old)
        finally:
            mem.close()
        assert got == week8


@pytest.mark.parametrize(
    "row,message",
    [
        ("acme,2025-01-06 25:00,login,1", "column date: expected a date YYYY-MM-DD or a timestamp "
                                          "YYYY-MM-DD HH:MM:SS, got '2025-01-06 25:00'"),
        ("acme,06/01/2025,login,1", "column date: expected a date YYYY-MM-DD or a timestamp "
                                    "YYYY-MM-DD HH:MM:SS, got '06/01/2025'"),
        ("acme,2025-02-30 10:00:00,login,1", "column date: expected a date YYYY-MM-DD or a timestamp "
                                             "YYYY-MM-DD HH:MM:SS, got '2025-02-30 10:00:00'"),
        ("acme,2025-01-06 09:00:00,login,-2", "column value: expected a value >= 0, got '-2'"),
    ],
)
def test_usage_metrics_cells_are_checked(tmp_path, row, message):
    from cslib.errors import UserError

    for name in ("accounts.csv", "revenue_monthly.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / "data" / name).read_bytes())
    (tmp_path / "usage_metrics.csv").write_text(
        "account_id,date,metric,value\nacme,2025-01-06T09:00:00Z,login,1\n" + row + "\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        import_dir(tmp_path, tmp_path / "db.duckdb", scorecard_path=EXAMPLE / "scorecard.toml")
    assert str(err.value) == f"usage_metrics.csv, line 3, {message}"
    assert not (tmp_path / "db.duckdb").exists()


def test_timestamps_with_offsets_keep_the_date_as_written(tmp_path):
    for name in ("accounts.csv", "revenue_monthly.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / "data" / name).read_bytes())
    (tmp_path / "usage_metrics.csv").write_text(
        "account_id,date,metric,value\n"
        "acme,2025-01-12T23:30:00+01:00,login,1\n"  # a Sunday: week of Monday 2025-01-06
        "acme,2025-01-13 00:10,login,1\n"  # the next Monday
        "acme, 2025-01-07 ,login,2.5\n", encoding="utf-8")
    import_dir(tmp_path, tmp_path / "db.duckdb", scorecard_path=EXAMPLE / "scorecard.toml")
    conn = db.connect(tmp_path / "db.duckdb")
    try:
        raw = db.query(conn, "select date, value from raw_usage_metrics order by date")
        weekly = db.query(conn, "select week_start, value from stg_usage_weekly where metric = 'login' "
                                "and not is_filled order by week_start")
    finally:
        conn.close()
    assert [d.date() for d in raw["date"]] == [dt.date(2025, 1, 7), dt.date(2025, 1, 12), dt.date(2025, 1, 13)]
    assert list(raw["value"]) == [2.5, 1.0, 1.0]
    # login is days_active: 2025-01-07 and 2025-01-12 in the first week, 2025-01-13 in the next
    assert [(d.date(), v) for d, v in zip(weekly["week_start"], weekly["value"])] == [
        (dt.date(2025, 1, 6), 2.0), (dt.date(2025, 1, 13), 1.0)]


def test_score_prints_the_unlisted_feature_warning(imported, tmp_path):
    import shutil
    import subprocess
    import sys

    _, _, imported_path = imported
    path = tmp_path / "copy.duckdb"
    shutil.copy(imported_path, path)
    proc = subprocess.run(
        [sys.executable, "-m", "cslib", "score", "--db", str(path), "--scorecard", str(EXAMPLE / "scorecard.toml")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "warning: scorecard: 1 feature(s) not in [modules.points] score the default 0 point(s): api_call"]
