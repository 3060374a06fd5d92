"""Tables in words: st.dataframe / st.data_editor with human headers, labelled codes and no "None".

``dataframe(frame, **kwargs)`` is st.dataframe with three additions (cslib.labels is the
one place for labels):
- every column without a label in ``column_config`` gets ``labels.column_label`` of its
  name as header ('csm_team' -> 'CSM team', 'is_enabled' -> 'Enabled'), first letter in
  capitals;
- code columns (text columns whose every value looks like a code: lower case, no spaces,
  e.g. 'at_risk', 'high|unhealthy', 'growth_international', 'at_risk -> healthy') are shown
  with their labels, and so is such an index; ``keep=`` names text columns to leave as they
  are (ids, notes);
- missing values show as a dash (``placeholder``), never "None";
- decimals are rounded as in every CSV export (money to cents, others to 6 places), so the
  table's own "Download as CSV" has no float noise.
``editor_config(frame)`` gives the same headers for an st.data_editor, whose values are
edited and parsed back, so they are not relabelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from cslib import labels
from cslib.export import is_money_column

PLACEHOLDER = "–"
_CODE_VALUE = re.compile(r"^[a-z][a-z0-9_|/]*( -> [a-z][a-z0-9_|/]*)?$")
_NOT_CODES = re.compile(r"(^|_)(id|ids|name|note|notes|text|body|email|author|by)$")


def _header(name: str) -> str:
    text = labels.column_label(str(name))
    return text[:1].upper() + text[1:]


def _is_code_column(values: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    present = values.dropna()
    present = present[present.map(lambda v: v != "" if isinstance(v, str) else True)]
    if present.empty:
        return False
    if not isinstance(present.iloc[0], str):
        return False
    try:
        sample = present.unique()[:500]
    except TypeError:  # lists (sparklines)
        return False
    return all(isinstance(v, str) and _CODE_VALUE.match(v) for v in sample)


def _money_format(spec) -> bool:
    fmt = (spec.get("type_config") or {}).get("format") if isinstance(spec, dict) else None
    return fmt in ("dollar", "accounting") or (isinstance(fmt, str) and fmt.startswith("$"))


def labelled(frame: pd.DataFrame, keep: Iterable[str] = (), column_config: dict | None = None) -> pd.DataFrame:
    """A copy with code columns (and a code index) replaced by their labels, and decimals
    rounded as in CSV exports (cslib.export): money to cents, others to 6 places, so the
    table's own CSV download has no float noise (429277.92000000004)."""
    keep = set(keep)
    config = column_config or {}
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            money = is_money_column(column) or _money_format(config.get(column))
            out[column] = out[column].round(2 if money else 6)
            continue
        if column in keep or _NOT_CODES.search(str(column)):
            continue
        if _is_code_column(out[column]):
            out[column] = out[column].map(lambda v: labels.label(v) if isinstance(v, str) else v)
    if not isinstance(out.index, pd.RangeIndex) and _is_code_column(pd.Series(out.index)):
        out.index = [labels.label(v) for v in out.index]
    return out


def headers(frame: pd.DataFrame, column_config: dict | None = None) -> dict:
    """``column_config`` with a human header for every column that has none."""
    config = dict(column_config or {})
    for column in frame.columns:
        if column not in config:
            config[column] = _header(column)
        elif config[column] is None:
            continue
        elif isinstance(config[column], dict) and not config[column].get("label"):
            config[column] = {**config[column], "label": _header(column)}
    return config


def dataframe(frame: pd.DataFrame, *, keep: Iterable[str] = (), column_config: dict | None = None,
              placeholder: str = PLACEHOLDER, **kwargs):
    """st.dataframe in words (see the module docstring)."""
    return st.dataframe(labelled(frame, keep, column_config), column_config=headers(frame, column_config),
                        placeholder=placeholder, **kwargs)


def editor_config(frame: pd.DataFrame, column_config: dict | None = None) -> dict:
    """Headers in words for an st.data_editor (values untouched)."""
    return headers(frame, column_config)
