"""The demo generator: determinism, the data contract, loading, and the causal story.

Small books (a few hundred accounts, 18-24 months) so the whole file runs in seconds.
Causality thresholds are loose on purpose: the data meets them by a wide margin.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib.store import contract
from cslib.errors import UserError
from sample_data import generator as gen

END_MONTH = "2026-10"
SMALL = dict(n_accounts=200, n_months=18, seed=7, end_month=END_MONTH)
STORY = dict(n_accounts=400, n_months=24, seed=7, end_month=END_MONTH)


@pytest.fixture(scope="module")
def frames():
    return gen.generate(**SMALL)


@pytest.fixture(scope="module")
def story():
    """A slightly larger book for the statistical (causal) checks."""
    return gen.generate(**STORY)


def _month_index(month: pd.Series) -> pd.Series:
    return month.str[:4].astype(int) * 12 + month.str[5:7].astype(int)


# --- determinism ------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(frames):
    again = gen.generate(**SMALL)
    assert list(again) == list(frames)
    for name in frames:
        pd.testing.assert_frame_equal(again[name], frames[name], check_exact=True)


def test_different_seed_gives_different_data(frames):
    other = gen.generate(**{**SMALL, "seed": 8})
    assert not other["usage_weekly"].equals(frames["usage_weekly"])
    assert not other["accounts"]["segment"].equals(frames["accounts"]["segment"])


def test_calendar_follows_end_month_not_today():
    f = gen.generate(n_accounts=50, n_months=6, seed=1, end_month="2021-03")
    months = f["revenue_monthly"]["month"]
    assert months.max() == "2021-03"
    assert months.min() == "2020-10"
    assert f["usage_weekly"]["week_start"].max() <= pd.Timestamp("2021-03-31")
    assert f["csm_logs"]["logged_on"].max() <= pd.Timestamp("2021-03-31")
    assert f["events"]["occurred_on"].max() <= pd.Timestamp("2021-03-31")


@pytest.mark.parametrize(
    "kwargs", [dict(end_month="2026-13"), dict(end_month="Oct 2026"), dict(n_months=0), dict(n_accounts=0)]
)
def test_bad_arguments_are_user_errors(kwargs):
    with pytest.raises(UserError):
        gen.generate(**{**SMALL, **kwargs})


# --- the data contract -------------------------------------------------------------------


@pytest.mark.parametrize("table", contract.TABLES, ids=lambda t: t.name)
def test_columns_are_the_contract_columns_in_order(frames, table):
    assert list(frames[table.name].columns) == table.column_names
    assert (len(frames[table.name]) > 0) == (table.name not in gen.EMPTY_IN_DEMO)


@pytest.mark.parametrize("table", contract.TABLES, ids=lambda t: t.name)
def test_dtypes_match_the_contract(frames, table):
    df = frames[table.name]
    for col in table.columns:
        s = df[col.name]
        if col.type == "DATE":
            assert pd.api.types.is_datetime64_dtype(s), col.name
            assert (s.dropna() == s.dropna().dt.normalize()).all(), col.name
        elif col.type == "INTEGER":
            assert pd.api.types.is_integer_dtype(s), col.name
        elif col.type == "DOUBLE":
            assert pd.api.types.is_float_dtype(s), col.name
        elif col.type == "BOOLEAN":
            assert pd.api.types.is_bool_dtype(s), col.name
        else:
            assert pd.api.types.is_string_dtype(s), col.name
        if col.required and not col.nullable and col.name != "lifecycle_stage":
            assert s.notna().all(), col.name


@pytest.mark.parametrize("table", [t for t in contract.TABLES if t.key], ids=lambda t: t.name)
def test_keys_are_unique(frames, table):
    assert not frames[table.name].duplicated(list(table.key)).any()


@pytest.mark.parametrize("table", [t for t in contract.TABLES if t.references_accounts], ids=lambda t: t.name)
def test_every_account_id_exists_in_accounts(frames, table):
    known = set(frames["accounts"]["account_id"])
    assert set(frames[table.name]["account_id"]) <= known


def test_account_ids_look_like_a000123(frames):
    assert frames["accounts"]["account_id"].str.fullmatch(r"A\d{6}").all()
    assert frames["accounts"]["account_id"].iloc[0] == "A000001"


@pytest.mark.parametrize(
    "table,col", [(t.name, c.name) for t in contract.TABLES for c in t.columns if c.is_money]
)
def test_money_is_finite_and_non_negative(frames, table, col):
    s = frames[table][col].dropna()
    assert np.isfinite(s).all() and (s >= 0).all()


@pytest.mark.parametrize("table", ["usage_weekly", "module_usage_weekly"])
def test_week_start_is_always_a_monday(frames, table):
    assert (frames[table]["week_start"].dt.day_of_week == 0).all()


def test_months_are_yyyy_mm(frames):
    assert frames["revenue_monthly"]["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
    assert frames["revenue_monthly"]["month"].nunique() == SMALL["n_months"]


@pytest.mark.parametrize(
    "table,col,allowed",
    [
        ("accounts", "segment", contract.SEGMENTS),
        ("accounts", "lifecycle_stage", ("onboarding", "adoption", "established", "churned")),
        ("renewals", "outcome", contract.RENEWAL_OUTCOMES),
        ("csm_logs", "kind", contract.LOG_KINDS),
        ("events", "kind", contract.EVENT_KINDS),
        ("events", "role", contract.EVENT_ROLES),
        ("module_usage_weekly", "module", gen.MODULES),
        ("revenue_monthly", "product", gen.PRODUCTS),
    ],
)
def test_enumerated_values_are_valid(frames, table, col, allowed):
    assert set(frames[table][col].dropna()) <= set(allowed)


def test_reason_codes_come_from_the_taxonomy(frames):
    logs = frames["csm_logs"]
    churn = logs[logs["kind"] == "churn_reason"]["reason_code"]
    risk = logs[logs["kind"] == "risk_flag"]["reason_code"]
    assert churn.notna().all() and set(churn) <= set(gen.CHURN_REASONS)
    assert risk.notna().all() and set(risk) <= set(gen.RISK_FLAGS)
    other = logs[logs["kind"].isin(["touchpoint", "note"])]["reason_code"]
    assert other.isna().all()


def test_seat_inequalities_hold(frames):
    u = frames["usage_weekly"]
    assert (u["users_logged_in"] <= u["seats_activated"]).all()
    assert (u["seats_activated"] <= u["seats_purchased"]).all()
    assert (u["users_bi"] <= u["seats_activated"]).all()
    assert (u[["seats_activated", "users_logged_in", "users_bi", "records_created"]] >= 0).all().all()
    assert (u["seats_purchased"] >= 1).all()


def test_module_rows_are_positive_and_sum_to_records_created(frames):
    m = frames["module_usage_weekly"]
    assert (m["records"] > 0).all()
    per_week = m.groupby(["account_id", "week_start"])["records"].sum()
    u = frames["usage_weekly"].set_index(["account_id", "week_start"])["records_created"]
    joined = u.to_frame().join(per_week, how="left").fillna(0)
    assert (joined["records_created"] == joined["records"]).all()


def test_usage_exists_exactly_in_months_with_revenue(frames):
    u = frames["usage_weekly"]
    usage_months = set(zip(u["account_id"], u["week_start"].dt.strftime("%Y-%m")))
    revenue_months = set(zip(frames["revenue_monthly"]["account_id"], frames["revenue_monthly"]["month"]))
    assert usage_months == revenue_months


def test_scores_and_csm_teams_are_consistent(frames):
    e = frames["events"]
    nps = e[e["kind"] == "nps"]["score"]
    sat = e[e["kind"] == "satisfaction"]["score"]
    assert nps.between(0, 10).all() and (nps == nps.round()).all()
    assert sat.between(1, 5).all()
    assert e[~e["kind"].isin(["nps", "satisfaction"])]["score"].isna().all()
    assert (frames["accounts"].groupby("csm")["csm_team"].nunique() == 1).all()


def test_lifecycle_stage_is_churned_exactly_when_there_is_no_revenue_at_the_end(frames):
    rev = frames["revenue_monthly"]
    live_at_end = set(rev[rev["month"] == END_MONTH]["account_id"])
    churned = frames["accounts"]["lifecycle_stage"] == "churned"
    assert (frames["accounts"]["account_id"].isin(live_at_end) == ~churned).all()


def test_notes_keep_characters_that_need_escaping(story):
    notes = pd.concat([story["csm_logs"]["note"], story["events"]["note"]]).dropna()
    for ch in ("<", ">", "&", '"', "'"):
        assert notes.str.contains(ch, regex=False).any(), ch


# --- loading --------------------------------------------------------------------------------


def test_populate_loads_every_row_into_the_raw_tables(frames):
    conn = duckdb.connect()
    gen.populate(conn, frames)
    for table in contract.TABLES:
        (count,) = conn.execute(f"select count(*) from raw_{table.name}").fetchone()
        assert count == len(frames[table.name]), table.name
    (nulls,) = conn.execute(
        "select count(*) from raw_renewals where outcome = 'renewed' and renewed_on is null"
    ).fetchone()
    assert nulls == 0
    (pending_nulls,) = conn.execute(
        "select count(*) from raw_renewals where outcome = 'pending' and renewed_arr is not null"
    ).fetchone()
    assert pending_nulls == 0


def test_export_csv_writes_importable_files(frames, tmp_path):
    paths = gen.export_csv(frames, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{t.name}.csv" for t in contract.TABLES)
    for table in contract.TABLES:
        text = (tmp_path / f"{table.name}.csv").read_text(encoding="utf-8")
        assert text.splitlines()[0] == ",".join(table.column_names)
        back = duckdb.sql(
            f"select * from read_csv('{tmp_path / (table.name + '.csv')}', header = true, all_varchar = true)"
        ).df()
        assert len(back) == len(frames[table.name])
    renewals = duckdb.sql(
        f"select * from read_csv('{tmp_path / 'renewals.csv'}', header = true, all_varchar = true)"
    ).df()
    assert renewals["due_on"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_write_demo_replaces_the_file_and_reports_progress(tmp_path, monkeypatch):
    from cslib.store import pipeline

    monkeypatch.setattr(pipeline, "build_models", lambda conn: None)  # other helpers' models
    seen = []
    db = tmp_path / "demo.duckdb"
    counts = gen.write_demo(db, n_accounts=60, n_months=6, seed=3, export_dir=tmp_path / "csv",
                            progress=lambda msg, frac: seen.append(frac))
    conn = duckdb.connect(str(db), read_only=True)
    (n,) = conn.execute("select count(*) from raw_accounts").fetchone()
    assert n == 60 == counts["accounts"]
    assert (tmp_path / "csv" / "events.csv").exists()
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(a <= b for a, b in zip(seen, seen[1:]))


# --- the causal story ---------------------------------------------------------------------------


def _decided_renewals_with_prior_activation(f) -> pd.DataFrame:
    r = f["renewals"][f["renewals"]["outcome"].isin(["renewed", "churned"])]
    u = f["usage_weekly"].assign(act=lambda d: d["seats_activated"] / d["seats_purchased"])
    j = r.merge(u[["account_id", "week_start", "act"]], on="account_id")
    j = j[(j["week_start"] < j["due_on"]) & (j["week_start"] >= j["due_on"] - pd.Timedelta(weeks=13))]
    return j.groupby(["account_id", "due_on", "outcome"], as_index=False)["act"].mean()


def test_high_activation_renews_more_than_low_activation(story):
    d = _decided_renewals_with_prior_activation(story)
    renewed = d["outcome"] == "renewed"
    high, low = renewed[d["act"] >= 0.7], renewed[d["act"] < 0.4]
    assert len(high) >= 30 and len(low) >= 15
    assert high.mean() > low.mean() + 0.3


def test_never_adopted_churns_had_lower_activation_than_renewals(story):
    d = _decided_renewals_with_prior_activation(story)
    logs = story["csm_logs"]
    never = set(logs[(logs["kind"] == "churn_reason") & (logs["reason_code"] == "never_adopted")]["account_id"])
    act_never = d[d["account_id"].isin(never) & (d["outcome"] == "churned")]["act"]
    act_renewed = d[d["outcome"] == "renewed"]["act"]
    assert len(act_never) >= 5
    assert act_never.mean() < act_renewed.mean() - 0.3


def test_onboarding_failures_churn_within_the_first_three_months(story):
    logs = story["csm_logs"]
    failed = logs[(logs["kind"] == "churn_reason") & (logs["reason_code"] == "onboarding_failed")]
    assert len(failed) >= 3
    first = story["revenue_monthly"].groupby("account_id")["month"].min()
    first_start = pd.to_datetime(failed["account_id"].map(first) + "-01")
    assert (failed["logged_on"].values < (first_start + pd.DateOffset(months=3)).values).all()
    # and they never really activated
    u = story["usage_weekly"]
    act = u[u["account_id"].isin(failed["account_id"])]
    assert act["seats_activated"].sum() / act["seats_purchased"].sum() < 0.15


def test_kp_changed_churn_usually_follows_a_key_person_event(story):
    logs, ev = story["csm_logs"], story["events"]
    kp = logs[(logs["kind"] == "churn_reason") & (logs["reason_code"] == "kp_changed")]
    changes = ev[ev["kind"].isin(["admin_changed", "dept_head_changed"])]
    j = kp.merge(changes, on="account_id")
    ok = j[(j["occurred_on"] <= j["logged_on"]) & (j["occurred_on"] >= j["logged_on"] - pd.Timedelta(days=400))]
    assert len(kp) >= 3
    assert ok["log_id"].nunique() / len(kp) >= 0.8


def test_every_churn_has_a_churn_reason_log(story):
    rev = story["revenue_monthly"]
    months = rev[["account_id", "month"]].drop_duplicates().assign(m=lambda d: _month_index(d["month"]))
    months = months.sort_values(["account_id", "m"])
    nxt = months.groupby("account_id")["m"].shift(-1)
    end = _month_index(pd.Series([END_MONTH])).iloc[0]
    churn_events = ((nxt.isna() & (months["m"] < end)) | (nxt - months["m"] > 1)).sum()
    logs = story["csm_logs"]
    assert (logs["kind"] == "churn_reason").sum() == churn_events


def test_book_mix_is_believable(story):
    acc = story["accounts"]
    share = acc["segment"].value_counts(normalize=True)
    assert share["smb"] > share["mid_market"] > share["enterprise"] > 0.02
    non_target = 1 - acc["is_target"].mean()
    assert 0.01 <= non_target <= 0.06
    assert acc["industry"].nunique() >= 6 and acc["region"].nunique() >= 4
    assert 4 <= acc["csm_team"].nunique() <= 6
    rev = story["revenue_monthly"].merge(acc[["account_id", "segment"]], on="account_id")
    rev = rev.assign(mrr=rev["mrr_subscription"] + rev["mrr_usage"])
    mean_mrr = rev.groupby(["segment", "account_id", "month"])["mrr"].sum().groupby("segment").mean()
    assert mean_mrr["enterprise"] > 3 * mean_mrr["mid_market"] > 3 * mean_mrr["smb"]


def test_products_expand_and_contract(story):
    rev = story["revenue_monthly"]
    assert rev["product"].nunique() >= 3
    assert (rev["mrr_usage"] > 0).sum() > 0
    assert set(rev[rev["mrr_usage"] > 0]["product"]) == {"e_invoicing"}
    core = rev[rev["product"] == "core_suite"].sort_values(["account_id", "month"])
    diff = core.groupby("account_id")["mrr_subscription"].diff()
    assert (diff > 0).any() and (diff < 0).any()  # upsell and seat cuts
    products = rev.groupby(["account_id", "month"])["product"].nunique().groupby("account_id")
    assert (products.max() > products.min()).sum() > 5  # add-ons added or dropped


def test_renewal_outcomes_include_reactivation_deferral_and_pending(story):
    r = story["renewals"]
    end = pd.Timestamp("2026-10-31")
    assert (r["outcome"] == "deferred").sum() >= 1
    assert (r.loc[r["outcome"] == "deferred", "due_on"] <= end).all()
    assert (r.loc[r["outcome"] == "pending", "due_on"] > end).all()
    assert (r.loc[r["outcome"] != "pending", "due_on"] <= end).all()
    renewed = r[r["outcome"] == "renewed"]
    assert renewed["renewed_on"].notna().all() and (renewed["renewed_on"] <= end).all()
    assert (renewed["renewed_on"] > renewed["due_on"]).any()  # some renewed late
    rev = story["revenue_monthly"][["account_id", "month"]].drop_duplicates()
    m = rev.assign(m=_month_index(rev["month"])).sort_values(["account_id", "m"])
    gaps = m.groupby("account_id")["m"].diff()
    assert (gaps > 1).sum() >= 1  # revenue again after a gap: a reactivation


def test_engagement_drifts_week_to_week(story):
    u = story["usage_weekly"].sort_values(["account_id", "week_start"])
    rate = u["users_logged_in"] / u["seats_activated"].where(u["seats_activated"] > 0)
    spread = rate.groupby(u["account_id"]).std()
    assert spread.median() > 0.03


def test_holiday_weeks_dip(story):
    u = story["usage_weekly"]
    per_seat = u.groupby("week_start")["records_created"].sum() / u.groupby("week_start")["seats_activated"].sum()
    dates = per_seat.index
    christmas = per_seat[(dates.month == 12) & (dates.day >= 22) | (dates.month == 1) & (dates.day <= 2)]
    november = per_seat[dates.month == 11]
    assert len(christmas) >= 1
    assert christmas.mean() < 0.8 * november.mean()


def test_account_names_are_present_and_varied(frames):
    names = frames["accounts"]["name"]
    assert names.notna().all() and names.nunique() > 0.8 * len(names)
    assert all(re.match(r"^[A-Z]", n) for n in names)
