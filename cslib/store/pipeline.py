"""Build the database: raw tables (the data contract) -> config tables -> SQL models, and
the renewal model's fit (cslib.model.renewal_fit.write_model_tables), which runs beside
the SQL models that come after its inputs (FIT_INPUTS_BUILT).

Model order matters: each model reads only raw tables, config tables and models listed
before it; the staging models (``stg_*``) are the only readers of raw tables (besides the
importer's own SQL). Every model file in ``cslib/sql`` is a single ``create or replace ...`` statement.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from cslib.store import contract
from cslib.store.db import replace_atomically

#: Staging views, one per raw table the marts and queries read (cslib/sql/staging): each
#: table's cleaning written once. Views, not tables (docs/decisions.md): they store nothing
#: and cannot drift from their raw table; created with the raw tables and again by every
#: build, so a file from before them gets them on its next re-score.
STAGING_VIEWS: tuple[str, ...] = (
    "stg_accounts",  # is_target defaulted
    "stg_renewals",
    "stg_csm_logs",  # file_row, normalised reason code
    "stg_churn_feedback",  # file_row, normalised reason code, feedback trimmed
    "stg_reason_taxonomy",  # file_row, normalised reason code
    "stg_events",  # file_row (the events file has no key)
    "stg_usage_weekly_rows",  # the wide weekly usage file as given
)

#: SQL models in build order (file names in cslib/sql without .sql).
MODELS: tuple[str, ...] = (
    *STAGING_VIEWS,
    "stg_revenue",  # month_start, mrr per account x month x product
    "stg_usage_weekly",  # usage per account x Monday week x metric/feature, missing weeks filled (cfg_metrics, stg_revenue)
    "health_weekly",  # weekly score, tier and every indicator's points (needs cfg_* from the scorecard)
    "health_indicator_weekly",  # the score explained: window points per account x week x indicator
    "mrr_movements",  # account x month x product movements
    "account_month",  # the account-month mart (needs health_weekly, value-tier config)
    # the renewal model's inputs: once they are built, the fit runs beside the models after them
    "model_renewal_features",  # one row per renewal: 13-week health features + outcome (Renewal model page)
    "model_renewal_indicator_features",  # one row per renewal x indicator: its points' mean/last/slope
    # models behind single pages
    "revenue_t12m",  # trailing-12-month NRR/GRR inputs per account x month (Negative churn page)
    "flows_account_month",  # health state per account-month + bridge steps (Health flows page)
    "health_alerts",  # weekly change alerts (needs cfg_alert_* from cslib.rules.alert_rules)
    "churn_taxonomy",  # normalised reason taxonomy (needs raw_reason_taxonomy, cfg_churn)
    "churn_logs",  # CSM logs with normalised reason codes + filter columns (Churn reasons page)
    "churn_events",  # one row per churn: matched reason, contract stage, health before churn
    "churn_risk_flags",  # red-light flags with routing owner and resolution date
    "ninebox_account_month",  # account_month's nine-box columns in month order (Nine-box page)
)

#: The renewal model's fit reads the models up to this one (and the config tables): it
#: starts as soon as this one is built.
FIT_INPUTS_BUILT = "model_renewal_indicator_features"


#: DuckDB's memory during an import or a re-score (its buffer pool: hash tables, sorts and
#: intermediates beyond it spill to a temporary folder beside the new database file). At
#: 100,000 accounts x 3 years an import then peaks at about 3.4 GiB resident instead of
#: 8-13 GiB, for a few seconds more of spilling.
BUILD_MEMORY_LIMIT = "3GB"


def bound_memory(conn: duckdb.DuckDBPyConnection) -> None:
    """Cap DuckDB's memory on a writer's connection (BUILD_MEMORY_LIMIT)."""
    conn.execute(f"set memory_limit = '{BUILD_MEMORY_LIMIT}'")


def create_raw_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create an empty ``raw_<table>`` for every contract table, and the (empty) long table
    of account attributes, ``raw_account_attributes`` (cslib.filters)."""
    from cslib.filters import create_attribute_table

    for table in contract.TABLES:
        conn.execute(contract.raw_table_ddl(table))
    create_attribute_table(conn)
    create_staging_views(conn)


