"""A book whose scorecard has its own indicators: 'modules' and one ratio,
'weekly_active_share' (label "Weekly active share", max 70 points, bands 0 / 0.5 / 0.8
worth 0 / 35 / 70), instead of the demo's five.

``build_indicator_book(path)`` writes the renewal-model book of tests_support/model_book.py
(c1, c2, c3; weekly usage 2026-01-05 .. 2026-03-30; c3 due 2026-02-10 renewed, c2 due
2026-03-10 deferred) through the real pipeline, then replaces the scorecard's output with
hand-set indicator rows (cfg_indicators, cfg_ratio_bands, health_indicator_weekly,
health_weekly's score = the sum of the window points, its tier) and rebuilds the models
that read them (health_alerts, model_renewal_features, model_renewal_indicator_features).
So the readers are tested on an indicator set that is not the demo's, whatever the
scoring engine does.

Window points per week (week i = 0 for 2026-01-05), value = share of active users:

=======  ==============================  ===================================  ======
account  modules points (value: used)    weekly_active_share points (value)   score
=======  ==============================  ===================================  ======
c1       30 (6)                          40 (0.6) every week                  70
c2       30 (6)                          70 (0.9) weeks 0-6, then 20 (0.2)    100/50
c3       30 (6)                          min(70, 10 (i + 1)) (points / 100)   40..100
=======  ==============================  ===================================  ======

Renewal features (13 weeks before the due month): c3 (due 2026-02-10) sees weeks 0-2
(week_index 10, 11, 12): share points 10, 20, 30 -> mean 20, last 30, slope 10; value
mean 0.2 (band 0-0.5). c2 (due 2026-03-10) sees weeks 0-6: share 70 flat -> mean 70,
last 70, slope 0; value 0.9 (band >= 0.8). Modules 30 flat for both (points band >= 20).
c2's share falls 70 -> 20 in week 7 (2026-02-23): a 50-point score drop driven by
weekly_active_share. c1's month-end (2026-03-30) gaps: modules 0, share 30 -> its
weakest indicator is weekly_active_share (30 points short).
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from cslib.store import db
from cslib.store.db import sql_file
from tests_support.model_book import build_model_book

INDICATORS = [("modules", "Modules", 0, 30.0), ("weekly_active_share", "Weekly active share", 1, 70.0)]
BANDS = [("weekly_active_share", 0.0, 0.0), ("weekly_active_share", 0.5, 35.0), ("weekly_active_share", 0.8, 70.0)]
FIRST_WEEK = dt.date(2026, 1, 5)
N_WEEKS = 13  # 2026-01-05 .. 2026-03-30
#: the models that read the scorecard's output, rebuilt after it is replaced
READERS = ("health_alerts", "model_renewal_features", "model_renewal_indicator_features")


def share_points(account_id: str, i: int) -> float:
    if account_id == "c1":
        return 40.0
    if account_id == "c2":
        return 70.0 if i <= 6 else 20.0
    return min(70.0, 10.0 * (i + 1))


def share_value(account_id: str, i: int) -> float:
    if account_id == "c2":
        return 0.9 if i <= 6 else 0.2
    return share_points(account_id, i) / 100


def indicator_rows() -> list[tuple]:
    """(account_id, week_start, indicator, value, window_points) of every account-week."""
    rows = []
    for account_id in ("c1", "c2", "c3"):
        for i in range(N_WEEKS):
            week = FIRST_WEEK + dt.timedelta(days=7 * i)
            rows.append((account_id, week, "modules", 6.0, 30.0))
            rows.append((account_id, week, "weekly_active_share", share_value(account_id, i), share_points(account_id, i)))
    return rows


def apply_indicators(conn) -> None:
    """Replace the scorecard's output on ``conn`` (a built book) and rebuild READERS."""
    conn.execute("delete from cfg_indicators")
    conn.executemany("insert into cfg_indicators (indicator, label, ordinal, max_points) values (?, ?, ?, ?)",
                     INDICATORS)
    conn.execute("delete from cfg_ratio_bands")
    conn.executemany("insert into cfg_ratio_bands (indicator, min_value, points) values (?, ?, ?)", BANDS)
    # health_indicator_weekly is health_weekly unpivoted (cslib.rules.scoring_sql): the
    # indicators' columns of health_weekly are set, by ordinal (modules 0, the share 1)
    conn.execute("delete from health_weekly where week_start < ? or week_start > ?",
                 [FIRST_WEEK, FIRST_WEEK + dt.timedelta(days=7 * (N_WEEKS - 1))])
    rows = pd.DataFrame(indicator_rows(), columns=["account_id", "week_start", "indicator", "value", "points"])
    weeks = rows[rows.indicator == "modules"].merge(
        rows[rows.indicator == "weekly_active_share"], on=["account_id", "week_start"], suffixes=("_0", "_1"))
    weeks["score"] = weeks["points_0"] + weeks["points_1"]
    conn.register("_indicator_weeks", weeks)
    try:
        updated = conn.execute(
            "update health_weekly as h set value_0 = w.value_0, window_points_0 = w.points_0, week_points_0 = null, "
            "value_1 = w.value_1, window_points_1 = w.points_1, week_points_1 = null, score = w.score, "
            "tier = case when w.score >= 70 then 'healthy' when w.score < 30 then 'unhealthy' else 'at_risk' end "
            "from _indicator_weeks as w where w.account_id = h.account_id and w.week_start = h.week_start"
        ).fetchone()[0]
    finally:
        conn.unregister("_indicator_weeks")
    assert updated == len(weeks), "the model book has a scored week for every account and week"
    for model in READERS:
        conn.execute(sql_file(model))


def build_indicator_book(path: str | os.PathLike) -> None:
    """Write the book described in the module docstring to ``path``."""
    build_model_book(path)
    conn = db.connect(path, read_only=False)
    try:
        apply_indicators(conn)
    finally:
        conn.close()
