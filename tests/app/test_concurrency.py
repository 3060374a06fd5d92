"""Issue 8: 20 sessions read while an import replaces the database file.

Acceptance: no errors, every session sees either the old or the new data (never a
mix), and the app picks up the new data without a restart.

Database A is the tiny book (tests_support/book.py); B is what ``python -m cslib import
tests/fixtures/import_ok`` writes. Each reader thread does what one Overview render does,
through the real ``ui.data`` wrappers (st.cache_* work outside a Streamlit runtime, with a
"No runtime found" warning): read the file version once, then two uncached queries on the
shared connection for that version and the two cached calls the Overview makes
(available months, then the KPI tiles of the latest month). A render's four answers must
all be A's or all be B's, and must belong to the version the render read.

The run is phased, not timed: the import starts only when every reader has rendered A
a few times, and each reader stops only after a few renders that began after the import
finished; a deadline only turns a hang into a failure.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

from cslib.store import db
from cslib.filters import Filters
from tests_support.book import TINY_EXPECTED, build_tiny_book
from ui import data
from tests_support.apptest import assert_clean as _assert_clean

REPO = Path(__file__).resolve().parents[2]
IMPORT_OK = REPO / "tests" / "fixtures" / "import_ok"

N_SESSIONS = 20
RENDERS_BEFORE = 5  # renders of A per reader before the import starts
RENDERS_AFTER = 5  # renders per reader that start after the import has finished
DEADLINE_S = 30.0

# (accounts in account_month, sum of raw subscription MRR, latest month, ARR tile value)
# A: five accounts a1..a5; MRR 9000*3 + 5000*2 + 4000 + 1000*3 + 2000*3 + 2000 + 3000 +
# the 1000 cross-sell = 56,000; ARR Mar 2026 from TINY_EXPECTED.
OLD = (5, 56_000.0, "2026-03", TINY_EXPECTED["2026-03"]["arr"])
# B: four accounts A-1..A-4 (tests/sql/test_importer.py checks the 6230.0); ARR Mar 2024,
# target accounts only: (A-1 150 + A-2 400 + 30.25 usage) * 12 = 6963 (A-3 has no March row).
NEW = (4, 6_230.0, "2024-03", 6_963.0)


def _render(version) -> tuple:
    """One Overview-like render on ``version``: two raw queries and two cached calls."""
    conn = data.connection(version)
    accounts = db.query(conn, "select count(distinct account_id) as n from account_month")["n"].iloc[0]
    mrr = db.query(conn, "select sum(mrr_subscription) as s from raw_revenue_monthly")["s"].iloc[0]
    months = data.available_months(version)
    tiles = data.kpi_tiles(version, Filters(), months[-1])
    arr = next(t["value"] for t in tiles if t["name"] == "arr")
    return (int(accounts), float(mrr), months[-1], round(float(arr), 2))


def _import(src: Path, db_path: Path) -> None:
    """The writer, as a user runs it: a separate process replacing the file atomically."""
    done = subprocess.run(
        [sys.executable, "-m", "cslib", "import", str(src), "--db", str(db_path)],
        cwd=REPO, capture_output=True, text=True, timeout=DEADLINE_S,
    )
    assert done.returncode == 0, done.stderr


def test_twenty_sessions_read_while_an_import_replaces_the_file(tmp_path):
    path = tmp_path / "hg.duckdb"
    build_tiny_book(path)
    v_old = db.file_version(path)

    start = threading.Barrier(N_SESSIONS + 1)
    importing = threading.Event()
    import_done = threading.Event()
    stop = threading.Event()  # set by the main thread on failure / deadline
    lock = threading.Lock()
    errors: list[str] = []
    seen: list[Counter] = [Counter() for _ in range(N_SESSIONS)]  # (version, answer) -> renders
    ready = [threading.Event() for _ in range(N_SESSIONS)]  # rendered A RENDERS_BEFORE times
    after: list[list[tuple]] = [[] for _ in range(N_SESSIONS)]  # renders begun after the import
    during: list[Counter] = [Counter() for _ in range(N_SESSIONS)]  # begun while importing

    def reader(i: int) -> None:
        try:
            start.wait(timeout=DEADLINE_S)
            while not stop.is_set():
                began_during, began_after = importing.is_set(), import_done.is_set()
                version = db.file_version(path)  # what app.py does once per rerun
                answer = _render(version)
                seen[i][(version, answer)] += 1
                if began_after:
                    after[i].append((version, answer))
                    if len(after[i]) >= RENDERS_AFTER:
                        return
                elif began_during:
                    during[i][answer] += 1
                elif seen[i][(v_old, OLD)] >= RENDERS_BEFORE:
                    ready[i].set()
        except BaseException:  # noqa: BLE001 - any failure in a session fails the test
            with lock:
                errors.append(f"session {i}:\n{traceback.format_exc()}")
            ready[i].set()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(N_SESSIONS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    try:
        start.wait(timeout=DEADLINE_S)
        for event in ready:
            assert event.wait(timeout=DEADLINE_S), "a reader never rendered the old data"
        assert not errors, errors[0]
        importing.set()
        _import(IMPORT_OK, path)  # readers keep rendering throughout
        import_done.set()
        for t in threads:
            t.join(timeout=max(0.0, DEADLINE_S - (time.monotonic() - t0)))
        assert not any(t.is_alive() for t in threads), "readers did not finish before the deadline"
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)

    assert not errors, "\n".join(errors)
    v_new = db.file_version(path)
    assert v_new != v_old
    totals: Counter = Counter()
    for counter in seen:
        totals.update(counter)
    # every render: all four answers from one file, and from the file its version names
    assert set(totals) <= {(v_old, OLD), (v_new, NEW)}, set(totals) - {(v_old, OLD), (v_new, NEW)}
    # every session saw the old data, then picked up the new data without a restart
    for i in range(N_SESSIONS):
        assert seen[i][(v_old, OLD)] >= RENDERS_BEFORE, i
        assert after[i] == [(v_new, NEW)] * RENDERS_AFTER, (i, after[i])
    # the readers really were reading while the import ran
    while_importing: Counter = Counter()
    for counter in during:
        while_importing.update(counter)
    assert while_importing[OLD] > 0
    print(
        f"\n{N_SESSIONS} sessions: {totals[(v_old, OLD)]} renders of A, {totals[(v_new, NEW)]} "
        f"renders of B; begun while the import ran: {while_importing[OLD]} A, "
        f"{while_importing[NEW]} B; {time.monotonic() - t0:.1f}s"
    )


# --------------------------------------------------------------------------- through AppTest
def _arr_tile(at) -> str:
    return next(m.value for m in at.metric if m.label == "ARR")


def test_open_sessions_show_the_new_data_after_an_import(tmp_path, app_on):
    """Two open Overview sessions on A; an import replaces the file; their next rerun shows B."""
    path = tmp_path / "hg.duckdb"
    build_tiny_book(path)
    sessions = [app_on(path).run(), app_on(path).run()]
    for at in sessions:
        _assert_clean(at)
        assert "Mar 2026" in at.title[0].value
        assert _arr_tile(at) == "$216K"

    _import(IMPORT_OK, path)

    for at in sessions:
        at.run()  # the same session reruns (e.g. the user clicks): no restart, no cache clear
        _assert_clean(at)
        # B's revenue runs to Mar 2024, its usage to Jan 2024: the page opens on the last month
        # with both (README, "Plausibility checks"); target ARR (100 + 400 + 2,300) * 12 = 33,600
        assert "Jan 2024" in at.title[0].value
        assert _arr_tile(at) == "$33.6K"


def test_a_file_replaced_while_being_opened_is_not_cached_under_the_old_version(tmp_path):
    """The race the threaded test cannot hit: the version is read, the file is replaced,
    then the connection is opened. It must not be cached under the old version."""
    import os

    from cslib.store import db as cslib_db
    from tests_support.book import build_tiny_book
    from ui import data

    path = tmp_path / "race.duckdb"
    build_tiny_book(path)
    old_version = cslib_db.file_version(path)
    replacement = tmp_path / "replacement.duckdb"
    build_tiny_book(replacement)
    os.replace(replacement, path)
    assert cslib_db.file_version(path) != old_version
    with pytest.raises(data.StaleVersion):
        data.connection(old_version)
    new = data.connection(cslib_db.file_version(path))  # the current version opens fine
    assert cslib_db.query(new, "select count(*) as n from account_month")["n"].iloc[0] > 0
