"""Churn reasons: breakdowns, reason matching, health before churn, flags and notes on the
hand-made book of tests_support/churn_book.py (its docstring shows the arithmetic)."""

from __future__ import annotations

import json
import math

import duckdb
import pandas as pd
import pytest

from cslib import churn, cli
from cslib.db import query
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
    for value, n, arr, account_share, arr_share in zip(
        df["value"], df["churned_accounts"], df["churned_arr"], df["account_share"], df["arr_share"]
    ):
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
    # the same expression is what the models use
    from cslib.db import sql_file

    assert "regexp_replace(lower(regexp_replace(reason_code, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g')" in sql_file("churn_logs")


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
    assert lines[0].startswith("reason,label,churned_accounts,churned_arr,account_share,arr_share")
    assert lines[1].startswith("competitor,Switched to a competitor,1,120000.0,0.166667,0.465116")


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
