"""The package's units import only downward: a change low in the stack never needs a reading of what sits above.

Units, top to bottom: the commands (`cli`, `run`, `site`), `findings`, then `report` and `sweep`, `suites`, `evals`,
`data` and `scoring`, `integrity`, and the configuration at the root (`settings`, `paths`, `parameters`,
`errors`). `testing` (replicas for tests) may use anything; nothing of the package uses it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "pythia_repro"
CONFIG = {"settings", "paths", "parameters", "errors", "pythia_repro"}
COMMANDS = {"cli", "run", "site"}
BELOW = {  # unit → the units it may import (besides itself)
    "package": {"integrity"},
    "config": set(),
    "integrity": {"config"},
    "scoring": set(),
    "data": {"config", "integrity"},
    "evals": {"config", "integrity", "data"},
    "suites": {"config", "integrity", "data", "evals", "scoring"},
    "sweep": {"config", "integrity", "data", "suites", "scoring"},
    "report": {"config", "integrity", "suites"},
    "findings": {"config", "integrity", "data", "evals", "scoring", "suites", "sweep", "report"},
    "commands": {"config", "integrity", "data", "evals", "scoring", "suites", "sweep", "report", "findings"},
    "testing": {"config", "integrity", "data", "evals", "scoring", "suites", "sweep", "report", "findings"},
}


def unit(module: str) -> str:
    """The unit of a dotted name under pythia_repro (`pythia_repro.sweep.hub` → `sweep`); the package itself, which
    sets the numerics when imported, is `package`; a name at the root that is no module (`__version__`) is
    configuration."""
    parts = module.split(".")[1:]
    if not parts:
        return "package"
    if (PACKAGE / parts[0]).is_dir():
        return parts[0]
    return "commands" if parts[0] in COMMANDS else "config"


def imports() -> list[tuple[str, str, int]]:
    """(module, module it imports, line) for every import of the package inside it, at any depth."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["pythia_repro", *path.relative_to(PACKAGE).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        where = parts[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = where[: len(where) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [f"{target}.{a.name}" for a in node.names]
                found += [(module, name, node.lineno) for name in names if name.startswith("pythia_repro")]
            elif isinstance(node, ast.Import):
                found += [(module, a.name, node.lineno) for a in node.names if a.name.startswith("pythia_repro")]
    return found


def test_every_unit_imports_only_the_units_below_it():
    wrong = [
        f"{module}:{line} imports {target} ({unit(module)} → {unit(target)})"
        for module, target, line in imports()
        if unit(target) != unit(module) and unit(target) not in BELOW[unit(module)] | {"config"}
    ]
    assert not wrong, "\n".join(wrong)


def test_the_units_are_the_packages_folders():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(BELOW) - {"package", "config", "commands"}
    assert {p.stem for p in PACKAGE.glob("*.py")} == (CONFIG - {"pythia_repro"}) | COMMANDS | {"__init__"}


@pytest.mark.parametrize(
    "module, target, allowed",
    [
        ("pythia_repro.integrity.atomic", "pythia_repro.sweep.hub", False),
        ("pythia_repro.cli", "pythia_repro.data", True),
    ],
)
def test_the_rule_can_fail(module, target, allowed):
    assert (unit(target) in BELOW[unit(module)] | {"config", unit(module)}) == allowed
