"""Churn events (contract table churn_feedback) imported from the example export in
examples/churn_events: a billing system's cancellations.csv mapped by mapping.toml, minimal
accounts (id and name), monthly revenue 2025-01 .. 2026-06 and the company's own taxonomy.

Hand-computed (churn month = first month without revenue; churned ARR = last MRR x 12):

=========  ============  ===========  ==========================  ==========================
account    churn month   churned ARR  churn event (date, code)    matched at the 60-day default
=========  ============  ===========  ==========================  ==========================
CUS-1007   2025-06         1,800      2025-06-02 Not using it     yes, inside the month
CUS-1001   2025-09         5,400      2025-08-28 Too expensive    yes, 4 days before
CUS-1003   2025-12        30,000      2025-09-30 Missing feature  no: 62 days before December
CUS-1008   2026-01        10,800      2026-01-05 Other (...)      yes, unclassified
CUS-1005   2026-02         3,600      2026-02-03 (empty code)     yes, unclassified
CUS-1002   2026-03        14,400      2026-03-15 Switched comp.   yes, inside the month
CUS-1004   2026-04         9,600      (none)                      no
=========  ============  ===========  ==========================  ==========================

All months: 7 churns, 75,600 ARR; matched 5 churns, 36,000 ARR: 5/7 and 36,000/75,600.
With HEALTHGRID_REASON_WINDOW_DAYS=62 CUS-1003 matches too: 6/7 and 66,000/75,600.
CUS-1006 pays throughout; CUS-1008 comes back in 2026-04.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from cslib.views import churn
from cslib.cli import main as cli
from cslib.store import renewals
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.store.importer import import_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_events"
MAPPING = EXAMPLE / "mapping.toml"
ALL = Filters()
FIRST, LAST = "2025-01", "2026-06"
REASONS = [  # account, churn month, churned ARR, reason code, matched churn event
    ("CUS-1001", "2025-09", 5_400.0, "too_expensive", "churn-event:CUS-1001:2025-08-28"),
    ("CUS-1002", "2026-03", 14_400.0, "switched_competitor", "churn-event:CUS-1002:2026-03-15"),
    ("CUS-1003", "2025-12", 30_000.0, "no_reason_logged", None),
    ("CUS-1004", "2026-04", 9_600.0, "no_reason_logged", None),
    ("CUS-1005", "2026-02", 3_600.0, "unclassified", "churn-event:CUS-1005:2026-02-03"),
    ("CUS-1007", "2025-06", 1_800.0, "not_using_it", "churn-event:CUS-1007:2025-06-02"),
    ("CUS-1008", "2026-01", 10_800.0, "unclassified", "churn-event:CUS-1008:2026-01-05"),
]
UNCLASSIFIED_WARNING = ("churn_feedback.csv: 2 churn events with a reason code not in the taxonomy, kept as "
                        "'unclassified' (codes: 'Other (please specify)', (empty))")


@pytest.fixture(scope="module")
def example_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("churn_events") / "hg.duckdb"
    summary = import_dir(EXAMPLE, db, mapping=MAPPING)
    return summary, db


def _match(db: Path, filters: Filters = ALL, first: str = FIRST, last: str = LAST) -> dict:
    with duckdb.connect(str(db), read_only=True) as conn:
        return churn.reason_match_rate(conn, filters, first, last)


def test_the_example_imports_with_its_mapping(example_db):
    summary, db = example_db
    assert summary.rows["churn_feedback"] == 6 and summary.rows["csm_logs"] == 0
    assert summary.rows["accounts"] == 8 and summary.rows["reason_taxonomy"] == 5
    assert UNCLASSIFIED_WARNING in summary.warnings
    with duckdb.connect(str(db), read_only=True) as conn:
        got = conn.execute("select account_id, churn_month, churned_arr, reason_code, reason_log_id "
                           "from churn_events order by account_id").fetchall()
        feedback = conn.execute("select reason_note from churn_events where account_id = 'CUS-1001'").fetchone()[0]
        assert conn.execute("select count(*) from raw_csm_logs").fetchone()[0] == 0
    assert got == REASONS
    assert feedback == "Price went up 20% at renewal, could not justify it"


def test_the_example_match_rate_is_hand_computed(example_db):
    _, db = example_db
    m = _match(db)
    assert {k: m[k] for k in ("churned_accounts", "churned_arr", "matched_accounts", "matched_arr",
                              "unclassified_accounts", "window_days")} == {
        "churned_accounts": 7, "churned_arr": 75_600.0, "matched_accounts": 5, "matched_arr": 36_000.0,
        "unclassified_accounts": 2, "window_days": 60}
    assert m["match_rate"] == pytest.approx(5 / 7)
    assert m["arr_match_rate"] == pytest.approx(36_000 / 75_600)
    # the first quarter of 2026: CUS-1008 (Jan), CUS-1005 (Feb), CUS-1002 (Mar), all matched
    q1 = _match(db, first="2026-01", last="2026-03")
    assert (q1["churned_accounts"], q1["matched_arr"], q1["match_rate"]) == (3, 28_800.0, 1.0)
    with duckdb.connect(str(db), read_only=True) as conn:
        unmatched = churn.unmatched_reasons(conn, ALL, FIRST, LAST)
    assert [tuple(r) for r in unmatched[["account_id", "source", "reason_code", "nearest_churn_month",
                                         "days_from_nearest_churn"]].itertuples(index=False)] == [
        ("CUS-1003", "churn_event", "Missing feature", "2025-12", 62)]


@pytest.mark.parametrize("window,matched", [("61", (5, 36_000.0)), ("62", (6, 66_000.0))])
def test_a_wider_window_matches_the_early_cancellation(tmp_path, monkeypatch, window, matched):
    monkeypatch.setenv("HEALTHGRID_REASON_WINDOW_DAYS", window)
    db = tmp_path / "hg.duckdb"
    import_dir(EXAMPLE, db, mapping=MAPPING)
    m = _match(db)
    assert (m["matched_accounts"], m["matched_arr"], m["window_days"]) == (*matched, int(window))
    assert m["arr_match_rate"] == pytest.approx(matched[1] / 75_600)


def test_the_example_derives_its_renewals(example_db):
    _, db = example_db
    d = dt.date
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("select account_id, due_on, due_arr, outcome from raw_renewals "
                            "order by account_id, due_on").fetchall()
        assert renewals.renewals_source(conn) == "derived"
    assert rows == [
        ("CUS-1002", d(2026, 1, 1), 14_400.0, "renewed"),  # then stops mid-term in March
        ("CUS-1004", d(2026, 1, 1), 9_600.0, "renewed"),
        ("CUS-1006", d(2026, 1, 1), 36_000.0, "renewed"),
        ("CUS-1006", d(2027, 1, 1), 36_000.0, "pending"),
        ("CUS-1008", d(2026, 1, 1), 10_800.0, "churned"),
        ("CUS-1008", d(2027, 4, 1), 10_800.0, "pending"),  # won back in April 2026: a new term
    ]


def test_the_command_line_import_and_report(tmp_path, capsys):
    db = tmp_path / "hg.duckdb"
    assert cli.main(["import", str(EXAMPLE), "--mapping", str(MAPPING), "--db", str(db)]) == 0
    capsys.readouterr()
    assert cli.main(["report", "churn-reasons", "--db", str(db), "--from", FIRST, "--to", LAST,
                     "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["match_rate"] == [{
        "churned_accounts": 7, "churned_arr": 75_600.0, "matched_accounts": 5, "matched_arr": 36_000.0,
        "unmatched_accounts": 2, "unmatched_arr": 39_600.0, "unclassified_accounts": 2,
        "match_rate": round(5 / 7, 6), "arr_match_rate": round(36_000 / 75_600, 6), "window_days": 60,
        "unused_reason_entries": 1,  # Cobalt Labs' cancellation, 62 days before its churn month
    }]
    by_reason = {r["reason"]: (r["churned_accounts"], r["churned_arr"]) for r in payload["breakdown"]}
    assert by_reason == {"no_reason_logged": (2, 39_600.0), "switched_competitor": (1, 14_400.0),
                         "unclassified": (2, 14_400.0), "too_expensive": (1, 5_400.0),
                         "not_using_it": (1, 1_800.0)}


def _contract_folder(tmp_path: Path) -> Path:
    """The example with its churn events rewritten as a contract-shaped churn_feedback.csv."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("accounts.csv", "revenue_monthly.csv", "reason_taxonomy.csv"):
        shutil.copy(EXAMPLE / name, src / name)
    with open(EXAMPLE / "cancellations.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(src / "churn_feedback.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["account_id", "churned_on", "reason_code", "feedback"])
        for r in rows:
            day, month, year = r["Cancelled At"].split("/")
            out.writerow([r["Customer ID"], f"{year}-{month}-{day}", r["Cancellation Reason"], r["Comments"]])
    return src


