"""Scoring work grouped by checkpoint: what each finding needs of a (model, step), done once.

A finding describes its scoring as a `ScoringTask`: jobs (a checkpoint, a number of rows, scorer
parameters) and how to score rows [start, stop) with a loaded model. Chunks are fixed by the
checkpoint alone (`[k·chunk, (k+1)·chunk)` clipped to the rows it may be scored on), so
re-running, resuming or asking for more rows never scores a row twice. `score_checkpoint`
loads a checkpoint once and fills every missing chunk of every task that needs it; executors
(`pythia_repro.sweep.executors`) call it per checkpoint, in process or on Ray workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..integrity import numerics, workers
from ..suites import Checkpoint, load_model
from .score_cache import ScoreCache, ScoreKey


@dataclass(frozen=True)
class Job:
    """Score rows [0, rows) of one checkpoint with one scorer configuration."""

    checkpoint: Checkpoint
    rows: int
    params: tuple[tuple[str, Any], ...]


@dataclass(kw_only=True)
class ScoringTask:
    """One finding's scoring on one suite: its jobs, and how to score a chunk of a job's rows."""

    finding: str
    suite: str
    data: str  # identity of the scored rows
    scorer: str  # scorer name and version
    jobs: list[Job]
    score: Callable[[Any, int, int, dict], pd.DataFrame]  # (model, start, stop, params) -> one row per row
    available: Callable[[Checkpoint], int]  # rows a checkpoint may be scored on
    chunk_rows: int
    device: str
    row_tokens: float | None = None  # tokens one scored row puts through the model (for plans; None: unknown)
    build: str = ""  # which build of a locally built suite (its weights differ between builds under the same names)
    left_out: dict[Checkpoint, str] = field(default_factory=dict)  # doubted checkpoints not scored, and why
    marked: dict[Checkpoint, str] = field(default_factory=dict)  # doubted checkpoints scored anyway, and why

    def keys(self, job: Job) -> list[ScoreKey]:
        """The cache keys of the chunks that cover the job's rows."""
        ckpt, seen = job.checkpoint, self.available(job.checkpoint)
        if job.rows > seen:
            raise ValueError(f"{ckpt.model}@{ckpt.revision}: {job.rows} rows asked for, {seen} available")
        suite = f"{self.suite}@{self.build}" if self.build else self.suite
        return [
            ScoreKey(self.finding, suite, ckpt.model, ckpt.revision, self.data, a, b, self.scorer, job.params)
            for a, b in chunks(job.rows, seen, self.chunk_rows)
        ]


def chunks(rows: int, seen: int, size: int) -> list[tuple[int, int]]:
    """The fixed chunks of a checkpoint (`seen` rows) that cover rows [0, rows)."""
    return [(a, min(a + size, seen)) for a in range(0, rows, size)]


def checkpoints(tasks: Iterable[ScoringTask]) -> list[Checkpoint]:
    """Every checkpoint the tasks need, each once, in the order first needed."""
    return list(dict.fromkeys(job.checkpoint for task in tasks for job in task.jobs))


def left_out_lines(tasks: Iterable[ScoringTask]) -> list[str]:
    """One line per doubted checkpoint the tasks leave out or score anyway, with why (each once)."""
    lines = {}
    for task in tasks:
        for ckpt, why in task.left_out.items():
            lines[ckpt] = f"left out {ckpt.model}@{ckpt.revision}: {why} (-p checkpoints=all scores it)"
        for ckpt, why in task.marked.items():
            lines[ckpt] = f"scored despite doubt {ckpt.model}@{ckpt.revision}: {why}"
    return list(lines.values())


def work(tasks: Iterable[ScoringTask], checkpoint: Checkpoint) -> list[tuple[ScoringTask, Job, ScoreKey]]:
    """Every chunk of every task's jobs on one checkpoint."""
    return [
        (task, job, key)
        for task in tasks
        for job in task.jobs
        if job.checkpoint == checkpoint
        for key in task.keys(job)
    ]


