"""Reported problems of the released checkpoints, as data: which revisions of which model are not what they claim.

`known_issues.csv`, versioned with the package, lists each problem once: the model (`*`: every model), its
revisions, what is wrong, the public issue it comes from and the evidence given there (LFS sha256s where reported).
Kinds: `duplicate` (the branch serves another revision's weights), `shared_shard` (one of its weight files is
another revision's), `fixed` (repaired upstream; kept for the record) and `note` (reported, not known to be wrong).
The first two make a checkpoint doubted (`doubt`): findings leave it out unless asked to score it anyway
(`suites.audit.screen`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from ..errors import Explained

KINDS = ("duplicate", "shared_shard", "fixed", "note")
REFUSED = ("duplicate", "shared_shard")


class FlaggedCheckpoint(Explained, LookupError):
    """A checkpoint the registry says is not what it claims, asked to be scored."""


@dataclass(frozen=True)
class Issue:
    """One reported problem: `model` (or `*`), the `revisions` it concerns, its kind, what is wrong, where it was
    reported, and the evidence."""

    id: str
    model: str
    revisions: tuple[str, ...]
    kind: str
    problem: str
    issue: str
    evidence: str

    def concerns(self, model: str, revision: str) -> bool:
        return self.model in ("*", model) and revision in self.revisions


@lru_cache(maxsize=1)
def issues() -> tuple[Issue, ...]:
    """Every registered issue, checked: known kinds, unique ids, revisions named."""
    text = files("pythia_repro").joinpath("known_issues.csv").read_text()
    found = tuple(
        Issue(**{**row, "revisions": tuple(row["revisions"].split())}) for row in csv.DictReader(io.StringIO(text))
    )
    bad = [i.id for i in found if i.kind not in KINDS or not i.revisions]
    if bad or len({i.id for i in found}) != len(found):
        raise ValueError(f"known_issues.csv: unknown kinds or no revisions in {bad}, or a repeated id")
    return found


def of(model: str, revision: str) -> list[Issue]:
    """The issues reported for one revision of one model."""
    return [i for i in issues() if i.concerns(model, revision)]


def doubt(model: str, revision: str) -> str | None:
    """Why the registry says a checkpoint is not what it claims (one line: the problem, the issue, the evidence),
    or None."""
    for issue in of(model, revision):
        if issue.kind in REFUSED:
            return f"it {issue.problem} ({issue.issue}; {issue.evidence})"
    return None


def readme_lines() -> str:
    """The README's list of what is known to be wrong with the release, one line per issue, with its source."""
    lines = []
    for i in issues():
        where = f"{i.model} " if i.model != "*" else "every model: "
        shown = " ".join(i.revisions[:3]) + (f" … ({len(i.revisions)} branches)" if len(i.revisions) > 3 else "")
        lines.append(f"- {where}{shown}: {i.problem} ({i.kind}; [#{i.issue.rsplit('/', 1)[-1]}]({i.issue}))\n")
    return "".join(lines)
