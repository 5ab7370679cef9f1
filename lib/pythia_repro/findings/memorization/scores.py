"""The memorization scores a run reads back, shared by the finding and its learned predictor (which sits below it)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..base import Scores


@dataclass
class Scored(Scores):
    """Memorization scores of a suite: flags on the rows every compared checkpoint saw, full scores at the end."""

    target: str
    common_rows: int
    flags: pd.DataFrame  # model, step, row, memorized, prefix_len (rows < common_rows)
    finals: pd.DataFrame  # model, row, score, memorized, prefix_len (every scored row, final checkpoints)
    losses: pd.DataFrame  # model, row, loss: mean loss of the cheapest model's final checkpoint (common rows)
