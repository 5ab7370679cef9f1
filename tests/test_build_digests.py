"""A tiny build's weights against digests recorded per kernel path (`build_digests.json`): the same path gives the
same bits whatever the thread count, another path other bits. Record a path not listed yet with
`PYTHIA_REPRO_RECORD_FINGERPRINTS=1 pytest tests/test_build_digests.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pythia_repro import settings
from pythia_repro.numerics import AVX2, weights_digest

DIGESTS = Path(__file__).with_name("build_digests.json")
BUILD = "from pythia_repro.suites import micro; from pythia_repro.numerics import weights_digest as d; " + (
    "print(d(micro.build('tiny', progress=False)))"
)


def path_key(capability: str) -> str:
    import torch

    return f"torch {torch.__version__}, {capability}"


def built(home: Path, **env: str) -> str:
    """The weights digest of the tiny micro suite built in a fresh process with `env` added."""
    run = subprocess.run(
        [sys.executable, "-c", BUILD],
        env={**os.environ, settings.variable("home"): str(home), **env},
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


def test_threads_keep_the_weights_and_another_kernel_path_changes_them(here, tmp_path):
    capability, digest = here
    assert built(tmp_path / "threads", OMP_NUM_THREADS="2", PYTHIA_REPRO_THREADS="2") == digest
    if capability == "AVX2":
        pytest.skip("this CPU runs the AVX2 path already: no other path to force")
    forced = built(tmp_path / "avx2", **AVX2)
    assert forced != digest, "the forced AVX2 path trains other bits"
    recorded = json.loads(DIGESTS.read_text())
    assert forced == recorded[path_key("AVX2")], "the AVX2 path's weights, as recorded"
