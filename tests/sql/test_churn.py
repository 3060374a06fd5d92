"""Churn reasons: breakdowns, reason matching, health before churn, flags and notes on the
hand-made book of tests_support/churn_book.py (its docstring shows the arithmetic)."""

from __future__ import annotations

import json
import math

import duckdb
import pandas as pd
import pytest

from cslib.views import churn
from cslib.cli import main as cli
from cslib.store.db import query
from cslib.filters import Filters
from tests_support import churn_book as book

FROM, TO = book.PERIOD
ALL = Filters()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("churn") / "churn.duckdb"
    book.build_churn_book(path)
    return path


@pytest.fixture(scope="module")
def conn(db_path):
    c = duckdb.connect(str(db_path), read_only=True)
    yield c
    c.close()


def _as_dict(df: pd.DataFrame) -> dict:
    return {v: (int(n), float(a)) for v, n, a in zip(df["value"], df["churned_accounts"], df["churned_arr"])}


# --------------------------------------------------------------------------- breakdowns
@pytest.mark.parametrize(
    "by,expected",
    [
        ("reason", book.EXPECTED_BY_REASON),
        ("category", book.EXPECTED_BY_CATEGORY),
        ("segment", book.EXPECTED_BY_SEGMENT),
        ("avoidable", book.EXPECTED_BY_AVOIDABLE),
    ],
)
def test_breakdown_counts_arr_and_shares_are_hand_computed(conn, by, expected):
    df = churn.churn_breakdown(conn, ALL, FROM, TO, by)
    assert _as_dict(df) == expected
    n_total = sum(n for n, _ in expected.values())
    for value, account_share, arr_share in zip(df["value"], df["account_share"], df["arr_share"]):
        assert account_share == pytest.approx(expected[value][0] / n_total)
        assert arr_share == pytest.approx(expected[value][1] / book.TOTAL_ARR)
    assert df["account_share"].sum() == pytest.approx(1.0)
    assert df["arr_share"].sum() == pytest.approx(1.0)
    assert list(df["churned_arr"]) == sorted(df["churned_arr"], reverse=True)


@pytest.mark.parametrize("by", list(churn.BREAKDOWNS))
def test_every_breakdown_adds_up_to_the_summary(conn, by):
    summary = churn.churn_summary(conn, ALL, FROM, TO)
    df = churn.churn_breakdown(conn, ALL, FROM, TO, by)
    assert df["churned_accounts"].sum() == summary["churned_accounts"] == 6
    assert df["churned_arr"].sum() == pytest.approx(summary["churned_arr"]) 
    assert summary["churned_arr"] == book.TOTAL_ARR
    assert df["account_share"].sum() == pytest.approx(1.0) and df["arr_share"].sum() == pytest.approx(1.0)


def test_reason_rows_carry_taxonomy_attributes(conn):
    df = churn.churn_breakdown(conn, ALL, FROM, TO, "reason").set_index("value")
    assert df.loc["competitor", "label"] == "Switched to a competitor"
    assert df.loc["competitor", "owner_department"] == "Sales director"
    assert df.loc["out_of_business", "avoidability"] == "unavoidable"
    assert df.loc["unclassified", "label"] == "Unclassified (code not in the taxonomy)"
    assert df.loc["no_reason_logged", "avoidability"] == "unknown"


def test_summary_tiles(conn):
    s = churn.churn_summary(conn, ALL, FROM, TO)
    assert s["avoidable_accounts"] == 3 and s["avoidable_arr"] == 156_000
    assert s["avoidable_arr_share"] == pytest.approx(156 / 258)
    assert s["no_reason_accounts"] == 1 and s["unclassified_accounts"] == 1
    assert s["onboarding_accounts"] == 2  # c2 (tenure 2) and c6 (tenure 3)
    assert s["scored_accounts"] == 2 and s["healthy_at_churn_accounts"] == 1  # c1


