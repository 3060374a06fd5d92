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
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cslib import settings
from cslib.store.db import query, sql_file
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules import tomlfile

METRICS_COMPARED = ("nrr", "grr")
FLAGS = ("below", "within", "above")
#: how a flag is coloured: below is bad (red), above good (green), within neutral (grey)
FLAG_UP_IS_GOOD = {"below": False, "within": None, "above": True}
FLAG_LABELS = {"below": "Below", "within": "Within", "above": "Above"}
DEFAULT_MONTHS = 12

_FILTER_MARKER = "/* filter_predicate */ true"
_GROUP_MARKER = "/* group_column */ segment"
_TOP_KEYS = ("sources", "band_sets", "figures")
_SOURCE_KEYS = ("publisher", "title", "url", "year", "note")
_SET_KEYS = ("id", "label", "bands")
_BAND_KEYS = ("id", "label", "min_acv", "max_acv")
_FIGURE_KEYS = ("band_set", "band", "metric", "median", "low", "high", "source", "year")


@dataclass(frozen=True)
class Source:
    id: str
    publisher: str
    title: str
    url: str
    year: int
    note: str = ""


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    min_acv: float
    max_acv: float  # math.inf for the last band


@dataclass(frozen=True)
class BandSet:
    id: str
    label: str
    bands: tuple[Band, ...]

    def band_of(self, acv: float) -> Band:
        """The band holding ``acv`` (lower edge inclusive, upper edge exclusive)."""
        for band in self.bands:
            if band.min_acv <= acv < band.max_acv:
                return band
        return self.bands[0] if acv < self.bands[0].min_acv else self.bands[-1]


@dataclass(frozen=True)
class Figure:
    band_set: str
    band: str
    metric: str  # 'nrr' | 'grr'
    median: float | None
    low: float | None
    high: float | None
    source: str
    year: int

    def flag(self, value: float | None) -> str | None:
        """'below' | 'within' | 'above' for our ``value`` (a fraction); None without one."""
        if value is None or not math.isfinite(value):
            return None
        ours = round(value, 3)  # compared at 0.1 pp, as shown
        if self.median is not None:
            median = round(self.median, 3)
            return "below" if ours < median else "above" if ours > median else "within"
        if self.low is not None and ours < round(self.low, 3):
            return "below"
        if self.high is not None and ours > round(self.high, 3):
            return "above"
        return "within"

    def text(self) -> str:
        """'median 102%', '80% to 100%', 'at least 90%', 'at most 95%'."""
        def pct(x: float) -> str:
            return f"{x * 100:.0f}%" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x * 100:.1f}%"
        if self.median is not None:
            return f"median {pct(self.median)}"
        if self.low is not None and self.high is not None:
            return f"{pct(self.low)} to {pct(self.high)}"
        if self.low is not None:
            return f"at least {pct(self.low)}"
        return f"at most {pct(self.high)}"


@dataclass(frozen=True)
class Benchmarks:
    path: str
    sources: dict[str, Source]
    band_sets: tuple[BandSet, ...]
    figures: tuple[Figure, ...]

    def figure(self, band_set: str, band: str, metric: str) -> Figure | None:
        for figure in self.figures:
            if (figure.band_set, figure.band, figure.metric) == (band_set, band, metric):
                return figure
        return None


# --------------------------------------------------------------------------- loading
def _fraction(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where}: '{key}' must be a number (a fraction, 1.02 = 102%), got {value!r}")
    if not 0 <= value <= 5:
        raise UserError(f"{where}: '{key}' must be a fraction between 0 and 5 (1.02 = 102%), got {value!r}")
    return float(value)


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: missing or empty '{key}'")
    return value.strip()


def _year(table: dict, where: str) -> int:
    value = table.get("year")
    if value is None:
        raise UserError(f"{where}: missing 'year'")
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
        raise UserError(f"{where}: 'year' must be a year such as 2023, got {value!r}")
    return value