def create_staging_views(conn: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the staging views over the raw tables, so that the importer's checks and
    a test that runs single models read the same cleaned rows as the build."""
    from cslib.store.db import sql_file

    for view in STAGING_VIEWS:
        conn.execute(sql_file(view))


def build_models(
    conn: duckdb.DuckDBPyConnection,
    scorecard_path: str | os.PathLike | None = None,
    value_tiers_path: str | os.PathLike | None = None,
) -> None:
    """Load the configuration tables, then (re)build every SQL model in order."""
    from cslib.rules.scorecard import load_scorecard, write_config_tables
    from cslib.rules.value_tiers import load_value_tiers, write_value_tier_table

    write_config_tables(conn, load_scorecard(scorecard_path))
    write_value_tier_table(conn, load_value_tiers(value_tiers_path))
    from cslib.rules.alert_rules import load_alert_rules, write_alert_rule_tables

    write_alert_rule_tables(conn, load_alert_rules())
    from cslib.views.churn import prepare_churn_tables

    prepare_churn_tables(conn)  # default reason taxonomy when none was imported; cfg_churn
    from cslib.filters import create_attribute_table

    create_attribute_table(conn)  # a file from before account attributes gets the empty table
    from cslib.rules.scorecard import model_sql

    fit = None
    try:
        for model in MODELS:
            conn.execute(*model_sql(conn, model))
            if model == FIT_INPUTS_BUILT:
                fit = _FitBeside(conn)
    finally:
        if fit is not None:
            fit.join()  # also when a model failed: the fit's connection must end before the file's
    if fit is None:
        raise RuntimeError(f"{FIT_INPUTS_BUILT} is not among the models")
    fit.raise_error()


class _FitBeside(threading.Thread):
    """The renewal model's fit (cslib.model.renewal_fit.write_model_tables) on a connection
    of its own to the same database, run while the SQL models after its inputs build.

    The fit is single-threaded Python (scikit-learn, pandas) and the remaining models are
    DuckDB's, so the two overlap instead of following each other: about 5 s less of a
    100,000-account import. They share no table: the fit reads its inputs, built and
    committed before it starts (the build runs in autocommit mode), and writes only the
    FIT_TABLES. Its outcome is the same as run afterwards: nothing it reads changes."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        super().__init__(name="renewal-model-fit")
        self._conn = conn.cursor()
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        from cslib.model.renewal_fit import write_model_tables

        try:
            write_model_tables(self._conn)  # the renewal model's fit, stored
        except BaseException as err:  # re-raised in the building thread (raise_error)
            self._error = err
        finally:
            self._conn.close()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def rescore(
    db_path: str | os.PathLike,
    scorecard_path: str | os.PathLike | None = None,
    value_tiers_path: str | os.PathLike | None = None,
) -> None:
    """Recompute health (and the models after it) into a new copy of the database."""
    from cslib.errors import UserError

    if not Path(db_path).exists():
        raise UserError(f"{db_path}: database not found (build it with 'python -m cslib demo' or import your data)")
    from cslib.rules.scorecard import load_scorecard

    load_scorecard(scorecard_path)  # a broken scorecard is reported before the database is touched
    with replace_atomically(db_path, copy_existing=True) as conn:
        bound_memory(conn)
        build_models(conn, scorecard_path, value_tiers_path)


#: model columns that older Healthgrid versions did not build (table, column): a file
#: without them needs its models rebuilt (``is_overdue`` replaced ``is_deferred``, issue 13)
REQUIRED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_month", "is_overdue"),
    ("flows_account_month", "is_overdue"),
    ("ninebox_account_month", "is_overdue"),
)


def missing_models(conn) -> list[str]:
    """Models (SQL and the stored renewal-model fit) that the database lacks, and model
    columns of REQUIRED_COLUMNS (as 'table.column'): a file built by an older Healthgrid."""
    from cslib.store.db import query
    from cslib.views.renewal_model import FIT_TABLES

    present = set(query(conn, "select table_name from duckdb_tables()")["table_name"])
    present |= set(query(conn, "select view_name from duckdb_views()")["view_name"])  # STAGING_VIEWS
    missing = [m for m in (*MODELS, *FIT_TABLES) if m not in present]
    columns = set(map(tuple, query(conn, "select table_name, column_name from duckdb_columns()")[
        ["table_name", "column_name"]].itertuples(index=False)))
    return missing + [f"{t}.{c}" for t, c in REQUIRED_COLUMNS if t in present and (t, c) not in columns]
