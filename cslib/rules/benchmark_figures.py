"""Published retention benchmarks as data (``cslib/config/benchmarks.toml``, or the user's
own targets through ``HEALTHGRID_BENCHMARKS``): sources (publisher, title, URL, year), band
sets (ways of cutting the book by ACV, each band with its edges) and figures (a median, or a
range low / high, for NRR or GRR of one band, each with its source and year).

A rule set, not a query: ``load_benchmarks`` validates the file (one-line UserError naming
the file and the entry on any problem); our side of the comparison, which needs the
database, is cslib.views.benchmarks. A band includes its lower edge and excludes its upper
edge; a figure's flag is ``below`` / ``within`` / ``above`` (compared at 0.1 pp).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from cslib import settings
from cslib.errors import UserError
from cslib.rules import tomlfile

METRICS_COMPARED = ("nrr", "grr")
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
