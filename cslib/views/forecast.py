"""Renewal forecast (issue 17): the renewals due in the next four calendar quarters, what
the renewal model expects of them, the CSMs' calls, and how good past forecasts were.

Definitions (docs/pages.md "Renewal forecast page"):

* quarters: calendar quarters of ``due_on``, labelled '2026-Q4'. The forecast covers the
  four quarters starting with the quarter of the month *after* the sidebar month, and the
  renewals due after the sidebar month's last day up to the end of the fourth (month
  2026-10: 2026-Q4 (November and December only), 2027-Q1, 2027-Q2, 2027-Q3).
* ARR due: sum of ``due_arr``. Expected renewed ARR: sum of p x due_arr, p the stored
  model's probability (model_renewal_predictions.p_boosted, the Renewal model page's
  P(renew)); NaN when no model could be fitted.
* range of the expected ARR: each renewal falls into its probability's calibration bin
  (model_renewal_calibration, gradient boosting: bin_low <= p < bin_high, the last bin
  includes 1); the bin's held-out observed renewal rate and count n give a 95% Wilson
  interval (renewed = round(observed_rate x n) of n, :func:`cslib.views.renewal_model.wilson_interval`);
  low = sum of the interval's low x due_arr, high = sum of its high x due_arr. A renewal
  whose bin had no test renewals gets 0..1 (nothing observed).
* calls: the CSM's call per renewal (commit / probable / at risk / lost, with a note),
  kept in the app store (cslib.store.appstore, table renewal_call, keyed by account id and due
  date) so they survive re-imports. Scenarios per quarter: commit (ARR due of renewals
  called commit), commit + probable, model (expected renewed ARR).
* the gap: renewals where the call and the model disagree: called commit with p < 0.5,
  or called at risk or lost with p > 0.8; largest ARR due first.
* backtest (:func:`backtest`): for each of the last ``BACKTEST_QUARTERS`` quarters that
  ended by the sidebar month's end, a gradient-boosting model fitted with the project's
  fitting code (cslib.model.renewal_fit.RenewalModel, the pipeline's settings) only on the
  decided renewals of target accounts due before the quarter's start, labelled as known
  then (an order on or after the start counts as not renewed), predicts the slice's
  renewals due in the quarter (features from model_renewal_features, whose window ends
  before each due month). Needs at least ``BACKTEST_MIN_TRAIN`` training renewals with
  both outcomes and ``BACKTEST_MIN_DUE`` renewals due in the quarter. Forecast = sum of p
  x due_arr; actual = ARR kept, min(renewed_arr, due_arr) of renewals renewed by the
  sidebar month's end (as the renewal rate by ARR); error = forecast - actual; the MAE
  is the mean of the quarters' absolute errors (per team: the mean over the quarter's
  teams).

No streamlit here; scikit-learn is imported only by :func:`backtest`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cslib import labels
from cslib.store.db import query
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.months import month_end
from cslib.views.renewal_model import renewals_due_between, segment_label, wilson_interval

QUARTERS = 4
#: the CSM's calls, most to least confident, and their labels
CALLS: tuple[str, ...] = ("commit", "probable", "at_risk", "lost")
CALL_LABELS: dict[str, str] = {"commit": "Commit", "probable": "Probable", "at_risk": "At risk", "lost": "Lost"}
NO_CALL_LABEL = "No call"
#: breakdowns of the per-quarter table: key -> model_renewal_features column
BREAKDOWNS: dict[str, str] = {"team": "csm_team", "csm": "csm", "segment": "segment"}
BREAKDOWN_LABELS: dict[str, str] = {"team": "Team", "csm": "CSM", "segment": "Segment"}
#: the gap rule: a commit the model doubts, or an at-risk / lost call the model is confident in
GAP_COMMIT_BELOW = 0.5
GAP_LOSS_ABOVE = 0.8
#: the backtest: how many past quarters, and the least data a quarter needs
BACKTEST_QUARTERS = 6
BACKTEST_MIN_TRAIN = 30
BACKTEST_MIN_DUE = 10


# --------------------------------------------------------------------------- quarters
def quarter_of(day) -> str:
    """'2026-11-15' -> '2026-Q4'."""
    d = pd.Timestamp(day)
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def quarter_start(day) -> dt.date:
    d = pd.Timestamp(day)
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(day) -> dt.date:
    return (pd.Timestamp(quarter_start(day)) + pd.offsets.QuarterEnd(0)).date()


def forecast_quarters(month: str, n: int = QUARTERS) -> pd.DataFrame:
    """The ``n`` quarters the forecast covers: quarter, start_on, end_on (the quarter's
    calendar bounds) and from_on (the first day counted: the day after the month's end in
    the first quarter, else start_on)."""
    end = month_end(month)
    first = quarter_start(end + dt.timedelta(days=1))
    rows = []
    for i in range(n):
        start = (pd.Timestamp(first) + pd.DateOffset(months=3 * i)).date()
        rows.append({"quarter": quarter_of(start), "start_on": start, "end_on": quarter_end(start),
                     "from_on": max(start, end + dt.timedelta(days=1))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- renewals
def calibration_bins(conn) -> pd.DataFrame:
    """The stored calibration of the gradient-boosting model: bin_low, bin_high,
    observed_rate, n, renewed (round(observed_rate x n)), ci_low, ci_high (Wilson 95%)."""
    cal = query(conn, "select bin_low, bin_high, observed_rate, n from model_renewal_calibration "
                      "where model = 'boosted' order by bin_low")
    cal["renewed"] = (cal["observed_rate"].astype(float) * cal["n"].astype(float)).round().astype("int64")
    ci = [wilson_interval(int(r), int(n)) for r, n in zip(cal["renewed"], cal["n"])]
    cal["ci_low"] = [c[0] for c in ci]
    cal["ci_high"] = [c[1] for c in ci]
    return cal


def interval_of(p, bins: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per probability: the Wilson interval of its calibration bin (bin_low <=
    p < bin_high; p = 1 in the last bin); 0..1 without a bin; NaN for a missing p."""
    p = np.asarray(p, dtype="float64")
    low, high = np.zeros(len(p)), np.ones(len(p))
    if len(bins):
        lows = bins["bin_low"].to_numpy(dtype="float64")
        highs = bins["bin_high"].to_numpy(dtype="float64")
        for i in range(len(bins)):
            inside = (p >= lows[i]) & ((p < highs[i]) | ((highs[i] >= 1.0) & (p <= highs[i])))
            low[inside] = bins["ci_low"].iloc[i]
            high[inside] = bins["ci_high"].iloc[i]
    missing = np.isnan(p)
    low[missing], high[missing] = np.nan, np.nan
    return low, high


