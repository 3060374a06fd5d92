"""The one app-side caching module: cslib calls wrapped in ``st.cache_*``.

cslib never imports streamlit ; pages call these wrappers instead of cslib
directly when a result is worth caching. Every cache key starts with the database
file's version (path, inode, mtime), so when a writer atomically replaces the file the
app opens the new one and stops serving the old numbers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from cslib import settings
from cslib.store import dataset, db
from cslib.views import metrics
from cslib import filters as _filters
from cslib.filters import Filters

Version = tuple[str, int, int]



def db_path() -> Path:
    """The database the app reads (``HEALTHGRID_DB`` or the default)."""
    return settings.db_path()


def version() -> Version | None:
    """The current database file's version, or None when the file does not exist."""
    return db.file_version(db_path())


def _close(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.close()
    except Exception:  # an evicted connection that is already closed
        pass


class StaleVersion(Exception):
    """The file at the path was replaced between reading its version and opening it."""


@st.cache_resource(max_entries=4, show_spinner=False, on_release=_close)
def _connection(version: Version) -> duckdb.DuckDBPyConnection:
    # One read-only connection per file version, shared by sessions; cslib.store.db.query opens
    # a cursor per query, which is what makes sharing it across threads safe.
    conn = db.connect(version[0], read_only=True)
    # The file is opened by path: if a writer replaced it after `version` was read, this
    # connection holds the new file under the old version's name and must not be cached.
    if db.file_version(version[0]) != version:
        conn.close()
        raise StaleVersion(version[0])
    return conn


def connection(version: Version) -> duckdb.DuckDBPyConnection:
    """The shared read-only connection for a database version (use a cursor per query)."""
    return _connection(version)


@st.cache_resource(show_spinner=False)
def _build_lock() -> threading.Lock:
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def _seen() -> dict[str, bool]:
    """Database paths this server has read, and whether the last file seen was the demo."""
    return {}


def note_seen(version: Version, demo: bool) -> None:
    """Remember that the file at ``version``'s path was there (and whether it is the demo)."""
    _seen()[version[0]] = demo


def was_seen(path: Path) -> bool:
    """True when this server has read a database at ``path`` (it has since disappeared)."""
    return str(path) in _seen()


def demo_allowed() -> bool:
    """May the app build the demo at the (missing) database path? (``HEALTHGRID_DEMO``)

    auto: only when no database is configured (``HEALTHGRID_DB`` unset: the default path);
    1: also at a configured path; 0: never. A file that this server has read and that has
    since disappeared is rebuilt only if it was the demo: a company's data that vanished
    is an error, never replaced by a demo.
    """
    mode = settings.get("HEALTHGRID_DEMO").strip().lower()
    if mode in ("0", "false", "no", "off", "never"):
        return False
    path = db_path()
    seen = _seen()
    if str(path) in seen and not seen[str(path)]:
        return False
    if mode in ("1", "true", "yes", "on", "always"):
        return True
    return not os.environ.get("HEALTHGRID_DB")


def ensure_database(progress: Callable[[str, float], None]) -> bool:
    """Build the demo database when the file is missing and the demo is allowed
    (``demo_allowed``); True if it was built.

    ``progress(message, fraction)`` is called while building. A lock makes concurrent
    sessions build it once; the others wait and then find the file.
    """
    path = db_path()
    if path.exists() or not demo_allowed():
        return False
    with _build_lock():
        if path.exists() or not demo_allowed():
            return False
        from sample_data.generator import write_demo

        n_accounts = int(settings.get("HEALTHGRID_DEMO_ACCOUNTS"))
        write_demo(
            path,
            n_accounts=n_accounts,
            n_months=settings.DEMO_MONTHS,
            seed=settings.DEMO_SEED,
            end_month=settings.DEMO_END_MONTH,
            progress=progress,
        )
    return True


@st.cache_data(max_entries=8, show_spinner=False)
def is_demo(version: Version) -> bool:
    """True when the file holds the generated demo company (cslib.store.dataset)."""
    return dataset.is_demo(connection(version))


@st.cache_data(max_entries=8, show_spinner=False)
def available_months(version: Version) -> list[str]:
    """Months with data, ascending ('YYYY-MM')."""
    return _filters.available_months(connection(version))


@st.cache_data(max_entries=64, show_spinner=False)
def filter_options(version: Version, within: Filters | None = None) -> dict[str, list[str]]:
    """Distinct values of each sidebar filter dimension (within a user's scope when given)."""
    return _filters.filter_options(connection(version), within)


@st.cache_data(max_entries=512, show_spinner=False)
def faceted_options(version: Version, selected: Filters, within: Filters | None = None) -> dict[str, list[str]]:
    """Each sidebar dimension's values within the other selections (cslib.filters.faceted_options)."""
    return _filters.faceted_options(connection(version), selected, within)


@st.cache_data(max_entries=256, show_spinner=False)
def kpi_series(version: Version, filters: Filters, end_month: str, n_months: int = 13) -> pd.DataFrame:
    """cslib.views.metrics.kpi_series for the selection: one row per month up to ``end_month``."""
    return metrics.kpi_series(connection(version), filters, end_month=end_month, n_months=n_months)


@st.cache_data(max_entries=256, show_spinner=False)
def kpi_tiles(version: Version, filters: Filters, month: str) -> list[dict]:
    """cslib.views.metrics.kpi_tiles for the selection and month (value, previous, delta, format)."""
    return metrics.kpi_tiles(connection(version), filters, month=month)


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached_call(module: str, name: str, version: Version, args: tuple, kwargs: tuple) -> object:
    import importlib

    fn = getattr(importlib.import_module(module), name)
    return fn(connection(version), *args, **dict(kwargs))


def cached(fn: Callable, version: Version, *args, **kwargs):
    """``fn(conn, *args, **kwargs)`` for the database ``version``, cached.

    For any cslib query function whose first parameter is the connection and whose
    other arguments are hashable (Filters is a frozen dataclass): the cache key is the
    function's module and name, the file version and the arguments, so a replaced
    database file is never served from the old entries.
    """
    return _cached_call(fn.__module__, fn.__name__, version, args, tuple(sorted(kwargs.items())))


@st.cache_data(max_entries=1024, show_spinner=False)
def _chart_spec(module: str, name: str, frame: pd.DataFrame, kwargs: tuple) -> dict:
    import importlib

    builder = getattr(importlib.import_module(module), name)
    from cslib.charts.common import to_spec

    return to_spec(builder(frame, **dict(kwargs)))


def chart_spec(builder: Callable, frame: pd.DataFrame, **kwargs) -> dict:
    """The Vega-Lite spec of ``builder(frame, **kwargs)`` (a cslib chart builder), cached
    on the frame's content; render it with ``st.vega_lite_chart(spec, ...)``."""
    return _chart_spec(builder.__module__, builder.__name__, frame, tuple(sorted(kwargs.items())))


@st.cache_data(max_entries=8, show_spinner=False)
def missing_models(version: Version) -> list[str]:
    """SQL models the database file lacks (built by an older version of Healthgrid)."""
    from cslib.store.pipeline import missing_models as _missing

    return _missing(connection(version))
