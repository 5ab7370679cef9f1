"""Where things live: the project tree (notebooks, results) and the user's cache."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ROOT_ENV = "PYTHIA_REPRO_ROOT"
HOME_ENV = "PYTHIA_REPRO_HOME"


def project_root() -> Path:
    """The checkout holding `notebooks/` and `results/` (env PYTHIA_REPRO_ROOT, else the source tree, else cwd)."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    source_tree = Path(__file__).resolve().parents[2]
    if (source_tree / "notebooks").is_dir():
        return source_tree
    return Path.cwd().resolve()


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def results_dir() -> Path:
    return project_root() / "results"


def cache_home() -> Path:
    """Cache for fetched reference data, built suites and scores (env PYTHIA_REPRO_HOME overrides)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().resolve()
    return Path(platformdirs.user_cache_dir("pythia-repro"))
