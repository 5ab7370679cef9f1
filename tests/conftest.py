"""Shared fixtures. Reference data come from ../shared/data (PYTHIA_REPRO_DATA); missing data is an error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PYTHIA_REPRO_DATA", REPO.parent / "shared" / "data")).resolve()


def pytest_configure(config):
    if not (SHARED_DATA / "SHA256SUMS").is_file():
        raise pytest.UsageError(
            f"reference data not found at {SHARED_DATA}: the tests need the authors' files "
            "(set PYTHIA_REPRO_DATA to a copy of shared/data)"
        )
    os.environ["PYTHIA_REPRO_DATA"] = str(SHARED_DATA)
    os.environ.setdefault("MPLBACKEND", "Agg")


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


@pytest.fixture
def tiny_suite(monkeypatch):
    """The tiny micro suite, built in the test's private cache and selected as the micro profile's suite."""
    from pythia_repro import micro

    monkeypatch.setenv("PYTHIA_REPRO_MICRO_VARIANT", "tiny")
    return micro.build("tiny", progress=False)
