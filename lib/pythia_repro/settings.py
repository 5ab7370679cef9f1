"""Every setting the package reads from the environment, in one place: its variable, default and meaning.

Values are read when asked for (`value`, `path`), so a test or a notebook that changes the environment is
seen at once. The table in `docs/settings.md` is `table()`; a test keeps the two the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    variable: str
    default: str | None
    meaning: str


SETTINGS = {
    "root": Setting(
        "PYTHIA_REPRO_ROOT",
        None,
        "project folder holding `notebooks/` and `results/` (default: the checkout, else the working folder)",
    ),
    "home": Setting(
        "PYTHIA_REPRO_HOME",
        None,
        "cache of fetched reference files, built suites, n-gram and term counts, scores "
        "(default: `~/.cache/pythia-repro`)",
    ),
    "reference_data": Setting(
        "PYTHIA_REPRO_DATA",
        None,
        "local copy of the authors' released files, laid out as `../shared/data` "
        "(default: download each file, pinned by sha256); `make` sets it when `../shared/data` exists",
    ),
    "checkpoint_folder": Setting(
        "PYTHIA_REPRO_MIRROR",
        None,
        "load Pythia (and GPT-NeoX-20B) checkpoints from `<folder>/<model>/<revision>/` instead of the hub",
    ),
    "pile": Setting(
        "PYTHIA_REPRO_PILE",
        None,
        "path prefix of the pre-tokenized, pre-shuffled Pile (`<prefix>.idx` with `<prefix>.bin` or the released "
        "shards `<prefix>-NNNNN-of-MMMMM.bin`); pythia and gpt-neox-20b profiles",
    ),
    "pile_deduped": Setting(
        "PYTHIA_REPRO_PILE_DEDUPED",
        None,
        "path prefix of the pre-tokenized, pre-shuffled deduplicated Pile, which the `*-deduped` models saw "
        "(pythia-deduped profile; never replaced by the standard Pile)",
    ),
    "heldout": Setting(
        "PYTHIA_REPRO_HELDOUT", None, "path prefix of pre-tokenized held-out text (simplicity bias, pythia profile)"
    ),
    "suites": Setting(
        "PYTHIA_REPRO_SUITES",
        None,
        "more suites, as `name=package.module` (comma separated): each module registers its suite when imported",
    ),
    "micro_variant": Setting(
        "PYTHIA_REPRO_MICRO_VARIANT",
        "default",
        "which micro suite the micro profile uses: `default`, or `tiny` (the tests')",
    ),
    "vision_variant": Setting(
        "PYTHIA_REPRO_VISION_VARIANT",
        "authors",
        "what the image suites of the authors' setting (cifar10, mnist, fashion-mnist, svhn, cifarnet) train: "
        "`authors` (their networks, 2^16 steps on a GPU), or `tiny` (the tests': tiny networks, 16 steps on a CPU)",
    ),
    "threads": Setting(
        "PYTHIA_REPRO_THREADS",
        None,
        "torch's intra-op threads when scoring (default: `OMP_NUM_THREADS` when set, else 1, the choice "
        "`benchmarks/threads.py` supports; with both set, the smaller); builds train one thread per run",
    ),
    "jobs": Setting(
        "PYTHIA_REPRO_JOBS",
        None,
        "notebooks `reproduce` and `verify` execute side by side (default: the usable cores over the scoring "
        "threads, no more than memory holds at 3 GiB each, and 1 where a GPU is visible); each runs in its own "
        "kernel, so the tables are the same bits whatever the number",
    ),
    "numerics": Setting(
        "PYTHIA_REPRO_NUMERICS",
        "portable",
        "CPU kernels for builds and scores: `portable` (torch, MKL, oneDNN, NumPy and OpenBLAS held to their AVX2 "
        "kernels, so every x86-64 CPU with AVX2 of one vendor trains and scores the same bits; see "
        "docs/reliability.md) or "
        "`native` (each library's fastest for this CPU; suites build under other keys)",
    ),
    "checkpoints": Setting(
        "PYTHIA_REPRO_CHECKPOINTS",
        "verified",
        "`verified` leaves out of every run a checkpoint the known-issues registry (`known_issues.csv`) or the "
        "checkpoint audit says is not what it claims (a branch serving another step's weights), and says which and "
        "why; `all` scores it anyway and marks it (also `-p checkpoints=all` for one run)",
    ),
    "omp_threads": Setting(
        "OMP_NUM_THREADS",
        None,
        "OpenMP's own: the cores a scheduler gives the process (Ray sets it per task); scoring never uses more",
    ),
    "hub_offline": Setting(
        "HF_HUB_OFFLINE", "0", "huggingface_hub's own: `1` loads checkpoints from the local hub cache only"
    ),
    "hub_cache": Setting(
        "HF_HUB_CACHE",
        None,
        "huggingface_hub's own: the hub cache folder (default `$HF_HOME/hub`); `--disk-budget` keeps it under a size",
    ),
    "browser_tests": Setting(
        "PYTHIA_REPRO_BROWSER_TESTS",
        "0",
        "tests: `1` makes a missing Chromium fail the JupyterLab test instead of skipping it (`.ci/run` sets it)",
    ),
    "record_fingerprints": Setting(
        "PYTHIA_REPRO_RECORD_FINGERPRINTS",
        "0",
        "tests: `1` records the output fingerprint of a newly bumped scorer version",
    ),
    "artifacts": Setting("PYTHIA_REPRO_ARTIFACTS", None, "tests: where the JupyterLab test keeps its screenshots"),
}


def value(name: str) -> str | None:
    """The setting's value: its environment variable when set and not empty, else its default."""
    setting = SETTINGS[name]
    return os.environ.get(setting.variable) or setting.default


@contextmanager
def overridden(name: str, given: str | None) -> Iterator[None]:
    """Within the block, the setting is `given` (a run's parameter that stands for the setting); None: unchanged."""
    variable_ = SETTINGS[name].variable
    before = os.environ.get(variable_)
    if given is not None:
        os.environ[variable_] = given
    try:
        yield
    finally:
        if given is not None:
            if before is None:
                os.environ.pop(variable_, None)
            else:
                os.environ[variable_] = before


def path(name: str) -> Path | None:
    """A folder or path prefix setting as an absolute path (None when unset)."""
    text = value(name)
    return Path(text).expanduser().resolve() if text else None


def enabled(name: str) -> bool:
    """A switch setting: on unless unset, empty or 0."""
    return value(name) not in (None, "", "0")


def present(variables: tuple[str, ...]) -> dict[str, str]:
    """Other programs' variables that are set (e.g. torch's and MKL's kernel-path overrides): recorded in manifests,
    never acted on by the package."""
    return {name: os.environ[name] for name in variables if name in os.environ}


def variable(name: str) -> str:
    """The environment variable of a setting, for messages that tell the user what to set."""
    return SETTINGS[name].variable


def table() -> str:
    """The settings as a Markdown table (`docs/settings.md` holds this table)."""
    rows = [f"| `{s.variable}` | {f'`{s.default}`' if s.default else ''} | {s.meaning} |" for s in SETTINGS.values()]
    return "\n".join(["| variable | default | what it sets |", "|---|---|---|", *rows])