def test_lifecycle_and_contract_stage(conn):
    stage = _as_dict(churn.churn_breakdown(conn, ALL, FROM, TO, "lifecycle_stage"))
    assert stage == {"adoption": (4, 240_000.0), "onboarding": (2, 18_000.0)}
    contract_stage = _as_dict(churn.churn_breakdown(conn, ALL, FROM, TO, "contract_stage"))
    assert contract_stage == {"later_renewal": (1, 120_000.0), "first_renewal": (5, 138_000.0)}


def test_filters_and_non_target(conn):
    smb = churn.churn_breakdown(conn, Filters(segment=("smb",)), FROM, TO, "reason")
    assert _as_dict(smb) == {"price": (1, 24_000.0), "onboarding_failed": (1, 12_000.0), "unclassified": (1, 6_000.0)}
    onboarding = churn.churn_summary(conn, Filters(lifecycle_stage=("onboarding",)), FROM, TO)
    assert onboarding["churned_accounts"] == 2 and onboarding["churned_arr"] == 18_000
    april = churn.churn_breakdown(conn, Filters(include_non_target=True), "2026-04", "2026-04", "reason")
    assert _as_dict(april) == {
        "competitor": (1, 120_000.0), "out_of_business": (1, 60_000.0),
        "price": (1, 18_000.0), "unclassified": (1, 6_000.0),
    }


def test_unknown_breakdown_is_a_user_error(conn):
    with pytest.raises(churn.UserError, match="unknown breakdown 'colour'"):
        churn.churn_breakdown(conn, ALL, FROM, TO, "colour")


# --------------------------------------------------------------------------- reason matching
def test_nearest_log_within_the_window_wins(conn):
    rows = query(conn, "select account_id, churn_month, reason_log_id, days_from_churn_month, reason_code "
                       "from churn_events order by account_id")
    got = {r.account_id: (r.churn_month, r.reason_log_id, r.days_from_churn_month, r.reason_code)
           for r in rows.itertuples()}
    assert got["c1"] == ("2026-04", "L08", 0, "competitor")  # 'Competitor' normalised
    assert got["c2"] == ("2026-03", "L02", 9, "onboarding_failed")  # Feb 20 -> Mar 1
    assert got["c3"] == ("2026-05", "L04", 60, "price")  # exactly 60 days: inside
    assert got["c4"] == ("2026-04", "L09", 0, "out_of_business")  # beats 'price' 7 days before
    assert pd.isna(got["c5"][1]) and got["c5"][3] == "no_reason_logged"  # 61 days: outside
    assert got["c6"] == ("2026-04", "L06", 0, "unclassified")
    assert "c7" not in got


def test_trend_has_every_month(conn):
    df = churn.churn_trend(conn, ALL, "2026-01", "2026-06")
    assert sorted(set(df["month"])) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    per_month = df.groupby("month")["churned_arr"].sum().to_dict()
    assert per_month == {"2026-01": 0, "2026-02": 0, "2026-03": 12_000, "2026-04": 186_000,
                         "2026-05": 60_000, "2026-06": 0}


# --------------------------------------------------------------------------- health before churn
def test_health_before_churn_by_reason(conn):
    df = churn.reason_vs_health(conn, ALL, FROM, TO).set_index("reason_code")
    c = df.loc["competitor"]
    assert (c["weeks_scored"], c["mean_score"], c["healthy_week_share"]) == (13, 96.0, 1.0)
    o = df.loc["onboarding_failed"]
    assert (o["weeks_scored"], o["mean_score"], o["unhealthy_week_share"]) == (7, 1.0, 1.0)
    assert o["healthy_week_share"] == 0.0
    assert df.loc["price", "scored_accounts"] == 0 and math.isnan(df.loc["price", "mean_score"])
    # one churn per reason: fewer than MIN_SCORED_CHURNS, so nothing is flagged
    assert set(df["signal_check"]) == {churn.SIGNAL_TOO_FEW} and not df["is_flagged"].any()


def test_weeks_observed_counts_the_unscored_first_week(conn):
    row = query(conn, "select weeks_observed, weeks_scored, last_tier from churn_events where account_id = 'c2'")
    assert tuple(row.iloc[0]) == (8, 7, "unhealthy")


