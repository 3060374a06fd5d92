"""A vs B: the same tiles for two slices side by side (the Overview and Negative churn).

A slice is the sidebar's filters narrowed on one dimension to a value (A), and the same
filters narrowed to another value or to every other value of that dimension in the data
(B, "everything else"), optionally at an earlier month (this team now vs three months
ago). The numbers are the pages' own tiles (cslib.views.metrics.kpi_tiles, cslib.views.revenue.tiles),
so a column of the comparison is exactly what the page shows for that slice.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cslib.errors import UserError
from cslib.filters import FILTER_COLUMNS, Filters, filter_options
from cslib.months import shift_month

#: B's "everything else" value
OTHERS = "__others__"
#: how far back B's month may be
MONTH_OFFSETS = {0: "Same month", 3: "3 months earlier", 12: "12 months earlier"}


def narrowed_pair(conn, filters: Filters, by: str, a: str, b: str) -> tuple[Filters, Filters]:
    """(A's filters, B's filters) for a comparison by dimension ``by``: the sidebar's
    ``filters`` with ``by`` set to ``a``, and to ``b`` (OTHERS: every other value of ``by``,
    those the sidebar chose, else all the data has)."""
    if by not in FILTER_COLUMNS:
        raise UserError(f"cannot compare by {by!r} (choose from {', '.join(FILTER_COLUMNS)})")
    fa = replace(filters, **{by: (a,)})
    if b != OTHERS:
        return fa, replace(filters, **{by: (b,)})
    chosen = getattr(filters, by)
    pool = list(chosen) if chosen else filter_options(conn)[by]
    rest = tuple(sorted(v for v in pool if v != a))
    if not rest:
        return fa, replace(filters, deny_all=True)  # nothing else: an empty B, shown as n/a
    return fa, replace(filters, **{by: rest})


def b_month(month: str, offset: int, first: str) -> str | None:
    """B's month ``offset`` months before ``month``; None when that is before the data."""
    if offset not in MONTH_OFFSETS:
        raise UserError(f"B's month must be 0, 3 or 12 months earlier, got {offset!r}")
    m = shift_month(month, -int(offset))
    return m if m >= first else None


def side_by_side(tiles_a: list[dict], tiles_b: list[dict] | None) -> pd.DataFrame:
    """One row per tile: name, label, format, up_is_good, a, b, difference (a - b; None where
    either is missing). ``tiles_b`` None (B's month before the data): b and difference None."""
    b_by_name = {t["name"]: t for t in (tiles_b or [])}
    rows = []
    for t in tiles_a:
        a = t.get("value")
        b = b_by_name.get(t["name"], {}).get("value") if tiles_b is not None else None
        diff = a - b if a is not None and b is not None else None
        rows.append({"name": t["name"], "label": t["label"], "format": t["format"],
                     "up_is_good": t.get("up_is_good", True), "a": a, "b": b, "difference": diff})
    return pd.DataFrame(rows)


def _months(conn, month: str, offset: int) -> str | None:
    from cslib.months import data_months

    first, _ = data_months(conn)
    return b_month(month, offset, first)


def overview(conn, filters: Filters, by: str, a: str, b: str, month: str, offset: int = 0) -> pd.DataFrame:
    """The Overview's tiles for A (``month``) and B (``offset`` months earlier), side by side."""
    from cslib.views.metrics import kpi_tiles

    fa, fb = narrowed_pair(conn, filters, by, a, b)
    mb = _months(conn, month, offset)
    return side_by_side(kpi_tiles(conn, fa, month), kpi_tiles(conn, fb, mb) if mb else None)


def revenue(conn, filters: Filters, by: str, a: str, b: str, month: str, offset: int = 0) -> pd.DataFrame:
    """The Negative churn page's month tiles for A and B, side by side."""
    from cslib.views import revenue as rev
    from cslib.months import data_months

    first, _ = data_months(conn)

    def tiles(f: Filters, m: str) -> list[dict]:
        start = max(shift_month(m, -1), first)
        return rev.tiles(rev.rates(conn, f, start, m), m)

    fa, fb = narrowed_pair(conn, filters, by, a, b)
    mb = _months(conn, month, offset)
    return side_by_side(tiles(fa, month), tiles(fb, mb) if mb else None)
