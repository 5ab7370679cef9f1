"""What a sweep will cost, before it runs: checkpoints, bytes to download, rows and tokens to score, GPU hours.

Bytes: a revision already in the hub cache is measured there; otherwise it is estimated as parameters × 2
(the checkpoints are released in fp16). Scoring: every chunk not in the score cache, with the tokens its
rows put through the model. GPU hours of scoring: forward FLOPs (2 × parameters × tokens) divided by an
effective throughput: the one given (`--gpu-tflops`, e.g. measured with `benchmarks/`), else an assumption
stated in the output (30% of an H100's 989 dense fp16 TFLOP/s), never presented as a measurement. Training an
image suite: every step of every run not yet built, at 3 × the forward FLOPs of a batch (forward and backward;
torch's FLOP counter on one image), in GPU hours only at a throughput given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ..paths import hf_cache
from ..suites import get_suite
from .hub import cached_revisions, estimated_bytes, human
from .plan import ScoringTask, work
from .score_cache import ScoreCache

H100_DENSE_FP16_TFLOPS = 989.0
ASSUMED_UTILISATION = 0.3


@dataclass(frozen=True)
class Throughput:
    """Effective TFLOP/s of the scorers, and where the figure comes from."""

    tflops: float
    source: str

    @classmethod
    def of(cls, measured: float | None) -> Throughput:
        if measured is not None:
            return cls(measured, f"{measured:g} TFLOP/s effective, as given (--gpu-tflops)")
        tflops = H100_DENSE_FP16_TFLOPS * ASSUMED_UTILISATION
        return cls(
            tflops,
            f"assumed, not measured: {ASSUMED_UTILISATION:.0%} of an H100's {H100_DENSE_FP16_TFLOPS:g} dense fp16 "
            f"TFLOP/s = {tflops:g} TFLOP/s; pass --gpu-tflops with a measured figure",
        )


def scoring_table(tasks: Iterable[ScoringTask], cache: ScoreCache) -> pd.DataFrame:
    """One row per (finding, checkpoint): chunks, rows and tokens still to score, and forward FLOPs."""
    rows = []
    for task in tasks:
        suite = get_suite(task.suite)  # once per task: building a suite may read its manifest
        for ckpt in dict.fromkeys(job.checkpoint for job in task.jobs):
            units = work([task], ckpt)
            todo = [key for _, _, key in units if not cache.has(key)]
            n_rows = sum(key.stop - key.start for key in todo)
            tokens = n_rows * task.row_tokens if task.row_tokens is not None else float("nan")
            params = suite.spec(ckpt.model).params
            rows.append(
                {
                    "finding": task.finding,
                    "suite": ckpt.suite,
                    "model": ckpt.model,
                    "step": ckpt.step,
                    "revision": ckpt.revision,
                    "params": params,
                    "chunks": len(units),
                    "chunks_to_score": len(todo),
                    "rows_to_score": n_rows,
                    "tokens_to_score": tokens,
                    "forward_flops": 2.0 * params * tokens,
                }
            )
    return pd.DataFrame(rows)


def download_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per checkpoint with something to score: in the cache already, or the bytes to download."""
    need = table[table.chunks_to_score > 0].drop_duplicates(["suite", "model", "revision"])
    present = cached_revisions(hf_cache())
    suites = {name: get_suite(name) for name in need.suite.unique()}
    rows = []
    for item in need.itertuples():
        suite = suites[item.suite]
        ckpt = suite.checkpoint(item.model, item.step)
        if suite.local_root is not None:
            rows.append({"model": item.model, "revision": item.revision, "bytes": 0, "where": "local mirror"})
            continue
        hit = present.get((suite.spec(item.model).hub_id, item.revision))
        size, where = (hit[1], "in the hub cache") if hit else (estimated_bytes(ckpt), "to download (estimated)")
        rows.append({"model": item.model, "revision": item.revision, "bytes": size, "where": where})
    return pd.DataFrame(rows, columns=["model", "revision", "bytes", "where"])


