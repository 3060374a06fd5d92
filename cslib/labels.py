"""Human labels for codes: the one place a code becomes words on a page, in a chart or a table.

``label('mid_market')`` -> 'Mid-market', ``label('emea')`` -> 'EMEA',
``label('growth_international')`` -> 'Growth international', ``label('high|at_risk')`` ->
'High value · At risk', ``label(None)`` -> 'Unknown'. Text that is not a code (it has a
capital letter, e.g. a CSM's name or 'Plan A') is returned as it is. ``column_label``
names a column or a filter ('source_channel' -> 'Lead channel').

The rule (docs/pages.md, "Labels"): words, not codes; acronyms in capitals (SMB, CSM, ARR,
EMEA, ANZ, APAC, LATAM, NPS); one label per code everywhere (sidebar, tables, breakdowns,
charts); missing values say 'Unknown' (or a dash in a number column), never None or nan.
"""

from __future__ import annotations

import math
import re

#: words written in capitals (or their own way) inside a label
WORDS: dict[str, str] = {
    "smb": "SMB", "csm": "CSM", "csms": "CSMs", "arr": "ARR", "mrr": "MRR", "nps": "NPS", "nrr": "NRR",
    "grr": "GRR", "emea": "EMEA", "anz": "ANZ", "apac": "APAC", "latam": "LATAM", "na": "NA", "us": "US",
    "uk": "UK", "eu": "EU", "bi": "BI", "it": "IT", "hr": "HR", "ai": "AI", "saas": "SaaS", "id": "id",
    "pp": "pp", "mom": "MoM", "auc": "AUC", "r&d": "R&D", "rd": "R&D", "gm": "GM", "ceo": "CEO", "cfo": "CFO",
    "cto": "CTO", "vp": "VP", "api": "API", "sso": "SSO", "crm": "CRM", "erp": "ERP", "kpi": "KPI",
    "kp": "Key person",
}

#: whole codes whose label is not their words
SPECIAL: dict[str, str] = {
    "mid_market": "Mid-market",
    "north_america": "North America",
    "south_america": "South America",
    "at_risk": "At risk",
    "won_back": "Won back",
    "not_recovered": "Not recovered",
    "no_reason_logged": "No reason logged",
    "first_renewal": "At or before first renewal",
    "later_renewal": "After a renewal",
    "source_channel": "Lead channel",
    "csm_team": "CSM team",
    "is_enabled": "Enabled",
    "is_avoidable": "Avoidable",
    "is_overdue": "Overdue",
    "dept_head": "Department head",
    "dept_head_changed": "Department head changed",
    "key_user": "Key user",
    "n/a": "n/a",
}

#: value tier -> label in a nine-box cell ('High value · At risk')
VALUE_TIER_LABELS = {"high": "High value", "mid": "Mid value", "low": "Low value"}
#: health tier -> label
HEALTH_TIER_LABELS = {"healthy": "Healthy", "at_risk": "At risk", "unhealthy": "Unhealthy", "unscored": "Unscored"}

MISSING = "Unknown"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_&/ -]*$")


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return isinstance(value, float) and math.isnan(value) or str(value) in ("nan", "NaN", "<NA>", "NaT", "None")
    except TypeError:
        return False


def is_code(text: str) -> bool:
    """A code: lower-case letters, digits, '_', '/', '-', '&' and spaces only."""
    return bool(_CODE.match(text))


def words(code: str) -> str:
    """'growth_international' -> 'Growth international', 'anz/emea' -> 'ANZ/EMEA'."""
    parts = re.split(r"([_ /-]+)", code.strip())
    out = []
    first = True
    for part in parts:
        if not part:
            continue
        if re.fullmatch(r"[_ /-]+", part):
            out.append("/" if "/" in part else ("-" if part == "-" else " "))
            continue
        word = WORDS.get(part, part)
        if first and word == part:
            word = part[:1].upper() + part[1:]
        out.append(word)
        first = False
    return "".join(out)


def label(value, missing: str = MISSING) -> str:
    """The label of a code (see the module docstring); text that is not a code is kept."""
    if _missing(value):
        return missing
    text = str(value).strip()
    if text in SPECIAL:
        return SPECIAL[text]
    for arrow in (" -> ", " → "):
        if arrow in text:
            return " → ".join(label(part.strip(), missing) for part in text.split(arrow))
    if "|" in text and text.count("|") == 1:
        value_tier, health_tier = text.split("|")
        if value_tier in VALUE_TIER_LABELS and health_tier in HEALTH_TIER_LABELS:
            return f"{VALUE_TIER_LABELS[value_tier]} · {HEALTH_TIER_LABELS[health_tier]}"
    if not is_code(text):
        return text
    return words(text)


def column_label(name: str) -> str:
    """A column, filter or attribute name as a header: 'source_channel' -> 'Lead channel',
    'csm_team' -> 'CSM team', 'plan_tier' -> 'Plan tier', 'arr' -> 'ARR'."""
    return label(name, missing=str(name))


def labels(values) -> list[str]:
    """``label`` of each value."""
    return [label(v) for v in values]


def naive_label(code: str) -> str:
    """What a careless prettifier shows ('anz' -> 'Anz', 'mid_market' -> 'Mid market'):
    the tests use it to find labels that bypassed this module."""
    return str(code).replace("_", " ").capitalize()
