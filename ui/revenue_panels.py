"""The Negative churn page's panels: a panel's frames (cslib.views.revenue, the queries) and
its chart specs (cslib.charts.revenue, built from the frames) in one call, so the page can
cache them together with ``ui.data.cached``: a rerun with a known selection builds no chart."""

from __future__ import annotations

from cslib import labels
from cslib.charts import revenue as charts
from cslib.views import revenue


def rates_panel(conn, filters, month_from: str, month_to: str) -> dict:
    """{"table": ``revenue.rates`` for the period, "period": its ``revenue.period_summary``
    (true period NRR and GRR, average monthly rates), "specs": ``charts.rates_specs``}."""
    table = revenue.rates(conn, filters, month_from, month_to)
    return {"table": table, "period": revenue.period_summary(conn, filters, table),
            "specs": charts.rates_specs(table)}


def cohort_panel(conn, filters, month_from: str, month_to: str, grain: str) -> dict:
    """{"table": ``revenue.cohorts``, "spec": its heat table (None when there is no cohort)}."""
    table = revenue.cohorts(conn, filters, month_from, month_to, grain)
    return {"table": table, "spec": charts.cohort_spec(table)}


def breakdown_panel(conn, filters, month_from: str, month_to: str, by: str, label: str) -> dict:
    """{"table": ``revenue.breakdown`` with group values as display labels (cslib.labels, as
    the sidebar shows codes), "specs": {"rate", "levers"}}; ``label`` names the dimension."""
    table = revenue.breakdown(conn, filters, month_from, month_to, by)
    table["group_value"] = [labels.label(v) for v in table["group_value"]]
    return {"table": table, "specs": charts.breakdown_specs(table, label)}
