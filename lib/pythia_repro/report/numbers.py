"""Numbers for papers: every number behind a claim, and every number of a finding's headline tables, as JSON and
as one LaTeX macro each.

A finding's headline numbers are those its claims report (precisions, recalls, gaps with their intervals,
coefficients, counts of seeds) and the cells of the tables it names in `HEADLINE` (table → key columns, value
columns: per-model minima and rises, precision and recall per predictor, GLM coefficients, changes per size with
their intervals). They are written beside `claims.csv` as `numbers.json` and `numbers.tex`, one macro per number
named `\\PR<Profile><Finding or claim><Table><Row><Column>` in CamelCase with digits spelled out (TeX names hold
letters only), each with a comment naming its source cell: the file, the row (by its keys) and the column.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .results import TABLE_FLOAT_FORMAT

CLAIMS = "claims.csv"
JSON_FILE, TEX_FILE = "numbers.json", "numbers.tex"
DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
PREFIX = "PR"


@dataclass(frozen=True)
class Number:
    """One number: its macro, its value as written, and the cell it comes from (file, row keys, column). A value
    that is not finite (an infinite odds ratio, say) is kept as None, with `not_finite` saying which it was."""

    macro: str
    value: int | float | bool | None
    source: str
    column: str
    row: dict = field(default_factory=dict)
    not_finite: str | None = None

    @classmethod
    def of(cls, macro: str, value, source: str, column: str, row: dict) -> Number:
        if isinstance(value, float) and not math.isfinite(value):
            return cls(macro, None, source, column, row, repr(value))
        return cls(macro, value, source, column, row)

    @property
    def text(self) -> str:
        """The value as the macro expands: integers and floats as stored (round-trip exact), booleans as words, a
        value that is not finite as words that say so."""
        if self.not_finite is not None:
            return f"not finite ({self.not_finite})"
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return repr(self.value)

    def as_dict(self) -> dict:
        """As `numbers.json` holds it: valid JSON (null for a value that is not finite, and why)."""
        shown = asdict(self)
        if self.not_finite is None:
            shown.pop("not_finite")
        return shown


def camel(text: str) -> str:
    """`equal_compute.precision` → `EqualComputePrecision`; digits spelled out (`ci95_low` → `CiNineFiveLow`)."""
    text = "".join(f" {DIGITS[int(c)]} " if c.isdigit() else c for c in str(text))
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z]+", text) if part)


def _cell(value) -> int | float | bool | str:
    """A table cell as its CSV holds it (floats at the writer's precision), so a macro equals its source cell."""
    if isinstance(value, (bool, np.bool_, str)):
        return value if isinstance(value, str) else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(TABLE_FLOAT_FORMAT % value)


def of_claims(claims: pd.DataFrame, profile: str) -> list[Number]:
    """Every number the claims table states for `profile` (one per row and key of its `numbers` JSON), nulls left
    out: a folder's numbers are its own profile's, so the files of several profiles can be input in one paper."""
    found = []
    for row in claims[claims.profile == profile].itertuples():
        for key, value in sorted(json.loads(row.numbers).items()):
            if value is None or isinstance(value, (list, dict, str)):
                continue
            macro = f"{PREFIX}{camel(row.profile)}{camel(row.id)}{camel(key)}"
            found.append(Number.of(macro, value, CLAIMS, f"numbers.{key}", {"profile": row.profile, "id": row.id}))
    return found


def of_table(
    table: pd.DataFrame, name: str, keys: list[str], values: list[str], profile: str, finding: str
) -> list[Number]:
    """Every value cell of a headline table, its row named by its key columns; empty cells, and columns a profile's
    table does not have (e.g. no GLM could be fitted), left out."""
    if not set(keys) <= set(table.columns):
        return []
    values = [column for column in values if column in table.columns]
    if table.duplicated(keys).any():
        raise ValueError(f"{name}: the key columns {keys} do not name one row each")
    found = []
    for _, row in table.iterrows():
        rowkey = {k: _cell(row[k]) for k in keys}
        stem = f"{PREFIX}{camel(profile)}{camel(finding)}{camel(name)}" + "".join(camel(v) for v in rowkey.values())
        for column in values:
            value = row[column]
            if isinstance(value, str) or value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            found.append(Number.of(stem + camel(column), _cell(value), f"{name}.csv", column, rowkey))
    return found


def checked(numbers: list[Number]) -> list[Number]:
    """The numbers, refused if two would share a macro."""
    macros = [n.macro for n in numbers]
    clashes = sorted({m for m in macros if macros.count(m) > 1})
    if clashes:
        raise ValueError(f"two numbers would share the macro(s) {', '.join(clashes[:5])}; rename a number")
    return numbers


def read(folder: Path) -> dict[str, int | float]:
    """A results folder's numeric numbers for papers by macro (empty when it has none)."""
    path = folder / JSON_FILE
    if not path.exists():
        return {}
    found = json.loads(path.read_text())
    return {n["macro"]: n["value"] for n in found if type(n["value"]) in (int, float)}


def compared(before: dict[str, int | float], after: dict[str, int | float]) -> tuple[int, int, str | None]:
    """Between two runs' numbers: how many are identical, how many both have, and the one that moved most (None when
    none moved)."""
    shared = sorted(set(before) & set(after))
    largest = max(shared, key=lambda k: abs(after[k] - before[k]), default=None)
    moved = largest if largest is not None and before[largest] != after[largest] else None
    return sum(before[k] == after[k] for k in shared), len(shared), moved


@dataclass(frozen=True)
class Tolerance:
    """How far a finding's numbers for papers may move under other numerics (another kernel path, another library
    build): |after − before| ≤ absolute + relative · |before|. Each finding states its own, from measured rebuilds."""

    relative: float
    absolute: float

    def allows(self, before: float, after: float) -> bool:
        return abs(after - before) <= self.absolute + self.relative * abs(before)

    def __str__(self) -> str:
        return f"±{self.absolute:g} + {self.relative:g}·|value|"


def outside(before: dict[str, int | float], after: dict[str, int | float], tolerance: Tolerance) -> list[str]:
    """The numbers both runs have that moved beyond the tolerance, as `macro a → b`."""
    shared = sorted(set(before) & set(after))
    return [f"{k} {before[k]} → {after[k]}" for k in shared if not tolerance.allows(before[k], after[k])]


def moves(before: dict[str, int | float], after: dict[str, int | float]) -> str:
    """How the numbers for papers moved between two runs of one finding: how many are identical, the largest move."""
    same, shared, largest = compared(before, after)
    text = f"numbers for papers: {same} of {shared} identical"
    return text + (f", the largest move {largest} {before[largest]} → {after[largest]}" if largest else "")


def as_json(numbers: list[Number]) -> str:
    return json.dumps([n.as_dict() for n in numbers], indent=1, allow_nan=False) + "\n"


def as_tex(numbers: list[Number], finding: str) -> str:
    lines = [f"% Numbers of {finding}, generated by pythia-repro from its tables; \\input this file in a paper."]
    for n in numbers:
        where = " ".join(f"{k}={v}" for k, v in n.row.items())
        lines.append(f"% {n.source}, row {where}, column {n.column}")
        lines.append(f"\\newcommand{{\\{n.macro}}}{{{n.text}}}")
    return "\n".join(lines) + "\n"
