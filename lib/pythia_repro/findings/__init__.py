"""The registry of findings: every module of this package that declares `FINDING`, plus any registered.

The shape of a finding is described in `findings.base`, and each finding module lays out its parts in the same
order under the same headings. A finding that lives outside the package (a plug-in;
`tests/findings/test_plugin_finding.py` is a working one) calls `register(module)` in the process that runs it.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import settings
from ..parameters import RESERVED, BadParameter, Param, known_values
from ..suites import get_suite
from .base import Finding, Result, run, supports

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


def profiles() -> list[str]:
    """Every profile: "published" (the authors' files), then each suite by name (scored here)."""
    from ..suites import suite_names

    return ["published", *suite_names()]


def notebook_of(name: str) -> Path:
    """The notebook that presents a finding: its declared one, else `notebooks/<name>.ipynb`."""
    from ..paths import notebooks_dir

    return all_findings()[name].notebook or notebooks_dir() / f"{name}.ipynb"


def load(name: str, profile: str, output_dir: str | Path | None = None, **params: Any) -> Result:
    """Run a finding on a profile and return its Result; `params` are its notebook parameters (checked here)."""
    return run(finding_modules()[name], profile, output_dir, **used(name, check([name], params)[name]))


def scoring_tasks(profile: str, findings: list[str] | None = None, options: dict[str, Any] | None = None) -> list:
    """The scoring tasks of the given findings (default all) on a profile, as their notebooks would run them.

    `options` are notebook parameters; each finding's `prepare` takes those it knows. The published
    profile scores nothing, so it has no tasks."""
    modules = finding_modules()
    unknown = set(findings or ()) - set(modules)
    if unknown:
        raise ValueError(f"unknown finding(s) {sorted(unknown)}; known: {', '.join(modules)}")
    scored = [
        name
        for name in findings or modules
        if profile != "published"
        and getattr(modules[name], "prepare", None) is not None
        and supports(modules[name].FINDING, profile)
    ]
    tasks = []
    with settings.overridden("checkpoints", (options or {}).get("checkpoints")):
        for name, own in shared(profile, scored, options or {}).items():
            prepare = modules[name].prepare
            accepted = inspect.signature(prepare).parameters
            tasks.append(prepare(profile, **{k: v for k, v in own.items() if k in accepted}).task)
    return tasks


@dataclass
class SweepPlan:
    """The scoring of a profile's findings (default all) with notebook parameters `options`: a task source the
    sweep engines (`sweep.executors`) rebuild wherever they run, on this machine or on a Ray worker."""

    profile: str
    findings: tuple[str, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def tasks(self) -> list:
        return scoring_tasks(
            self.profile, list(self.findings) if self.findings else None, {**self.options, "progress": False}
        )


LISTS = ("models", "steps")  # list parameters that name what a suite holds


def known(name: str, profile: str) -> dict[str, list]:
    """The models (and the other names a finding takes for them: sizes, architectures) and steps a finding can
    score on a profile: its module's `known(profile)`, else its profile's suite's."""
    module = finding_modules()[name]
    if hasattr(module, "known"):
        return module.known(profile)
    suite = get_suite(profile)
    return {"models": list(suite.models), "steps": list(suite.steps)}


def shared(profile: str, names: list[str], options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each of several findings' own share of one set of options: of `models` and `steps`, the values its suite
    holds. A value that no finding's suite holds is refused (`BadParameter`, naming it and the valid ones); a finding
    that holds none of the values asked for is left out. One finding alone takes the options as given (its
    `prepare` refuses any value its suite lacks)."""
    if len(names) < 2 or not any(options.get(name) for name in LISTS):
        return {name: dict(options) for name in names}
    holds = {name: known(name, profile) for name in names}
    out = {name: dict(options) for name in names}
    for param in LISTS:
        asked = options.get(param)
        if not asked:
            continue
        valid = list(dict.fromkeys(v for h in holds.values() for v in h[param]))
        known_values(param, asked, valid, f"the {profile} profile")
        for name in names:
            out[name][param] = [v for v in asked if v in holds[name][param]]
    return {name: own for name, own in out.items() if all(own.get(p) != [] for p in LISTS)}


# -- notebook parameters, checked against the findings' declarations --


def _declared(findings: list[str]) -> dict[str, dict[str, Param]]:
    modules = finding_modules()
    return {name: {p.name: p for p in modules[name].PARAMETERS} for name in findings}


def check(findings: list[str], given: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per finding, the given parameters it declares, checked and normalised; BadParameter on any problem.

    A name no selected finding declares is an error (with the closest known name)."""
    declared = _declared(findings)
    known = sorted({name for params in declared.values() for name in params})
    for name in given:
        if name in RESERVED:
            raise BadParameter(f"parameter {name} cannot be set with -p: {RESERVED[name]}")
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise BadParameter(f"unknown parameter {name!r} for {', '.join(findings)}: {hint}known: {', '.join(known)}")
    return {
        finding: {name: params[name].check(value) for name, value in given.items() if name in params}
        for finding, params in declared.items()
    }


def used(finding: str, given: dict[str, Any]) -> dict[str, Any]:
    """Every parameter of a finding with the value a run uses: given, else the declared default."""
    return {name: given.get(name, param.default) for name, param in _declared([finding])[finding].items()}


def _injected_names(history: list[str]) -> set[str]:
    """Names assigned by papermill's injected cells (their source starts with "# Parameters")."""
    names = set()
    for source in history:
        if source.lstrip().startswith("# Parameters"):
            names |= {
                target.id
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
    return names


def check_notebook(finding: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """In a notebook: the finding's parameters as papermill (or the user) set them, checked and normalised.

    BadParameter on a problem (an unknown injected name, a bad value, an unknown profile); a list papermill
    passed as text (`-p models "['a','b']"`) becomes a list."""
    if namespace.get("profile") not in profiles():
        raise BadParameter(f"parameter profile={namespace.get('profile')!r}: expected one of {', '.join(profiles())}")
    declared = _declared([finding])[finding]
    injected = _injected_names(namespace.get("In", [])) - set(RESERVED)
    return check([finding], {name: namespace[name] for name in injected | set(declared) if name in namespace})[finding]
