"""Published retention benchmarks beside our own NRR and GRR, per ACV band.

The figures live in a data file (``cslib/config/benchmarks.toml``, or the user's own targets
through ``HEALTHGRID_BENCHMARKS``): sources (publisher, title, URL, year), band sets (ways of
cutting the book by ACV, each band with its edges) and figures (a median, or a range low /
high, for NRR or GRR of one band, each with its source and year). ``load_benchmarks``
validates the file: one-line UserError naming the file and the entry on any problem.

Our side uses the project's one definition of period retention
(``cslib/sql/queries/negative_churn/revenue_period_retention.sql``, ``cslib.views.revenue.REVENUE_METRICS``
``period_nrr`` / ``period_grr``): the base is the accounts paying in the month before the
period, each placed in a band by its **ACV = its ARR (MRR x 12) in that base month**, so an
account stays in one band for the whole period. A band includes its lower edge and excludes
its upper edge (ARR of exactly $12,000 is in "$12K to $25K"). By default the period is the
12 months ending with the month (the published figures are annual).

A band's flag: for a median, ``below`` / ``within`` (equal, at 0.1 pp) / ``above`` the
median; for a range, ``below`` the low end, ``above`` the high end, else ``within`` (edges
count as within; a range with only a low end is "at least"). No base -> no rate, no flag.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render
from cslib.filters import Filters
from cslib.rules.benchmark_figures import METRICS_COMPARED, Benchmarks, BandSet, load_benchmarks

FLAGS = ("below", "within", "above")
#: how a flag is coloured: below is bad (red), above good (green), within neutral (grey)
FLAG_UP_IS_GOOD = {"below": False, "within": None, "above": True}
FLAG_LABELS = {"below": "Below", "within": "Within", "above": "Above"}
DEFAULT_MONTHS = 12

_GROUP_MARKER = "/* group_column */ segment"


# --------------------------------------------------------------------------- our side
def period_for(conn, month: str | None, month_from: str | None = None,
               month_to: str | None = None) -> tuple[str, str]:
    """(month_from, month_to): ``--from/--to`` when given (``--from`` alone runs to the
    month), else the DEFAULT_MONTHS months ending with ``month`` (None = the default month),
    clipped to the data. UserError for a bad month."""
    from cslib.months import default_month
    from cslib.views.revenue import check_period, period_bounds

    end = month_to or month or default_month(conn)
    if month_from is not None:
        return check_period(conn, month_from, end)
    return period_bounds(conn, end, DEFAULT_MONTHS)


def _band_case(band_set: BandSet) -> tuple[str, dict[str, Any]]:
    """The group column of a band set: a ``case`` giving each account's band index (as
    text) from its ARR, the bounds and indexes bound as ``$band_max_i`` / ``$band_i``
    (values from the benchmarks file are never spliced into SQL)."""
    params: dict[str, Any] = {}
    whens = []
    for i, band in enumerate(band_set.bands[:-1]):
        whens.append(f"when mrr * 12 < $band_max_{i} then $band_{i}")
        params[f"band_max_{i}"] = band.max_acv
        params[f"band_{i}"] = str(i)
    last = len(band_set.bands) - 1
    params[f"band_{last}"] = str(last)
    return (f"case {' '.join(whens)} else $band_{last} end" if whens else f"$band_{last}"), params


def band_retention(conn, filters: Filters, band_set: BandSet, month_from: str, month_to: str) -> pd.DataFrame:
    """Period NRR and GRR per band of ``band_set`` over ``month_from``..``month_to``.

    One row per band, in the set's order: band, band_label, min_acv, max_acv, base_month,
    base_accounts, retained_accounts, start_mrr, end_mrr, gross_retained_mrr, start_arr,
    nrr, grr (NaN without a base). The base and the rates are exactly those of
    ``revenue_period_retention.sql``; the group is the band of each account's ARR in the
    base month.
    """
    from cslib.months import shift_month
    from cslib.views.revenue import REVENUE_METRICS, check_period

    month_from, month_to = check_period(conn, month_from, month_to)
    base_month = shift_month(month_from, -1)
    band_case, band_params = _band_case(band_set)
    sql, params = render("revenue_period_retention", filters, splice={_GROUP_MARKER: band_case},
                         month_to=month_to, base_month=base_month, **band_params)
    found = query(conn, sql, params).set_index("group_value")
    rows = []
    for i, band in enumerate(band_set.bands):
        row = found.loc[str(i)] if str(i) in found.index else None
        rows.append({
            "band": band.id, "band_label": band.label, "min_acv": band.min_acv,
            "max_acv": None if math.isinf(band.max_acv) else band.max_acv, "base_month": base_month,
            "base_accounts": int(row["base_accounts"]) if row is not None else 0,
            "retained_accounts": int(row["retained_accounts"]) if row is not None else 0,
            "start_mrr": float(row["start_mrr"]) if row is not None else 0.0,
            "end_mrr": float(row["end_mrr"]) if row is not None else 0.0,
            "gross_retained_mrr": float(row["gross_retained_mrr"]) if row is not None else 0.0,
        })
    frame = pd.DataFrame(rows)
    frame["start_arr"] = frame["start_mrr"] * 12
    frame["nrr"] = REVENUE_METRICS["period_nrr"].compute(frame).astype(float) + 0.0
    frame["grr"] = REVENUE_METRICS["period_grr"].compute(frame).astype(float) + 0.0
    return frame


def _opt(value: float) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def comparison(conn, filters: Filters, month_from: str, month_to: str,
               benchmarks: Benchmarks | None = None) -> pd.DataFrame:
    """The "Against published benchmarks" table: one row per band of every band set.

    Columns: band_set, band_set_label, band, band_label, month_from, month_to, months,
    base_month, base_accounts, start_arr, nrr, grr (ours, fractions; None without a base),
    then per metric m in (nrr, grr): m_benchmark (text: 'median 102%', '80% to 100%',
    'at least 90%'; None when the file has no figure), m_median, m_low, m_high, m_flag
    ('below' | 'within' | 'above'; None without our rate or a figure), m_source
    ('SaaS Capital, 2023'), m_url. ``benchmarks`` defaults to ``load_benchmarks()``.
    """
    from cslib.months import calendar

    benchmarks = benchmarks or load_benchmarks()
    months = len(calendar(month_from, month_to))
    out = []
    for band_set in benchmarks.band_sets:
        ours = band_retention(conn, filters, band_set, month_from, month_to)
        for rec in ours.to_dict(orient="records"):
            row: dict[str, Any] = {
                "band_set": band_set.id, "band_set_label": band_set.label,
                "band": rec["band"], "band_label": rec["band_label"],
                "month_from": month_from, "month_to": month_to, "months": months,
                "base_month": rec["base_month"], "base_accounts": rec["base_accounts"],
                "start_arr": rec["start_arr"], "nrr": _opt(rec["nrr"]), "grr": _opt(rec["grr"]),
            }
            for metric in METRICS_COMPARED:
                figure = benchmarks.figure(band_set.id, rec["band"], metric)
                source = benchmarks.sources[figure.source] if figure else None
                row[f"{metric}_benchmark"] = figure.text() if figure else None
                row[f"{metric}_median"] = figure.median if figure else None
                row[f"{metric}_low"] = figure.low if figure else None
                row[f"{metric}_high"] = figure.high if figure else None
                row[f"{metric}_flag"] = figure.flag(row[metric]) if figure else None
                row[f"{metric}_source"] = f"{source.publisher}, {figure.year}" if figure else None
                row[f"{metric}_url"] = source.url if source else None
            out.append(row)
    return pd.DataFrame(out)


def below(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a ``comparison`` table with NRR or GRR below the published figure."""
    return table[(table["nrr_flag"] == "below") | (table["grr_flag"] == "below")]


