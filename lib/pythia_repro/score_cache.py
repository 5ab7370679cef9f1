"""A content-keyed cache of per-row scores (Parquet) and a resumable sweep that fills it.

A cache entry holds the scores of one checkpoint on one chunk of rows. Chunks are fixed
by the checkpoint alone (`[k·chunk, (k+1)·chunk)` clipped to the rows it has seen), so
re-running, resuming, or asking for more rows never scores a row twice; each entry is
written atomically and carries its key in a JSON sidecar.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .hashing import content_key, sha256_file
from .paths import cache_home
from .suite import Checkpoint, Suite


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

    def put(self, key: ScoreKey, frame: pd.DataFrame) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        frame.to_parquet(tmp, index=False)
        path.with_suffix(".json").write_text(json.dumps(asdict(key), indent=1))
        tmp.replace(path)


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


@dataclass
class SweepReport:
    """What a sweep did: chunks scored now, chunks found in the cache, checkpoints loaded."""

    scored: list[tuple[str, int, int]] = field(default_factory=list)
    cached: list[tuple[str, int, int]] = field(default_factory=list)
    loaded: list[Checkpoint] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """Score rows [0, rows) of one checkpoint with one scorer configuration."""

    checkpoint: Checkpoint
    rows: int
    params: tuple[tuple[str, Any], ...]


def chunks(rows: int, seen: int, size: int) -> list[tuple[int, int]]:
    """The fixed chunks of a checkpoint (`seen` rows) that cover rows [0, rows)."""
    return [(a, min(a + size, seen)) for a in range(0, rows, size)]


def sweep(jobs: Iterable[Job], finding: str, suite_name: str, data: str, scorer: str,
          score_fn: Callable[[Any, Any, dict], pd.DataFrame], window: Callable[[int, int], Any],
          load: Callable[[Checkpoint], Any], available: Callable[[Checkpoint], int], chunk_rows: int,
          cache: ScoreCache | None = None,
          progress: bool = True) -> tuple[dict[tuple[Checkpoint, tuple], pd.DataFrame], SweepReport]:
    """Score every job, loading each checkpoint at most once and only if one of its chunks is missing.

    `data` identifies the scored rows; `available(checkpoint)` is how many of them that checkpoint may be
    scored on (e.g. the training rows it has seen); chunks are cut from that, so they are fixed per checkpoint.
    """
    from tqdm.auto import tqdm

    cache = cache or ScoreCache()
    report, results = SweepReport(), {}
    by_checkpoint: dict[Checkpoint, list[Job]] = {}
    for job in jobs:
        by_checkpoint.setdefault(job.checkpoint, []).append(job)
    for ckpt, ckpt_jobs in tqdm(by_checkpoint.items(), desc=f"{finding} sweep", disable=not progress):
        seen = available(ckpt)
        model = None
        for job in ckpt_jobs:
            if job.rows > seen:
                raise ValueError(f"{ckpt.model}@{ckpt.revision}: {job.rows} rows asked for, {seen} available")
            frames = []
            for start, stop in chunks(job.rows, seen, chunk_rows):
                key = ScoreKey(finding, suite_name, ckpt.model, ckpt.revision, data, start, stop, scorer, job.params)
                frame = cache.get(key)
                if frame is None:
                    if model is None:
                        model = load(ckpt)
                        report.loaded.append(ckpt)
                    frame = score_fn(model, window(start, stop), dict(job.params))
                    frame.insert(0, "row", range(start, stop))
                    cache.put(key, frame)
                    report.scored.append((ckpt.model, ckpt.step, start))
                else:
                    report.cached.append((ckpt.model, ckpt.step, start))
                frames.append(frame)
            results[(ckpt, job.params)] = pd.concat(frames, ignore_index=True).query(f"row < {job.rows}")
        del model
    return results, report
