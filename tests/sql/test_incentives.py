"""CSM incentive calculator: the method section 7 worked example, every band boundary,
the plan file, and the per-CSM payouts on a hand-made book (tests_support/model_book.py)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from cslib.store import db
from cslib.views import incentives
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules import incentive_plan
from cslib.rules.incentive_plan import IncentivePlan, coefficient, commission
from cslib.cli.reports import ReportArgs, render_report
from tests_support.model_book import build_model_book

PLAN = IncentivePlan()


def test_worked_example_exactly():
    # book 1.2M ARR, all healthy: healthy MRR 100,000; rate 1%; MoM 106% -> 1.1
    healthy_mrr = 1_200_000 / 12
    assert healthy_mrr * PLAN.rate == 1_000
    assert coefficient(1.06, PLAN) == 1.1
    assert commission(healthy_mrr, 1.06, PLAN) == 1_100.00


@pytest.mark.parametrize(
    ("mom", "expected"),
    [
        (0.0, 0.8),
        (0.5, 0.8),
        (0.94, 0.8),  # the drop matching +6% costs 20%
        (0.949999999, 0.8),
        (0.95, 0.9),  # lower bound inclusive
        (0.999999, 0.9),
        (1.0, 1.0),  # neutral band starts at 100%
        (1.05, 1.0),
        (1.059999, 1.0),
        (1.06, 1.1),
        (1.2 / (1.2 / 1.06), 1.1),  # 1.06 through floating point
        (3.0, 1.1),
        (None, 1.0),
        (math.nan, 1.0),
    ],
)
def test_every_band_boundary(mom, expected):
    assert coefficient(mom, PLAN) == expected


def test_asymmetry_a_drop_costs_more_than_a_climb_earns():
    assert 1 - coefficient(0.94, PLAN) == pytest.approx(2 * (coefficient(1.06, PLAN) - 1))


def test_shipped_plan_file_is_the_default_plan():
    plan = incentive_plan.load_incentive_plan()
    assert (plan.rate, plan.bands, plan.deferred_is_unhealthy, plan.no_history_coefficient) == (
        PLAN.rate, PLAN.bands, PLAN.deferred_is_unhealthy, PLAN.no_history_coefficient)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": ((0.0, 0.8), (1.1, 1.0), (1.0, 1.1))}, "strictly ascending"),
        ({"bands": ((0.5, 0.8),)}, "must start at 0"),
        ({"rate": -0.01}, "rate"),
        ({"bands": ((0.0, -1.0),)}, "coefficient >= 0"),
    ],
)
def test_invalid_plans_are_one_line_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        IncentivePlan(**kwargs)


def test_plan_file_with_unknown_key(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(incentive_plan.DEFAULT_PATH.read_text() + "\nbonus = 2\n")
    with pytest.raises(UserError, match="unknown key bonus"):
        incentive_plan.load_incentive_plan(path)


def test_band_table_round_trips_through_the_editor():
    table = incentive_plan.band_table(PLAN)
    assert list(table["from_mom"]) == [0.0, 0.95, 1.0, 1.06]
    assert math.isnan(table["to_mom"].iloc[-1])
    edited = incentive_plan.plan_from_table(table.iloc[::-1], 0.02, PLAN)  # order of rows does not matter
    assert edited.bands == PLAN.bands and edited.rate == 0.02


@pytest.fixture(scope="module")
def model_book_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model_book") / "book.duckdb"
    build_model_book(path)
    return path


@pytest.fixture(scope="module")
def model_book(model_book_path):
    conn = db.connect(model_book_path)
    yield conn
    conn.close()


def test_payouts_per_csm_on_the_hand_made_book(model_book):
    out = incentives.csm_payouts(model_book, "2026-03", Filters(), PLAN).set_index("csm")
    cara = out.loc["Cara"]
    assert cara["mrr"] * 12 == pytest.approx(1_200_000)
    assert cara["healthy_mrr"] == 100_000
    assert cara["prev_healthy_mrr"] == pytest.approx(94_339.62)
    assert cara["coefficient"] == 1.1
    assert cara["commission"] == 1_100.00
    dev = out.loc["Dev"]
    assert (dev["accounts"], dev["overdue_accounts"]) == (2, 1)
    assert (dev["healthy_mrr"], dev["prev_healthy_mrr"]) == (500, 1_500)
    assert (dev["coefficient"], dev["commission"]) == (0.8, 4.00)
    teams = incentives.team_payouts(out.reset_index()).set_index("csm_team")
    assert teams.loc["East", "commission"] == 1_104.00
    assert teams.loc["East", "csms"] == 2


def test_deferred_rule_can_be_switched_off(model_book):
    plan = dataclasses.replace(PLAN, deferred_is_unhealthy=False)
    dev = incentives.csm_payouts(model_book, "2026-03", Filters(), plan).set_index("csm").loc["Dev"]
    assert (dev["healthy_mrr"], dev["coefficient"], dev["commission"]) == (1_500, 1.0, 15.00)


def test_first_month_has_no_history_and_pays_neutral(model_book):
    out = incentives.csm_payouts(model_book, "2026-02", Filters(), PLAN).set_index("csm")
    assert math.isnan(out.loc["Cara", "mom"])
    assert out.loc["Cara", "coefficient"] == 1.0
    assert out.loc["Cara", "commission"] == round(94_339.62 * 0.01, 2)


def test_bad_month_is_a_user_error(model_book):
    with pytest.raises(UserError, match="not in the data"):
        incentives.csm_payouts(model_book, "2025-01", Filters(), PLAN)
    with pytest.raises(UserError, match="YYYY-MM"):
        incentives.csm_payouts(model_book, "March", Filters(), PLAN)


def test_report_incentives_prints_the_payouts(model_book_path):
    text = render_report("incentives", model_book_path, ReportArgs(month="2026-03", filters=Filters()), "json")
    payload = json.loads(text)
    assert payload["month"] == "2026-03"
    by_csm = {row["csm"]: row for row in payload["csms"]}
    assert by_csm["Cara"]["commission"] == 1100.0 and by_csm["Dev"]["commission"] == 4.0
    assert payload["teams"][0]["commission"] == 1104.0


def test_report_model_on_a_book_without_history_is_a_user_error(model_book_path):
    with pytest.raises(UserError, match="decided renewals"):
        render_report("model", model_book_path, ReportArgs(month=None, filters=Filters()), "json")


# --------------------------------------------------------------------------- n/a commissions
# The MIXED book of tests_support/na_book.py: Ada's s is healthy (1,000 MRR both months),
# Ben's u has too few weeks, Cy's w no usage, Dee's v is at risk in March (scored, 0 healthy).
from cslib.views.metrics import NO_USAGE_IMPORTED, NO_USAGE_THIS_MONTH, too_few_weeks  # noqa: E402
from tests_support.na_book import mixed_health_conn  # noqa: E402


def test_a_book_without_scored_accounts_has_no_commission_and_says_why():
    con = mixed_health_conn()
    try:
        out = incentives.csm_payouts(con, "2024-03", Filters(), PLAN).set_index("csm")
        teams = incentives.team_payouts(out.reset_index()).set_index("csm_team")
        ben_only = incentives.team_payouts(incentives.csm_payouts(con, "2024-03", Filters(csm=("Ben",)), PLAN))
    finally:
        con.close()
    assert out["scored_accounts"].to_dict() == {"Ada": 1, "Ben": 0, "Cy": 0, "Dee": 1}
    # Ada: 1,000 healthy MRR x 1% x coefficient(MoM 100% -> 1.0)
    assert (out.loc["Ada", "commission"], out.loc["Ada", "coefficient"], out.loc["Ada", "note"]) == (10.0, 1.0, None)
    # Dee is scored but not healthy: a real 0, paid as such
    assert (out.loc["Dee", "commission"], out.loc["Dee", "healthy_mrr"], out.loc["Dee", "note"]) == (0.0, 0.0, None)
    for csm, reason in (("Ben", too_few_weeks(3)), ("Cy", NO_USAGE_THIS_MONTH)):
        row = out.loc[csm]
        for column in ("commission", "coefficient", "healthy_mrr", "health_rate", "mom"):
            assert math.isnan(row[column]), (csm, column)
        assert row["note"] == reason
        assert row["mrr"] > 0  # the book is there; only its health is not
    # a team adds the CSMs with health data; a team with none is n/a
    assert teams.loc["North", "commission"] == 10.0 and teams.loc["South", "commission"] == 0.0
    assert math.isnan(ben_only["commission"].iloc[0]) and math.isnan(ben_only["healthy_mrr"].iloc[0])


def test_report_incentives_on_a_company_without_usage_is_null(tmp_path):
    from tests_support.na_book import build_no_usage_book

    path = build_no_usage_book(tmp_path / "no_usage.duckdb")
    payload = json.loads(render_report("incentives", path, ReportArgs(month="2026-03", filters=Filters()), "json"))
    assert {r["csm"]: r["commission"] for r in payload["csms"]} == {"Ada": None, "Ben": None}
    assert {r["csm"]: r["note"] for r in payload["csms"]} == {"Ada": NO_USAGE_IMPORTED, "Ben": NO_USAGE_IMPORTED}
    assert [r["commission"] for r in payload["teams"]] == [None, None]
    assert all(r["mrr"] > 0 for r in payload["csms"])
