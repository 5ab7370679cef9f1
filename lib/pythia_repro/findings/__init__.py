"""One analysis module per finding. A module declares `FINDING`; its notebook is `notebooks/<name>.ipynb`.

Adding a finding is adding a module here (with `FINDING`) and its notebook. A finding that scores
checkpoints also defines `prepare(profile, **options)` returning an object with a `.task`
(`plan.ScoringTask`); sweeps (`pythia-repro sweep`) collect those tasks from every finding.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

PROFILES = ("published", "micro", "pythia")
DEFAULT_PROFILE = "micro"
DEFAULT_PYTHIA_MODELS = ("pythia-70m", "pythia-160m", "pythia-410m")


@dataclass(frozen=True)
class Finding:
    name: str
    title: str
    profiles: tuple[str, ...]


@lru_cache(maxsize=1)
def finding_modules() -> dict[str, ModuleType]:
    """Every finding module, by the name its `FINDING` declares."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "FINDING"):
            found[module.FINDING.name] = module
    return dict(sorted(found.items()))


@lru_cache(maxsize=1)
def all_findings() -> dict[str, Finding]:
    """Every finding module's declaration, by name."""
    return {name: module.FINDING for name, module in finding_modules().items()}


def scoring_tasks(profile: str, findings: list[str] | None = None, options: dict[str, Any] | None = None) -> list:
    """The scoring tasks of the given findings (default all) on a profile, as their notebooks would run them.

    `options` are notebook parameters; each finding's `prepare` takes those it knows. The published
    profile scores nothing, so it has no tasks."""
    modules = finding_modules()
    unknown = set(findings or ()) - set(modules)
    if unknown:
        raise ValueError(f"unknown finding(s) {sorted(unknown)}; known: {', '.join(modules)}")
    tasks = []
    for name in findings or modules:
        module = modules[name]
        prepare = getattr(module, "prepare", None)
        if profile == "published" or prepare is None or profile not in module.FINDING.profiles:
            continue
        accepted = inspect.signature(prepare).parameters
        tasks.append(prepare(profile, **{k: v for k, v in (options or {}).items() if k in accepted}).task)
    return tasks


def reference_input(path: str, writer=None):
    """Fetch a verified reference file and, given a ResultWriter, record it as an input of the run."""
    from ..reference import entry, fetch

    local = fetch(path)
    if writer is not None:
        item = entry(path)
        writer.record_input("reference", path=path, sha256=item.sha256, origin=item.origin)
    return local


def require_profile(finding: Finding, profile: str) -> None:
    """Fail early, and clearly, when a notebook is run with a profile it does not implement yet."""
    if profile not in finding.profiles:
        raise NotImplementedError(
            f"{finding.name} does not implement the {profile!r} profile yet; available: {', '.join(finding.profiles)}"
        )


def scored_models(suite, models: list[str] | None = None) -> list[str]:
    """The models a scored profile runs: those given, else every micro size or three small Pythia models."""
    return list(models or (DEFAULT_PYTHIA_MODELS if suite.name == "pythia" else suite.models))


def record_checkpoints(writer, suite, checkpoints) -> None:
    """Record each distinct checkpoint a run loaded (or read scores of) as an input, with its source."""
    for ckpt in dict.fromkeys(checkpoints):
        source = suite.spec(ckpt.model).hub_id if suite.local_root is None else str(suite.local_root)
        writer.record_input("checkpoint", model=ckpt.model, revision=ckpt.revision, source=source)
