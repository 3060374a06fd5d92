"""``python -m bench.pages --db PATH``: server-side render time of every page.

For each page of app.py it runs the real script with Streamlit's AppTest (the same code
path as a browser session, minus the network): the first render (cold caches), then
reruns after sidebar filter changes. Each filter state is visited twice: the first visit
is a cold rerun (new cache entries), the second a warm one (cached). Prints medians.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: filter states cycled through (sidebar widget values)
SEGMENT_STATES: tuple[tuple[str, ...], ...] = (("smb",), ("enterprise",), ("mid_market", "smb"), ())


def _page_files() -> list[str]:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    files = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("pages/") and node.value.endswith(".py"):
                files.append(node.value)
    return [f for f in dict.fromkeys(files) if (ROOT / f).exists()]


def _timed_run(at) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].message}")
    return elapsed


def bench_page(page_file: str, timeout: float = 300.0) -> dict:
    """Timings (seconds) for one page: first render, cold and warm filter reruns."""
    from streamlit.testing.v1 import AppTest

    from ui.sidebar import widget_key

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page_file)
    first = _timed_run(at)
    cold, warm = [], []
    for visit in (cold, warm):
        for state in SEGMENT_STATES:
            at.multiselect(key=widget_key("segment")).set_value(list(state))
            visit.append(_timed_run(at))
    return {
        "page": page_file,
        "first_s": first,
        "cold_median_s": statistics.median(cold),
        "warm_median_s": statistics.median(warm),
        "warm_max_s": max(warm),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database to render (read only)")
    parser.add_argument("--pages", help="comma-separated page files (default: every page)")
    args = parser.parse_args(argv)
    os.environ["HEALTHGRID_DB"] = str(Path(args.db).resolve())
    from tests_support.apptest_mode import keep_navigation_mode

    keep_navigation_mode()
    pages = args.pages.split(",") if args.pages else _page_files()
    print(f"database: {args.db}")
    print(f"{'page':<28}{'first ms':>10}{'cold ms':>10}{'warm ms':>10}{'warm max':>10}")
    for page in pages:
        r = bench_page(page)
        print(
            f"{page:<28}{r['first_s'] * 1000:>10.0f}{r['cold_median_s'] * 1000:>10.0f}"
            f"{r['warm_median_s'] * 1000:>10.0f}{r['warm_max_s'] * 1000:>10.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
