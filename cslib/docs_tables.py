"""The README's metric tables, generated from the metric registries (one definition per
number: a definition changed in code without its docs fails ``tests/unit/test_docs.py``).

    python -m cslib.docs_tables        # rewrite the generated blocks of README.md in place

A block sits between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``;
everything else in the README is left as written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from .settings import REPO_DIR

README = REPO_DIR / "README.md"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def metric_table(metrics: Iterable) -> str:
    """A Markdown table of metrics: name, label on screen, definition, formula."""
    rows = ["| metric | on screen | definition | formula |", "|---|---|---|---|"]
    for m in metrics:
        rows.append(f"| `{m.name}` | {_cell(m.label)} | {_cell(m.description)} | `{_cell(m.formula)}` |")
    return "\n".join(rows)


def blocks() -> dict[str, str]:
    """Generated block name -> its Markdown."""
    from .metrics import METRICS
    from .revenue import REVENUE_METRICS

    return {"metrics": metric_table(METRICS.values()), "revenue_metrics": metric_table(REVENUE_METRICS.values())}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    for name, body in blocks().items():
        pattern = re.compile(
            rf"(<!-- generated: {re.escape(name)} -->\n)(?:.*?\n)?(<!-- end generated: {re.escape(name)} -->)", re.S
        )
        if not pattern.search(text):
            raise ValueError(f"README.md has no generated block '{name}'")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: metric tables regenerated")
    else:
        print("README.md: metric tables already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
