"""Process pools whose workers die with their parent (a killed build or count never leaves workers writing on),
and the number of threads a scoring process gives torch."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

from .. import settings
from ..errors import Explained

PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies (Linux)
FORWARDED_ENV = ("PYTHIA_REPRO_", "HF_", "TRANSFORMERS_")  # settings a worker on another machine needs too
DEFAULT_THREADS = 1  # benchmarks/threads.py: one thread is never far behind on an idle CPU and far ahead on a busy one


class BadThreads(Explained, ValueError):
    """A thread setting that is not a positive whole number."""


def die_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere nothing to do), then end at once
    if the parent that started it (`parent`, a pid) is already gone: a parent killed while this worker was still
    starting would otherwise leave it running under init."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def pool(workers: int, start: str = "spawn") -> ProcessPoolExecutor:
    """A process pool of `workers` started by `start` ("spawn" or "fork"), each worker dying with this process
    from the first thing it does."""
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(start), initializer=die_with_parent, initargs=(os.getpid(),)
    )


def forwarded_env() -> dict[str, str]:
    """The driver's settings a worker (a Ray task, here or on another machine) needs to find the same suites, data
    and caches."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}


def threads() -> int:
    """torch's intra-op threads for scoring: the `threads` setting, else `OMP_NUM_THREADS` (the share a scheduler
    such as Ray or a batch system gives the process), never more than it when both are set; else the default."""
    given = [_count(name) for name in ("threads", "omp_threads") if settings.value(name) not in (None, "")]
    return min(given) if given else DEFAULT_THREADS


def _count(name: str) -> int:
    text = settings.value(name)
    if not text.isdigit() or int(text) < 1:
        raise BadThreads(f"{settings.variable(name)}={text!r}: expected a whole number of threads, 1 or more")
    return int(text)


def use_threads() -> int:
    """Give torch the scoring threads (`threads()`) and return how many."""
    import torch

    count = threads()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count
