"""``python -m cslib bench``: wall time and peak memory of the heavy steps, and the
same weekly scoring done in plain pandas in the same run, with the ratio.

Each step runs in its own child process so its peak resident memory is its own
(``ru_maxrss``). Figures are printed, never asserted: speed is not a test.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- steps (run inside a child process) -------------------------------------------------

def _step_demo(work: str, accounts: int, months: int) -> dict:
    from sample_data.generator import export_csv, generate, populate

    from .db import replace_atomically
    from .pipeline import build_models

    t0 = time.perf_counter()
    frames = generate(n_accounts=accounts, n_months=months, seed=7)
    t1 = time.perf_counter()
    with replace_atomically(Path(work) / "demo.duckdb") as conn:
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
    from .importer import import_dir

    t0 = time.perf_counter()
    import_dir(Path(work) / "csv", Path(work) / "imported.duckdb")
    return {"import_s": time.perf_counter() - t0, "peak_mib": _peak_mib()}


def _step_score_duckdb(work: str) -> dict:
    import duckdb

    from .db import sql_file
    from .scorecard import load_scorecard, write_config_tables

    conn = duckdb.connect(str(Path(work) / "demo.duckdb"))
    t0 = time.perf_counter()
    write_config_tables(conn, load_scorecard())
    conn.execute(sql_file("health_weekly"))
    n = conn.execute("select count(*) from health_weekly").fetchone()[0]
    conn.close()
    return {"score_s": time.perf_counter() - t0, "scored_weeks": n, "peak_mib": _peak_mib()}


def _step_score_pandas(work: str) -> dict:
    import duckdb

    from .scorecard import load_scorecard, score_usage_pandas

    conn = duckdb.connect(str(Path(work) / "demo.duckdb"), read_only=True)
    usage = conn.execute("select * from raw_usage_weekly").df()
    modules = conn.execute("select * from raw_module_usage_weekly").df()
    conn.close()
    t0 = time.perf_counter()
    out = score_usage_pandas(usage, modules, load_scorecard())
    return {"score_s": time.perf_counter() - t0, "scored_weeks": len(out), "peak_mib": _peak_mib()}


_STEPS = {
    "demo": _step_demo,
    "import": _step_import,
    "score_duckdb": _step_score_duckdb,
    "score_pandas": _step_score_pandas,
}


def _child(step: str, *args: str) -> dict:
    cmd = [sys.executable, "-c", "import sys, json; from cslib.bench import _child_main; _child_main()", step, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child_main() -> None:
    step, *args = sys.argv[1:]
    fn = _STEPS[step]
    typed = [int(a) if a.isdigit() else a for a in args]
    print(json.dumps(fn(*typed)))


def run_bench(sizes: list[int], months: int = 36, out=sys.stdout) -> list[dict]:
    """Run every step for every size; print a table; return the rows."""
    results = []
    for accounts in sizes:
        with tempfile.TemporaryDirectory(prefix="healthgrid-bench-") as work:
            print(f"-- {accounts:,} accounts x {months} months", file=out, flush=True)
            demo = _child("demo", work, str(accounts), str(months))
            imp = _child("import", work)
            duck = _child("score_duckdb", work)
            pand = _child("score_pandas", work)
            row = {
                "accounts": accounts,
                "months": months,
                "usage_rows": demo["rows"].get("usage_weekly", 0),
                "module_rows": demo["rows"].get("module_usage_weekly", 0),
                "demo_generate_s": demo["generate_s"],
                "demo_load_build_s": demo["load_s"] + demo["build_models_s"],
                "demo_peak_mib": demo["peak_mib"],
                "import_s": imp["import_s"],
                "import_peak_mib": imp["peak_mib"],
                "score_duckdb_s": duck["score_s"],
                "score_duckdb_peak_mib": duck["peak_mib"],
                "score_pandas_s": pand["score_s"],
                "score_pandas_peak_mib": pand["peak_mib"],
            }
            row["pandas_over_duckdb"] = row["score_pandas_s"] / max(row["score_duckdb_s"], 1e-9)
            results.append(row)
            _print_row(row, out)
    return results


def _print_row(r: dict, out) -> None:
    lines = [
        f"rows: usage_weekly {r['usage_rows']:,}, module_usage_weekly {r['module_rows']:,}",
        f"{'step':<34}{'wall s':>10}{'peak MiB':>12}",
        f"{'demo: generate (numpy)':<34}{r['demo_generate_s']:>10.2f}{r['demo_peak_mib']:>12.0f}",
        f"{'demo: load + build models':<34}{r['demo_load_build_s']:>10.2f}{'':>12}",
        f"{'import (CSV -> validated db)':<34}{r['import_s']:>10.2f}{r['import_peak_mib']:>12.0f}",
        f"{'weekly scoring, DuckDB SQL':<34}{r['score_duckdb_s']:>10.2f}{r['score_duckdb_peak_mib']:>12.0f}",
        f"{'weekly scoring, plain pandas':<34}{r['score_pandas_s']:>10.2f}{r['score_pandas_peak_mib']:>12.0f}",
        f"pandas / DuckDB scoring time ratio: {r['pandas_over_duckdb']:.1f}x",
        "",
    ]
    print("\n".join(lines), file=out, flush=True)
