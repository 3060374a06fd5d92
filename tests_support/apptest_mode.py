"""Run AppTest the way a server runs the app (used by the AppTest suite and bench.pages).

With a ``pages/`` folder next to app.py, Streamlit starts in legacy multipage mode and
switches to ``st.navigation`` mode for good once any run calls st.navigation. AppTest
resets that switch before every run, so a rerun would execute the page file alone (no
app.py, no sidebar) and widget state would not round-trip. A server never does that
after its first run (ui.sidebar.current() covers the first run). This patches
``PagesManager.__init__`` (a Streamlit internal: check it when upgrading Streamlit).
"""

from __future__ import annotations

from collections.abc import Callable


def keep_navigation_mode() -> Callable[[], None]:
    """Patch PagesManager so AppTest stays in st.navigation mode; returns the undo."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        PagesManager.uses_pages_directory = False
        original(self, *args, **kwargs)

    PagesManager.__init__ = init

    def undo() -> None:
        PagesManager.__init__ = original

    return undo
