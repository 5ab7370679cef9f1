"""Suite name → the module that defines it, and the factories those modules register when imported."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from .. import settings
from .base import CheckpointNotFound, Suite

IMAGE_DATASETS = ("cifar10", "mnist", "fashion-mnist", "svhn", "cifarnet")  # `vision.DATASETS`, one suite each
BUILT_IN = {
    "micro": "pythia_repro.suites.micro",
    "micro-gender": "pythia_repro.suites.micro_gender",
    "micro-images": "pythia_repro.suites.micro_images",
    "pythia": "pythia_repro.suites.pythia",
    "pythia-deduped": "pythia_repro.suites.pythia_deduped",
    "gpt-neox-20b": "pythia_repro.suites.gpt_neox_20b",
    **dict.fromkeys(IMAGE_DATASETS, "pythia_repro.suites.vision"),
}
COMPANIONS = {  # (profile, finding) → the suite the profile scores that finding on, built beside the profile's own
    ("micro", "gender_bias"): "micro-gender",
    ("micro", "simplicity_bias_images"): "micro-images",
}
ENTRY_POINTS = "pythia_repro.suites"
_FACTORIES: dict[str, Callable[[], Suite]] = {}


def register_suite(name: str, factory: Callable[[], Suite]) -> None:
    """Make a suite available by name; its module calls this when imported."""
    _FACTORIES[name] = factory


def configured() -> dict[str, str]:
    """Suite name → module, from the package, the entry points and the `suites` setting (later ones win)."""
    found = dict(BUILT_IN)
    found |= {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS)}
    for item in filter(None, (part.strip() for part in (settings.value("suites") or "").split(","))):
        name, sep, module = item.partition("=")
        if not sep or not name or not module:
            raise CheckpointNotFound(
                f"{settings.variable('suites')} entry {item!r} is not of the form name=package.module"
            )
        found[name.strip()] = module.strip()
    return found


def suite_names() -> list[str]:
    """Every suite that can be asked for by name, registered or not yet imported."""
    return sorted({*configured(), *_FACTORIES})


def get_suite(name: str) -> Suite:
    """The suite registered under `name`, importing its module the first time it is asked for."""
    if name not in _FACTORIES:
        module = configured().get(name)
        if module is None:
            raise CheckpointNotFound(f"unknown suite {name!r}; known: {', '.join(suite_names())}")
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise CheckpointNotFound(f"suite {name!r}: cannot import its module {module}: {err}") from err
        if name not in _FACTORIES:
            raise CheckpointNotFound(f"suite module {module} did not call register_suite({name!r}, …)")
    return _FACTORIES[name]()


def scored_by(profile: str, finding: str) -> str:
    """The suite a profile scores a finding on: its companion suite for that finding (`COMPANIONS`), else its own."""
    return COMPANIONS.get((profile, finding), profile)
