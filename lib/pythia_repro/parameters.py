"""Notebook parameters, declared once per finding with their types and ranges, and checked at the door.

A finding module lists its `PARAMETERS`; the CLI checks `-p` values against them before any work
starts, and each notebook checks the values papermill injected in its first cell. A bad name, type
or value is one line naming the parameter and what it accepts (`BadParameter`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
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
    form: str = ""  # the allowed form in words (with `pattern`)
    missing: Callable[[Any], str | None] | None = None  # why an allowed value does not exist here (None: it does)
    nullable: bool = True
    help: str = ""

    def accepts(self) -> str:
        """What the parameter accepts, in words."""
        what = {int: "an integer", bool: "True or False", str: "a string", float: "a number"}[self.kind]
        if self.choices:
            what = "one of " + ", ".join(map(repr, self.choices))
        elif self.form:
            what = self.form
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
        if self.missing and (why := self.missing(v)):
            raise BadParameter(f"parameter {self.name}={v!r}: {why}")
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


def device_missing(device: str) -> str | None:
    """Why a device of the right form does not exist on this machine (None: torch can use it)."""
    import torch

    if device.startswith("cuda"):
        count = torch.cuda.device_count()
        if (int(device.partition(":")[2] or 0)) >= count:
            return f"torch sees {count} CUDA device(s) on this machine; choose cpu or one that exists"
    if device == "mps" and not torch.backends.mps.is_available():
        return "MPS is not available on this machine; choose cpu"
    return None


DEVICE_PARAM = Param(
    "device",
    str,
    pattern=DEVICE,
    form="cpu, mps, cuda or cuda:N",
    missing=device_missing,
    help="cpu, cuda, cuda:N or mps (default: cuda when available)",
)
DTYPE = Param(
    "dtype",
    str,
    choices=("float32", "float16", "bfloat16"),
    help="precision the models score in (default: the suite's setting for the finding, else the training "
    "precision on a GPU and float32 on a CPU)",
)
CHECKPOINTS = Param(
    "checkpoints",
    str,
    choices=("verified", "all"),
    help="`all` also scores released checkpoints that are not what they claim, marked (default: the `checkpoints` "
    "setting, `verified`: left out, and the run says which and why)",
)
SCORING = (MODELS, STEPS, MAX_ROWS, BATCH_SIZE, DEVICE_PARAM, DTYPE, CHECKPOINTS)


def known_values(name: str, asked: list | None, known: list, where: str) -> None:
    """Refuse a list parameter any of whose values `where` lacks, naming those and the valid ones: a list is
    checked whole, never trimmed to what exists (a run would record values it never used)."""
    unknown = [value for value in asked or () if value not in known]
    if unknown:
        shown = ", ".join(map(str, known[:40])) + (f", … ({len(known)} in all)" if len(known) > 40 else "")
        raise BadParameter(f"parameter {name}: {where} has no {', '.join(map(repr, unknown))}; valid: {shown}")


def not_scored(profile: str, given: dict[str, Any]) -> None:
    """Refuse scoring parameters on a profile that scores nothing (`published` reads the authors' files)."""
    set_ = [name for name in (p.name for p in SCORING) if given.get(name) is not None]
    if profile == "published" and set_:
        raise BadParameter(
            f"parameter {', '.join(set_)}: the published profile reads the authors' files and scores no checkpoint, "
            "so it has no models, steps or devices to choose; drop the parameter or run a scored profile"
        )
