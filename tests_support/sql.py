"""Shared pieces of the SQL-model tests."""

#: Stand-in for the ``health_weekly`` model (its columns), so the revenue models can be
#: tested on hand-written health rows without running the scorer. The three lists hold
#: every indicator's value, week points and window points in cfg_indicators ordinal order
#: (read health_indicator_weekly instead).
HEALTH_WEEKLY_DDL = """
create or replace table health_weekly (
    account_id varchar, week_start date, weeks_in_window integer, score double, tier varchar,
    modules_points double, modules_used integer, core_modules_used integer,
    indicator_values double[], indicator_week_points double[], indicator_window_points double[]
)
"""

#: Stand-in for the ``health_indicator_weekly`` model (its columns).
HEALTH_INDICATOR_WEEKLY_DDL = """
create or replace table health_indicator_weekly (
    account_id varchar, week_start date, indicator varchar, value double, window_points double,
    week_points double, weeks_in_window integer, core_modules_used integer
)
"""
