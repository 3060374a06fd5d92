"""``python -m bench``: time the demo build, imports and scoring; compare with plain pandas.

Run from the repository's folder. ``python -m bench.pages`` and ``python -m bench.browser``
time the pages (docs/benchmarks.md).
"""

import argparse

from bench.run import run_bench


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="3000,100000", help="comma-separated sizes")
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    run_bench([int(s) for s in args.accounts.split(",") if s.strip()], args.months)
    return 0


raise SystemExit(main())