@pytest.mark.parametrize(
    "code,scored,share,expected",
    [
        ("never_adopted", 5, 0.5, churn.SIGNAL_CONTRADICTS),
        ("onboarding_failed", 3, 0.49, churn.SIGNAL_AGREES),
        ("kp_changed", 3, 0.25, churn.SIGNAL_INVISIBLE),
        ("competitor", 10, 0.24, churn.SIGNAL_AGREES),
        ("never_adopted", 3, 0.3, churn.SIGNAL_AGREES),  # invisible threshold does not apply
        ("out_of_business", 2, 1.0, churn.SIGNAL_TOO_FEW),
        ("price", 4, float("nan"), churn.SIGNAL_TOO_FEW),
    ],
)
def test_signal_check_rule(code, scored, share, expected):
    assert churn.signal_check(code, scored, share) == expected


# --------------------------------------------------------------------------- risk flags
def test_risk_flag_board_for_june(conn):
    df = churn.risk_flags(conn, ALL, "2026-06", "2026-06")
    got = [(r.flag_code, r.owner_department, r.status, r.age_days, r.days_to_resolve if r.status == "resolved" else None)
           for r in df.itertuples()]
    assert got == [
        ("nps_detractor", "CS director", "open", 20, None),
        ("complaint", "Support lead", "resolved", 29, 4),
    ]


def test_risk_flag_status_depends_on_the_as_of_date(conn):
    may = churn.risk_flags(conn, ALL, "2026-05", "2026-05")
    assert list(zip(may["flag_code"], may["status"], may["age_days"])) == [("bug_instability", "open", 21)]
    may_june = churn.risk_flags(conn, ALL, "2026-05", "2026-06").set_index("flag_code")
    assert may_june.loc["bug_instability", "status"] == "resolved"
    assert may_june.loc["bug_instability", "days_to_resolve"] == 26
    assert may_june.loc["bug_instability", "owner_department"] == "R&D lead"
    owners = churn.risk_flag_owners(conn, ALL, "2026-05", "2026-06").set_index("owner_department")
    assert owners[["open", "resolved", "total"]].to_dict("index") == {
        "CS director": {"open": 1, "resolved": 0, "total": 1},
        "R&D lead": {"open": 0, "resolved": 1, "total": 1},
        "Support lead": {"open": 0, "resolved": 1, "total": 1},
    }


def test_unresolved_flag_stays_open(conn):
    feb = churn.risk_flags(conn, ALL, "2026-02", "2026-06")
    late = feb[feb["flag_code"] == "late_go_live"].iloc[0]
    assert (late["status"], late["age_days"], late["owner_department"]) == ("open", 140, "Delivery lead")


# --------------------------------------------------------------------------- notes
@pytest.mark.parametrize(
    "text,expected",
    [
        ("100%", ["L11"]),  # a literal percent sign
        ("100_", []),  # '_' is literal, not a wildcard
        ("SCRIPT", ["L12"]),  # case-insensitive
        ("", ["L12", "L11"]),  # every note of June, newest first
        ("%", ["L11"]),
    ],
)
def test_notes_search_is_a_literal_case_insensitive_substring(conn, text, expected):
    df = churn.search_notes(conn, ALL, "2026-06", "2026-06", text)
    assert list(df["log_id"]) == expected


def test_notes_search_respects_filters_and_returns_text_unchanged(conn):
    assert churn.search_notes(conn, Filters(segment=("smb",)), "2026-06", "2026-06", "").empty
    df = churn.search_notes(conn, ALL, "2026-06", "2026-06", "<b>")
    assert list(df["note"]) == [book.SCRIPT_NOTE]


def test_unclassified_logs_are_counted(conn):
    df = churn.unclassified_logs(conn)
    assert df.to_dict("records") == [{"code_as_logged": "Mystery Code", "kind": "churn_reason", "n_logs": 1}]


