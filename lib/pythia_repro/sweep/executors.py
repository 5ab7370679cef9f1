"""Running a sweep: every finding's scoring on a profile, one checkpoint at a time, in process or on Ray.

The driver builds the plan, skips checkpoints whose chunks are all cached, and hands out the rest,
one unit of work per checkpoint, so a checkpoint is loaded once for every finding that needs it.
Chunks are written atomically as they are scored, so killing a worker or the driver loses at most
the chunks being scored; a re-run picks up the rest. Transient errors are retried a bounded number
of times; every checkpoint ends up done, skipped or failed with its reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..integrity.workers import forwarded_env
from ..paths import unwritable
from ..suites import Checkpoint, get_suite
from .plan import CheckpointResult, ScoringTask, checkpoints, left_out_lines, missing, score_checkpoint
from .score_cache import ScoreCache

# I/O, hub and CUDA errors may pass on a second try; a missing checkpoint or bad input will not.
RETRYABLE = (OSError, RuntimeError)
DEFAULT_RETRIES = 2


class TaskSource(Protocol):
    """Anything that builds the same list of scoring tasks wherever it is called (driver or worker)."""

    def tasks(self) -> list[ScoringTask]: ...


@dataclass
class Failure:
    checkpoint: Checkpoint
    reason: str


@dataclass
class Summary:
    """Per checkpoint: scored now (with chunk counts), skipped because all its chunks were cached, or failed."""

    done: list[CheckpointResult] = field(default_factory=list)
    skipped: list[Checkpoint] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    doubted: list[str] = field(default_factory=list)  # checkpoints left out (or scored anyway) for not being theirs

    @property
    def ok(self) -> bool:
        return not self.failed

    def devices(self) -> set[str]:
        return {result.device for result in self.done if result.device is not None}

    def text(self) -> str:
        scored = sum(len(r.scored) for r in self.done)
        lines = [
            f"{len(self.done)} checkpoint(s) scored ({scored} chunk(s) written), "
            f"{len(self.skipped)} skipped (every chunk cached), {len(self.failed)} failed"
        ]
        lines += [f"  {line}" for line in self.doubted]
        lines += [f"  FAILED {f.checkpoint.model}@{f.checkpoint.revision}: {f.reason}" for f in self.failed]
        if self.failed:
            lines.append("  re-run the same command to retry them; finished chunks are kept")
        return "\n".join(lines)


def split_pending(tasks: list[ScoringTask], cache: ScoreCache) -> tuple[list[Checkpoint], list[Checkpoint]]:
    """Checkpoints with at least one chunk to score, and those with none."""
    todo, skipped = [], []
    for ckpt in checkpoints(tasks):
        (todo if missing(tasks, ckpt, cache) else skipped).append(ckpt)
    return todo, skipped


def describe(err: BaseException) -> str:
    """One line: the error's type and first line of its message."""
    message = str(err).strip().splitlines()
    return f"{type(err).__name__}: {message[0] if message else ''}".rstrip(": ")


class LocalExecutor:
    """Scores checkpoints one after the other in this process; with a `budget` (`hub.DiskBudget`), each revision is
    fetched just before it is scored and evicted once it is."""

    name = "local"

    def __init__(self, retries: int = DEFAULT_RETRIES, budget=None):
        self.retries, self.budget = retries, budget

    def run(self, source: TaskSource, cache: ScoreCache | None = None, progress: bool = True) -> Summary:
        cache = cache or ScoreCache()
        tasks = source.tasks()
        todo, skipped = split_pending(tasks, cache)
        summary = Summary(skipped=skipped, doubted=left_out_lines(tasks))
        for _, outcome in _progress(self._execute(tasks, todo, cache), len(todo), progress):
            (summary.done if isinstance(outcome, CheckpointResult) else summary.failed).append(outcome)
        return summary

    def _execute(self, tasks, todo, cache) -> Iterator[tuple[Checkpoint, CheckpointResult | Failure]]:
        for ckpt in todo:
            for attempt in range(self.retries + 1):
                try:
                    if self.budget is not None:
                        self.budget.acquire(ckpt)
                    result = score_checkpoint(tasks, ckpt, cache)
                    if self.budget is not None:
                        self.budget.release(ckpt)
                    yield ckpt, result
                    break
                except RETRYABLE as err:
                    if (why := unwritable(err)) is not None:  # a read-only or full folder: no retry mends it
                        yield ckpt, Failure(ckpt, why)
                        break
                    if attempt == self.retries:
                        yield ckpt, Failure(ckpt, f"{describe(err)} (after {attempt + 1} attempts)")
                except Exception as err:
                    yield ckpt, Failure(ckpt, describe(err))
                    break


