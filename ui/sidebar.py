"""The global sidebar: month picker and book filters, kept in session state and the URL.

``render(version)`` is called once per run by app.py, before the page runs; pages read
the result with ``current()``. The widgets live in the entry script, so their session
state keys survive page switches. The URL carries the same selection (``?segment=smb,
enterprise&month=2026-09``) so a view can be shared; anything in the URL that is not
a known value is ignored, never an error.

Account attributes (extra account columns an import kept, cslib.filters) get one
multiselect each after the standard filters, labelled from the name ('plan_tier' ->
'Plan tier'), and travel in the URL as ``attr.<name>=v1,v2``; an attribute the data
does not have is dropped from the URL.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from cslib import settings, labels
from cslib.filters import ATTRIBUTE_PREFIX, FILTER_COLUMNS, Filters, attribute_label

from ui import data

#: filter name -> sidebar label (order = display order)
FILTER_LABELS: dict[str, str] = {
    name: labels.column_label(name)
    for name in ("segment", "industry", "region", "source_channel", "csm_team", "csm", "lifecycle_stage")
}
MONTH_PARAM = "month"
NON_TARGET_PARAM = "include_non_target"
MONTH_KEY = "hg_month"
NON_TARGET_KEY = "hg_include_non_target"
SELECTION_KEY = "hg_selection"
PENDING_PAGE_KEY = "hg_pending_page"
INIT_KEY = _INIT_KEY = "hg_sidebar_initialised"  # False again: re-read the URL (a saved view)
#: the filter the user changed last: its choice wins when two choices exclude each other
LAST_KEY = "hg_filter_last"
DROPPED_KEY = "hg_filter_dropped"
#: which choice gives way first when choices exclude each other and none was just made
#: (a link, a restored session): the narrowest (a CSM) before the broadest (team, segment)
_DROP_ORDER = ("csm", "lifecycle_stage", "source_channel", "industry", "region", "segment", "csm_team")
_TRUE = ("1", "true", "yes", "on")
def widget_key(name: str) -> str:
    """Session-state key of a filter's multiselect (an attribute's: ``widget_key('attr.<name>')``)."""
    return f"hg_filter_{name}"


def _attribute_keys(options: dict[str, list[str]]) -> list[str]:
    """The ``attr.<name>`` keys of the attributes in the data (sorted by name)."""
    return [key for key in options if key.startswith(ATTRIBUTE_PREFIX)]


@dataclass(frozen=True)
class Selection:
    """What the sidebar selected: the database version, the month and the filters."""

    version: data.Version
    month: str
    months: tuple[str, ...]
    filters: Filters

    @property
    def previous_month(self) -> str | None:
        i = self.months.index(self.month)
        return self.months[i - 1] if i > 0 else None


_IN_APP: contextvars.ContextVar[bool] = contextvars.ContextVar("hg_in_app", default=False)


@contextlib.contextmanager
def page_scope() -> Iterator[None]:
    """app.py runs the page inside this, after rendering the sidebar for this run."""
    token = _IN_APP.set(True)
    try:
        yield
    finally:
        _IN_APP.reset(token)


def current() -> Selection:
    """The selection made by the sidebar in this run (app.py renders it before the page).

    A page can run without app.py once: Streamlit treats a ``pages/`` folder as a legacy
    multipage app until some session has run ``st.navigation``, so the very first
    request after a server start that deep-links to a page runs that file alone. Such
    a run is sent through the entry script instead, keeping the URL's parameters.
    """
    if not _IN_APP.get():
        # remember which page was asked for, so app.py can open it once navigation runs
        asked = Path(sys._getframe(1).f_code.co_filename).resolve()
        root = Path(__file__).resolve().parents[1]
        if asked.is_relative_to(root / "pages"):
            st.session_state[PENDING_PAGE_KEY] = asked.relative_to(root).as_posix()
        st.switch_page(root / "app.py", query_params=st.query_params.to_dict())
    return st.session_state[SELECTION_KEY]


def pop_pending_page() -> str | None:
    """The page a deep link asked for before st.navigation had run (see current())."""
    return st.session_state.pop(PENDING_PAGE_KEY, None)


def month_label(month: str) -> str:
    """'2026-10' -> 'Oct 2026' (anything unparsable is returned as is)."""
    try:
        return dt.datetime.strptime(month, "%Y-%m").strftime("%b %Y")
    except (TypeError, ValueError):
        return str(month)


def _url_values(name: str) -> list[str]:
    """Every value given for ``name`` in the URL: repeated keys and comma-separated lists."""
    try:
        raw = st.query_params.get_all(name)
    except Exception:  # defensive: a malformed query string must never break the page
        return []
    out: list[str] = []
    for item in raw:
        out.append(item)  # a value that itself contains a comma
        out.extend(part.strip() for part in str(item).split(","))
    return out


def _default_month(version: data.Version | None, months: list[str]) -> str:
    """The month a session opens on: the last one, unless an import's revenue runs past its
    usage data (then the last month with both; ``cslib.months.default_month``)."""
    from cslib.months import default_month

    if version is None:
        return months[-1]
    month = data.cached(default_month, version)
    return month if month in months else months[-1]


def _seed_from_url(months: list[str], options: dict[str, list[str]], version: data.Version | None = None) -> None:
    """First run of a session: selection from the URL, unknown values dropped."""
    for name in [*FILTER_COLUMNS, *_attribute_keys(options)]:
        allowed = options.get(name, [])
        wanted = set(_url_values(name))
        st.session_state[widget_key(name)] = [v for v in allowed if v in wanted]
    url_months = [m for m in _url_values(MONTH_PARAM) if m in months]
    st.session_state[MONTH_KEY] = url_months[0] if url_months else _default_month(version, months)
    url_flag = _url_values(NON_TARGET_PARAM)
    if url_flag:
        st.session_state[NON_TARGET_KEY] = url_flag[0].strip().lower() in _TRUE
    else:
        st.session_state[NON_TARGET_KEY] = settings.get("HEALTHGRID_INCLUDE_NON_TARGET").lower() in _TRUE


def _sanitise(months: list[str], options: dict[str, list[str]], version: data.Version | None = None) -> None:
    """Keep session values valid for the current database (it may have been replaced)."""
    if st.session_state.get(MONTH_KEY) not in months:
        st.session_state[MONTH_KEY] = _default_month(version, months)
    for name in [*FILTER_COLUMNS, *_attribute_keys(options)]:
        key = widget_key(name)
        allowed = options.get(name, [])
        chosen = st.session_state.get(key) or []
        kept = [v for v in chosen if v in allowed]
        if kept != list(chosen):
            st.session_state[key] = kept
    if not isinstance(st.session_state.get(NON_TARGET_KEY), bool):
        st.session_state[NON_TARGET_KEY] = False


def _reset() -> None:
    attribute_keys = [k for k in st.session_state if str(k).startswith(widget_key(ATTRIBUTE_PREFIX))]
    for key in [*(widget_key(name) for name in FILTER_COLUMNS), *attribute_keys]:
        st.session_state[key] = []
    st.session_state[NON_TARGET_KEY] = settings.get("HEALTHGRID_INCLUDE_NON_TARGET").lower() in _TRUE


def url_params() -> dict[str, str | list[str]]:
    """The sidebar's own URL parameters (month, filters, attributes, non-target), for a link
    to another page with the same month and slice."""
    own = {MONTH_PARAM, NON_TARGET_PARAM, *FILTER_COLUMNS}
    out: dict[str, str | list[str]] = {}
    for key in st.query_params:
        if key in own or key.startswith(ATTRIBUTE_PREFIX):
            values = st.query_params.get_all(key)
            out[key] = values[0] if len(values) == 1 else values
    return out


def _write_url(selection: Selection, attribute_keys: list[str] | None = None) -> None:
    """Mirror the selection into the URL, touching only our own parameters (``attr.*``
    parameters of attributes the data does not have are removed)."""
    wanted: dict[str, str | list[str] | None] = {}
    known = list(attribute_keys or [])
    for key in st.query_params.to_dict():
        if key.startswith(ATTRIBUTE_PREFIX) and key not in known:
            wanted[key] = None
    for name in [*FILTER_COLUMNS, *known]:
        if name.startswith(ATTRIBUTE_PREFIX):
            values = list(selection.filters.attribute_values(name[len(ATTRIBUTE_PREFIX):]))
        else:
            values = list(getattr(selection.filters, name))
        if not values:
            wanted[name] = None
        elif any("," in v for v in values):
            wanted[name] = values  # repeated keys keep values with commas intact
        else:
            wanted[name] = ",".join(values)
    wanted[MONTH_PARAM] = selection.month
    wanted[NON_TARGET_PARAM] = "1" if selection.filters.include_non_target else None
    for key, value in wanted.items():
        present = st.query_params.get_all(key)
        if value is None:
            if present:
                del st.query_params[key]
        elif present != ([value] if isinstance(value, str) else value):
            st.query_params[key] = value


def _mark_last(name: str) -> None:
    st.session_state[LAST_KEY] = name


def _chosen_filters(attribute_keys: list[str]) -> Filters:
    return Filters(
        **{name: tuple(sorted(st.session_state.get(widget_key(name)) or [])) for name in FILTER_COLUMNS},
        include_non_target=bool(st.session_state.get(NON_TARGET_KEY)),
    ).with_attributes({
        key[len(ATTRIBUTE_PREFIX):]: st.session_state.get(widget_key(key)) or [] for key in attribute_keys
    })


def _narrow(version: data.Version, within: Filters | None, attribute_keys: list[str]) -> dict[str, list[str]]:
    """Options that narrow each other (cslib.filters.faceted_options). A chosen value that
    the other choices exclude (a CSM outside the chosen team) is dropped, one at a time,
    never from the filter changed last; what was dropped is said under the filters."""
    last = st.session_state.get(LAST_KEY)
    order = [n for n in _DROP_ORDER if n != last] + ([last] if last in FILTER_COLUMNS else [])
    dropped: list[tuple[str, list[str]]] = []
    for _ in range(len(FILTER_COLUMNS) + 1):
        options = data.faceted_options(version, _chosen_filters(attribute_keys), within)
        for name in order:
            chosen = list(st.session_state.get(widget_key(name)) or [])
            bad = [v for v in chosen if v not in options.get(name, [])]
            if bad:
                st.session_state[widget_key(name)] = [v for v in chosen if v not in bad]
                dropped.append((name, bad))
                break
        else:
            break
    if dropped:
        st.session_state[DROPPED_KEY] = dropped
    return options


def render(version: data.Version, grant=None) -> Selection | None:
    """Draw the sidebar filters; return (and store for ``current()``) the selection.

    With a logged-in user's ``grant`` (cslib.rules.access) the option lists hold only values
    of the accounts the user may see, and URL or session values outside them are dropped.
    Returns None (after showing a warning) when the database has no months.
    """
    months = data.available_months(version)
    if not months:
        st.warning("The database holds no revenue months yet: import data or build the demo.")
        return None
    within = None
    if grant is not None and grant.role != "executive":
        from cslib.rules.access import scope

        within = scope(Filters(include_non_target=True), grant)
    options = data.filter_options(version, within)
    if not st.session_state.get(_INIT_KEY):
        _seed_from_url(months, options, version)
        st.session_state[_INIT_KEY] = True
    _sanitise(months, options, version)
    attribute_keys = _attribute_keys(options)
    options = _narrow(version, within, attribute_keys)

    with st.sidebar:
        st.selectbox(
            "Month",
            options=list(reversed(months)),
            key=MONTH_KEY,
            format_func=month_label,
            help="Month-end view: ARR, health and renewals of this month; deltas compare "
            "with the month before.",
        )
        for name, label in FILTER_LABELS.items():
            st.multiselect(
                label,
                options=options.get(name, []),
                key=widget_key(name),
                format_func=labels.label,
                placeholder="All",
                on_change=_mark_last,
                args=(name,),
            )
        for key in attribute_keys:  # the data's own account attributes, after the standard ones
            st.multiselect(
                attribute_label(key[len(ATTRIBUTE_PREFIX):]),
                options=options[key],
                key=widget_key(key),
                format_func=labels.label,
                placeholder="All",
            )
        st.checkbox(
            "Include non-target accounts",
            key=NON_TARGET_KEY,
            help="Accounts outside the ideal customer profile that sales signed anyway "
            "are excluded from every metric by default.",
        )
        dropped = st.session_state.pop(DROPPED_KEY, None)
        if dropped:
            st.caption("Not in the other choices, so dropped: " + "; ".join(
                f"{FILTER_LABELS[name]} {', '.join(labels.label(v) for v in values)}" for name, values in dropped))
        st.button("Reset filters", on_click=_reset, width="stretch")

    filters = Filters(
        **{name: tuple(sorted(st.session_state[widget_key(name)])) for name in FILTER_COLUMNS},
        include_non_target=bool(st.session_state[NON_TARGET_KEY]),
    ).with_attributes({
        key[len(ATTRIBUTE_PREFIX):]: st.session_state.get(widget_key(key)) or [] for key in attribute_keys
    })
    selection = Selection(
        version=version,
        month=st.session_state[MONTH_KEY],
        months=tuple(months),
        filters=filters,
    )
    _write_url(selection, attribute_keys)
    st.session_state[SELECTION_KEY] = selection
    return selection


def restrict(grant) -> Selection:
    """Narrow this run's selection to what the logged-in user may see (cslib.rules.access)."""
    from dataclasses import replace

    from cslib.rules.access import scope

    selection = st.session_state[SELECTION_KEY]
    selection = replace(selection, filters=scope(selection.filters, grant))
    st.session_state[SELECTION_KEY] = selection
    return selection
