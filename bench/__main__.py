"""``python -m bench``: time the demo build, imports and scoring; compare with plain pandas.

Run from the repository's folder. ``python -m bench.pages`` and ``python -m bench.browser``
time the pages (docs/benchmarks.md).
"""

import argparse

from bench.run import run_bench
from cslib.settings import DEMO_ACCOUNTS, DEMO_MONTHS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default=f"{DEMO_ACCOUNTS},100000", help="comma-separated sizes")
    parser.add_argument("--months", type=int, default=DEMO_MONTHS)
    args = parser.parse_args()
    run_bench([int(s) for s in args.accounts.split(",") if s.strip()], args.months)
    return 0


raise SystemExit(main())
