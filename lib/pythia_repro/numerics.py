"""The machine's numeric identity: what decides the bits torch computes on a CPU (recorded in every manifest).

Trained weights differ between CPUs when torch takes another kernel path: forcing the AVX2 path on an AVX-512 CPU
(`ATEN_CPU_CAPABILITY=avx2`, `MKL_ENABLE_INSTRUCTIONS=AVX2`, `ONEDNN_MAX_CPU_ISA=AVX2`) changes the tiny micro
suite's weights from the first step, so a build records the path it took beside the libraries and settings.
"""

from __future__ import annotations

import hashlib
import platform
import re
from pathlib import Path
from typing import Any

AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}  # what an
# AVX2-only x86-64 CPU runs, forced on one that has more (for measurements: `benchmarks/numerics.py`, the tests)
OVERRIDES = (
    "ATEN_CPU_CAPABILITY",
    "MKL_ENABLE_INSTRUCTIONS",
    "MKL_CBWR",
    "ONEDNN_MAX_CPU_ISA",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHIA_REPRO_THREADS",
)


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found[1].strip() if found else platform.machine()


def identity() -> dict[str, Any]:
    """CPU, the kernel path torch takes (its CPU capability), torch, MKL and oneDNN versions, scoring threads,
    deterministic algorithms, and the environment variables that change any of these."""
    import torch

    from . import settings, workers

    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version (\S+)", config)
    onednn = re.search(r"MKL-DNN v(\S+)", config)
    return {
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "mkl": mkl[1] if mkl else None,
        "onednn": onednn[1] if onednn else None,
        "scoring_threads": workers.threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "overrides": settings.present(OVERRIDES),
    }


def same(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What differs between a recorded numeric identity and this machine's (CPU model aside: the kernel path,
    libraries and overrides decide the bits); ["not recorded"] for a manifest made before they were recorded."""
    if not recorded:
        return ["not recorded"]
    keys = ("cpu_capability", "torch", "mkl", "onednn", "overrides")
    return [f"{k}: {recorded.get(k)} here {current.get(k)}" for k in keys if recorded.get(k) != current.get(k)]


def weights_digest(folder: Path) -> str:
    """sha256 of a built suite's weights: every `*.safetensors` below `folder`, by relative path, in path order.
    Two builds with equal digests hold bit-identical weights."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.safetensors")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