def renewals(conn, filters: Filters, month: str) -> pd.DataFrame:
    """The slice's renewals due in the forecast's quarters (:func:`forecast_quarters`),
    oldest due first: account_id, name, segment, csm, csm_team, due_on (date), quarter,
    due_arr, p_renewal, p_low, p_high (the calibration interval), expected_arr,
    expected_low_arr, expected_high_arr, team_label, segment_label."""
    quarters = forecast_quarters(month)
    due = renewals_due_between(conn, filters, month_end(month), quarters["end_on"].iloc[-1])
    # oldest due first; the file's outcome of a renewal still to come is not read
    out = due.sort_values(["due_on", "account_id"], kind="stable").reset_index(drop=True)[
        ["account_id", "name", "segment", "csm", "csm_team", "due_on", "due_arr", "p_renewal"]].copy()
    out["quarter"] = [quarter_of(d) for d in out["due_on"]]
    out["due_arr"] = out["due_arr"].astype("float64")
    out["p_renewal"] = out["p_renewal"].astype("float64")
    low, high = interval_of(out["p_renewal"], calibration_bins(conn))
    out["p_low"], out["p_high"] = low, high
    out["expected_arr"] = out["p_renewal"] * out["due_arr"]
    out["expected_low_arr"] = out["p_low"] * out["due_arr"]
    out["expected_high_arr"] = out["p_high"] * out["due_arr"]
    out["team_label"] = [labels.label(t) for t in out["csm_team"]]
    out["segment_label"] = [segment_label(s) if isinstance(s, str) else labels.MISSING for s in out["segment"]]
    return out


