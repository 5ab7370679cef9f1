"""Process pools whose workers die with their parent (a killed build or count never leaves workers writing on),
the number of threads a scoring process gives torch, and how many notebooks run side by side."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import Explained

PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies (Linux)
FORWARDED_ENV = ("PYTHIA_REPRO_", "HF_", "TRANSFORMERS_")  # settings a worker on another machine needs too
DEFAULT_THREADS = 1  # benchmarks/threads.py: one thread is never far behind on an idle CPU and far ahead on a busy one
# Memory a notebook is given when choosing how many run side by side: a micro notebook peaks at 1.6 GB (the largest
# resident set of any process of a whole `make reproduce`, /usr/bin/time), so 3 GiB leaves room for a larger model.
NOTEBOOK_MEMORY = 3 * 2**30


class BadThreads(Explained, ValueError):
    """A thread or job count setting that is not a positive whole number."""


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
        raise BadThreads(f"{settings.variable(name)}={text!r}: expected a whole number, 1 or more")
    return int(text)


def use_threads() -> int:
    """Give torch the scoring threads (`threads()`) and return how many."""
    import torch

    count = threads()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def notebook_jobs(count: int, asked: int | None = None) -> int:
    """How many of `count` notebooks to execute side by side: `asked` (a command's --jobs) or the `jobs` setting,
    never more than there are; else one per `threads()` share of the usable cores, no more than the available memory
    holds at `NOTEBOOK_MEMORY` each, and 1 where a GPU is visible (its notebooks would share it)."""
    if asked is None and settings.value("jobs") not in (None, ""):
        asked = _count("jobs")
    if asked is not None:
        return min(asked, max(count, 1))
    if count <= 1:
        return 1
    import torch

    if torch.cuda.is_available():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    memory = available_memory()
    by_memory = max(1, memory // NOTEBOOK_MEMORY) if memory is not None else 1
    return max(1, min(cores // threads(), by_memory, count))


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux: MemAvailable of /proc/meminfo); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def side_by_side(fn: Callable[..., Any], calls: list[tuple], jobs: int) -> Iterator[tuple[str, int, Any]]:
    """Call `fn(*call)` for every call in order, `jobs` at a time on worker processes (in this process when 1).
    Yields ("start", i, None) as call i starts and ("done", i, outcome) as it ends, the outcome being what it returned
    or the exception it raised; a call starts only when a worker is free, so "start" is when it starts."""
    if jobs <= 1:
        for i, call in enumerate(calls):
            yield "start", i, None
            try:
                outcome = fn(*call)
            except Exception as err:
                outcome = err
            yield "done", i, outcome
        return
    waiting = list(enumerate(calls))
    with pool(jobs) as executor:
        running: dict[Future, int] = {}
        while waiting or running:
            while waiting and len(running) < jobs:
                i, call = waiting.pop(0)
                running[executor.submit(fn, *call)] = i
                yield "start", i, None
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                error = future.exception()
                yield "done", i, error if error is not None else future.result()
