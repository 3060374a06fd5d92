"""The walkthrough company of docs/bring-your-own-data.md, end to end: four exports in
their vendors' shapes (CRM, billing subscriptions, product events, cancellations) go
through the shipped mapping and scorecard, and Healthgrid finds in them what the generator
put there: who churned when and why, silent accounts unhealthy before they left, engaged
ones healthy, every month's movements reconciling."""

import importlib.util
import sys
from pathlib import Path

import pytest

from cslib.store import db
from cslib.views import revenue
from cslib.filters import Filters
from cslib.store.importer import import_dir
from cslib.views.metrics import MOVEMENT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "saas_company"
ALL = Filters(include_non_target=True)


def _generator():
    spec = importlib.util.spec_from_file_location("make_exports", EXAMPLE / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    gen = _generator()
    folder = gen.write_exports(tmp_path_factory.mktemp("exports") / "northwind")
    path = folder.parent / "northwind.duckdb"
    summary = import_dir(folder, path, scorecard_path=EXAMPLE / "scorecard.toml",
                         mapping=EXAMPLE / "mapping.toml")
    conn = db.connect(path)
    yield {"folder": folder, "conn": conn, "truth": gen.truth(), "warnings": summary.warnings}
    conn.close()


def test_check_finds_no_problem_in_the_exports(company):
    from tests_support.cli import run_cli  # the CLI in this process: same status and output

    proc = run_cli("check", str(company["folder"]), "--mapping", str(EXAMPLE / "mapping.toml"), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "no problems found" in proc.stdout
    assert "accounts with revenue but no usage: 0" in proc.stdout


def test_open_subscriptions_run_through_the_export_month(company):
    assert db.query(company["conn"], "select max(month) as m from account_month")["m"][0] == "2026-10"
    assert any("run through 2026-10" in w for w in company["warnings"])


def test_tiers_spelled_three_ways_become_three_segments(company):
    segments = set(db.query(company["conn"], "select distinct segment from raw_accounts")["segment"])
    assert segments == {"smb", "mid_market", "enterprise"}


def test_every_month_reconciles(company):
    table = revenue.movements(company["conn"], ALL, None, None)
    gap = table["opening_mrr"] + table[list(MOVEMENT_COLUMNS)].sum(axis=1) - table["closing_mrr"]
    assert gap.abs().max() < 1e-6
    assert table["opening_mrr"].iloc[1:].round(6).tolist() == table["closing_mrr"].iloc[:-1].round(6).tolist()


def test_churns_are_the_generated_cancellations(company):
    found = db.query(company["conn"], "select account_id, month from account_month where churn_mrr < 0")
    expected = {(cid, t["churn_month"]) for cid, t in company["truth"].items() if t["churn_month"]}
    assert len(expected) == 14
    assert set(zip(found["account_id"], found["month"])) == expected


def test_derived_renewals_say_churned_exactly_for_the_churns(company):
    churned = db.query(company["conn"], "select account_id, strftime(due_on, '%Y-%m') as month "
                                        "from raw_renewals where outcome = 'churned'")
    expected = {(cid, t["churn_month"]) for cid, t in company["truth"].items() if t["churn_month"]}
    assert set(zip(churned["account_id"], churned["month"])) == expected
    outcomes = set(db.query(company["conn"], "select distinct outcome from raw_renewals")["outcome"])
    assert outcomes == {"renewed", "churned", "pending"}


def test_every_churn_has_its_reason_from_the_cancellation_export(company):
    from cslib.views import churn

    rate = churn.reason_match_rate(company["conn"], ALL, "2024-07", "2026-10")
    assert rate["churned_accounts"] == 14 and rate["matched_accounts"] == 14 and rate["match_rate"] == 1.0
    reasons = churn.churn_breakdown(company["conn"], ALL, "2024-07", "2026-10", by="reason")
    assert dict(zip(reasons["value"], reasons["churned_accounts"])) == {
        "price": sum(t["archetype"] == "drifting" and t["churn_month"] is not None for t in company["truth"].values()),
        "never_adopted": sum(t["archetype"] == "silent" and t["churn_month"] is not None for t in company["truth"].values()),
        "competitor": sum(t["archetype"] == "churner" and t["churn_month"] is not None for t in company["truth"].values()),
    }


def test_scores_are_in_range_and_tell_silent_from_engaged(company):
    conn, truth = company["conn"], company["truth"]
    scores = db.query(conn, "select min(score) as lo, max(score) as hi from health_weekly")
    assert 0 <= scores["lo"][0] <= scores["hi"][0] <= 100
    before_churn = db.query(conn, """
        select a.account_id, a.health_tier from account_month a
        join (select account_id, max(month) as last_paid from account_month where mrr > 0 group by 1) l
          on l.account_id = a.account_id and l.last_paid = a.month""")
    tier = dict(zip(before_churn["account_id"], before_churn["health_tier"]))
    for cid, t in truth.items():
        if t["churn_month"] and t["archetype"] in ("silent", "churner"):
            assert tier[cid] == "unhealthy", (t, tier[cid])  # silent before they left
    engaged = [tier[cid] for cid, t in truth.items() if t["archetype"] == "engaged"]
    assert sum(x == "healthy" for x in engaged) >= 0.8 * len(engaged)


def test_through_says_when_the_export_was_taken(tmp_path):
    """[subscriptions] through overrides the data's last month for open-ended periods; a bad
    value is one line naming the key."""
    from cslib.errors import UserError

    src = tmp_path / "src"
    src.mkdir()
    (src / "subscription_periods.csv").write_text(
        "customer_id,start_date,end_date,monthly_amount\nc1,2024-01-10,,100\nc2,2024-02-01,2024-04-01,50\n")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[subscriptions]\nthrough = "2024-06"\n')
    path = tmp_path / "db.duckdb"
    summary = import_dir(src, path, mapping=mapping, build=False)
    conn = db.connect(path)
    try:
        rows = db.query(conn, "select account_id, min(month) as first, max(month) as last, count(*) as n "
                              "from raw_revenue_monthly group by 1 order by 1")
    finally:
        conn.close()
    assert rows.values.tolist() == [["c1", "2024-01", "2024-06", 6], ["c2", "2024-02", "2024-03", 2]]
    assert any("runs through 2024-06 ([subscriptions] through in mapping.toml)" in w for w in summary.warnings)
    mapping.write_text('[subscriptions]\nthrough = "June"\n')
    with pytest.raises(UserError, match=r'mapping.toml: subscriptions.through: expected a month "YYYY-MM"'):
        import_dir(src, tmp_path / "other.duckdb", mapping=mapping, build=False)


def test_open_periods_run_through_the_latest_usage_month(tmp_path):
    """Without `through`, usage newer than any revenue row says the export is that recent."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "subscription_periods.csv").write_text(
        "customer_id,start_date,end_date,monthly_amount\nc1,2024-01-10,,100\n")
    (src / "usage_metrics.csv").write_text("account_id,date,metric,value\nc1,2024-03-28 10:00:00,login,1\n")
    path = tmp_path / "db.duckdb"
    import_dir(src, path, build=False)
    conn = db.connect(path)
    try:
        months = db.query(conn, "select month from raw_revenue_monthly order by 1")["month"].tolist()
    finally:
        conn.close()
    assert months == ["2024-01", "2024-02", "2024-03"]
