"""``python -m cslib report NAME``: print what a page shows, as JSON or CSV.

Each report calls the same cslib function as its page, so scripted numbers and the
tiles on screen cannot drift apart.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from cslib.store.db import open_checked
from cslib.errors import UserError
from cslib.export import to_csv
from cslib.filters import Filters, check_attributes, check_values


def _open(db_path: str | os.PathLike):
    """The database read-only, or one UserError naming what is wrong with the file."""
    return open_checked(db_path)


def _clean(value):
    """JSON-safe scalar: NaN/inf -> None, numpy scalars -> python."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        # 6 decimals: cents on money, 0.0001 pp on rates; drops float noise from sums
        return round(value, 6) if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class ReportArgs:
    """What the command line passes to every report (unused fields are ignored)."""

    month: str | None
    filters: Filters
    month_from: str | None = None
    month_to: str | None = None
    by: str | None = None
    account_id: str | None = None


#: A report: (read-only connection, args) -> (month it describes, named tables).
Report = Callable[[object, ReportArgs], tuple[str, dict[str, pd.DataFrame]]]


def kpis_report(conn, args: ReportArgs) -> tuple[str, dict[str, pd.DataFrame]]:
    """The Overview tiles: name, label, value, previous, delta, format."""
    from cslib.views.metrics import kpi_tiles, latest_month

    month = args.month or latest_month(conn)
    return month, {"rows": pd.DataFrame(kpi_tiles(conn, args.filters, month))}


#: report name -> function, or "module:function" resolved on first use (page modules
#: register here without importing each other).
REPORTS: dict[str, Report | str] = {
    "kpis": kpis_report,
    "ninebox": "cslib.views.ninebox:ninebox_report",
    "flows": "cslib.views.flows:flows_report",
    "alerts": "cslib.views.alerts:alerts_report",
    "churn-reasons": "cslib.views.churn:churn_reasons_report",
    "revenue": "cslib.views.revenue:revenue_report",
    "model": "cslib.views.renewal_model:model_report",
    "forecast": "cslib.views.forecast:forecast_report",
    "incentives": "cslib.views.incentives:incentives_report",
    "account": "cslib.views.account:account_report",
    "benchmarks": "cslib.views.benchmarks:benchmarks_report",
}


def _resolve(name: str) -> Report:
    entry = REPORTS[name]
    if isinstance(entry, str):
        import importlib

        module, func = entry.split(":")
        entry = getattr(importlib.import_module(module), func)
    return entry


def render_report(name: str, db_path, args: ReportArgs, fmt: str) -> str:
    """The report ``name`` as JSON (month, filters and each table as a list of rows) or
    as CSV (one table; several tables are stacked with a leading ``table`` column)."""
    if name not in REPORTS:
        raise UserError(f"unknown report '{name}' (choose from {', '.join(REPORTS)})")
    conn = _open(db_path)
    try:
        check_attributes(conn, args.filters)  # an attribute the data lacks: one line, not an empty report
        check_values(conn, args.filters)  # so is a value no account has (a typo, a label for a code)
        month, tables = _resolve(name)(conn, args)
    finally:
        conn.close()
    if fmt == "csv":
        if len(tables) == 1:
            frame = next(iter(tables.values()))
        else:
            frame = pd.concat(
                [t.assign(table=key)[["table", *t.columns]] for key, t in tables.items()],
                ignore_index=True,
            )
        return to_csv(frame)  # formula-safe, money at cents
    payload = {
        "report": name,
        "month": month,
        "filters": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in args.filters.as_dict().items()
        },
    }
    for key, frame in tables.items():
        payload[key] = [
            {k: _clean(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")
        ]
    return json.dumps(payload, indent=2, default=str) + "\n"
