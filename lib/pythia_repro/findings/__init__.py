"""The registry of findings: every module of this package that declares `FINDING`, plus any registered.

The shape of a finding is described in `findings.base`, and each finding module lays out its parts in the same
order under the same headings. A finding that lives outside the package (a plug-in; `tests/test_plugin_finding.py`
is a working one) calls `register(module)` in the process that runs it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .base import Finding, Result, run

PROFILES = ("published", "micro", "pythia")
DEFAULT_PROFILE = "micro"
_REGISTERED: dict[str, ModuleType] = {}


@lru_cache(maxsize=1)
def _package_modules() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(module, "FINDING"):
                found[module.FINDING.name] = module
    return found


def register(module: ModuleType) -> None:
    """Add a finding module from outside the package (it declares FINDING, PARAMETERS and analyse)."""
    missing = [name for name in ("FINDING", "PARAMETERS", "analyse") if not hasattr(module, name)]
    if missing:
        raise TypeError(f"{module.__name__} is not a finding module: it lacks {', '.join(missing)}")
    _REGISTERED[module.FINDING.name] = module


def finding_modules() -> dict[str, ModuleType]:
    """Every finding module, by the name its `FINDING` declares."""
    return dict(sorted({**_package_modules(), **_REGISTERED}.items()))


def all_findings() -> dict[str, Finding]:
    """Every finding module's declaration, by name."""
    return {name: module.FINDING for name, module in finding_modules().items()}


def notebook_of(name: str) -> Path:
    """The notebook that presents a finding: its declared one, else `notebooks/<name>.ipynb`."""
    from ..paths import notebooks_dir

    return all_findings()[name].notebook or notebooks_dir() / f"{name}.ipynb"


def load(name: str, profile: str, output_dir: str | Path | None = None, **params: Any) -> Result:
    """Run a finding on a profile and return its Result; `params` are its notebook parameters (checked here)."""
    from ..parameters import check, used

    return run(finding_modules()[name], profile, output_dir, **used(name, check([name], params)[name]))


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
