"""Pythia model names: the current release's and the v0 names the authors' earlier files use."""

from __future__ import annotations

V0_NAMES = {
    "pythia-70m": "pythia-19m",
    "pythia-160m": "pythia-125m",
    "pythia-410m": "pythia-350m",
    "pythia-1b": "pythia-800m",
    "pythia-1.4b": "pythia-1.3b",
    "pythia-2.8b": "pythia-2.7b",
    "pythia-6.9b": "pythia-6.7b",
    "pythia-12b": "pythia-13b",
}
