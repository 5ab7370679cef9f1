"""One analysis module per finding. A module declares `FINDING`; its notebook is `notebooks/<name>.ipynb`.

Adding a finding is adding a module here (with `FINDING`) and its notebook.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache

PROFILES = ("published", "micro", "pythia")
DEFAULT_PROFILE = "micro"
DEFAULT_PYTHIA_MODELS = ("pythia-70m", "pythia-160m", "pythia-410m")


@dataclass(frozen=True)
class Finding:
    name: str
    title: str
    profiles: tuple[str, ...]


@lru_cache(maxsize=1)
def all_findings() -> dict[str, Finding]:
    """Every finding module's declaration, by name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "FINDING"):
            found[module.FINDING.name] = module.FINDING
    return dict(sorted(found.items()))


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
