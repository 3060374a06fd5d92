"""Every setting in one place, with its default and help text.

docs/settings.md documents each of these with its default; ``tests/unit/test_docs.py`` fails
when one is not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
CONFIG_DIR = PACKAGE_DIR / "config"
SQL_DIR = PACKAGE_DIR / "sql"

#: The demo company's defaults, in one place: ``python -m cslib demo``, the app's first start,
#: sample_data.generator and ``python -m bench`` all build this demo unless told otherwise.
DEMO_ACCOUNTS = 3000
DEMO_MONTHS = 36
DEMO_SEED = 7
DEMO_END_MONTH = "2026-10"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "HEALTHGRID_DB",
        str(REPO_DIR / "sample_data" / "healthgrid.duckdb"),
        "Path of the DuckDB database the app reads and the CLI writes (--db overrides).",
    ),
    Setting(
        "HEALTHGRID_APP_DB",
        "",
        "SQLite file for what people edit in the app (playbooks, alert statuses); empty = "
        "the database path with the suffix .appstate.sqlite. Survives re-imports.",
    ),
    Setting(
        "HEALTHGRID_SCORECARD",
        str(CONFIG_DIR / "scorecard.toml"),
        "Health scorecard TOML used by import, demo and score (--scorecard overrides).",
    ),
    Setting(
        "HEALTHGRID_VALUE_TIERS",
        str(CONFIG_DIR / "value_tiers.toml"),
        "Value-tier rule TOML (fixed ARR cut-offs or quantiles).",
    ),
    Setting(
        "HEALTHGRID_ALERT_RULES",
        str(CONFIG_DIR / "alert_rules.toml"),
        "Weekly change-alert rules TOML (rules, nature, severity, parameters, recovery test).",
    ),
    Setting(
        "HEALTHGRID_ROLES",
        str(REPO_DIR / ".streamlit" / "roles.toml"),
        "Role map TOML (e-mail -> executive / director with teams / csm with CSM name); "
        "read only when login is configured ([auth] in .streamlit/secrets.toml).",
    ),
    Setting(
        "HEALTHGRID_DEMO_ACCOUNTS",
        str(DEMO_ACCOUNTS),
        "Accounts in the demo the app builds on first start when the database is missing.",
    ),
    Setting(
        "HEALTHGRID_DEMO",
        "auto",
        "When the app may build the demo company: auto = only on a first start with no "
        "database configured (HEALTHGRID_DB unset, default file missing); 1 = also at a "
        "missing HEALTHGRID_DB (a demo server); 0 = never. Otherwise a missing database is "
        "an error on the page, never a silent demo.",
    ),
    Setting(
        "HEALTHGRID_WRITE_WAIT",
        "120",
        "Seconds a writer (demo, import, score) waits for another writer of the same database "
        "to finish before it gives up; writers take turns, never overwrite each other.",
    ),
    Setting(
        "HEALTHGRID_REASON_WINDOW_DAYS",
        "60",
        "Days before the first or after the last day of a churn month within which a churn-reason "
        "log or churn event is matched to that churn (0 to 365; applied when the models are built: "
        "import, demo, score).",
    ),
    Setting(
        "HEALTHGRID_MAX_MRR",
        "10000000",
        "Largest amount the import accepts in a monthly money cell (mrr_subscription, mrr_usage, "
        "monthly_amount), per account, month and product; ARR cells (due_arr, renewed_arr) may be "
        "12 times as much. A larger amount is refused as a typo or a unit mix-up.",
    ),
    Setting(
        "HEALTHGRID_BENCHMARKS",
        str(CONFIG_DIR / "benchmarks.toml"),
        "Published retention benchmarks TOML (sources, ACV band sets, NRR/GRR medians or ranges, "
        "each with source and year) shown beside our NRR and GRR; point it at your own targets.",
    ),
    Setting(
        "HEALTHGRID_SMTP_HOST",
        "",
        "SMTP server the monthly digest is sent through with --send (empty = sending is not configured).",
    ),
    Setting("HEALTHGRID_SMTP_PORT", "587", "SMTP port for the digest (587 with STARTTLS, 25 without)."),
    Setting("HEALTHGRID_SMTP_STARTTLS", "1", "1 to upgrade the SMTP connection with STARTTLS before logging in; 0 not to."),
    Setting("HEALTHGRID_SMTP_USER", "", "SMTP user name (empty = no login)."),
    Setting("HEALTHGRID_SMTP_PASSWORD", "", "SMTP password (read from the environment only; never from a file)."),
    Setting("HEALTHGRID_DIGEST_FROM", "", "Sender address of the monthly digest."),
    Setting("HEALTHGRID_DIGEST_TO", "", "Recipients of the monthly digest, comma-separated (--to overrides)."),
    Setting(
        "HEALTHGRID_INCLUDE_NON_TARGET",
        "0",
        "1 to include non-target accounts (is_target = false) in every metric.",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The setting's value: the environment variable if set, else its default."""
    return os.environ.get(name, _BY_NAME[name].default)


def max_mrr() -> float:
    """``HEALTHGRID_MAX_MRR`` as a number; UserError (one line) unless it is a positive finite number."""
    import math

    from cslib.errors import UserError

    text = get("HEALTHGRID_MAX_MRR")
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"HEALTHGRID_MAX_MRR: expected a positive amount, got {text!r}")
    return value


def db_path(override: str | os.PathLike | None = None) -> Path:
    return Path(override) if override else Path(get("HEALTHGRID_DB"))
