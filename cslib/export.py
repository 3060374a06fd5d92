"""CSV files people open in a spreadsheet: one writer for every export (``report --format
csv``, the app's download buttons).

* Formula-safe (the OWASP rule for CSV injection): a text cell that begins with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'``, so a
  spreadsheet shows it as text instead of evaluating it (``=HYPERLINK(...)`` in a CSM's
  name stays a name). Numbers stay numbers, negative ones included: only text is touched.
* Money at cents: a column named like money (``arr``, ``mrr``, ``..._arr``, ``..._mrr``,
  ``commission``, ``payout``, ``amount``) is rounded to 2 decimals; other decimals to 6,
  so floating-point noise (``14404.439999999999``) never reaches the file.
"""

from __future__ import annotations

import io
import re

import pandas as pd

#: First characters a spreadsheet may evaluate.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MONEY_WORDS = frozenset({"arr", "mrr", "commission", "payout", "amount"})
_NOT_MONEY_ENDINGS = frozenset({"share", "rate", "ratio", "pct", "percent", "id", "count", "accounts"})


def is_money_column(name: str) -> bool:
    """Money by its name: ends in a money word (``arr``, ``healthy_arr``, ``commission``) or
    starts with one and does not end in a share/rate/count word (``mrr_usage`` yes,
    ``arr_share`` no)."""
    words = re.split(r"[_\s]+", str(name).lower().strip())
    if words[-1] in _MONEY_WORDS:
        return True
    return words[0] in _MONEY_WORDS and words[-1] not in _NOT_MONEY_ENDINGS


def neutralise(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` ready for CSV: text neutralised, money at cents, noise rounded."""
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_float_dtype(series):
            out[col] = series.round(2 if is_money_column(col) else 6)
        elif not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.map(neutralise)
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The frame as formula-safe CSV text (UTF-8 when encoded, LF line ends, no index)."""
    buf = io.StringIO()
    safe_frame(frame).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()
