"""The locked environment: exact pins (with hashes) in `requirements.lock`, resolved from pyproject.toml.

`make install` installs from the lock (torch aside: its build depends on the machine, so it is pinned in the
Makefile and installed first); `make lock` re-resolves it and regenerates `environment.yml` from the same
pins (`python -m pythia_repro.integrity.environment`). The manifest of every run records how the installed
versions compare.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..paths import project_root
from . import atomic

LOCK_FILE = "requirements.lock"
TORCH_PIN = "torch==2.13.0"  # the Makefile's TORCH; a test keeps the two equal
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def pins(path: Path | None = None) -> dict[str, str]:
    """Package name (normalised) → locked version."""
    text = (path or project_root() / LOCK_FILE).read_text()
    return {normalise(m[1]): m[2] for line in text.splitlines() if (m := PIN.match(line))}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_yml(locked: dict[str, str]) -> str:
    """A conda environment with the same pins as the lock (without hashes), torch pinned as the Makefile does."""
    lines = [
        "# Generated from requirements.lock by `make lock` (`python -m pythia_repro.integrity.environment`).",
        "# On a CPU-only machine, install the CPU build of torch first, e.g.",
        f"#   pip install {TORCH_PIN} --index-url https://download.pytorch.org/whl/cpu",
        "name: pythia-repro",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        f"      - {TORCH_PIN}",
    ]
    lines += [f"      - {name}=={v}" for name, v in sorted(locked.items())]
    lines.append("      - -e .[dev]")
    return "\n".join(lines) + "\n"


def installed_against_lock() -> dict[str, object]:
    """The lock's identity and every locked package whose installed version differs (for the manifest)."""
    from .hashing import sha256_file

    path = project_root() / LOCK_FILE
    if not path.is_file():
        return {"lock": None}
    differs = {}
    for name, locked in pins(path).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != locked:
            differs[name] = {"locked": locked, "installed": installed}
    return {"lock": LOCK_FILE, "lock_sha256": sha256_file(path), "differs_from_lock": differs}


if __name__ == "__main__":
    atomic.write_text(project_root() / "environment.yml", environment_yml(pins()))
