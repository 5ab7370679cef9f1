"""Which CPU kernels builds and scores run on: the portable AVX2 kernels (the default) or each library's native ones.

torch, MKL, oneDNN, NumPy and OpenBLAS each pick kernels for the CPU they find, and trained weights follow the
kernels: forcing the AVX2 path on an AVX-512 CPU changes the micro suite's weights from the first step. So under
the default `portable` numerics the package holds every one of them to its AVX2 kernels (`PORTABLE`), what an
AVX2-only x86-64 CPU runs anyway, and any x86-64 CPU with AVX2 and FMA builds and scores the same bits (one thread
per run, deterministic algorithms). `PYTHIA_REPRO_NUMERICS=native` leaves each library its fastest kernels.
Imported by the package's `__init__` (`pin`), so it imports nothing that imports the package.
"""

from __future__ import annotations

import functools
import os
import platform
import re
from pathlib import Path
from typing import Any

from ..errors import Explained
from ..settings import value, variable

MODES = ("portable", "native")
PORTABLE = {  # each library's AVX2 kernels; read when the library loads or first computes, so set before that
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own kernels
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # torch's matrix products
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility: the same bits on any CPU with AVX2
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's convolutions and fused kernels
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # NumPy's AVX-512 loops (its X86_V3 is AVX2)
    "OPENBLAS_CORETYPE": "Haswell",  # NumPy's and SciPy's matrix products and factorizations (AVX2 kernels)
}
NEEDS = ("avx2", "fma")  # CPU flags the AVX2 path needs


class BadNumerics(Explained, ValueError):
    """The numerics asked for are unknown, or the libraries did not take them."""


def mode() -> str:
    """The numerics asked for (`PYTHIA_REPRO_NUMERICS`): portable or native."""
    asked = value("numerics")
    if asked not in MODES:
        raise BadNumerics(
            f"{variable('numerics')}={asked!r}: expected one of {', '.join(MODES)} "
            "(portable: the same bits on every x86-64 CPU with AVX2 of one vendor; native: this CPU's fastest kernels)"
        )
    return asked


@functools.cache
def cpuinfo(field: str) -> str | None:
    """The first value of a field of /proc/cpuinfo (Linux; e.g. "flags", "model name"), None where there is none."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    found = re.search(rf"^{re.escape(field)}\s*:\s*(.+)$", text, re.MULTILINE)
    return found[1].strip() if found else None


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (none known off Linux)."""
    return frozenset((cpuinfo("flags") or "").split())


def portable() -> bool:
    """Whether builds and scores here run on the portable AVX2 kernels: asked for (the default), on an x86-64
    CPU that has them. Elsewhere (another architecture, or an x86-64 CPU without AVX2) each library's own run."""
    return mode() == "portable" and platform.machine().lower() in ("x86_64", "amd64") and set(NEEDS) <= cpu_flags()


def pin() -> None:
    """Set `PORTABLE` in the environment when the portable kernels apply (the package does this when imported,
    before torch or NumPy choose kernels; worker processes inherit it). Never raises: `check` reports."""
    try:
        if portable():
            os.environ.update(PORTABLE)
    except BadNumerics:
        pass


def keyed(fields: dict[str, Any]) -> dict[str, Any]:
    """A suite's build fields with the kernels it trains on, when portable (native builds keep their keys)."""
    return {**fields, "numerics": "portable-avx2"} if portable() else fields
