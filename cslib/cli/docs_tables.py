"""The docs' metric tables, generated from the metric registries (one definition per
number: a definition changed in code without its docs fails ``tests/unit/test_docs.py``).

    python -m cslib.cli.docs_tables        # rewrite the generated blocks of the docs in place

A block sits between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->`` in
docs/metrics.md (the shared metrics) or docs/pages.md (the Negative churn page's); everything
else is left as written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from cslib.settings import REPO_DIR

METRICS_DOC = REPO_DIR / "docs" / "metrics.md"
PAGES = REPO_DIR / "docs" / "pages.md"
#: the files that hold generated blocks
FILES = (METRICS_DOC, PAGES)


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
    from cslib.views.metrics import METRICS
    from cslib.views.revenue import REVENUE_METRICS

    return {"metrics": metric_table(METRICS.values()), "revenue_metrics": metric_table(REVENUE_METRICS.values())}


def _pattern(name: str) -> re.Pattern:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->\n)(?:.*?\n)?(<!-- end generated: {re.escape(name)} -->)", re.S
    )


def render(text: str) -> str:
    """``text`` with every generated block it holds replaced by its current content."""
    for name, body in blocks().items():
        text = _pattern(name).sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def missing_blocks() -> list[str]:
    """Generated blocks that no file of FILES holds (each must stand in one)."""
    texts = [path.read_text(encoding="utf-8") for path in FILES]
    return [name for name in blocks() if not any(_pattern(name).search(t) for t in texts)]


def main() -> int:
    missing = missing_blocks()
    if missing:
        print(f"error: no file holds the generated block(s) {', '.join(missing)}", file=sys.stderr)
        return 2
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
        print(f"{path.relative_to(REPO_DIR)}: metric tables {'regenerated' if new != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