def missing(tasks: Iterable[ScoringTask], checkpoint: Checkpoint, cache: ScoreCache) -> int:
    """How many chunks of the checkpoint are not in the cache yet."""
    return sum(not cache.has(key) for _, _, key in work(tasks, checkpoint))


@dataclass
class CheckpointResult:
    """What scoring one checkpoint did: chunks scored now, chunks found cached, the device it ran on."""

    checkpoint: Checkpoint
    scored: list[ScoreKey] = field(default_factory=list)
    cached: list[ScoreKey] = field(default_factory=list)
    device: str | None = None  # None: every chunk was cached, no model was loaded


def score_checkpoint(tasks: list[ScoringTask], checkpoint: Checkpoint, cache: ScoreCache) -> CheckpointResult:
    """Fill every missing chunk of the checkpoint, loading it once per precision the jobs ask for (usually one);
    each chunk is written as it is done."""
    units = work(tasks, checkpoint)
    devices = {task.device for task, _, _ in units}
    if len(devices) > 1:
        raise ValueError(f"{checkpoint.model}@{checkpoint.revision}: tasks ask for several devices {sorted(devices)}")
    result, model, loaded = CheckpointResult(checkpoint), None, None
    for task, job, key in sorted(units, key=lambda unit: str(dict(unit[1].params).get("dtype"))):
        if cache.has(key):
            result.cached.append(key)
            continue
        dtype = dict(job.params).get("dtype")  # jobs name the precision they score in; one load per precision
        if model is None or dtype != loaded:
            model, loaded = None, dtype
            workers.use_threads()  # set where torch first works, so a fully cached checkpoint costs nothing
            numerics.check()
            model = load_model(checkpoint, task.device, dtype, doubted=checkpoint in task.marked)
            result.device = task.device
        frame = task.score(model, key.start, key.stop, dict(job.params))
        frame.insert(0, "row", range(key.start, key.stop))
        cache.put(key, frame)
        result.scored.append(key)
    return result


def collect(task: ScoringTask, cache: ScoreCache) -> dict[tuple[Checkpoint, tuple], pd.DataFrame]:
    """Every job's scores read back from the cache; a missing chunk is an error that names it."""
    results = {}
    for job in task.jobs:
        frames = []
        for key in task.keys(job):
            frame = cache.get(key)
            if frame is None:
                raise LookupError(
                    f"{task.finding}: no cached scores for {key.model}@{key.revision} rows "
                    f"[{key.start}, {key.stop}) at {cache.path(key)}; run the sweep first"
                )
            frames.append(frame)
        results[(job.checkpoint, job.params)] = pd.concat(frames, ignore_index=True).query(f"row < {job.rows}")
    return results


@dataclass
class SweepReport:
    """What a sweep did: chunks scored now and found cached, as (model, step, start), and checkpoints loaded."""

    scored: list[tuple[str, int, int]] = field(default_factory=list)
    cached: list[tuple[str, int, int]] = field(default_factory=list)
    loaded: list[Checkpoint] = field(default_factory=list)

    def add(self, result: CheckpointResult) -> None:
        ckpt = result.checkpoint
        self.scored += [(ckpt.model, ckpt.step, key.start) for key in result.scored]
        self.cached += [(ckpt.model, ckpt.step, key.start) for key in result.cached]
        if result.device is not None:
            self.loaded.append(ckpt)


def sweep(
    task: ScoringTask, cache: ScoreCache | None = None, progress: bool = True
) -> tuple[dict[tuple[Checkpoint, tuple], pd.DataFrame], SweepReport]:
    """Score a task in process (checkpoint by checkpoint, resumable) and return every job's scores."""
    from tqdm.auto import tqdm

    for line in left_out_lines([task]):
        tqdm.write(f"{task.finding}: {line}")
    cache = cache or ScoreCache()
    report = SweepReport()
    for ckpt in tqdm(checkpoints([task]), desc=f"{task.finding} sweep", disable=not progress):
        report.add(score_checkpoint([task], ckpt, cache))
    return collect(task, cache), report
