"""cslib.views.outlook on the tiny book (tests_support/book.py), from the end of February 2026,
target accounts: ARR 204,000 (a1 108,000 healthy, a2 60,000 at risk, a3 12,000 unhealthy,
a5 24,000 unscored). Renewals due in the next 12 months: a1 108,000 (15 Mar), a2 60,000
(20 Mar), a3 12,000 (31 Mar). No renewal was decided before March, so every tier's base
rate is the fallback 100%; February's only movement is a5's new 2,000 MRR: net expansion
0%, new business 24,000 ARR a month."""

import duckdb
import pytest

from cslib.views import outlook
from cslib.errors import UserError
from cslib.filters import Filters
from tests_support.book import build_tiny_book


@pytest.fixture(scope="module")
def inp(tmp_path_factory):
    path = tmp_path_factory.mktemp("outlook") / "tiny.duckdb"
    build_tiny_book(path)
    with duckdb.connect(str(path), read_only=True) as conn:
        yield outlook.inputs(conn, Filters(), "2026-02")


def test_inputs_known_at_the_month_end(inp):
    assert inp.start_arr == 204_000.0
    assert inp.renewals[["account_id", "due_month", "due_arr", "health_tier"]].values.tolist() == [
        ["a1", "2026-03", 108_000.0, "healthy"], ["a2", "2026-03", 60_000.0, "at_risk"],
        ["a3", "2026-03", 12_000.0, "unhealthy"]]
    assert dict(inp.base.renewal_rates) == {t: 1.0 for t in outlook.TIERS}
    assert (inp.base.expansion_rate, inp.base.new_arr) == (0.0, 24_000.0)


def test_base_case_and_a_lever_by_hand(inp):
    base = outlook.summarise(inp, inp.base)
    assert (base.existing_end_arr, base.nrr, base.end_arr) == (204_000.0, 1.0, 204_000.0 + 12 * 24_000.0)
    half = inp.base.with_rate("at_risk", 0.5)  # a2 keeps half of 60,000
    moved = outlook.summarise(inp, half)
    assert moved.lost_arr == 30_000.0 and moved.existing_end_arr == 174_000.0
    assert moved.nrr == pytest.approx(174_000 / 204_000)
    path = outlook.path(inp, half)
    assert path.loc[path["month"] == "2026-03", "lost_arr"].tolist() == [30_000.0]
    assert path["month"].tolist()[0] == "2026-03" and path["month"].tolist()[-1] == "2027-02"
    effects = outlook.lever_effects(inp, half)
    assert effects[["lever", "end_arr_change"]].values.tolist() == [["Renewal rate, at risk", -30_000.0]]
    assert effects["nrr_change"].iloc[0] == pytest.approx(-30_000 / 204_000)


def test_expansion_compounds_on_the_existing_book(inp):
    grown = outlook.summarise(inp, outlook.Levers(inp.base.renewal_rates, 0.01, 0.0))
    assert grown.existing_end_arr == pytest.approx(204_000 * 1.01 ** 12)


def test_health_rate_goal_for_a_target_nrr(inp):
    # (204,000 - (1 - r) x 180,000) / 204,000 = 0.95  ->  r = 1 - 10,200 / 180,000
    assert outlook.renewal_rate_for_nrr(inp, 0.95, 0.0) == pytest.approx(1 - 10_200 / 180_000, abs=1e-9)
    assert outlook.renewal_rate_for_nrr(inp, 1.0, 0.0) == pytest.approx(1.0, abs=1e-9)
    assert outlook.renewal_rate_for_nrr(inp, 1.2, 0.0) is None  # not even keeping every renewal
    assert outlook.renewal_rate_for_nrr(inp, 0.1, 0.0) is None  # losing every one still keeps 11.8%


def test_levers_out_of_range_are_refused(inp):
    with pytest.raises(UserError, match="renewal rate of at_risk"):
        outlook.path(inp, inp.base.with_rate("at_risk", 1.2))
    with pytest.raises(UserError, match="expansion"):
        outlook.path(inp, outlook.Levers(inp.base.renewal_rates, 0.9, 0.0))
