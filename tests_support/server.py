"""A real Streamlit server of app.py for the browser tests (and nothing else)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(db_path: Path, log_dir: Path, app_db: Path | None = None, *extra: str,
                     plain: bool = False):
    """A Streamlit server of app.py over ``db_path`` on a free local port; yields its URL and
    stops it afterwards. ``app_db``: the app store file (default: beside the database);
    ``extra``: more command-line options. ``plain``: started as a user starts it, with the
    repository's .streamlit/config.toml only (no usage-statistics or file-watcher flags, no
    demo or statistics settings from this environment)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / "streamlit.log"
    env = {**os.environ, "HEALTHGRID_DB": str(db_path), "PYTHONUNBUFFERED": "1"}
    if app_db is not None:
        env["HEALTHGRID_APP_DB"] = str(app_db)
    env.pop("HEALTHGRID_INCLUDE_NON_TARGET", None)
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
    ]
    if plain:
        for name in ("HEALTHGRID_DEMO", "STREAMLIT_BROWSER_GATHER_USAGE_STATS"):
            env.pop(name, None)
    else:
        cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    cmd += list(extra)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {START_TIMEOUT}s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
