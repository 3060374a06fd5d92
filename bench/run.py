"""``python -m bench``: wall time and peak memory of the heavy steps, and the
same weekly scoring done in plain pandas in the same run, with the ratio; then, for
every page, its main query on the DuckDB path against a plain-pandas implementation of
the same work on the same data (bench.pandas_reference), with the ratio.

Each step runs in its own child process so its peak resident memory is its own
(``ru_maxrss``). Figures are printed, never asserted: speed is not a test.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cslib.settings import DEMO_MONTHS


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """This process's CPU time so far (user + system, all threads): on a shared machine the
    CPU seconds of a step vary less than its wall time."""
    t = os.times()
    return t.user + t.system


# --- steps (run inside a child process) -------------------------------------------------

def _step_demo(work: str, accounts: int, months: int) -> dict:
    from sample_data.generator import export_csv, generate, populate

    from cslib.store.db import replace_atomically
    from cslib.store.pipeline import bound_memory, build_models

    t0 = time.perf_counter()
    from cslib.settings import DEMO_SEED

    frames = generate(n_accounts=accounts, n_months=months, seed=DEMO_SEED)
    t1 = time.perf_counter()
    with replace_atomically(Path(work) / "demo.duckdb") as conn:
        bound_memory(conn)  # as an import: the 100k build otherwise takes whatever memory is free
        populate(conn, frames)
        t2 = time.perf_counter()
        build_models(conn)
    t3 = time.perf_counter()
    export_csv(frames, Path(work) / "csv")
    rows = {name: len(df) for name, df in frames.items()}
    return {
        "generate_s": t1 - t0,
        "load_s": t2 - t1,
        "build_models_s": t3 - t2,
        "rows": rows,
        "peak_mib": _peak_mib(),
    }


def _step_import(work: str) -> dict:
    from cslib.store.importer import import_dir

    t0, c0 = time.perf_counter(), _cpu_s()
    import_dir(Path(work) / "csv", Path(work) / "imported.duckdb")
    return {"import_s": time.perf_counter() - t0, "import_cpu_s": _cpu_s() - c0, "peak_mib": _peak_mib()}


#: the long usage folders: shape -> folder name under the bench's work directory
_LONG_DIRS = {"weekly": "long", "daily": "long_daily", "core": "long_core", "metrics": "long_metrics"}


def _step_make_long(work: str, shape: str) -> dict:
    """A folder with usage as LONG metrics (usage_metrics.csv: account_id, date, metric,
    value), the shape of a product-analytics export: the demo's weekly usage and module
    columns unpivoted, one row per account, week and metric (``shape`` 'weekly'; 'daily':
    spread over the five working days, a row per day; 'core': only the five core metrics,
    the module usage in its own module_usage_weekly.csv, another accepted shape;
    'metrics': only the five core metrics and no module usage at all, the ~40M-row case of
    issue 12 at 100,000 accounts: a product export without feature usage, so every
    account scores no module points).
    ``_step_import_long`` times its full import (read, check, roll-up, scoring, every
    model, the renewal fit) and, for comparison, ``pandas.read_csv`` of the same files,
    which any pandas-based importer pays before its first check."""
    import duckdb

    src, long_dir = Path(work) / "csv", Path(work) / _LONG_DIRS[shape]
    long_dir.mkdir(exist_ok=True)
    copied = ("accounts", "revenue_monthly", "renewals", *(("module_usage_weekly",) if shape == "core" else ()))
    for name in copied:
        (long_dir / f"{name}.csv").write_bytes((src / f"{name}.csv").read_bytes())
    days = "unnest([0, 1, 2, 3, 4])" if shape == "daily" else "0"
    value = "value / 5" if shape == "daily" else "value"
    modules = "" if shape in ("core", "metrics") else "union all select * from modules"
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(
        f"""copy (
            with wide as (select * from read_csv($usage, header = true)),
            long as (
                unpivot wide on seats_purchased, seats_activated, users_logged_in, users_bi, records_created
                into name metric value value
            ),
            modules as (select account_id, week_start, module as metric, records as value
                        from read_csv($modules, header = true))
            select account_id, week_start + {days} as date, metric, {value} as value
            from (select account_id, week_start, metric, value from long
                  {modules})
        ) to '{long_dir / "usage_metrics.csv"}' (header)""",
        {"usage": str(src / "usage_weekly.csv"), "modules": str(src / "module_usage_weekly.csv")},
    )
    rows = con.execute("select count(*) from read_csv(?)", [str(long_dir / "usage_metrics.csv")]).fetchone()[0]
    con.close()
    return {"usage_metrics_rows": rows}


def _step_import_long(work: str, shape: str) -> dict:
    """Import the folder ``_step_make_long`` wrote (its own process, so the peak memory is
    the import's), then ``pandas.read_csv`` of the same files."""
    import pandas as pd

    from cslib.store.importer import import_dir

    long_dir = Path(work) / _LONG_DIRS[shape]
    t0, c0 = time.perf_counter(), _cpu_s()
    import_dir(long_dir, Path(work) / "imported_long.duckdb")
    import_s, import_cpu_s = time.perf_counter() - t0, _cpu_s() - c0
    peak = _peak_mib()
    t0, c0 = time.perf_counter(), _cpu_s()
    for f in sorted(long_dir.glob("*.csv")):
        pd.read_csv(f)
    return {"import_s": import_s, "import_cpu_s": import_cpu_s, "read_csv_s": time.perf_counter() - t0,
            "read_csv_cpu_s": _cpu_s() - c0, "peak_mib": peak}


def _step_score_duckdb(work: str) -> dict:
    """The configurable scoring in SQL: the roll-up of usage to weeks (stg_usage_weekly,
    timed apart) and the scoring proper (health_weekly + health_indicator_weekly), which
    is what the pandas reference does from the same weekly frame."""
    import duckdb

    from cslib.store.db import sql_file
    from cslib.rules.scorecard import load_scorecard, score_weeks, write_config_tables

    conn = duckdb.connect(str(Path(work) / "demo.duckdb"))
    t0 = time.perf_counter()
    write_config_tables(conn, load_scorecard())
    conn.execute(sql_file("stg_usage_weekly"))
    t1, c1 = time.perf_counter(), _cpu_s()
    score_weeks(conn, from_weekly=True)
    t2, c2 = time.perf_counter(), _cpu_s()
    n = conn.execute("select count(*) from health_weekly").fetchone()[0]
    rows = conn.execute("select count(*) from stg_usage_weekly").fetchone()[0]
    conn.close()
    return {"rollup_s": t1 - t0, "score_s": t2 - t1, "score_cpu_s": c2 - c1, "scored_weeks": n, "weekly_rows": rows,
            "peak_mib": _peak_mib()}


def _step_score_pandas(work: str) -> dict:
    """The plain-pandas reference of the same scoring, from the same weekly long frame
    (loaded before the clock starts): first producing what health_weekly stores (every
    indicator's columns; health_indicator_weekly is a view of it), then again with the
    long per-indicator frame built in memory as well."""
    import duckdb

    from bench.pandas_reference import score_usage_pandas
    from cslib.rules.scorecard import load_scorecard

    conn = duckdb.connect(str(Path(work) / "demo.duckdb"), read_only=True)
    weekly = conn.execute("select account_id, week_start, metric, value from stg_usage_weekly").df()
    conn.close()
    t0, c0 = time.perf_counter(), _cpu_s()
    out = score_usage_pandas(weekly, load_scorecard(), long_form=False)  # what health_weekly stores
    score_s, score_cpu_s = time.perf_counter() - t0, _cpu_s() - c0
    del out
    t0, c0 = time.perf_counter(), _cpu_s()
    out = score_usage_pandas(weekly, load_scorecard())  # and the long per-indicator frame in memory
    return {"score_s": score_s, "score_cpu_s": score_cpu_s, "score_long_s": time.perf_counter() - t0,
            "score_long_cpu_s": _cpu_s() - c0, "scored_weeks": len(out.weekly), "peak_mib": _peak_mib()}


#: pages compared in the page-queries table: (key, label), in the app's order
_PAGE_QUERIES: tuple[tuple[str, str], ...] = (
    ("kpis", "Overview KPI components, 13 mo"),
    ("ninebox", "Nine-box grid, one month"),
    ("flows", "Health flows matrix + bridges"),
    ("churn_reasons", "Churn reasons by reason + health, 12 mo"),
    ("negative_churn", "Negative churn rates, 12 mo"),
    ("renewal_model", "Renewal score bands + indicators"),
)


def _step_pages(db_path: str, repeats: int = 5) -> dict:
    """Page queries on the same data: the DuckDB path (cslib, what the pages call) and the
    plain-pandas one (bench.pandas_reference on the tables held in memory, each loaded once
    with one select; the load times are reported apart, ``load_<table>_s``)."""
    import statistics

    from cslib.views import churn
    from cslib.store import db
    from cslib.views import flows, metrics, ninebox
    from bench import pandas_reference
    from cslib.views import renewal_model, revenue
    from cslib.filters import Filters

    conn = db.connect(db_path)
    out: dict = {}
    tables = {
        "account_month": pandas_reference.COLUMNS,
        "flows_account_month": pandas_reference.FLOWS_COLUMNS,
        "churn_events": pandas_reference.CHURN_COLUMNS,
        "revenue_t12m": pandas_reference.T12M_COLUMNS,
        "model_renewal_features": pandas_reference.renewal_columns(),
        "model_renewal_indicator_features": pandas_reference.RENEWAL_INDICATOR_COLUMNS,
    }
    held = {}
    for table, columns in tables.items():
        t0 = time.perf_counter()
        held[table] = db.query(conn, f"select {', '.join(columns)} from {table}")
        out[f"load_{table}_s"] = time.perf_counter() - t0
        out[f"{table}_rows"] = len(held[table])
    frame = held["account_month"]
    bands = renewal_model.scorecard_bands(conn)  # the scorecard's bands: a few rows, read once
    months = sorted(frame["month"].unique())
    first, last = months[-13], months[-1]
    period_from = months[max(0, len(months) - 12)]  # the Negative churn page's default 12 months
    churn_from, churn_to = churn.period_bounds("t12m", last, tuple(months))  # the Churn page's default
    slices = [Filters(), Filters(segment=("smb",)), Filters(segment=("enterprise",), csm_team=tuple(sorted(frame["csm_team"].unique()))[:2])]

    def timed(fn) -> float:
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            for f in slices:
                fn(f)
            runs.append((time.perf_counter() - t) / len(slices))
        return statistics.median(runs)

    fam, events = held["flows_account_month"], held["churn_events"]
    t12m, features = held["revenue_t12m"], held["model_renewal_features"]
    out.update({
        "kpis_duckdb_s": timed(lambda f: metrics._components(conn, f, first, last)),
        "kpis_pandas_s": timed(lambda f: pandas_reference.kpi_components(frame, f, first, last)),
        "ninebox_duckdb_s": timed(lambda f: ninebox.grid_summary(conn, f, last)),
        # the grid shows this month and the previous one: the same two months in pandas
        "ninebox_pandas_s": timed(lambda f: (pandas_reference.ninebox_cells(frame, f, last),
                                             pandas_reference.ninebox_cells(frame, f, months[-2]))),
        # the page reads its matrix and both bridges from one query
        "flows_duckdb_s": timed(lambda f: flows.month_flows(conn, f, last)),
        "flows_pandas_s": timed(lambda f: pandas_reference.flows_month(fam, f, last)),
        "churn_reasons_duckdb_s": timed(lambda f: (churn.churn_breakdown(conn, f, churn_from, churn_to, "reason"),
                                                   churn.reason_vs_health(conn, f, churn_from, churn_to))),
        "churn_reasons_pandas_s": timed(lambda f: (
            pandas_reference.churn_reason_breakdown(events, f, churn_from, churn_to),
            pandas_reference.churn_reason_health(events, f, churn_from, churn_to))),
        "negative_churn_duckdb_s": timed(lambda f: revenue.rates(conn, f, period_from, last)),
        "negative_churn_pandas_s": timed(lambda f: pandas_reference.revenue_rates(frame, t12m, f, period_from, last)),
        # the model fit is scikit-learn on both paths: only the slice's tables are compared
        "renewal_model_duckdb_s": timed(lambda f: (renewal_model.score_band_table(conn, f),
                                                   renewal_model.indicator_tables(conn, f))),
        "renewal_model_pandas_s": timed(lambda f: (pandas_reference.renewal_score_bands(features, f),
                                                   pandas_reference.renewal_indicator_tables(
                                                       features, held["model_renewal_indicator_features"], f, bands))),
        "peak_mib": _peak_mib(),
    })
    conn.close()
    return out


_STEPS = {
    "demo": _step_demo,
    "import": _step_import,
    "make_long": _step_make_long,
    "import_long": _step_import_long,
    "score_duckdb": _step_score_duckdb,
    "score_pandas": _step_score_pandas,
    "pages": _step_pages,
}


def _child(step: str, *args: str) -> dict:
    cmd = [sys.executable, "-c", "import sys, json; from bench.run import _child_main; _child_main()", step, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    # the step's result is its last JSON line (a library may have printed before it)
    return json.loads(next(ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")))


def _child_main() -> None:
    step, *args = sys.argv[1:]
    fn = _STEPS[step]
    typed = [int(a) if a.isdigit() else a for a in args]
    print(json.dumps(fn(*typed)))


def run_bench(sizes: list[int], months: int = DEMO_MONTHS, out=sys.stdout) -> list[dict]:
    """Run every step for every size; print a table; return the rows."""
    results = []
    for accounts in sizes:
        with tempfile.TemporaryDirectory(prefix="healthgrid-bench-") as work:
            print(f"-- {accounts:,} accounts x {months} months", file=out, flush=True)
            demo = _child("demo", work, str(accounts), str(months))
            imp = _child("import", work)
            long = {**_child("make_long", work, "weekly"), **_child("import_long", work, "weekly")}
            core = {**_child("make_long", work, "core"), **_child("import_long", work, "core")}
            metrics_only = {**_child("make_long", work, "metrics"), **_child("import_long", work, "metrics")}
            daily = ({**_child("make_long", work, "daily"), **_child("import_long", work, "daily")}
                     if accounts <= DAILY_MAX_ACCOUNTS else None)
            duck = _child("score_duckdb", work)
            pand = _child("score_pandas", work)
            pages = _child("pages", str(Path(work) / "demo.duckdb"))
            row = {
                "accounts": accounts,
                "months": months,
                "usage_rows": demo["rows"].get("usage_weekly", 0),
                "module_rows": demo["rows"].get("module_usage_weekly", 0),
                "demo_generate_s": demo["generate_s"],
                "demo_load_build_s": demo["load_s"] + demo["build_models_s"],
                "demo_peak_mib": demo["peak_mib"],
                "import_s": imp["import_s"],
                "import_cpu_s": imp["import_cpu_s"],
                "import_peak_mib": imp["peak_mib"],
                "import_long": long,
                "import_core": core,
                "import_metrics": metrics_only,
                "import_daily": daily,
                "score_duckdb_s": duck["score_s"],
                "score_duckdb_cpu_s": duck["score_cpu_s"],
                "rollup_duckdb_s": duck["rollup_s"],
                "weekly_rows": duck["weekly_rows"],
                "score_duckdb_peak_mib": duck["peak_mib"],
                "score_pandas_s": pand["score_s"],
                "score_pandas_cpu_s": pand["score_cpu_s"],
                "score_pandas_peak_mib": pand["peak_mib"],
                "score_pandas_long_s": pand["score_long_s"],
                "score_pandas_long_cpu_s": pand["score_long_cpu_s"],
            }
            row["pandas_over_duckdb"] = row["score_pandas_s"] / max(row["score_duckdb_s"], 1e-9)
            row["pages"] = pages
            results.append(row)
            _print_row(row, out)
    return results


#: the daily-usage import runs up to this many accounts (10k x 3 years is ~40M daily rows)
DAILY_MAX_ACCOUNTS = 10_000


def _long_lines(r: dict) -> list[str]:
    out = []
    for key, label in (("import_long", "weekly"), ("import_core", "weekly core"),
                       ("import_metrics", "weekly core only"), ("import_daily", "daily")):
        step = r.get(key)
        if step:
            out.append(f"{f'import, long {label} usage':<34}{step['import_s']:>10.2f}{step['peak_mib']:>12.0f}"
                       f"{step['import_cpu_s']:>10.1f}"
                       f"   ({step['usage_metrics_rows']:,} usage rows"
                       f"{' + module_usage_weekly.csv' if key == 'import_core' else ''}; pandas.read_csv of the same files "
                       f"{step['read_csv_s']:.2f} s: import / read_csv = "
                       f"{step['import_s'] / max(step['read_csv_s'], 1e-9):.1f}x)")
    return out


def _print_row(r: dict, out) -> None:
    lines = [
        f"rows: usage_weekly {r['usage_rows']:,}, module_usage_weekly {r['module_rows']:,}, "
        f"weekly metrics (stg_usage_weekly) {r['weekly_rows']:,}",
        f"{'step':<34}{'wall s':>10}{'peak MiB':>12}{'CPU s':>10}",
        f"{'demo: generate (numpy)':<34}{r['demo_generate_s']:>10.2f}{r['demo_peak_mib']:>12.0f}",
        f"{'demo: load + build models':<34}{r['demo_load_build_s']:>10.2f}{'':>12}",
        f"{'import (CSV -> validated db)':<34}{r['import_s']:>10.2f}{r['import_peak_mib']:>12.0f}"
        f"{r['import_cpu_s']:>10.1f}",
        *_long_lines(r),
        f"{'usage roll-up to weeks, DuckDB':<34}{r['rollup_duckdb_s']:>10.2f}{'':>12}",
        f"{'weekly scoring, DuckDB SQL':<34}{r['score_duckdb_s']:>10.2f}{r['score_duckdb_peak_mib']:>12.0f}"
        f"{r['score_duckdb_cpu_s']:>10.1f}",
        f"{'weekly scoring, plain pandas':<34}{r['score_pandas_s']:>10.2f}{r['score_pandas_peak_mib']:>12.0f}"
        f"{r['score_pandas_cpu_s']:>10.1f}",
        f"{'  ... plus the long indicator frame':<34}{r['score_pandas_long_s']:>10.2f}{'':>12}"
        f"{r['score_pandas_long_cpu_s']:>10.1f}",
        f"pandas / DuckDB scoring time ratio: {r['pandas_over_duckdb']:.1f}x "
        f"(CPU seconds: {r['score_pandas_cpu_s'] / max(r['score_duckdb_cpu_s'], 1e-9):.1f}x; "
        f"with pandas also building the long frame: {r['score_pandas_long_s'] / max(r['score_duckdb_s'], 1e-9):.1f}x)",
    ]
    p = r["pages"]
    held = [t for t in ("account_month", "flows_account_month", "churn_events", "revenue_t12m",
                        "model_renewal_features") if f"load_{t}_s" in p]
    lines.append("page queries (median per slice; pandas holds these tables in memory, each loaded once):")
    lines += [f"  {t:<32}{p[f'{t}_rows']:>12,} rows {p[f'load_{t}_s']:>8.2f} s" for t in held]
    lines.append(f"{'query':<42}{'DuckDB ms':>10}{'pandas ms':>12}{'ratio':>8}")
    for name, label in _PAGE_QUERIES:
        if f"{name}_duckdb_s" not in p:
            continue
        duck, pand = p[f"{name}_duckdb_s"], p[f"{name}_pandas_s"]
        lines.append(f"{label:<42}{duck * 1000:>10.1f}{pand * 1000:>12.1f}{pand / max(duck, 1e-9):>7.1f}x")
    lines.append("")
    print("\n".join(lines), file=out, flush=True)
