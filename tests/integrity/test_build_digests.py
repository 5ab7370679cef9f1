"""A tiny build's weights against digests recorded per kernel path and CPU vendor (`build_digests.json`): the
portable numerics give the AVX2 path's bits whatever the thread count or the kernels the user's environment asks
for, and other bits on an AMD and an Intel CPU (measured; MKL's branch is on the build's path, see
docs/reliability.md); native numerics on a CPU with more than AVX2 give other bits (not recorded: AVX-512 kernels
differ between vendors). Record a path not listed yet with
`PYTHIA_REPRO_RECORD_FINGERPRINTS=1 pytest tests/integrity/test_build_digests.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pythia_repro import settings
from pythia_repro.integrity import kernels, numerics
from pythia_repro.integrity.kernels import PORTABLE
from pythia_repro.integrity.numerics import weights_digest

DIGESTS = Path(__file__).with_name("build_digests.json")
BUILD = "from pythia_repro.suites import micro; from pythia_repro.integrity.numerics import weights_digest as d; " + (
    "print(d(micro.build('tiny', progress=False)))"
)


def path_key(capability: str) -> str:
    """torch, its kernel path and the CPU's vendor: the same AVX2 kernels give other bits on AMD and Intel CPUs."""
    import torch

    return f"torch {torch.__version__}, {capability}, {numerics.vendor(numerics.cpu_model())}"


def built(home: Path, **env: str) -> str:
    """The weights digest of the tiny micro suite built in a fresh process whose environment is this one's without
    the portable kernels' variables (set here by the package), with `env` added."""
    run = subprocess.run(
        [sys.executable, "-c", BUILD],
        env={**{k: v for k, v in os.environ.items() if k not in PORTABLE}, settings.variable("home"): str(home), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.split()[-1]


@pytest.fixture(scope="module")
def here(_tiny_suites) -> tuple[str, str]:
    """This process's kernel path and the digest of the session's tiny build."""
    import torch

    folder = next((_tiny_suites / "micro").glob("tiny-*"))
    return torch.backends.cpu.get_cpu_capability(), weights_digest(folder)


def test_the_tiny_build_has_the_weights_recorded_for_its_kernel_path(here):
    capability, digest = here
    recorded = json.loads(DIGESTS.read_text())
    key = path_key(capability)
    if key not in recorded and settings.enabled("record_fingerprints"):
        DIGESTS.write_text(json.dumps({**recorded, key: digest}, indent=1, sort_keys=True) + "\n")
        recorded[key] = digest
    if key not in recorded:
        pytest.skip(f"no digest recorded for {key}; record it (see this module's docstring)")
    assert digest == recorded[key], f"the tiny build's weights changed on {key}"


def test_portable_weights_hold_under_threads_and_forced_kernels_and_native_ones_differ(here, tmp_path):
    capability, digest = here
    if not kernels.portable():
        pytest.skip("the portable numerics do not apply on this CPU (not x86-64 with AVX2)")
    assert capability == "AVX2", "the session's build ran on the portable AVX2 kernels"
    forced = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}
    threads = {"OMP_NUM_THREADS": "2", "PYTHIA_REPRO_THREADS": "2", "NPY_DISABLE_CPU_FEATURES": ""}
    assert built(tmp_path / "forced", **forced, **threads) == digest, "the package's kernels, not the user's"
    native = built(tmp_path / "native", PYTHIA_REPRO_NUMERICS="native")
    if "avx512f" not in kernels.cpu_flags():
        pytest.skip("this CPU's native path is AVX2 already: no other path to compare")
    assert native != digest, "the native AVX-512 path trains other bits (vendors' AVX-512 kernels may differ too)"
