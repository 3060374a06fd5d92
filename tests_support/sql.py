"""Shared pieces of the SQL-model tests."""

#: Stand-in for the ``health_weekly`` model (its first eight columns, the ones every model
#: reads), so the revenue models can be tested on hand-written health rows without running
#: the scorer; per-indicator values and points are in ``health_indicator_weekly``.
HEALTH_WEEKLY_DDL = """
create or replace table health_weekly (
    account_id varchar, week_start date, weeks_in_window integer, score double, tier varchar,
    modules_points double, modules_used integer, core_modules_used integer
)
"""

#: Stand-in for the ``health_indicator_weekly`` model (its columns).
HEALTH_INDICATOR_WEEKLY_DDL = """
create or replace table health_indicator_weekly (
    account_id varchar, week_start date, indicator varchar, value double, window_points double,
    week_points double, weeks_in_window integer, core_modules_used integer
)
"""
