"""``python -m cslib report NAME``: print what a page shows, as JSON or CSV.

Each report calls the same cslib function as its page, so scripted numbers and the
tiles on screen cannot drift apart.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import pandas as pd

from .db import connect
from .errors import UserError
from .filters import Filters


def _open(db_path: str | os.PathLike):
    if not Path(db_path).exists():
        raise UserError(f"{db_path}: database not found (run 'python -m cslib demo' first)")
    return connect(db_path, read_only=True)


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


def kpis_frame(conn, month: str | None, filters: Filters) -> tuple[str, pd.DataFrame]:
    """The Overview tiles as a frame: name, label, value, previous, delta, format."""
    from .metrics import kpi_tiles, latest_month

    month = month or latest_month(conn)
    return month, pd.DataFrame(kpi_tiles(conn, filters, month))


_REPORTS = {"kpis": kpis_frame}


def render_report(name: str, db_path, month: str | None, filters: Filters, fmt: str) -> str:
    """The report ``name`` as JSON (an object with month, filters and rows) or CSV text."""
    if name not in _REPORTS:
        raise UserError(f"unknown report '{name}' (choose from {', '.join(_REPORTS)})")
    conn = _open(db_path)
    try:
        month, frame = _REPORTS[name](conn, month, filters)
    finally:
        conn.close()
    if fmt == "csv":
        buf = io.StringIO()
        frame.round(6).to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()
    rows = [{k: _clean(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]
    payload = {
        "report": name,
        "month": month,
        "filters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in filters.as_dict().items()},
        "rows": rows,
    }
    return json.dumps(payload, indent=2) + "\n"
