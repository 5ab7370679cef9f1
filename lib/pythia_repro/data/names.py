"""Pythia model names: the current release's and the v0 names the authors' earlier files use."""

from __future__ import annotations

import re

_SEED_RUN = re.compile(r"^(?P<model>.+)-(?P<variant>seed\d+)$")

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
# The authors' evaluation folders name the standard pythia-1b "pythia-1b-bf16": it is the release's pythia-1b, trained
# in bf16 where the others used fp16 (EleutherAI/pythia README, "Models").
EVALUATION_NAMES = {"pythia-1b-bf16": "pythia-1b"}


def run_of(name: str) -> tuple[str, str]:
    """(model, variant) of a run's name: `pythia-14m-seed3` is a seed of `pythia-14m`; other names are main runs."""
    match = _SEED_RUN.match(name)
    return (match["model"], match["variant"]) if match else (name, "main")
