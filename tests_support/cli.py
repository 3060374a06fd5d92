"""The command line run in the test process: ``python -m cslib ARGS`` without a new interpreter.

A subprocess pays the interpreter start and the imports of DuckDB, pandas and cslib (about
a second and a half on a 2-core machine) for every call; ``run_cli`` calls the same
``cslib.cli.main.main`` that ``python -m cslib`` calls and hands back the same three things
a subprocess would (exit status, stdout, stderr) as a ``subprocess.CompletedProcess``, so a
test's assertions do not change. An exception that escapes ``main`` is not turned into a
traceback on stderr: it fails the test, which is what a "no traceback" assertion wants.

``tests/cli/test_cli.py`` keeps real subprocess runs of ``python -m cslib`` (the entry
point and its exit status), and tests that need a second process (a writer holding the
lock, a fresh reader) keep theirs.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _environ(env: Mapping[str, str] | None) -> Iterator[None]:
    """Replace os.environ by ``env`` for the call (as ``subprocess.run(env=...)`` would)."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _exit_status(code: object, err: io.StringIO) -> int:
    """The status the interpreter would exit with for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1


def run_cli(*args: str, env: Mapping[str, str] | None = None,
            cwd: str | os.PathLike = REPO_DIR) -> subprocess.CompletedProcess:
    """``python -m cslib *args`` in this process, run from ``cwd`` (the repository)."""
    from cslib.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), _environ(env), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse's usage errors, --help
            status = _exit_status(exit_.code, err)
    return subprocess.CompletedProcess([sys.executable, "-m", "cslib", *map(str, args)],
                                       status, out.getvalue(), err.getvalue())
