"""Everything an AppTest run puts on screen as text, and what may not be in it (issue 16, point 4).

``screen_texts(at)`` walks the element tree and yields ``(where, text, kind)``: titles,
markdown, captions, messages, tile labels/values/deltas/help, widget labels, options and
help, expander and tab labels, table headers (``kind='header'``) and the text cells of the
columns a table shows (``kind='cell'``), download-button labels. Charts are not read (their
labels come from the same label functions, tested in the unit tests).

``raw_code_problems(texts, codes)`` lists what a person should never read: a whole cell,
option or header that is a raw code (``at_risk``, ``smb``, ``open``), a code with ``_`` or
``|`` inside any text (``high|at_risk``, ``not_recovered``, ``healthy -> at_risk``),
``None``/``nan`` as words, a path ending in ``.toml``/``.md``, an environment-variable name,
a ``python -m cslib`` command, and lower-case table headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import pandas as pd

#: whole words that are Python's or pandas' missing values, never a person's text
MISSING_WORDS = re.compile(r"(?<![\w.])(None|nan|NaN|NaT|<NA>)(?![\w])")
PATH = re.compile(r"[\w./-]+\.(toml|md)\b")
ENV_NAME = re.compile(r"\bHEALTHGRID_[A-Z_]+\b")
COMMAND = re.compile(r"python -m cslib")
ARROW_CODES = re.compile(r"\b[a-z]+_[a-z_]+ ?(->|→) ?[a-z_]+\b|\b[a-z_]+ ?(->|→) ?[a-z]+_[a-z_]+\b")

ADMIN_EXPANDER = "For the administrator"
_TEXT_TYPES = {"title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "success",
               "error", "latex", "toast", "code"}


def _label_of(node) -> Iterator[str]:
    for attr in ("label", "help", "placeholder"):
        try:
            value = getattr(node, attr)
        except Exception:  # noqa: BLE001 - an element without it
            continue
        if isinstance(value, str) and value:
            yield value


def _table(node, where: str) -> Iterator[tuple[str, str, str]]:
    try:
        frame: pd.DataFrame = node.value
    except Exception:  # noqa: BLE001
        return
    config = json.loads(node.proto.columns) if node.proto.columns else {}
    order = list(node.proto.column_order) or [str(c) for c in frame.columns]
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    placeholder = node.proto.placeholder if node.proto.HasField("placeholder") else "None"
    for column in order:
        if column not in frame.columns:
            continue
        if frame[column].isna().any() and (spec.get("type_config") or {}).get("type") != "line_chart" \
                if isinstance((spec := config.get(column, {})), dict) else False:
            yield where, placeholder, "cell"  # what the grid draws in an empty cell
        spec = config.get(column, {})
        if spec.get("hidden"):
            continue
        label = spec.get("label", column) if isinstance(spec, dict) else column
        yield where, str(label), "header"
        kind = (spec.get("type_config") or {}).get("type") if isinstance(spec, dict) else None
        values = frame[column]
        if kind in (None, "text", "selectbox", "link", "list") and (
                pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            for value in values.dropna().unique()[:400]:
                if isinstance(value, str):
                    yield where, value, "cell"
                elif isinstance(value, (list, tuple)):
                    for item in value:
                        if isinstance(item, str):
                            yield where, item, "cell"
    index_hidden = any(k == "_index" and v.get("hidden") for k, v in config.items() if isinstance(v, dict))
    if not index_hidden and not isinstance(frame.index, pd.RangeIndex):
        for value in frame.index.unique()[:400]:
            if isinstance(value, str):
                yield where, value, "cell"


def screen_texts(at) -> list[tuple[str, str, str]]:
    """(element type, text, kind) for everything the run shows as text; kind is 'text',
    'option', 'header' or 'cell'."""
    out: list[tuple[str, str, str]] = []

    def walk(node) -> None:
        kind = getattr(node, "type", type(node).__name__)
        name = type(node).__name__.lower()
        if name in _TEXT_TYPES or kind in _TEXT_TYPES:
            value = getattr(node, "value", None)
            if isinstance(value, str):
                out.append((name, value, "text"))
        elif name == "metric":
            out.extend((name, str(v), "text") for v in (node.label, node.value, node.delta, node.proto.help) if v)
        elif name == "dataframe":
            out.extend(_table(node, name))
        elif name in ("selectbox", "multiselect", "radio", "selectslider", "buttongroup"):
            out.extend((name, t, "text") for t in _label_of(node))
            try:
                options = list(node.options)
            except Exception:  # noqa: BLE001
                options = []
            out.extend((name, str(o), "option") for o in options)
        elif name in ("expander", "tab", "popover", "status"):
            text = getattr(node, "label", "") or ""
            if text == ADMIN_EXPANDER:
                return  # commands and paths for the administrator (ui.problems) belong there
            out.append((name, text, "text"))
        elif name == "block":
            proto = node.proto
            if proto.WhichOneof("type") == "expandable":
                if proto.expandable.label == ADMIN_EXPANDER:
                    return  # commands and paths for the administrator (ui.problems) belong there
                out.append(("expander", proto.expandable.label, "text"))
            elif proto.WhichOneof("type") == "tab_container":
                pass
            elif proto.WhichOneof("type") == "tab":
                out.append(("tab", proto.tab.label, "text"))
        elif name in ("checkbox", "toggle", "button", "textinput", "numberinput", "textarea", "dateinput",
                      "slider", "colorpicker", "timeinput", "chatinput"):
            out.extend((name, t, "text") for t in _label_of(node))
        elif name == "unknownelement":
            proto = getattr(node, "proto", None)
            label = getattr(proto, "label", None)
            if isinstance(label, str) and label:
                out.append((kind, label, "text"))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return out


def _code_re(codes: Iterable[str]) -> re.Pattern | None:
    inner = sorted({c for c in codes if "_" in c or "|" in c}, key=len, reverse=True)
    if not inner:
        return None
    return re.compile(r"(?<![\w|])(" + "|".join(re.escape(c) for c in inner) + r")(?![\w|])")


def raw_code_problems(texts: Iterable[tuple[str, str, str]], codes: Iterable[str]) -> list[str]:
    """What should not be on screen, as 'element: problem: text' lines (empty = clean)."""
    from cslib import labels

    codes = set(codes)
    inner = _code_re(codes)
    # what a careless prettifier makes of a code whose label differs ('Anz', 'Smb', 'Mid market')
    naive = {labels.naive_label(c): c for c in codes if labels.naive_label(c) != labels.label(c)}
    problems: list[str] = []
    for where, text, kind in texts:
        stripped = text.strip()

        def bad(why: str, where: str = where, text: str = text) -> None:
            problems.append(f"{where}: {why}: {text[:160]!r}")

        if kind in ("cell", "option", "header") and stripped in codes:
            bad("raw code")
        if kind in ("cell", "option", "header") and stripped in naive:
            bad(f"label not from cslib.labels (for {naive[stripped]!r})")
        if kind == "header" and stripped[:1].islower():
            bad("lower-case header")
        if inner is not None and (m := inner.search(text)):
            bad(f"raw code {m.group(1)!r}")
        if (m := MISSING_WORDS.search(text)):
            bad(f"missing value {m.group(1)!r}")
        if (m := PATH.search(text)):
            bad(f"file path {m.group(0)!r}")
        if (m := ENV_NAME.search(text)):
            bad(f"environment variable {m.group(0)!r}")
        if COMMAND.search(text):
            bad("shell command")
        if ARROW_CODES.search(text):
            bad("state codes with an arrow")
    return problems
