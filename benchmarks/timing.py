"""What every benchmark times with: a call's result and its wall-clock seconds."""

from __future__ import annotations

import sys
import time


def _sync() -> None:
    """Wait for queued GPU work, where the benchmark uses torch and has a GPU (kernels run asynchronously)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn):
    """(fn(), seconds it took), GPU work included."""
    _sync()
    start = time.perf_counter()
    out = fn()
    _sync()
    return out, time.perf_counter() - start
