"""Shared pieces of the SQL-model tests."""

#: Stand-in for the ``health_weekly`` model (its agreed columns), so the revenue models
#: can be tested on hand-written health rows without running the scorer.
HEALTH_WEEKLY_DDL = """
create or replace table health_weekly (
    account_id varchar, week_start date, weeks_in_window integer, score double, tier varchar,
    modules_points double, instance_points double, activation_points double,
    login_points double, bi_points double, modules_used integer, core_modules_used integer,
    instance_ratio double, activation_rate double, login_rate double, bi_rate double
)
"""