def test_a_contract_shaped_file_gives_the_same_answer(tmp_path):
    db = tmp_path / "hg.duckdb"
    summary = import_dir(_contract_folder(tmp_path), db)
    assert UNCLASSIFIED_WARNING in summary.warnings
    m = _match(db)
    assert (m["churned_accounts"], m["matched_accounts"], m["matched_arr"]) == (7, 5, 36_000.0)


@pytest.mark.parametrize(
    "extra,message",
    [
        ("CUS-1007,2025-06-02,,again\n",
         "churn_feedback.csv, line 8: duplicate (account_id, churned_on) ('CUS-1007', '2025-06-02') "
         "(first on line 2)"),
        ("CUS-9999,2025-06-02,,\n",
         "churn_feedback.csv, line 8, column account_id: unknown account 'CUS-9999' (not in accounts.csv)"),
        ("CUS-1004,2026-04-31,,\n",
         "churn_feedback.csv, line 8, column churned_on: expected a date YYYY-MM-DD, got '2026-04-31'"),
    ],
)
def test_a_bad_churn_event_is_one_line_and_nothing_is_written(tmp_path, extra, message):
    src = _contract_folder(tmp_path)
    with open(src / "churn_feedback.csv", "a", encoding="utf-8") as f:
        f.write(extra)
    db = tmp_path / "hg.duckdb"
    with pytest.raises(UserError) as err:
        import_dir(src, db)
    assert str(err.value).startswith(message)
    assert not db.exists()
