"""The code passes the project's lint rules (ruff.toml), as part of the README's test command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    if shutil.which("ruff") is None and subprocess.run([sys.executable, "-m", "ruff", "--version"],
                                                      capture_output=True).returncode != 0:
        pytest.fail("ruff is not installed: pip install -r requirements-dev.txt")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