# --------------------------------------------------------------------------- codes and periods
@pytest.mark.parametrize(
    "raw,expected",
    [
        (" Out-of-Business ", "out_of_business"),
        ("KP  changed", "kp_changed"),
        ("price", "price"),
        ("Bug - Instability", "bug_instability"),
        ("\tNever Adopted\n", "never_adopted"),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_code_python_and_sql_agree(raw, expected):
    assert churn.normalise_code(raw) == expected
    sql = (
        "select nullif(regexp_replace(lower(regexp_replace(?, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g'), '')"
    )
    assert duckdb.connect().execute(sql, [raw]).fetchone()[0] == expected
    # the same expression is what the staging views use
    from cslib.store.db import sql_file

    for view in ("stg_csm_logs", "stg_churn_feedback", "stg_reason_taxonomy"):  # churn_logs, churn_taxonomy read them
        assert "regexp_replace(lower(regexp_replace(reason_code, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g')" in sql_file(view)


@pytest.mark.parametrize(
    "period,month,expected",
    [
        ("month", "2026-05", ("2026-05", "2026-05")),
        ("quarter", "2026-05", ("2026-04", "2026-06")),
        ("quarter", "2025-08", ("2025-07", "2025-09")),
        ("t12m", "2026-06", ("2025-07", "2026-06")),
        ("t12m", "2026-01", ("2025-07", "2026-01")),  # clipped to the data
    ],
)
def test_period_bounds(period, month, expected):
    assert churn.period_bounds(period, month, book.CHURN_MONTHS) == expected


# --------------------------------------------------------------------------- command line
def test_report_json_and_csv(db_path, capsys):
    assert cli.main(["report", "churn-reasons", "--db", str(db_path), "--from", FROM, "--to", TO,
                     "--by", "segment", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["month"] == "2026-03..2026-05"
    rows = {r["segment"]: (r["churned_accounts"], r["churned_arr"]) for r in payload["breakdown"]}
    assert rows == {k: (n, a) for k, (n, a) in book.EXPECTED_BY_SEGMENT.items()}
    assert cli.main(["report", "churn-reasons", "--db", str(db_path), "--from", FROM, "--to", TO,
                     "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # three tables stacked: the breakdown, the match rate (one row), the page's tiles (one row)
    assert lines[0].startswith("table,reason,label,churned_accounts,churned_arr,account_share,arr_share")
    assert ",matched_accounts,matched_arr,unmatched_accounts,unmatched_arr,unclassified_accounts,match_rate," \
           "arr_match_rate,window_days,unused_reason_entries," in lines[0]
    assert lines[0].endswith(",avoidable_accounts,avoidable_arr,no_reason_accounts,no_reason_arr,onboarding_accounts,"
                             "scored_accounts,healthy_at_churn_accounts,avoidable_arr_share")
    assert lines[1].startswith("breakdown,competitor,Switched to a competitor,1,120000.0,0.166667,0.465116")
    assert len(lines) == 1 + 6 + 1 + 1
    assert lines[-2].startswith("match_rate,,,6,258000.0,")
    assert lines[-2].endswith(",5.0,222000.0,1.0,36000.0,1.0,0.833333,0.860465,60.0,2.0,,,,,,,,")
    assert lines[-1] == "summary,,,6,258000.0,,,,,,,,,,1.0,,,,,3.0,156000.0,1.0,36000.0,2.0,2.0,1.0,0.604651"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--by", "colour"], "error: unknown --by 'colour' (choose from reason, category, avoidable, segment"),
        (["--from", "2026-13"], "error: --from must be YYYY-MM, got '2026-13'"),
        (["--from", "2030-01"], "error: --from 2030-01 is not in the data (2025-07 to 2026-06)"),
        (["--from", "2026-05", "--to", "2026-03"], "error: --from 2026-05 is after --to 2026-03"),
    ],
)
def test_report_bad_arguments_exit_2(db_path, capsys, args, message):
    assert cli.main(["report", "churn-reasons", "--db", str(db_path), *args]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_churn_events_reconcile_with_the_churn_movements(conn):
    """Every account churn movement is one churn event, with churned ARR = -12 x churn MRR."""
    got = query(conn, "select churn_month as month, count(*) as n, sum(churned_arr) as arr "
                      "from churn_events group by 1 order by 1")
    want = query(conn, "select month, count(*) as n, -12 * sum(churn_mrr) as arr from account_month "
                       "where churn_mrr < 0 group by 1 order by 1")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


# --------------------------------------------------------------------------- match rate and window
def test_match_rate_by_count_and_arr(conn):
    m = churn.reason_match_rate(conn, ALL, FROM, TO)
    # c5 (36,000) has no churn_reason log within 60 days; c6's 'Mystery Code' is matched (unclassified)
    assert {k: v for k, v in m.items() if k not in ("match_rate", "arr_match_rate")} == {
        "churned_accounts": 6, "churned_arr": 258_000.0, "matched_accounts": 5, "matched_arr": 222_000.0,
        "unmatched_accounts": 1, "unmatched_arr": 36_000.0, "unclassified_accounts": 1, "window_days": 60,
        "unused_reason_entries": 2,  # L03 (c5, 61 days away) and L05 (c4, beaten by L09)
    }
    assert m["match_rate"] == pytest.approx(5 / 6)
    assert m["arr_match_rate"] == pytest.approx(222 / 258)


@pytest.mark.parametrize(
    "filters,month_from,month_to,expected",
    [
        (Filters(segment=("smb",)), FROM, TO, (3, 42_000.0, 3, 42_000.0)),  # c2, c3, c6
        (Filters(segment=("mid_market",)), FROM, TO, (2, 96_000.0, 1, 60_000.0)),  # c4 yes, c5 no
        (Filters(include_non_target=True), "2026-04", "2026-04", (4, 204_000.0, 4, 204_000.0)),  # + c8
    ],
)
def test_match_rate_follows_the_slice_and_period(conn, filters, month_from, month_to, expected):
    m = churn.reason_match_rate(conn, filters, month_from, month_to)
    assert (m["churned_accounts"], m["churned_arr"], m["matched_accounts"], m["matched_arr"]) == expected
    assert m["match_rate"] == pytest.approx(expected[2] / expected[0])
    assert m["arr_match_rate"] == pytest.approx(expected[3] / expected[1])


def test_match_rate_without_churn_is_nan_not_zero(conn):
    m = churn.reason_match_rate(conn, ALL, "2026-01", "2026-02")
    assert m["churned_accounts"] == 0 and m["matched_accounts"] == 0
    assert math.isnan(m["match_rate"]) and math.isnan(m["arr_match_rate"])


def test_report_json_has_the_match_rate(db_path, capsys):
    assert cli.main(["report", "churn-reasons", "--db", str(db_path), "--from", FROM, "--to", TO,
                     "--segment", "mid_market", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["match_rate"] == [{
        "churned_accounts": 2, "churned_arr": 96_000.0, "matched_accounts": 1, "matched_arr": 60_000.0,
        "unmatched_accounts": 1, "unmatched_arr": 36_000.0, "unclassified_accounts": 0,
        "match_rate": 0.5, "arr_match_rate": 0.625, "window_days": 60, "unused_reason_entries": 2,
    }]


@pytest.mark.parametrize(
    "window,matched,c5",
    [
        # 61 days: c5's 'price' log of 2026-03-01 (61 days before May) now counts
        ("61", (6, 258_000.0), ("L03", 61, "price")),
        # 0 days: only logs inside the churn month: c1, c4, c6 (c2 9 days, c3 60 days out)
        ("0", (3, 186_000.0), (None, None, "no_reason_logged")),
        (" 60 ", (5, 222_000.0), (None, None, "no_reason_logged")),  # surrounding spaces are fine
    ],
)
def test_the_window_setting_decides_which_churns_have_a_reason(tmp_path, monkeypatch, window, matched, c5):
    monkeypatch.setenv("HEALTHGRID_REASON_WINDOW_DAYS", window)
    path = tmp_path / "churn.duckdb"
    book.build_churn_book(path)
    with duckdb.connect(str(path), read_only=True) as c:
        m = churn.reason_match_rate(c, ALL, FROM, TO)
        assert (m["matched_accounts"], m["matched_arr"]) == matched
        assert (m["churned_accounts"], m["churned_arr"]) == (6, 258_000.0)
        assert m["window_days"] == int(window) == churn.reason_window_days(c)
        row = c.execute("select reason_log_id, days_from_churn_month, reason_code from churn_events "
                        "where account_id = 'c5'").fetchone()
    assert row == c5


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "HEALTHGRID_REASON_WINDOW_DAYS: expected a whole number of days, got 'abc'"),
        ("7.5", "HEALTHGRID_REASON_WINDOW_DAYS: expected a whole number of days, got '7.5'"),
        ("", "HEALTHGRID_REASON_WINDOW_DAYS: expected a whole number of days, got ''"),
        ("-1", "HEALTHGRID_REASON_WINDOW_DAYS: expected 0 to 365 days, got -1"),
        ("366", "HEALTHGRID_REASON_WINDOW_DAYS: expected 0 to 365 days, got 366"),
    ],
)
def test_a_bad_window_setting_is_one_line_and_leaves_the_database(db_path, tmp_path, monkeypatch, capsys,
                                                                   value, message):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    monkeypatch.setenv("HEALTHGRID_REASON_WINDOW_DAYS", value)
    assert cli.main(["score", "--db", str(copy)]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert copy.read_bytes() == db_path.read_bytes()


# --------------------------------------------------------------------------- churn events (churn_feedback)
def test_churn_events_become_churn_reasons_without_touching_the_csm_logs(db_path, tmp_path):
    from cslib.store import pipeline

    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    with duckdb.connect(str(copy)) as c:
        c.executemany("insert into raw_churn_feedback values (?, ?, ?, ?)", [
            ("c5", "2026-05-03", "Price", "Too expensive after the price rise"),  # churned in May
            ("c3", "2026-05-20", " competitor ", None),  # nearer than the 'price' log of 2026-03-02
            ("c7", "2026-06-15", None, "Not churned: stays unmatched"),
        ])
        pipeline.build_models(c)
        assert c.execute("select count(*) from raw_csm_logs").fetchone()[0] == 12
        logs = c.execute("select log_id, author, kind, reason_code, note from churn_logs "
                         "where author = 'churn event' order by log_id").fetchall()
        events = c.execute("select account_id, reason_log_id, reason_code, reason_note from churn_events "
                           "where account_id in ('c3', 'c5') order by account_id").fetchall()
        m = churn.reason_match_rate(c, ALL, FROM, TO)
        notes = churn.search_notes(c, ALL, "2026-05", "2026-05", "price rise")
    assert logs == [
        ("churn-event:c3:2026-05-20", "churn event", "churn_reason", "competitor", None),
        ("churn-event:c5:2026-05-03", "churn event", "churn_reason", "price", "Too expensive after the price rise"),
        ("churn-event:c7:2026-06-15", "churn event", "churn_reason", None, "Not churned: stays unmatched"),
    ]
    assert events == [
        ("c3", "churn-event:c3:2026-05-20", "competitor", None),
        ("c5", "churn-event:c5:2026-05-03", "price", "Too expensive after the price rise"),
    ]
    assert (m["matched_accounts"], m["matched_arr"], m["match_rate"]) == (6, 258_000.0, 1.0)
    assert list(notes["author"]) == ["churn event"]


def test_unmatched_reasons_say_why(conn):
    df = churn.unmatched_reasons(conn, ALL, "2026-02", "2026-05")
    got = [tuple(r) for r in df[["log_id", "source", "reason_code", "nearest_churn_month",
                                 "days_from_nearest_churn"]].itertuples(index=False)]
    assert got == [
        ("L03", "csm_log", "price", "2026-05", 61),  # outside the 60-day window
        ("L05", "csm_log", "price", "2026-04", 7),  # inside, but L09 (inside April) is nearer
    ]
    # the slice and the period apply to the entries (smb's L02, L04, L06 are all matched)
    assert churn.unmatched_reasons(conn, Filters(segment=("smb",)), "2026-02", "2026-05").empty
    assert list(churn.unmatched_reasons(conn, ALL, "2026-03", "2026-03")["log_id"]) == ["L03", "L05"]
    assert churn.unmatched_reasons(conn, ALL, "2026-04", "2026-06").empty
