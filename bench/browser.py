"""``python -m bench.browser --db PATH``: every page in a real browser, with the server's memory.

Starts ``streamlit run app.py`` on a free local port over the database (read only), opens
each page of app.py in headless Chromium (Playwright, as in the browser tests) and
prints, per page: the time until the app's script run is over on the first visit of the
page since the server started (the default page: loading the app; the others: a click
in the navigation menu, as a user moves), the same for a fresh load of the page's URL
with a segment in it (a shared link, a filter state not seen before), and the server's
resident memory then. The
last line is the server's peak resident memory over the whole visit (``VmHWM`` of the
process, Linux). Figures are printed, never asserted. Needs the dev requirements and
Chromium (``/usr/bin/chromium`` or ``--chromium``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_mib(pid: int, field: str) -> float:
    """``VmRSS`` / ``VmHWM`` of a process in MiB (0 when /proc is not available)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _start_server(db: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "HEALTHGRID_DB": str(db), "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"streamlit was not up after 120 s; see {log.name}")


def _watch_runs(page) -> None:
    """From now on, ``window.hgSawRun`` turns true once the app shows a script run."""
    page.evaluate(
        """() => {
          const app = document.querySelector('[data-testid="stApp"]');
          window.hgSawRun = false;
          new MutationObserver(() => {
            if (app.getAttribute('data-test-script-state') !== 'notRunning') window.hgSawRun = true;
          }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        }"""
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database to serve (read only)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one page")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from bench.pages import _page_files

    db = Path(args.db).resolve()
    if not db.exists():
        raise SystemExit(f"{db}: database not found")
    timeout_ms = args.timeout * 1000
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w", prefix="healthgrid_bench_", suffix=".log", delete=False) as log:
        proc = _start_server(db, port, log)
        try:
            print(f"database: {db}\nserver pid {proc.pid}, log {log.name}")
            print(f"{'page':<28}{'first ms':>10}{'filter ms':>11}{'RSS MiB':>9}")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(timeout_ms)
                t0 = time.perf_counter()
                page.goto(url)  # the default page, loaded with the frontend
                page.wait_for_selector('[data-testid="stMain"] h1')
                page.wait_for_selector(IDLE)
                first_load = time.perf_counter() - t0
                for i, page_file in enumerate(_page_files()):
                    stem = Path(page_file).stem
                    if i == 0:
                        first = first_load
                    else:  # as a user moves on: a click in the navigation menu, no reload
                        _watch_runs(page)
                        t0 = time.perf_counter()
                        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{stem}"]').first.click()
                        page.wait_for_function("() => window.hgSawRun === true")
                        page.wait_for_selector(IDLE)
                        first = time.perf_counter() - t0
                    if page.locator('[data-testid="stException"]').count():
                        raise SystemExit(f"{page_file}: the page shows an exception")
                    # a colleague's shared link with a filter not seen before: a fresh load
                    t0 = time.perf_counter()
                    page.goto(f"{url}/{'' if i == 0 else stem}?segment=mid_market")
                    page.wait_for_selector('[data-testid="stMain"] h1')
                    page.wait_for_selector(IDLE)
                    changed = time.perf_counter() - t0
                    print(f"{page_file:<28}{first * 1000:>10.0f}{changed * 1000:>11.0f}"
                          f"{_proc_mib(proc.pid, 'VmRSS'):>9.0f}", flush=True)
                browser.close()
            print(f"server peak resident memory (VmHWM): {_proc_mib(proc.pid, 'VmHWM'):.0f} MiB")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
