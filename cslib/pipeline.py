"""Build the database: raw tables (the data contract) -> config tables -> SQL models.

Model order matters: each model reads only raw tables, config tables and models listed
before it. Every model file in ``cslib/sql`` is a single ``create or replace ...`` statement.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from . import contract
from .db import replace_atomically, sql_file

#: SQL models in build order (file names in cslib/sql without .sql).
MODELS: tuple[str, ...] = (
    "stg_revenue",  # month_start, mrr per account x month x product
    "health_weekly",  # weekly score + every indicator's points (needs cfg_* from scorecard)
    "mrr_movements",  # account x month x product movements
    "account_month",  # the account-month mart (needs health_weekly, value-tier config)
    # page models (each helper adds its own lines below this comment)
)


def create_raw_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create an empty ``raw_<table>`` for every contract table."""
    for table in contract.TABLES:
        conn.execute(contract.raw_table_ddl(table))


def build_models(
    conn: duckdb.DuckDBPyConnection,
    scorecard_path: str | os.PathLike | None = None,
    value_tiers_path: str | os.PathLike | None = None,
) -> None:
    """Load the configuration tables, then (re)build every SQL model in order."""
    from .scorecard import load_scorecard, write_config_tables
    from .value_tiers import load_value_tiers, write_value_tier_table

    write_config_tables(conn, load_scorecard(scorecard_path))
    write_value_tier_table(conn, load_value_tiers(value_tiers_path))
    for model in MODELS:
        conn.execute(sql_file(model))


def rescore(
    db_path: str | os.PathLike,
    scorecard_path: str | os.PathLike | None = None,
    value_tiers_path: str | os.PathLike | None = None,
) -> None:
    """Recompute health (and the models after it) into a new copy of the database."""
    from .errors import UserError

    if not Path(db_path).exists():
        raise UserError(f"{db_path}: database not found (run 'python -m cslib demo' first)")
    with replace_atomically(db_path, copy_existing=True) as conn:
        build_models(conn, scorecard_path, value_tiers_path)
