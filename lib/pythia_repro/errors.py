"""Errors whose message says what is wrong and what to do."""

from __future__ import annotations


class Explained(Exception):
    """Shown in a notebook as its one-line message, not a traceback (IPython calls `_render_traceback_`)."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
