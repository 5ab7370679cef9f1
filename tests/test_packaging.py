"""Packaging facts: the conda environment mirrors pyproject, notebooks are stored clean, CI calls the tests."""

import json
import re
import tomllib

import yaml
from papermill.inspection import inspect_notebook

from pythia_repro.findings import all_findings

from conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r) for r in pip_section if not r.startswith("-e")}
    assert listed == wanted
    assert "-e .[dev]" in pip_section


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
        assert list(inspect_notebook(str(REPO / "notebooks" / f"{name}.ipynb"))) == assigned, \
            f"{name}: papermill must parse every parameter (no 'x=y' or quotes in the comments)"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / "README.md").read_text()
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_the_command_says_its_version(capsys):
    import pytest

    from pythia_repro import __version__, cli

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"pythia-repro {__version__}"
