"""Command line: ``python -m cslib demo|import|check|score|report|digest``.

The same engine as the pages. A user's mistake exits with status 2 and one line on
stderr (``error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cslib import settings
from cslib.errors import UserError
from cslib.filters import FILTER_COLUMNS, Filters


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database file (default: $HEALTHGRID_DB or sample_data/healthgrid.duckdb)")


def _add_filters(p: argparse.ArgumentParser) -> None:
    for name in FILTER_COLUMNS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"only these {name} values (comma-separated)")
    p.add_argument(
        "--attr", action="append", metavar="NAME=V1,V2",
        help="only accounts whose attribute NAME (an extra account column a mapping kept) is one "
        "of these values; repeatable",
    )
    p.add_argument(
        "--include-non-target",
        action="store_true",
        default=settings.get("HEALTHGRID_INCLUDE_NON_TARGET") == "1",
        help="include non-target accounts (default: $HEALTHGRID_INCLUDE_NON_TARGET)",
    )


_ALLOW_EMPTY_HELP = ("accept header-only accounts, revenue or usage files (an empty book or no health "
                     "scores); without it they are refused")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cslib", description="Healthgrid command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build the demo database")
    _add_db(p)
    p.add_argument("--accounts", type=int, default=settings.DEMO_ACCOUNTS)
    p.add_argument("--months", type=int, default=settings.DEMO_MONTHS)
    p.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    p.add_argument("--end-month", default=settings.DEMO_END_MONTH, help="last month of the demo (YYYY-MM)")
    p.add_argument("--export", metavar="DIR", help="also write the contract CSVs to DIR")

    p = sub.add_parser("import", help="validate and load a folder of contract CSVs (all or nothing)")
    p.add_argument("dir")
    _add_db(p)
    p.add_argument("--scorecard", help="scorecard TOML (default: $HEALTHGRID_SCORECARD)")
    p.add_argument("--mapping", help="column mapping TOML for your own export files (docs/bring-your-own-data.md)")
    p.add_argument("--allow-empty", action="store_true", help=_ALLOW_EMPTY_HELP)

    p = sub.add_parser("check", help="list every problem in a folder of CSVs and what it covers (writes nothing)")
    p.add_argument("dir")
    p.add_argument("--mapping", help="column mapping TOML for your own export files (docs/bring-your-own-data.md)")
    p.add_argument("--allow-empty", action="store_true", help=_ALLOW_EMPTY_HELP)

    p = sub.add_parser("score", help="recompute health scores with a scorecard")
    _add_db(p)
    p.add_argument("--scorecard", help="scorecard TOML (default: $HEALTHGRID_SCORECARD)")

    p = sub.add_parser("report", help="print what a page shows")
    from cslib.cli.reports import REPORTS

    p.add_argument("name", choices=sorted(REPORTS))
    _add_db(p)
    p.add_argument("--month", help="YYYY-MM (default: the latest month in the data)")
    p.add_argument("--from", dest="month_from", help="first month of a period (YYYY-MM)")
    p.add_argument("--to", dest="month_to", help="last month of a period (YYYY-MM)")
    p.add_argument("--by", help="breakdown dimension, for reports that have one (revenue, churn-reasons); "
                   "an account attribute as attr.NAME")
    p.add_argument("--id", dest="account_id", metavar="ACCOUNT_ID",
                   help="the account, for the account report (its page: account?id=...)")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument(
        "--as", dest="as_user", metavar="EMAIL",
        help="only what this user may see in the app (role map: $HEALTHGRID_ROLES); unknown e-mails are refused",
    )
    _add_filters(p)

    p = sub.add_parser("digest", help="write the month's digest as one self-contained HTML file (and send it)")
    _add_db(p)
    p.add_argument("--month", required=True, help="the month of the digest (YYYY-MM)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder the HTML file is written to")
    p.add_argument(
        "--as", dest="as_user", metavar="EMAIL",
        help="only what this user may see in the app (role map: $HEALTHGRID_ROLES); unknown e-mails are refused",
    )
    p.add_argument("--send", action="store_true",
                   help="also e-mail it through $HEALTHGRID_SMTP_HOST (docs/digest.md)")
    p.add_argument("--to", metavar="EMAILS", help="recipients, comma-separated (default: $HEALTHGRID_DIGEST_TO)")
    _add_filters(p)

    p = sub.add_parser("bench", help="moved: the benchmarks run as python -m bench (docs/benchmarks.md)")
    return parser


def _scoped(filters: Filters, email: str) -> Filters:
    """``filters`` narrowed by the role map as the app narrows a logged-in user's view."""
    from cslib.rules.access import grant_for, load_role_map, scope

    roles_path = settings.get("HEALTHGRID_ROLES")
    grant = grant_for(load_role_map(roles_path), email)
    if grant is None:
        raise UserError(f"{email}: not in the role map {roles_path}: no access")
    return scope(filters, grant)


