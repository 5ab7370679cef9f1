"""Packaging facts: the conda environment mirrors pyproject, notebooks are stored clean, CI calls the tests."""

import json
import re
import tomllib

import yaml
from papermill.inspection import inspect_notebook

from pythia_repro.findings import all_findings, finding_modules

from conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_within_pyproject_and_environment_yml_is_generated_from_it():
    from packaging.requirements import Requirement

    from pythia_repro.integrity import environment as lock

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    locked = lock.pins(REPO / lock.LOCK_FILE)
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        req = Requirement(text)
        pinned = lock.TORCH_PIN.split("==")[1] if req.name == "torch" else locked.get(lock.normalise(req.name))
        assert pinned is not None, f"{req.name} is not in {lock.LOCK_FILE}: run `make lock`"
        assert req.specifier.contains(pinned, prereleases=True), f"{req.name}=={pinned} is outside {req.specifier}"
    assert "torch" not in locked and "nvidia-cudnn-cu12" not in locked, "the machine's torch build stays out"
    lines = (REPO / lock.LOCK_FILE).read_text().splitlines()
    assert all("--hash=sha256:" in lines[i + 1] for i, line in enumerate(lines) if lock.PIN.match(line))
    assert not [line for line in lines if line.startswith(("--index-url", "--extra-index-url", "--find-links"))]
    assert (REPO / "environment.yml").read_text() == lock.environment_yml(locked), "run `make lock`"
    assert yaml.safe_load((REPO / "environment.yml").read_text())["name"] == "pythia-repro"
    assert f"TORCH ?= {lock.TORCH_PIN}" in (REPO / "Makefile").read_text()


def test_manifest_says_how_the_environment_differs_from_the_lock(monkeypatch):
    from pythia_repro.integrity import environment as lock

    monkeypatch.setattr(lock, "version", lambda name: "0.0.0-other" if name == "pandas" else lock.pins()[name])
    found = lock.installed_against_lock()
    assert found["lock"] == lock.LOCK_FILE and len(found["lock_sha256"]) == 64
    assert found["differs_from_lock"] == {"pandas": {"locked": lock.pins()["pandas"], "installed": "0.0.0-other"}}


def test_every_finding_has_a_clean_parameterized_notebook():
    for name in all_findings():
        nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{name} has outputs"
        tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1, f"{name} needs one cell tagged 'parameters'"
        source = "".join(tagged[0]["source"])
        assert "profile = " in source and "output_dir = None" in source
        assigned = re.findall(r"^(\w+) = ", source, flags=re.M)
        assert list(inspect_notebook(str(REPO / "notebooks" / f"{name}.ipynb"))) == assigned, (
            f"{name}: papermill must parse every parameter (no 'x=y' or quotes in the comments)"
        )


MAX_CODE_LINES = 16  # outside the parameters cell: the load call and one display line per section


def test_notebooks_hold_no_analysis_code_and_show_every_section():
    for name, module in finding_modules().items():
        nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
        code = [
            "".join(c["source"])
            for c in nb["cells"]
            if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
        ]
        lines = [line for source in code for line in source.splitlines() if line.strip() and not line.startswith("#")]
        assert len(lines) <= MAX_CODE_LINES, f"{name}: {len(lines)} code lines; analysis belongs in the module"
        shown = [m for source in code for m in re.findall(r'^result\.display\("(\w+)"\)$', source, flags=re.M)]
        assert shown == list(module.SECTIONS), f"{name}: the notebook shows {shown}, the module has {module.SECTIONS}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / "README.md").read_text()
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_the_command_says_its_version(capsys):
    import pytest

    from pythia_repro import __version__, cli

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"pythia-repro {__version__}"


def test_the_readme_lists_every_setting_as_declared():
    from pythia_repro import settings

    assert settings.table() in (REPO / "docs" / "settings.md").read_text(), "regenerate docs/settings.md's table"


def test_only_the_settings_module_reads_the_environment():
    readers = [
        str(path.relative_to(REPO))
        for path in (REPO / "lib" / "pythia_repro").rglob("*.py")
        if re.search(r"os\.environ(\.get|\[)|os\.getenv", path.read_text()) and path.name != "settings.py"
    ]
    assert not readers, f"read settings through pythia_repro.settings: {readers}"


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (anywhere: at the top, inside a function, under TYPE_CHECKING)."""
    import ast

    root = REPO / "lib" / "pythia_repro"
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
                target = ".".join(filter(None, [base, node.module]))
                found = [target, *(f"{target}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {m for m in found if m in modules and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert "pythia_repro.suites.registry" in graph["pythia_repro.suites.loading"], "the graph sees real imports"
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"], "the check can fail"
    assert find_cycle(graph) is None
