"""A content-keyed cache of per-row scores (Parquet), filled by the sweeps of `pythia_repro.plan`.

A cache entry holds the scores of one checkpoint on one chunk of rows. Each entry is
written atomically and carries its key in a JSON sidecar, so a crash leaves either no
entry or a whole one, and any process (or Ray worker) sharing the folder can fill it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import atomic
from .hashing import content_key, sha256_file
from .paths import cache_home
from .suite import Suite


@dataclass(frozen=True)
class ScoreKey:
    """Everything that determines a chunk of scores."""

    finding: str
    suite: str
    model: str
    revision: str
    data: str
    start: int
    stop: int
    scorer: str
    params: tuple[tuple[str, Any], ...]

    def digest(self) -> str:
        return content_key(asdict(self))


class ScoreCache:
    """Parquet files under `<cache>/scores/<finding>/<model>/<revision>/<digest>.parquet`."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_home() / "scores"

    def path(self, key: ScoreKey) -> Path:
        return self.root / key.finding / key.model / key.revision / f"{key.digest()}.parquet"

    def get(self, key: ScoreKey) -> pd.DataFrame | None:
        path = self.path(key)
        return pd.read_parquet(path) if path.is_file() else None

    def has(self, key: ScoreKey) -> bool:
        return self.path(key).is_file()

    def put(self, key: ScoreKey, frame: pd.DataFrame) -> None:
        path = self.path(key)
        atomic.write_text(path.with_suffix(".json"), json.dumps(asdict(key), indent=1))
        atomic.write_parquet(path, frame)


def data_identity(suite: Suite) -> str:
    """A cheap identity of the suite's training data: sizes plus hashes of the index's ends."""
    prefix = suite.data_prefix
    idx, bin_ = (prefix.with_name(prefix.name + ext) for ext in (".idx", ".bin"))
    if idx.stat().st_size <= 1 << 21:
        head_tail = sha256_file(idx)
    else:
        with open(idx, "rb") as f:
            head = f.read(1 << 20)
            f.seek(-(1 << 20), os.SEEK_END)
            head_tail = content_key([head.hex(), f.read().hex()])
    return content_key({"idx_size": idx.stat().st_size, "bin_size": bin_.stat().st_size, "idx": head_tail})[:16]
