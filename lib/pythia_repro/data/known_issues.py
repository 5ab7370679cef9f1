"""Reported problems of the released checkpoints, as data: which revisions of which model are not what they claim.

`known_issues.csv`, versioned with the package, lists each problem once: the model (`*`: every model), its
revisions, what is wrong, the public issue it comes from and the evidence given there (LFS sha256s where reported).
Kinds: `duplicate` (the branch serves another revision's weights), `shared_shard` (one of its weight files is
another revision's), `fixed` (repaired upstream; kept for the record) and `note` (reported, not known to be wrong).
The first two are never scored unless `PYTHIA_REPRO_CHECKPOINTS=all` (`refusal`, checked when a checkpoint loads).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from .. import settings
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


def refusal(model: str, revision: str) -> str | None:
    """Why a checkpoint must not be scored (one line), or None; None for every checkpoint when the
    `checkpoints` setting is `all`."""
    if settings.value("checkpoints") == "all":
        return None
    for issue in of(model, revision):
        if issue.kind in REFUSED:
            return (
                f"{model}@{revision} is not what it claims: it {issue.problem} ({issue.issue}; {issue.evidence}). "
                f"It is not scored: choose other steps, or set {settings.variable('checkpoints')}=all to score it "
                "anyway"
            )
    return None
