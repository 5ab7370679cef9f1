"""The machine's numeric identity, recorded in every manifest and compared by `verify`, and the digest of a build's
weights: what shows whether two machines computed the same bits (`kernels` decides which kernels they run).
"""

from __future__ import annotations

import hashlib
import platform
import re
from pathlib import Path
from typing import Any

from . import kernels

VENDORS = ("AMD", "Intel")  # as CPU model names spell them
OVERRIDES = (
    *kernels.PORTABLE,
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHIA_REPRO_THREADS",
)


def check() -> None:
    """Stop a build or a score whose libraries did not take the portable kernels (torch or NumPy chose theirs before
    the package was imported), rather than record other bits under the portable build key."""
    if not kernels.portable():
        return
    current = identity()
    wrong = []
    if current["cpu_capability"] != "AVX2":
        wrong.append(f"torch runs its {current['cpu_capability']} kernels")
    if set(current["numpy_simd"]) - {"X86_V2", "X86_V3"}:
        wrong.append(f"NumPy runs {', '.join(current['numpy_simd'])}")
    if wrong:
        raise kernels.BadNumerics(
            f"the portable AVX2 kernels are not in force ({'; '.join(wrong)}): torch or NumPy computed before "
            "pythia_repro was imported. Import pythia_repro first (a fresh kernel or process), or set "
            f"{', '.join(f'{k}={v}' for k, v in kernels.PORTABLE.items())} before starting Python"
        )


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    return kernels.cpuinfo("model name") or platform.processor() or platform.machine()


def numpy_simd() -> list[str]:
    """NumPy's dispatched instruction-set levels in force here (its baseline aside), e.g. ['X86_V3', 'X86_V4']."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [level for level in __cpu_dispatch__ if __cpu_features__.get(level)]


def identity() -> dict[str, Any]:
    """The numerics asked for, CPU, the kernel paths torch and NumPy take, torch, MKL and oneDNN versions, scoring
    threads, deterministic algorithms, and the environment variables that change any of these."""
    import torch

    from .. import settings
    from . import workers

    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version (\S+)", config)
    onednn = re.search(r"MKL-DNN v(\S+)", config)
    return {
        "mode": "portable" if kernels.portable() else "native",
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "numpy_simd": numpy_simd(),
        "torch": torch.__version__,
        "mkl": mkl[1] if mkl else None,
        "onednn": onednn[1] if onednn else None,
        "scoring_threads": workers.threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "overrides": settings.present(OVERRIDES),
    }


def vendor(cpu: str | None) -> str | None:
    """The vendor in a CPU's model name ("AMD EPYC" → AMD), or the name itself where it names none."""
    return next((name for name in VENDORS if name in (cpu or "")), cpu)


def same(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What differs between a recorded numeric identity and this machine's: the CPU's vendor (not its model: the same
    AVX2 kernels give other bits on an AMD and an Intel CPU, measured in docs/reliability.md), the kernel paths,
    libraries and overrides; ["not recorded"] for a manifest made before they were recorded."""
    if not recorded:
        return ["not recorded"]
    keys = ("mode", "cpu_capability", "numpy_simd", "torch", "mkl", "onednn", "overrides")
    found = [f"{k}: {recorded.get(k)} here {current.get(k)}" for k in keys if recorded.get(k) != current.get(k)]
    if vendor(recorded.get("cpu")) != vendor(current.get("cpu")):
        found.insert(0, f"cpu vendor: {vendor(recorded.get('cpu'))} here {vendor(current.get('cpu'))}")
    return found


def weights_digest(folder: Path) -> str:
    """sha256 of a built suite's weights: every `*.safetensors` below `folder`, by relative path, in path order.
    Two builds with equal digests hold bit-identical weights."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.safetensors")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
