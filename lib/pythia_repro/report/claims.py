"""Claims as data: a paper's statement, the test on the numbers, the numbers used, and the verdict.

Every sentence a notebook prints about whether a finding reproduces comes from a `Claim`. A claim that
the data of a profile cannot test says so, and why, instead of passing or failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_TESTABLE = "not testable here"


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, judged on one profile's numbers."""

    id: str
    statement: str  # what the paper says
    test: str  # the test applied to the numbers, in words
    verdict: str  # REPRODUCED, NOT_REPRODUCED or NOT_TESTABLE
    detail: str  # the numbers behind the verdict, or why it cannot be tested
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def sentence(self) -> str:
        return f"{self.verdict.upper()}: {self.statement} [{self.id}] {self.detail}"


def judged(id: str, statement: str, test: str, passed: bool, detail: str, **numbers: Any) -> Claim:
    """A claim whose test ran: reproduced when it passed."""
    return Claim(id, statement, test, REPRODUCED if passed else NOT_REPRODUCED, detail, numbers)


def untestable(id: str, statement: str, test: str, why: str, **numbers: Any) -> Claim:
    """A claim the profile's data cannot test, with the reason."""
    return Claim(id, statement, test, NOT_TESTABLE, why, numbers)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def table(by_profile: dict[str, list[Claim]]) -> pd.DataFrame:
    """Claims judged on one or more profiles as one table (numbers as JSON), one row per (profile, claim)."""
    return pd.DataFrame(
        [
            {
                "profile": profile,
                "id": c.id,
                "verdict": c.verdict,
                "statement": c.statement,
                "test": c.test,
                "detail": c.detail,
                "numbers": json.dumps({k: _plain(v) for k, v in c.numbers.items()}, sort_keys=True),
            }
            for profile, claims in by_profile.items()
            for c in claims
        ]
    )


def sentences(claims: list[Claim]) -> str:
    """One line per claim: verdict, statement, id and the numbers."""
    return "\n".join(c.sentence for c in claims)
