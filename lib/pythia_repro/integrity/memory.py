"""Freed memory kept for reuse: on a CPU a batch's logits over Pythia's 50k vocabulary run to hundreds of MB, and
glibc hands each such block back to the kernel when freed, so the next batch faults it in again page by page (on
the replica's pilot sweep: 44 million page faults, more system time than computing). The package asks glibc to
serve large blocks from its heap and keep what is freed. The process's memory stays at its peak instead of
shrinking; numbers do not change. Imported by the package's `__init__`, so it imports nothing of the package.
"""

from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX, M_ARENA_MAX = -1, -2, -4, -8  # glibc's mallopt parameters (malloc.h)
# One arena: a block freed into a thread's own arena was given back and faulted in afresh in 2 of 6 runs of
# tests/integrity/test_memory.py's loop (0 of 6 with one arena). On a loaded machine a batch can still find its
# block given back (2 batches of 5, once in a full test run), so that test judges the median batch.
KEEP = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1, M_TOP_PAD: 256 * 2**20, M_ARENA_MAX: 1}


def keep_freed_memory() -> bool:
    """Serve every allocation from the heap and never trim it (glibc on Linux); whether glibc took the settings.
    Elsewhere (another C library, another system) nothing changes."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    taken = [mallopt(parameter, value) for parameter, value in KEEP.items()]  # every one, even after a refusal
    return taken == [1] * len(KEEP)