def _run(args: argparse.Namespace) -> int:
    db = settings.db_path(getattr(args, "db", None))
    if args.command == "demo":
        from sample_data.generator import write_demo

        write_demo(db, n_accounts=args.accounts, n_months=args.months, seed=args.seed,
                   end_month=args.end_month, export_dir=args.export,
                   progress=lambda msg, frac: print(f"[{frac:4.0%}] {msg}", file=sys.stderr))
        print(f"demo database written: {db}")
    elif args.command == "import":
        from cslib.store.importer import import_dir

        summary = import_dir(args.dir, db, scorecard_path=args.scorecard, mapping=args.mapping,
                             allow_empty=args.allow_empty)
        for line in summary.warnings:
            print(f"warning: {line}", file=sys.stderr)
        print(f"imported {summary.describe()} into {db}")
    elif args.command == "check":
        from cslib.store.importer import check_dir

        report = check_dir(args.dir, mapping=args.mapping, allow_empty=args.allow_empty)
        sys.stdout.write("".join(f"{line}\n" for line in report.lines()))
        return 2 if report.problems.total else 0
    elif args.command == "score":
        from cslib.store.pipeline import rescore

        rescore(db, scorecard_path=args.scorecard)
        from cslib.store.db import connect
        from cslib.rules.scorecard import unlisted_features_warning

        conn = connect(db)
        try:
            unlisted = unlisted_features_warning(conn)  # features scoring the default points
        finally:
            conn.close()
        if unlisted:
            print(f"warning: {unlisted}", file=sys.stderr)
        print(f"health scores recomputed in {db}")
    elif args.command == "report":
        from cslib.cli.reports import ReportArgs, render_report

        filters = Filters.from_mapping(vars(args))
        if args.as_user is not None:
            filters = _scoped(filters, args.as_user)
        report_args = ReportArgs(
            month=args.month,
            filters=filters,
            month_from=args.month_from,
            month_to=args.month_to,
            by=args.by,
            account_id=args.account_id,
        )
        sys.stdout.write(render_report(args.name, db, report_args, args.format))
    elif args.command == "digest":
        from cslib.views.digest import send_digest, write_digest

        filters = Filters.from_mapping(vars(args))
        if args.as_user is not None:
            filters = _scoped(filters, args.as_user)
        path, digest = write_digest(db, args.month, filters, args.out, as_user=args.as_user)
        print(f"digest written: {path}")
        if args.send:
            recipients = send_digest(digest, to=args.to)
            print(f"digest sent to {', '.join(recipients)}")
    elif args.command == "bench":
        # The benchmarks and the plain-pandas reference live outside the product (bench/).
        raise UserError("the benchmarks run outside the product: python -m bench [--accounts N,...] "
                        "[--months M] from the repository's folder (docs/benchmarks.md)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":  # the old bench options only get the one line below
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return _run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
