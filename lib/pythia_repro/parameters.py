"""Notebook parameters, declared once per finding with their types and ranges, and checked at the door.

A finding module lists its `PARAMETERS`; the CLI checks `-p` values against them before any work
starts, and each notebook checks the values papermill injected in its first cell. A bad name, type
or value is one line naming the parameter and what it accepts (`BadParameter`).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from typing import Any

from .errors import Explained

RESERVED = {"profile": "choose it with --profile", "output_dir": "the runner sets it"}
DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


class BadParameter(Explained, ValueError):
    """A notebook parameter with an unknown name, a wrong type or a value out of range."""


@dataclass(frozen=True)
class Param:
    """One notebook parameter: its type, whether it is a list, its range or choices, its default."""

    name: str
    kind: type
    default: Any = None
    many: bool = False  # a list of `kind`; one value alone is taken as a list of one
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()  # for str: allowed values (else any string)
    pattern: re.Pattern | None = None  # for str: allowed form
    nullable: bool = True
    help: str = ""

    def accepts(self) -> str:
        """What the parameter accepts, in words."""
        what = {int: "an integer", bool: "True or False", str: "a string", float: "a number"}[self.kind]
        if self.choices:
            what = "one of " + ", ".join(map(repr, self.choices))
        if self.low is not None and self.high is not None:
            what += f" from {self.low} to {self.high}"
        elif self.low is not None:
            what += f" >= {self.low}"
        if self.many:
            what = f"a non-empty list of {what.replace('an integer', 'integers').replace('a string', 'strings')}"
        return what + (" or None" if self.nullable else "")

    def check(self, value: Any) -> Any:
        """The value, normalised (a single value for a list parameter becomes a list), or BadParameter."""
        if value is None and self.nullable:
            return None
        if self.many:
            value = _list_literal(value)
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            if not values:
                self._fail(value)
            return [self._one(v, value) for v in values]
        return self._one(value, value)

    def _one(self, v: Any, whole: Any) -> Any:
        if self.kind is bool:
            ok_type = isinstance(v, bool)
        elif isinstance(v, bool):  # True is an int to Python, not to a notebook parameter
            ok_type = False
        else:
            ok_type = isinstance(v, self.kind) or (self.kind is float and isinstance(v, int))
        if not ok_type:
            self._fail(whole)
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            self._fail(whole)
        if (self.choices and v not in self.choices) or (self.pattern and not self.pattern.match(v)):
            self._fail(whole)
        return v

    def _fail(self, value: Any) -> None:
        raise BadParameter(f"parameter {self.name}={value!r}: expected {self.accepts()}")


def _list_literal(value: Any) -> Any:
    """A list written as text (papermill's `-p models "['a','b']"` passes it so) as a list; else the value."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise BadParameter(
                f"{value!r} is not a Python list; write it as \"['a', 'b']\" or pass YAML "
                'with papermill -y "models: [a, b]"'
            ) from None
    return value


# Parameters shared by the scored findings: declared once here.
MODELS = Param("models", str, many=True, help="models to score (default: every size / three small Pythia models)")
STEPS = Param("steps", int, many=True, low=0, help="checkpoint steps to score")
MAX_ROWS = Param("max_rows", int, low=1, help="read only the first rows of the training data")
BATCH_SIZE = Param("batch_size", int, low=1, help="rows per forward pass (default: automatic)")
DEVICE_PARAM = Param("device", str, pattern=DEVICE, help="cpu, cuda, cuda:N or mps (default: cuda when available)")
SCORING = (MODELS, STEPS, MAX_ROWS, BATCH_SIZE, DEVICE_PARAM)


def _declared(findings: list[str]) -> dict[str, dict[str, Param]]:
    from .findings import finding_modules

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
    from .findings import PROFILES

    if namespace.get("profile") not in PROFILES:
        raise BadParameter(f"parameter profile={namespace.get('profile')!r}: expected one of {', '.join(PROFILES)}")
    declared = _declared([finding])[finding]
    injected = _injected_names(namespace.get("In", [])) - set(RESERVED)
    return check([finding], {name: namespace[name] for name in injected | set(declared) if name in namespace})[finding]