def _unknown(table: dict, allowed: tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise UserError(f"{where}: unknown key '{extra[0]}' (expected {', '.join(allowed)})")


def _money(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UserError(f"{where}: '{key}' must be an amount >= 0, got {value!r}")
    return float(value)


def _band_set(table: Any, path: str, index: int) -> BandSet:
    where = f"{path}: band set {index}"
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table")
    _unknown(table, _SET_KEYS, where)
    set_id, label = _text(table, "id", where), _text(table, "label", where)
    where = f"{path}: band set '{set_id}'"
    raw = table.get("bands")
    if not isinstance(raw, list) or not raw:
        raise UserError(f"{where}: needs at least one [[band_sets.bands]]")
    bands: list[Band] = []
    for i, item in enumerate(raw, start=1):
        here = f"{where}, band {i}"
        if not isinstance(item, dict):
            raise UserError(f"{here}: expected a table")
        _unknown(item, _BAND_KEYS, here)
        band_id, band_label = _text(item, "id", here), _text(item, "label", here)
        if "min_acv" not in item:
            raise UserError(f"{here} ({band_id}): missing 'min_acv'")
        low = _money(item["min_acv"], f"{here} ({band_id})", "min_acv")
        last = i == len(raw)
        if "max_acv" not in item:
            if not last:
                raise UserError(f"{here} ({band_id}): missing 'max_acv' (only the last band has no upper edge)")
            high = math.inf
        else:
            if last:
                raise UserError(f"{here} ({band_id}): the last band has no 'max_acv' (it holds every larger ACV)")
            high = _money(item["max_acv"], f"{here} ({band_id})", "max_acv")
        if i == 1 and low != 0:
            raise UserError(f"{here} ({band_id}): the first band must start at min_acv = 0, got {low:g}")
        if bands and low != bands[-1].max_acv:
            raise UserError(f"{here} ({band_id}): min_acv {low:g} must equal the previous band's max_acv "
                            f"{bands[-1].max_acv:g} (no gaps, no overlaps)")
        if high <= low:
            raise UserError(f"{here} ({band_id}): max_acv {high:g} must be above min_acv {low:g}")
        if any(b.id == band_id for b in bands):
            raise UserError(f"{here}: band id '{band_id}' appears twice")
        bands.append(Band(band_id, band_label, low, high))
    return BandSet(set_id, label, tuple(bands))


def load_benchmarks(path: str | os.PathLike | None = None) -> Benchmarks:
    """The benchmark file at ``path`` (default: ``$HEALTHGRID_BENCHMARKS``), validated.

    One-line UserError naming the file and the entry: missing file, bad TOML, an unknown
    key, a source without publisher, title, url or year, bands with gaps or overlaps, a
    figure without source or year (or with an unknown source, band set, band or metric),
    neither a median nor a range, both, or a range whose low end is above its high end.
    """
    where = str(path or settings.get("HEALTHGRID_BENCHMARKS"))
    doc = tomlfile.read(where, "benchmark file")
    _unknown(doc, _TOP_KEYS, where)

    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise UserError(f"{where}: needs at least one [sources.<id>] table")
    sources: dict[str, Source] = {}
    for source_id, table in raw_sources.items():
        here = f"{where}: source '{source_id}'"
        if not isinstance(table, dict):
            raise UserError(f"{here}: expected a table")
        _unknown(table, _SOURCE_KEYS, here)
        note = table.get("note", "")
        if not isinstance(note, str):
            raise UserError(f"{here}: 'note' must be text")
        sources[source_id] = Source(source_id, _text(table, "publisher", here), _text(table, "title", here),
                                    _text(table, "url", here), _year(table, here), note.strip())

    raw_sets = doc.get("band_sets")
    if not isinstance(raw_sets, list) or not raw_sets:
        raise UserError(f"{where}: needs at least one [[band_sets]]")
    band_sets = tuple(_band_set(t, where, i) for i, t in enumerate(raw_sets, start=1))
    by_id = {s.id: s for s in band_sets}
    if len(by_id) != len(band_sets):
        raise UserError(f"{where}: two band sets have the same id")

    raw_figures = doc.get("figures")
    if not isinstance(raw_figures, list) or not raw_figures:
        raise UserError(f"{where}: needs at least one [[figures]]")
    figures: list[Figure] = []
    seen: set[tuple[str, str, str]] = set()
    for i, table in enumerate(raw_figures, start=1):
        here = f"{where}: figure {i}"
        if not isinstance(table, dict):
            raise UserError(f"{here}: expected a table")
        _unknown(table, _FIGURE_KEYS, here)
        if not table.get("source"):
            raise UserError(f"{here}: missing 'source' (every figure names where it was published)")
        source = _text(table, "source", here)
        if source not in sources:
            raise UserError(f"{here}: unknown source '{source}' (declared: {', '.join(sources)})")
        year = _year(table, here)
        set_id, band_id = _text(table, "band_set", here), _text(table, "band", here)
        if set_id not in by_id:
            raise UserError(f"{here}: unknown band_set '{set_id}' (declared: {', '.join(by_id)})")
        if band_id not in {b.id for b in by_id[set_id].bands}:
            raise UserError(f"{here}: band '{band_id}' is not a band of '{set_id}'")
        metric = _text(table, "metric", here)
        if metric not in METRICS_COMPARED:
            raise UserError(f"{here}: metric must be one of {', '.join(METRICS_COMPARED)}, got {metric!r}")
        median = _fraction(table["median"], here, "median") if "median" in table else None
        low = _fraction(table["low"], here, "low") if "low" in table else None
        high = _fraction(table["high"], here, "high") if "high" in table else None
        if median is not None and (low is not None or high is not None):
            raise UserError(f"{here}: give either a median or a range (low/high), not both")
        if median is None and low is None and high is None:
            raise UserError(f"{here}: needs a median or a range (low and/or high)")
        if low is not None and high is not None and low > high:
            raise UserError(f"{here}: low {low:g} is above high {high:g}")
        key = (set_id, band_id, metric)
        if key in seen:
            raise UserError(f"{here}: a second {metric} figure for band '{band_id}' of '{set_id}'")
        seen.add(key)
        figures.append(Figure(set_id, band_id, metric, median, low, high, source, year))
    return Benchmarks(where, sources, band_sets, tuple(figures))


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
    sql = sql_file("revenue_period_retention")
    if sql.count(_FILTER_MARKER) != 1 or sql.count(_GROUP_MARKER) != 1:
        raise RuntimeError("revenue_period_retention.sql must contain each marker exactly once")
    predicate, filter_params = filters.where("")
    whens = " ".join("when mrr * 12 < ? then ?" for _ in band_set.bands[:-1])
    band_case = f"case {whens} else ? end" if whens else "?"
    band_params: list[Any] = []
    for i, band in enumerate(band_set.bands[:-1]):
        band_params += [band.max_acv, str(i)]
    band_params.append(str(len(band_set.bands) - 1))
    sql = sql.replace(_FILTER_MARKER, predicate).replace(_GROUP_MARKER, band_case)
    found = query(conn, sql, [month_to, *band_params, base_month, *filter_params]).set_index("group_value")
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
