"""Test books built once per test process and copied after.

Building a book runs the whole pipeline (raw tables, scorecard, every model): the tiny
book takes about 1.5 s, the small demo about 5 s on a 2-core machine, and the suite asks
for the same books dozens of times (a module fixture per test file, some tests per test).
``cached_build(builder, target)`` runs ``builder`` once per process (per pytest-xdist
worker) and per set of HEALTHGRID_* settings (a build reads some of them) into a private
folder and then only copies that file to ``target``.

A copy, not a shared file: every caller still owns its database (it may re-score it,
import over it, or let the app write its app store beside it) exactly as when it built
it, so no test can see another test's writes. The copy replaces ``target`` the way a
build does (the writer lock held, a new file moved into place), so a reader that has the
old file open keeps reading the old file.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import functools
from collections.abc import Callable
from pathlib import Path

from cslib.store.db import writer_lock

_BUILT: dict[tuple, Path] = {}
_DIR: list[Path] = []


def _cache_dir() -> Path:
    """This process's folder of built books (removed when the process ends)."""
    if not _DIR:
        folder = Path(tempfile.mkdtemp(prefix="healthgrid-test-books-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _DIR.append(folder)
    return _DIR[0]


def _built(builder: Callable[..., object], args: tuple, kwargs: dict) -> Path:
    """The file ``builder`` wrote for these arguments, building it on the first call."""
    # a build reads settings (the reason window, the scorecard ...): they are part of the key
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("HEALTHGRID_")))
    key = (builder.__module__, builder.__qualname__, args, tuple(sorted(kwargs.items())), settings)
    if key not in _BUILT:
        folder = _cache_dir() / str(len(_BUILT))
        folder.mkdir()
        source = folder / "book.duckdb"
        builder(source, *args, **kwargs)
        extra = sorted(p.name for p in folder.iterdir() if p != source and not p.name.endswith(".lock"))
        assert not extra, f"{builder.__qualname__} left more than one file: {extra}"
        _BUILT[key] = source
    return _BUILT[key]


def cached_build(builder: Callable[..., object], target: str | os.PathLike, *args, **kwargs) -> Path:
    """Write what ``builder(target, *args, **kwargs)`` would write to ``target``; return it."""
    source = _built(builder, args, kwargs)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(target):
        tmp = target.with_name(f"{target.name}.copy-{os.getpid()}")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return target


def cached(builder: Callable[..., None]) -> Callable[..., None]:
    """Decorate a ``build_*_book(target, ...)`` that writes only ``target``: the same call,
    built once per process (``target=None``, an in-memory book, is passed through)."""

    @functools.wraps(builder)
    def build(target=None, *args, **kwargs):
        if target is None:
            return builder(target, *args, **kwargs)
        cached_build(builder, target, *args, **kwargs)
        return None

    return build
