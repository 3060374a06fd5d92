"""Shared pieces of the SQL-model tests."""

#: Stand-in for the ``health_weekly`` model (its columns), so the revenue models can be
#: tested on hand-written health rows without running the scorer. The columns after
#: core_modules_used are the demo indicators' transition columns.
HEALTH_WEEKLY_DDL = """
create or replace table health_weekly (
    account_id varchar, week_start date, weeks_in_window integer, score double, tier varchar,
    modules_points double, modules_used integer, core_modules_used integer,
    instance_points double, activation_points double, login_points double, bi_points double,
    instance_ratio double, activation_rate double, login_rate double, bi_rate double
)
"""

#: Stand-in for the ``health_indicator_weekly`` model (its columns).
HEALTH_INDICATOR_WEEKLY_DDL = """
create or replace table health_indicator_weekly (
    account_id varchar, week_start date, indicator varchar, value double, window_points double,
    week_points double, weeks_in_window integer, core_modules_used integer
)
"""
