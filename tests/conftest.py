"""Shared fixtures. Reference data come from ../shared/data (PYTHIA_REPRO_DATA); missing data is an error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pythia_repro import settings

REPO = Path(__file__).resolve().parents[1]
# Debian's chromium, driven by playwright through `executable_path` (.ci/run installs it and sets
# PYTHIA_REPRO_BROWSER_TESTS=1, which turns a missing browser into a failure instead of a skip).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_REQUIRED = settings.enabled("browser_tests")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]
SHARED_DATA = settings.path("reference_data") or (REPO.parent / "shared" / "data").resolve()


def pythia_task(*checkpoints: tuple[str, int]):
    """A scoring task of a stub finding on the pythia suite, rows 8, over the (model, step) checkpoints given: what
    `findings.base.scoring_task` leaves out, marks and keeps."""
    from pythia_repro.findings.base import Finding, scoring_task
    from pythia_repro.suites import get_suite
    from pythia_repro.sweep.plan import Job

    suite = get_suite("pythia")
    jobs = [Job(suite.checkpoint(model, step), 8, ()) for model, step in checkpoints]
    return scoring_task(
        Finding("t", "t", ("pythia",)),
        suite,
        data="d",
        scorer="s",
        jobs=jobs,
        score=None,
        rows=8,
        chunk_rows=8,
        device="cpu",
    )


def readme_block(name: str) -> str:
    """The bash commands of the block marked `<!-- name: … -->` … `<!-- end name -->` in the README or a page of
    `docs/`, as written."""
    pattern = rf"<!-- {name}:[^>]*-->\s*```bash\n(.*?)```\s*<!-- end {name} -->"
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    found = [m.group(1) for page in pages if (m := re.search(pattern, page.read_text(), re.S))]
    assert len(found) == 1, f"the docs hold {len(found)} marked blocks of {name}, not one"
    return found[0]


def run_readme_block(name: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    """Run a README block as written (bash -euo pipefail, from the checkout, this environment's `pythia-repro` first
    on the PATH); a failing command fails the test with the end of its output."""
    return run_commands(readme_block(name), env, timeout)


def run_commands(commands: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    """Run bash commands (some lines of a README block) as `run_readme_block` runs a whole block."""
    env = env | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return run


def pytest_configure(config):
    if not (SHARED_DATA / "SHA256SUMS").is_file():
        raise pytest.UsageError(
            f"reference data not found at {SHARED_DATA}: the tests need the authors' files "
            f"(set {settings.variable('reference_data')} to a copy of shared/data)"
        )
    os.environ[settings.variable("reference_data")] = str(SHARED_DATA)
    os.environ.setdefault("MPLBACKEND", "Agg")
    # the tests already run on every core (pytest-xdist): notebooks inside them run one at a time unless a test asks
    os.environ.setdefault(settings.variable("jobs"), "1")


@pytest.fixture(autouse=True)
def _grouped(request):
    """Under `--dist loadgroup` (`make test`) a test marked `xdist_group` must carry its group in its node id, the
    only way pytest-xdist learns it: where it does not (pytest 9.2 with xdist 3.8, pytest-dev/pytest-xdist#1386),
    the groups are silently spread over the workers, and tests that must not overlap (two Ray clusters) do."""
    mark = request.node.get_closest_marker("xdist_group")
    if mark and request.config.getoption("loadgroup", False):
        assert request.node.nodeid.endswith(f"@{mark.args[0]}"), (
            f"{request.node.nodeid} is not in its xdist group {mark.args[0]!r}: this pytest and pytest-xdist "
            "no longer group tests (pin the pair as requirements.lock does)"
        )


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache: each test gets a private PYTHIA_REPRO_HOME."""
    monkeypatch.setenv("PYTHIA_REPRO_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway project root holding copies of the real notebooks and an empty results/."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    (root / "results").mkdir()
    monkeypatch.setenv("PYTHIA_REPRO_ROOT", str(root))
    return root


def plant_failure(project: Path, finding: str) -> None:
    """Make a finding's notebook in `project` fail right after its parameters (its whole run is not needed to fail)."""
    import nbformat

    path = project / "notebooks" / f"{finding}.ipynb"
    nb = nbformat.read(path, as_version=4)
    after = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(after, nbformat.v4.new_code_cell("raise ValueError('planted failure')"))
    nbformat.write(nb, path)


@pytest.fixture
def rerun_as(monkeypatch, tmp_path):
    """`rerun_as(folder)` copies a results folder as a run just made it, and from then on `verify`'s re-run of the
    notebook is that copy: for tests of what verify compares and says, not of executing the notebook once more."""
    from pythia_repro import run

    def use(folder: Path) -> Path:
        made = shutil.copytree(folder, tmp_path / "made")
        monkeypatch.setattr(
            run, "execute", lambda finding, profile, out, params: shutil.copytree(made, out, dirs_exist_ok=True)
        )
        return made

    return use


@pytest.fixture(scope="session")
def _tiny_suites(tmp_path_factory) -> Path:
    """The tiny micro suite and its gender and image companions, built once per session (their `suites/` folder)."""
    from pythia_repro.suites import micro, micro_gender, micro_images

    home = tmp_path_factory.mktemp("tiny-suites")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.variable("home"), str(home))
        micro.build("tiny", progress=False)
        micro_gender.build("tiny", progress=False)
        micro_images.build("tiny", progress=False)
    return home / "suites"


@pytest.fixture
def tiny(monkeypatch, _tiny_suites) -> Path:
    """The tiny micro suite's folder (with the tiny gender and image suites beside it), copied into the test's private
    cache from the session's build and selected as the micro profile's suite."""
    from pythia_repro.paths import cache_home
    from pythia_repro.suites import micro

    monkeypatch.setenv(settings.variable("micro_variant"), "tiny")
    shutil.copytree(_tiny_suites, cache_home() / "suites", dirs_exist_ok=True)
    return micro.suite_dir(micro.variant_config("tiny"))


@pytest.fixture
def micro_suite(tiny):
    """The tiny micro suite as a `Suite`."""
    from pythia_repro.suites import get_suite

    return get_suite("micro")


@pytest.fixture
def tiny_model(micro_suite):
    """The largest tiny micro model at its final checkpoint, on the CPU, with its tokenizer."""
    from pythia_repro.suites import load_model, load_tokenizer

    return load_model(micro_suite.checkpoint("micro-l"), "cpu"), load_tokenizer(micro_suite)


@pytest.fixture
def make_fake_pythia(tmp_path, monkeypatch):
    """A function that lays out an offline hub cache with tiny pythia-70m/160m checkpoints at steps 1, 2 and
    143000 (vocabulary `vocab`, for fast tests; `tests/e2e/test_replica.py` runs the README on a full replica), and a
    small fake Pile in shards named as released, and points the pythia suite at them.

    `vocab` must cover the token ids the test feeds (50304 for text encoded with the real tokenizer);
    `rows` replaces the random Pile rows (of 2049 tokens)."""
    import numpy as np

    from pythia_repro.data.tokens import write_mmap
    from pythia_repro.testing.replica import hub_entry, random_neox, saved_files, shard

    def make(vocab: int = 64, rows=None) -> Path:
        hub = tmp_path / "hf"
        for i, model in enumerate(("pythia-70m", "pythia-160m")):
            for step in (1, 2, 143000):
                weights = random_neox(
                    100 * i + step % 97, vocab, 16 * (i + 1), intermediate=64, eos_token_id=0, bos_token_id=0
                )
                hub_entry(hub / "hub", f"EleutherAI/{model}", f"step{step}", saved_files(weights))
        pile = rows if rows is not None else np.random.default_rng(0).integers(1, 64, (48, 2049), dtype=np.uint16)
        write_mmap(tmp_path / "pile" / "document", pile)
        shard(tmp_path / "pile" / "document", 3)  # read in place, as released
        for key, value in {
            "HF_HUB_OFFLINE": "1",
            "HF_HOME": str(hub),
            "HF_HUB_CACHE": str(hub / "hub"),
            settings.variable("pile"): str(tmp_path / "pile" / "document"),
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv(settings.variable("checkpoint_folder"), raising=False)
        return tmp_path

    return make


@pytest.fixture
def fake_pythia(make_fake_pythia) -> Path:
    """The fake Pythia release of `make_fake_pythia` with its defaults."""
    return make_fake_pythia()


@pytest.fixture(scope="session")
def neox_tokenizer():
    """The GPT-NeoX-20B tokenizer (Pythia's), from the reference data."""
    from transformers import PreTrainedTokenizerFast

    from pythia_repro.data.reference import fetch

    return PreTrainedTokenizerFast(tokenizer_file=str(fetch("tokenizer/20B_tokenizer.json")), pad_token="<|padding|>")


@pytest.fixture(scope="session")
def digit_model(neox_tokenizer):
    """A seeded random GPT-NeoX (no training, so no machine-dependent drift) whose output layer reaches only digit
    tokens and the newline: greedy generation gives varied digit answers to arithmetic prompts."""
    import torch

    from pythia_repro.testing.replica import random_neox

    model = random_neox(0, 50304, hidden=32, layers=2, heads=4, intermediate=64, positions=512)
    reachable = [i for t, i in neox_tokenizer.get_vocab().items() if t.isdigit() and len(t) <= 2] + [187]  # "\n"
    with torch.no_grad():
        weight = model.get_output_embeddings().weight
        kept = weight[reachable].clone() * 40
        weight.zero_()
        weight[reachable] = kept
    return model
