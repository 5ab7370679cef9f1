"""Where things live: the project tree (notebooks, results) and the user's cache."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from . import settings


def project_root() -> Path:
    """The checkout holding `notebooks/` and `results/` (env PYTHIA_REPRO_ROOT, else the source tree, else cwd)."""
    if settings.path("root"):
        return settings.path("root")
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
    return settings.path("home") or Path(platformdirs.user_cache_dir("pythia-repro"))