def describe(profile: str, tasks: list[ScoringTask], cache: ScoreCache, gpu_tflops: float | None = None) -> str:
    """The plan of a profile's sweep, in words and small tables."""
    table = scoring_table(tasks, cache)
    if table.empty:
        return f"{profile}: nothing to score"
    speed = Throughput.of(gpu_tflops)
    lines = [f"plan for the {profile} profile (score cache {cache.root}, hub cache {hf_cache()})", ""]
    per_finding = table.groupby("finding").agg(
        checkpoints=("revision", "size"),
        chunks_to_score=("chunks_to_score", "sum"),
        rows_to_score=("rows_to_score", "sum"),
        tokens_to_score=("tokens_to_score", "sum"),
        forward_flops=("forward_flops", "sum"),
    )
    per_finding["gpu_hours"] = per_finding.forward_flops / (speed.tflops * 1e12) / 3600
    lines += ["scoring, per finding:", per_finding.to_string(float_format=lambda v: f"{v:.3g}"), ""]
    for model, group in table.groupby("model", sort=False):
        revisions = list(dict.fromkeys(group.sort_values("step").revision))
        shown = ", ".join(revisions) if len(revisions) <= 8 else f"{', '.join(revisions[:7])}, …, {revisions[-1]}"
        lines.append(f"checkpoints of {model}: {shown} ({len(revisions)})")
    downloads = download_table(table)
    fetch = downloads[downloads["where"] == "to download (estimated)"]
    lines += [
        "",
        f"checkpoints to load: {len(downloads)}; in the hub cache: {(downloads['where'] == 'in the hub cache').sum()}; "
        f"to download: {len(fetch)}, about {human(fetch.bytes.sum())} (parameters × 2 bytes, fp16 as released)",
        f"largest single checkpoint: {human(downloads.bytes.max()) if len(downloads) else '0 B'} "
        "(the least a --disk-budget must allow)",
        f"GPU hours, all findings: {per_finding.gpu_hours.sum():.3g} ({speed.source})",
    ]
    return "\n".join(lines)


def training_table(dataset: str) -> pd.DataFrame:
    """One row per run of an image dataset's suite: steps still to train (none once built) and their FLOPs."""
    from ..suites import image_models, vision

    config, suite = vision.config_for(dataset), get_suite(dataset)
    steps = 0 if vision.is_built(dataset) else config.final_step
    shape: dict[tuple[str, str], tuple[int, int]] = {}  # (params, forward FLOPs of one image), once per network
    rows = []
    for name, arch, size, _ in config.runs:
        if (arch, size) not in shape:
            spec = suite.spec(name)
            shape[arch, size] = (spec.params, image_models.forward_flops(spec))
        params, flops = shape[arch, size]
        rows.append(
            {
                "run": name,
                "params": params,
                "steps_to_train": steps,
                "images": steps * config.batch_size,
                "train_flops": 3.0 * flops * steps * config.batch_size,
            }
        )
    return pd.DataFrame(rows)


def describe_training(profile: str, gpu_tflops: float | None = None) -> str:
    """The training an image dataset's suite still needs, in words and a table; GPU hours only from a measured
    throughput (small convolutional networks are far from a GPU's peak, so no assumed figure is given)."""
    from ..suites import vision

    config, table = vision.config_for(profile), training_table(profile)
    head = (
        f"training the {profile} suite ({config.variant} variant: {len(table)} runs of {config.final_step} steps at "
        f"batch {config.batch_size}; `pythia-repro suite build {profile} --engine ray` trains one run per GPU):"
    )
    if gpu_tflops is not None:
        table["gpu_hours"] = table.train_flops / (gpu_tflops * 1e12) / 3600
        hours = f"GPU hours of training: {table.gpu_hours.sum():.3g} at {gpu_tflops:g} TFLOP/s effective, as given"
    else:
        hours = (
            f"training FLOPs: {table.train_flops.sum():.3g}; GPU hours: pass --gpu-tflops with the effective TFLOP/s "
            "that benchmarks/vision_train.py measures for training on your GPU"
        )
    return "\n".join([head, table.to_string(index=False, float_format=lambda v: f"{v:.3g}"), hours])