def gpu_share(params: int) -> float:
    """The fraction of a GPU a checkpoint's task asks for: small models share a device."""
    return 0.25 if params <= 500e6 else 0.5 if params <= 3e9 else 1.0


_WORKER_TASKS: dict[str, list[ScoringTask]] = {}


def _score_on_worker(source: TaskSource, checkpoint: Checkpoint, cache_root: str) -> CheckpointResult:
    """Runs in a Ray worker: build the plan once per worker process, then score one checkpoint."""
    key = repr((source, sorted(forwarded_env().items())))
    if key not in _WORKER_TASKS:
        _WORKER_TASKS[key] = source.tasks()
    return score_checkpoint(_WORKER_TASKS[key], checkpoint, ScoreCache(cache_root))


class RayExecutor:
    """One Ray task per checkpoint, with a share of a GPU when the cluster has GPUs.

    `address` joins a running cluster (as `ray start --head` prints it, or "auto"); without it a
    local cluster is started on this machine. Workers must see the same cache folder as the driver
    (one machine, or a shared filesystem on a cluster).
    """

    name = "ray"

    def __init__(
        self, address: str | None = None, retries: int = DEFAULT_RETRIES, gpus: float | None = None, cpus: float = 1
    ):
        self.address, self.retries, self.gpus, self.cpus = address, retries, gpus, cpus

    def run(self, source: TaskSource, cache: ScoreCache | None = None, progress: bool = True) -> Summary:
        import ray

        cache = cache or ScoreCache()
        tasks = source.tasks()
        todo, skipped = split_pending(tasks, cache)
        summary = Summary(skipped=skipped, doubted=left_out_lines(tasks))
        if not todo:
            return summary
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        remote = ray.remote(_score_on_worker)
        runtime_env = {"env_vars": forwarded_env()}
        refs = {}
        for ckpt in todo:
            share = self.gpus if self.gpus is not None else gpu_share(get_suite(ckpt.suite).spec(ckpt.model).params)
            ref = remote.options(
                num_cpus=self.cpus,
                num_gpus=share if has_gpus else 0,
                max_retries=self.retries,
                retry_exceptions=list(RETRYABLE),
                runtime_env=runtime_env,
                name=f"score {ckpt.model}@{ckpt.revision}",
            ).remote(source, ckpt, str(cache.root))
            refs[ref] = ckpt
        for _, outcome in _progress(self._gather(refs), len(refs), progress):
            (summary.done if isinstance(outcome, CheckpointResult) else summary.failed).append(outcome)
        return summary

    def _gather(self, refs: dict) -> Iterator[tuple[Checkpoint, CheckpointResult | Failure]]:
        import ray

        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                ckpt = refs.pop(ref)
                try:
                    yield ckpt, ray.get(ref)
                except ray.exceptions.RayTaskError as err:
                    yield ckpt, Failure(ckpt, f"{describe(err.cause or err)} (after up to {self.retries + 1} attempts)")
                except ray.exceptions.RayError as err:
                    yield ckpt, Failure(ckpt, describe(err))


EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor}


def _progress(outcomes: Iterator[tuple[Checkpoint, Any]], total: int, show: bool) -> Iterator[tuple[Checkpoint, Any]]:
    """Pass outcomes through, with a bar that names the last checkpoint finished and counts failures."""
    from tqdm.auto import tqdm

    failed = 0
    with tqdm(total=total, desc="sweep", unit="checkpoint", disable=not show) as bar:
        for ckpt, outcome in outcomes:
            failed += isinstance(outcome, Failure)
            bar.set_postfix_str(f"{ckpt.model}@{ckpt.revision}" + (f", {failed} failed" if failed else ""))
            bar.update()
            yield ckpt, outcome