def with_calls(frame: pd.DataFrame, calls: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` (account_id, due_on) plus the stored call of each renewal: call (a CALLS
    code or None), call_label ('No call' without one), note, updated_by, updated_at.
    ``calls``: AppStore.renewal_calls() (None: no store, nobody called anything)."""
    out = frame.copy()
    key = list(zip(out["account_id"].astype(str), [str(d) for d in out["due_on"]]))
    by_key = {}
    if calls is not None and len(calls):
        by_key = {(a, d): r for a, d, r in zip(calls["account_id"], calls["due_on"], calls.to_dict("records"))}
    for column in ("call", "note", "updated_by", "updated_at"):
        out[column] = [by_key[k][column] if k in by_key else None for k in key]
    out["call_label"] = [CALL_LABELS.get(c, NO_CALL_LABEL) for c in out["call"]]
    return out


def _sums(g: pd.DataFrame) -> dict:
    call = g["call"] if "call" in g else pd.Series([None] * len(g), index=g.index)
    arr = g["due_arr"]
    fitted = g.empty or g["p_renewal"].notna().any()  # NaN only when the model could not be fitted
    out = {
        "renewals": int(len(g)),
        "due_arr": float(arr.sum()),
        "expected_arr": float(g["expected_arr"].sum()) if fitted else np.nan,
        "expected_low_arr": float(g["expected_low_arr"].sum()) if fitted else np.nan,
        "expected_high_arr": float(g["expected_high_arr"].sum()) if fitted else np.nan,
    }
    for c in CALLS:
        out[f"{c}_arr"] = float(arr[call == c].sum())
    out["no_call_arr"] = float(arr[~call.isin(CALLS)].sum())
    out["commit_probable_arr"] = out["commit_arr"] + out["probable_arr"]
    return out


#: columns of :func:`quarter_table` after the quarter (and group)
TABLE_COLUMNS: tuple[str, ...] = (
    "renewals", "due_arr", "expected_arr", "expected_low_arr", "expected_high_arr", "commit_arr",
    "probable_arr", "at_risk_arr", "lost_arr", "no_call_arr", "commit_probable_arr",
)


def quarter_table(frame: pd.DataFrame, month: str, by: str | None = None) -> pd.DataFrame:
    """Per quarter of the forecast (every quarter, also without renewals) and, with ``by``
    (a BREAKDOWNS key), per group within it (groups with renewals only; labels in
    ``group``): quarter, [group,] TABLE_COLUMNS. ``frame``: :func:`renewals`, with or without
    :func:`with_calls` (without: every renewal uncalled)."""
    if by is not None and by not in BREAKDOWNS:
        raise UserError(f"unknown breakdown {by!r} (choose from {', '.join(BREAKDOWNS)})")
    rows = []
    for quarter in forecast_quarters(month)["quarter"]:
        part = frame[frame["quarter"] == quarter]
        if by is None:
            rows.append({"quarter": quarter, **_sums(part)})
            continue
        label_column = {"team": "team_label", "segment": "segment_label"}.get(by)
        column = BREAKDOWNS[by]
        keys = part[column].fillna("")
        for value, g in part.groupby(keys, sort=True):
            label = g[label_column].iloc[0] if label_column else (value or labels.MISSING)
            rows.append({"quarter": quarter, "group": label, **_sums(g)})
    columns = ["quarter", *(["group"] if by else []), *TABLE_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def next_quarter(frame: pd.DataFrame, month: str) -> dict:
    """The tiles: the first forecast quarter's quarter label and :func:`_sums`."""
    quarter = forecast_quarters(month)["quarter"].iloc[0]
    return {"quarter": quarter, **_sums(frame[frame["quarter"] == quarter])}


def gap(frame: pd.DataFrame) -> pd.DataFrame:
    """Renewals whose call and model disagree (see the module doc), largest ARR due first
    (then the earliest due, then account id), with ``why`` in words."""
    p = frame["p_renewal"]
    commit_doubted = (frame["call"] == "commit") & (p < GAP_COMMIT_BELOW)
    loss_doubted = frame["call"].isin(["at_risk", "lost"]) & (p > GAP_LOSS_ABOVE)
    out = frame[commit_doubted | loss_doubted].copy()
    out["why"] = np.where(
        out["call"] == "commit",
        f"Called commit; the model gives under {GAP_COMMIT_BELOW:.0%}",
        [f"Called {CALL_LABELS.get(c, '').lower()}; the model gives over {GAP_LOSS_ABOVE:.0%}" for c in out["call"]],
    ) if len(out) else []
    return out.sort_values(["due_arr", "due_on", "account_id"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- backtest
def past_quarters(month: str, n: int = BACKTEST_QUARTERS) -> list[str]:
    """The last ``n`` calendar quarters that ended on or before ``month``'s last day, oldest first."""
    end = month_end(month)
    last = quarter_start(end + dt.timedelta(days=1)) - dt.timedelta(days=1)  # the last quarter that is over
    out = []
    day = last
    for _ in range(n):
        out.append(quarter_of(day))
        day = quarter_start(day) - dt.timedelta(days=1)
    return out[::-1]


def _quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    year, q = quarter.split("-Q")
    start = dt.date(int(year), 3 * (int(q) - 1) + 1, 1)
    return start, quarter_end(start)


#: columns of the backtest's per-team table and per-quarter table
BACKTEST_TEAM_COLUMNS: tuple[str, ...] = (
    "quarter", "team", "renewals", "due_arr", "forecast_arr", "actual_kept_arr", "error_arr", "abs_error_arr",
)
BACKTEST_QUARTER_COLUMNS: tuple[str, ...] = (
    "quarter", "start_on", "n_train", "train_last_due_on", "train_last_renewed_on", "renewals", "due_arr",
    "forecast_arr", "actual_kept_arr", "error_arr", "abs_error_arr", "team_mae_arr", "status",
)


def backtest(conn, filters: Filters, month: str, n_quarters: int = BACKTEST_QUARTERS) -> dict[str, pd.DataFrame]:
    """Forecast vs actual for the past quarters (see the module doc).

    Returns {"quarters": one row per past quarter (BACKTEST_QUARTER_COLUMNS; status 'ok' or
    why it was skipped, then the numbers are NaN), "teams": per quarter and team
    (BACKTEST_TEAM_COLUMNS; 'team' is the label), "mae": one row: quarters (used),
    mae_arr (mean of the quarters' abs_error_arr), team_mae_arr (mean of the per-team
    absolute errors)}."""
    from cslib.model.renewal_fit import RenewalModel, labels as outcome_labels
    from cslib.views.renewal_model import feature_set, renewal_features

    as_of = pd.Timestamp(month_end(month))
    book = renewal_features(conn, Filters(include_non_target=True))
    fs = feature_set(conn, book)
    decided = book[book["is_decided"].astype(bool) & book["is_target"].astype(bool)]
    sliced = renewal_features(conn, filters)
    quarter_rows, team_rows = [], []
    for quarter in past_quarters(month, n_quarters):
        start, end = _quarter_bounds(quarter)
        start_ts = pd.Timestamp(start)
        train = decided[decided["due_on"] < start_ts]
        y = outcome_labels(train, "renewed", as_of=start_ts)
        due = sliced[(sliced["due_on"] >= start_ts) & (sliced["due_on"] <= pd.Timestamp(end))]
        row = {"quarter": quarter, "start_on": start, "n_train": len(train), "renewals": len(due),
               "train_last_due_on": train["due_on"].max().date() if len(train) else None,
               "train_last_renewed_on": None}
        known = train["renewed_on"][train["renewed_on"] < start_ts]
        row["train_last_renewed_on"] = known.max().date() if len(known) else None
        if len(train) < BACKTEST_MIN_TRAIN or len(set(y)) < 2:
            quarter_rows.append({**row, "status": f"fewer than {BACKTEST_MIN_TRAIN} decided renewals before it "
                                                  "(or only one outcome)"})
            continue
        if len(due) < BACKTEST_MIN_DUE:
            quarter_rows.append({**row, "status": f"fewer than {BACKTEST_MIN_DUE} renewals due in it"})
            continue
        model = RenewalModel(kind="boosted", features=fs).fit(train, y)
        p = model.predict_proba(due)[:, 1]
        due_arr = due["due_arr"].to_numpy(dtype="float64")
        renewed = ((due["outcome"] == "renewed") & due["renewed_on"].notna()
                   & (due["renewed_on"] <= as_of)).to_numpy()
        kept = np.where(renewed, np.minimum(np.nan_to_num(due["renewed_arr"].to_numpy(dtype="float64",
                                                                                     na_value=np.nan)), due_arr), 0.0)
        parts = pd.DataFrame({"team": [labels.label(t) for t in due["csm_team"]], "due_arr": due_arr,
                              "forecast_arr": p * due_arr, "actual_kept_arr": kept})
        teams = parts.groupby("team", sort=True).agg(renewals=("due_arr", "size"), due_arr=("due_arr", "sum"),
                                                     forecast_arr=("forecast_arr", "sum"),
                                                     actual_kept_arr=("actual_kept_arr", "sum")).reset_index()
        teams["error_arr"] = teams["forecast_arr"] - teams["actual_kept_arr"]
        teams["abs_error_arr"] = teams["error_arr"].abs()
        teams.insert(0, "quarter", quarter)
        team_rows.append(teams)
        forecast, actual = float(parts["forecast_arr"].sum()), float(parts["actual_kept_arr"].sum())
        quarter_rows.append({**row, "due_arr": float(due_arr.sum()), "forecast_arr": forecast,
                             "actual_kept_arr": actual, "error_arr": forecast - actual,
                             "abs_error_arr": abs(forecast - actual),
                             "team_mae_arr": float(teams["abs_error_arr"].mean()), "status": "ok"})
    quarters = pd.DataFrame(quarter_rows).reindex(columns=list(BACKTEST_QUARTER_COLUMNS))
    teams = (pd.concat(team_rows, ignore_index=True) if team_rows
             else pd.DataFrame(columns=list(BACKTEST_TEAM_COLUMNS)))
    ok = quarters[quarters["status"] == "ok"]
    mae = pd.DataFrame([{
        "quarters": int(len(ok)),
        "mae_arr": float(ok["abs_error_arr"].mean()) if len(ok) else np.nan,
        "team_mae_arr": float(teams["abs_error_arr"].mean()) if len(teams) else np.nan,
    }])
    return {"quarters": quarters, "teams": teams[list(BACKTEST_TEAM_COLUMNS)], "mae": mae}


# --------------------------------------------------------------------------- report
def forecast_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report forecast [--month] [filters] [--by team|csm|segment]``: the page's
    per-quarter table (ARR due, expected renewed ARR and its range, the calls' sums per
    scenario; with --by also per group), the next quarter's tiles and the backtest (per
    quarter, per team, and the mean absolute error). Calls come from the app store next to
    the database."""
    from cslib.store.appstore import AppStore, StoreUnavailable, default_path
    from cslib.months import check_month, data_months, default_month

    first, last = data_months(conn)
    month = default_month(conn) if args.month is None else check_month(args.month, first, last)
    frame = renewals(conn, args.filters, month)
    path = getattr(conn, "path", None)
    calls = None
    if path is not None:
        try:
            calls = AppStore(default_path(path)).renewal_calls()
        except StoreUnavailable:
            calls = None
    frame = with_calls(frame, calls)
    tables = {"quarters": quarter_table(frame, month)}
    if args.by:
        tables["breakdown"] = quarter_table(frame, month, args.by)
    tables["next_quarter"] = pd.DataFrame([next_quarter(frame, month)])
    tested = backtest(conn, args.filters, month)
    tables["backtest"] = tested["quarters"].assign(
        start_on=lambda d: d["start_on"].astype(str),
        train_last_due_on=lambda d: d["train_last_due_on"].astype(str),
        train_last_renewed_on=lambda d: d["train_last_renewed_on"].astype(str),
    )
    tables["backtest_teams"] = tested["teams"]
    tables["backtest_mae"] = tested["mae"]
    return month, tables
