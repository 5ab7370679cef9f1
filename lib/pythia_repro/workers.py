"""Process pools whose workers die with their parent: a killed build or count never leaves workers writing on."""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies (Linux)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere nothing to do)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def pool(workers: int, start: str = "spawn") -> ProcessPoolExecutor:
    """A process pool of `workers` started by `start` ("spawn" or "fork"), each worker dying with this process."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start), initializer=die_with_parent)