def sources_table(benchmarks: Benchmarks) -> pd.DataFrame:
    """One row per source: source, publisher, title, url, year, note."""
    return pd.DataFrame([{"source": s.id, "publisher": s.publisher, "title": s.title, "url": s.url,
                          "year": s.year, "note": s.note} for s in benchmarks.sources.values()])


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The page's table in words: band set, ACV band, base accounts, start ARR, our NRR and
    GRR, the published figure with its source and year, and the flag labels (a dash where
    there is no figure or no rate)."""
    out = pd.DataFrame({
        "Benchmark": table["band_set_label"],
        "ACV band": table["band_label"],
        "Accounts": table["base_accounts"],
        "ARR at start": table["start_arr"],
        "Our NRR": table["nrr"],
        "Published NRR": table["nrr_benchmark"],
        "NRR vs published": table["nrr_flag"].map(FLAG_LABELS),
        "Our GRR": table["grr"],
        "Published GRR": table["grr_benchmark"],
        "GRR vs published": table["grr_flag"].map(FLAG_LABELS),
        "Source": [s if isinstance(s, str) else g for s, g in zip(table["nrr_source"], table["grr_source"])],
    })
    for column in ("Published NRR", "NRR vs published", "Published GRR", "GRR vs published", "Source"):
        out[column] = [v if isinstance(v, str) else "–" for v in out[column]]  # a dash, never None
    return out


def period_note(table: pd.DataFrame) -> str | None:
    """A caution when the period is not 12 months (the published figures are annual)."""
    if table.empty:
        return None
    months = int(table["months"].iloc[0])
    if months == DEFAULT_MONTHS:
        return None
    return (f"This period is {months} month{'s' if months != 1 else ''}; the published figures are annual "
            "(12 months), so compare with care.")


# --------------------------------------------------------------------------- report
def benchmarks_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report benchmarks``: tables ``bands`` (``comparison``: our period NRR/GRR per ACV
    band beside the published figure and its flag) and ``sources``. The period is
    ``--from/--to``, else the 12 months ending with ``--month`` (default: the latest)."""
    benchmarks = load_benchmarks()
    month_from, month_to = period_for(conn, args.month, args.month_from, args.month_to)
    table = comparison(conn, args.filters, month_from, month_to, benchmarks)
    return month_to, {"bands": table, "sources": sources_table(benchmarks)}


def month_comparison(conn, filters: Filters, month: str, path: str | None = None) -> pd.DataFrame:
    """``comparison`` over the DEFAULT_MONTHS months ending with ``month`` with the file at
    ``path`` (default: ``$HEALTHGRID_BENCHMARKS``): what the pages show (hashable arguments,
    so the app can cache it)."""
    loaded = load_benchmarks(path)
    month_from, month_to = period_for(conn, month)
    return comparison(conn, filters, month_from, month_to, loaded)


def sources_line(path: str | None = None) -> list[tuple[str, int, str]]:
    """(publisher, year, url) of each source of the file, for a caption."""
    return [(s.publisher, s.year, s.url) for s in load_benchmarks(path).sources.values()]
