"""Calendar months as 'YYYY-MM' text: the one place that shifts, lists and checks them."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from cslib.store.db import query
from cslib.errors import UserError
from cslib.store.meta import read_meta, write_meta

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def shift_month(month: str, n: int) -> str:
    """'YYYY-MM' moved by ``n`` calendar months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_end(month: str) -> dt.date:
    """The last day of 'YYYY-MM'."""
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1)


def calendar(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, inclusive."""
    months = [first]
    while months[-1] < last:
        months.append(shift_month(months[-1], 1))
    return months


def data_months(conn) -> tuple[str, str]:
    """(first, last) month of ``account_month``; UserError when it is empty."""
    df = query(conn, "select min(month) as first_month, max(month) as last_month from account_month")
    first = df.iloc[0]["first_month"]
    if first is None or (isinstance(first, float) and math.isnan(first)):
        raise UserError("the database has no revenue months (import data or run the demo first)")
    return str(first), str(df.iloc[0]["last_month"])


#: ``import_meta`` key of the month the app opens on, when the import set one.
DEFAULT_MONTH_KEY = "default_month"


def write_default_month(conn, month: str) -> None:
    """Record the month the app opens on (the importer: revenue continues after the last usage
    month, so the last month with both revenue and usage) in ``import_meta``."""
    write_meta(conn, **{DEFAULT_MONTH_KEY: month})


def default_month(conn) -> str:
    """The month pages and reports open on: the import's ``default_month`` (the last month with
    both revenue and usage, set when revenue runs past the usage data) when it is in the data,
    else the last month of ``account_month`` (the demo, and every import whose usage reaches
    the last revenue month). UserError when there are no months."""
    first, last = data_months(conn)
    month = read_meta(conn, DEFAULT_MONTH_KEY)
    return month if isinstance(month, str) and MONTH_RE.match(month) and first <= month <= last else last


def check_month(value: Any, first: str, last: str, what: str = "month") -> str:
    """``value`` if it is 'YYYY-MM' within first..last, else a one-line UserError naming ``what``."""
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise UserError(f"{what} must be YYYY-MM, got {value!r}")
    if not first <= value <= last:
        raise UserError(f"{what} {value} is not in the data ({first} to {last})")
    return value
