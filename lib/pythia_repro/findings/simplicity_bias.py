"""Finding 2: the distributional simplicity bias (Belrose et al. 2024, language part).

Published profile: the authors' per-checkpoint mean loss on sequences sampled
from unigram and bigram models of the Pile, for every released model and seed.
A curve that first falls, then rises (a U shape) means the model first fits the
n-gram statistics and then moves beyond them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.names import V0_NAMES, run_of
from ..data.reference import ReferenceDataError, paths
from ..data.tokens import data_identity
from ..evals import ngrams
from ..integrity import checked, versions
from ..integrity.hashing import content_key
from ..parameters import SCORING, Param
from ..report import intervals
from ..report.claims import Claim, judged, untestable
from ..report.curves import NOISE_FLOOR, Noise, PairedBootstrap, PointBounds, u_shape
from ..report.numbers import Tolerance
from ..report.plots import log2_axis, step_axis
from ..report.results import ResultWriter
from ..scoring import check_vocabulary, ngram_divergences, token_losses
from ..suites import get_suite
from ..suites.base import Suite
from ..suites.loading import default_device, run_dtype
from ..suites.pythia import PILE_BITS_PER_BYTE
from ..sweep.plan import Job
from ..sweep.score_cache import ScoreCache
from .base import Finding, Plan, Result, Scores, reference_input, scored_suite, scoring_task, sweep_plan
from .papers import PaperFigure

# --- The finding, its parameters and settings ---


FINDING = Finding("simplicity_bias", "Distributional simplicity bias", ("published",))
# Under other numerics: twice what the AVX2 and AVX-512 builds of micro moved, judged from either (benchmarks/
# numerics.py: the largest move 0.10 nats, a final unigram loss of 12.0; at 0.1·|value| none needs more than 0.004).
NUMERICS_TOLERANCE = Tolerance(relative=0.2, absolute=0.01)
HEADLINE = {  # numbers for papers beside the claims': table -> (key columns, value columns)
    "curve_summary": (
        ["model", "variant", "order"],
        ["first_min_step", "first_min_loss", "rise", "rise_threshold", "min_loss", "final_loss"],
    ),
}
PAPER_FIGURES = (
    PaperFigure(
        "dsb",
        "ngram-loss",
        "Loss on unigram-, bigram- and trigram-sampled text over training, every size: the U (falls, then rises "
        "as models move beyond the statistics). Published: bits per byte against step + 1 on a log₂ axis, the "
        "authors' bounds as bands, the n-gram entropies as floors; micro adds bootstrap intervals in its tables.",
        {
            "published": ("loss_bits_per_byte.*", "loss_nats.*", "losses.csv"),
            "micro": ("loss_nats.*", "losses.csv"),
        },
    ),
    PaperFigure(
        "dsb",
        "ngram-divergence",
        "KL divergence of the models' predictions from the n-gram statistics over training; the released bigram "
        "KL of 14m–2.8b, which predates the authors' fix, is drawn dashed and marked disputed.",
        {"published": ("kl_divergence.*", "released_divergences.csv"), "micro": ("kl_divergence.*", "divergences.csv")},
    ),
    PaperFigure(
        "dsb",
        "seed_1_gram, seed_2_gram",
        "Each seed's curve, a panel per size (14m, 70m, 160m, 410m), unigram and bigram, loss and KL; micro shows "
        "its seeds as a min–max band of bigram loss.",
        {
            "published": ("seeds.*", "seed_spread_bigram.*", "seed_runs.csv", "seed_bands.csv"),
            "micro": ("seed_spread_bigram.*", "seed_runs.csv", "seed_bands.csv"),
        },
    ),
    PaperFigure(
        "dsb",
        "warmups-14m, warmups-70m",
        "Loss and KL of 14m and 70m trained with a longer warm-up, beside the main runs.",
        {"published": ("warmups.*",)},
    ),
    PaperFigure(
        "dsb",
        "in-context-pythia-12b",
        "Loss by token position at several steps: later positions improve as in-context learning appears. "
        "Published: 12b on unigram and bigram text, every size on trigram text; micro: each final model.",
        {
            "published": ("in_context_12b.*", "in_context_trigram.*", "position_loss.csv"),
            "micro": ("position_loss.*",),
        },
    ),
    PaperFigure(
        "package",
        "micro against the paper",
        "A micro model's bigram loss curve beside the paper's, on a shared log-step axis.",
        {"micro": ("comparison_bigram.*",)},
    ),
)
PARAMETERS = (
    *SCORING,
    Param("n_sequences", int, low=1, help="sequences per sampled set"),
    Param("seed", int, 0, low=0, nullable=False, help="sampling and bootstrap seed"),
)
FOLDER = "published/simplicity_bias"
TRIGRAM_FOLDER = "published/simplicity_bias_trigram"
_RUN_FILE = re.compile(r"means_ngrams_model_(pythia-[0-9.]+[mb])(?:-(seed\d+|warmup\d+))?_1024(_kl_div)?\.csv$")
_TRIGRAM_RUN_FILE = re.compile(r"means_ngrams_model_(pythia-[0-9.]+[mb])_1024_\[3\]\.csv$")
_TRIGRAM_POSITION_FILE = re.compile(r"(pythia-[0-9.]+[mb])_1024_steps_\[3\]\.csv$")
ORDERS = ("unigram", "bigram")  # the orders scored here, and those released with seeds and KL
LOSS_COLUMNS = ["step", "loss", "authors_bound_low", "authors_bound_high"]  # a released loss file's, under our names
RELEASED_ORDERS = (*ORDERS, "trigram")  # trigram: 14m–2.8b, main runs, loss only
# The 12b per-position files carry no step column: the authors' plot (scripts/plot_pythia_in_context.py at bd27074)
# gives their 2048-row blocks these steps in file order, steps file first; so do we.
IN_CONTEXT_STEPS = (16, 256, 1000, 8000, 33000, 66000, 131000, 143000)
# The n-gram entropies the authors draw as floors, in bits per byte (scripts/plots/plot_ngram.py at 4798968).
ENTROPY_FLOORS_BPB = {"unigram": 2.89, "bigram": 2.04, "trigram": 2.0}
MODEL_ORDER = ["pythia-14m", *V0_NAMES]
AUTHORS_SEQUENCES = 1024  # n in the authors' bound mean ± 1.96·√(mean/n)
# Released bigram-KL columns computed before the authors' normalization fix (README, "Where we differ").
KL_BEFORE_FIX = ("pythia-14m", "pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b")
PUBLISHED_LOSS_NOTES = {"authors_bound_low": intervals.AUTHORS_BOUND, "authors_bound_high": intervals.AUTHORS_BOUND}
SCORED_LOSS_NOTES = {"loss_ci95_low": intervals.BOOTSTRAP, "loss_ci95_high": intervals.BOOTSTRAP}
SEED_RUN_NOTES = {"rise_ci95_low": intervals.T_OVER_RUNS, "rise_ci95_high": intervals.T_OVER_RUNS}
MIN_SEEDED_RUNS = 3
SETS = ("unigram", "bigram", "heldout")
PYTHIA_STEPS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 4000, 8000, 16000, 33000, 66000, 131000, 143000)
CHUNK_ROWS = 4096
STATEMENTS = {
    "simplicity_bias.u_shape": "Loss on bigram-sampled sequences first falls, then rises as the model moves beyond "
    "bigram statistics (a U shape), at every size",
    "simplicity_bias.early_minimum": "The first minimum comes early in training (near step 256 on Pythia, in the "
    "log-spaced first checkpoints)",
    "simplicity_bias.second_descent": "The larger models later fall below their first minimum again (410m and "
    "larger on Pythia), the smaller ones do not",
    "simplicity_bias.seeds_agree": "Runs with other seeds agree on the shape and on where the minimum sits",
    "simplicity_bias.u_shape.trigram": "Loss on trigram-sampled sequences, too, first falls, then rises as the model "
    "moves beyond trigram statistics, at every size of the authors' trigram series (14m–2.8b)",
}
DIVERGENCES = ("kl_bigram", "js_bigram", "kl_unigram", "js_unigram")  # scored on held-out rows only
SECTIONS = ("scores", "curves", "summary", "seeds", "divergence", "in_context", "claims")
POSITION_NOTES = {
    "position": "powers of two only (1, 2, 4, …), the positions the authors' plot draws",
    **PUBLISHED_LOSS_NOTES,
}
BOUND_BANDS = "bands: the authors' released bounds, mean ± 1.96·√(mean/1024), not an interval of the mean"


# --- Reading the authors' published files ---


def released_runs(kl: bool = False) -> pd.DataFrame:
    """The released loss files (or, with `kl`, the KL files): one row per (model, variant) with its path."""
    rows = []
    for path in paths(FOLDER):
        match = _RUN_FILE.search(path)
        if match and bool(match[3]) == kl:
            rows.append({"model": match[1], "variant": match[2] or "main", "path": path})
    return pd.DataFrame(rows)


def load_losses(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Long table: model, variant, step, order, loss (nats), the authors' bound, and loss in bits per byte; the
    trigram series (14m–2.8b, main runs) from the later release.

    The released bounds are mean ± 1.96·√(mean/n) with n = 1024 sequences (the authors' code), which is not
    an interval of the mean loss; they keep their own name, `authors_bound_low/high`."""
    frames = []
    for run in released_runs().itertuples():
        local = reference_input(run.path, writer)
        raw = pd.read_csv(local)
        for order in ORDERS:
            cols = ["step", f"mean_{order}_loss", f"bottom_conf_{order}_loss", f"top_conf_{order}_loss"]
            part = _columns(local, cols, LOSS_COLUMNS, raw)
            frames.append(part.assign(model=run.model, variant=run.variant, order=order))
    for path in paths(TRIGRAM_FOLDER):
        match = _TRIGRAM_RUN_FILE.search(path)
        if match:
            cols = ["step", "mean_3_gram_loss", "bottom_conf_3_gram_loss", "top_conf_3_gram_loss"]
            part = _columns(reference_input(path, writer), cols, LOSS_COLUMNS)
            frames.append(part.assign(model=match[1], variant="main", order="trigram"))
    df = pd.concat(frames, ignore_index=True)
    df["loss_bpb"] = df.loss * PILE_BITS_PER_BYTE
    df["model"] = pd.Categorical(df.model, [m for m in MODEL_ORDER if m in set(df.model)], ordered=True)
    return df.sort_values(["model", "variant", "order", "step"], ignore_index=True)[
        ["model", "variant", "order", "step", "loss", "authors_bound_low", "authors_bound_high", "loss_bpb"]
    ]


def released_divergences(writer: ResultWriter | None = None) -> pd.DataFrame:
    """The released per-checkpoint KL(n-gram ‖ model) of every run (main, seeds, warm-ups); the bigram column
    flagged where known wrong (its step-0 value, 3.28 nats, gives it away in the warm-up runs too)."""
    frames = []
    for run in released_runs(kl=True).itertuples():
        cols = ["step", "mean_bigram_logit_kl_div", "mean_unigram_logit_kl_div"]
        part = _columns(reference_input(run.path, writer), cols, ["step", "kl_bigram", "kl_unigram"])
        frames.append(part.assign(model=run.model, variant=run.variant))
    df = pd.concat(frames, ignore_index=True)
    df["bigram_kl_known_defect"] = df.model.isin(KL_BEFORE_FIX)
    df["model"] = pd.Categorical(df.model, [m for m in MODEL_ORDER if m in set(df.model)], ordered=True)
    return df.sort_values(["model", "variant", "step"], ignore_index=True)[
        ["model", "variant", "step", "kl_bigram", "kl_unigram", "bigram_kl_known_defect"]
    ]


def released_positions(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Loss by token position (1-indexed) at several steps, with the authors' bounds: 12b on unigram and bigram
    text (steps by block, `IN_CONTEXT_STEPS`), every size on trigram text (the files name their steps)."""
    bounds = ["loss", "authors_bound_low", "authors_bound_high"]
    blocks = [reference_input(f"{FOLDER}/pythia-12b_1024_steps{s}.csv", writer) for s in ("", "_additional")]
    raw = pd.concat([pd.read_csv(path) for path in blocks], ignore_index=True)
    block = raw["index"].eq(0).cumsum() - 1
    if raw.empty or block.max() + 1 != len(IN_CONTEXT_STEPS):
        raise ReferenceDataError(f"{blocks}: {block.max() + 1} position blocks, not {len(IN_CONTEXT_STEPS)}")
    raw["step"] = np.asarray(IN_CONTEXT_STEPS)[block]
    frames = []
    for order in ORDERS:
        cols = ["step", "index", f"mean_{order}_loss", f"bottom_conf_{order}_loss", f"top_conf_{order}_loss"]
        frames.append(raw[cols].set_axis(["step", "position", *bounds], axis=1).assign(model="pythia-12b", order=order))
    for path in paths(TRIGRAM_FOLDER):
        match = _TRIGRAM_POSITION_FILE.search(path)
        if match:
            cols = ["step", "index", "mean_3-gram_loss", "bottom_conf_3-gram_loss", "top_conf_3-gram_loss"]
            part = _columns(reference_input(path, writer), cols, ["step", "position", *bounds])
            frames.append(part.assign(model=match[1], order="trigram"))
    df = pd.concat(frames, ignore_index=True)
    df["position"] += 1
    df["loss_bpb"] = df.loss * PILE_BITS_PER_BYTE
    df["model"] = pd.Categorical(df.model, [m for m in MODEL_ORDER if m in set(df.model)], ordered=True)
    return df.sort_values(["model", "order", "step", "position"], ignore_index=True)[
        ["model", "order", "step", "position", *bounds, "loss_bpb"]
    ]


def _columns(path, columns: list[str], names: list[str], raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Columns of a released CSV (`raw`: that file, already read) under our names; a file without them is refused,
    naming what is missing."""
    raw = pd.read_csv(path) if raw is None else raw
    missing = set(columns) - set(raw.columns)
    if missing:
        raise ReferenceDataError(f"{path}: missing columns {sorted(missing)}")
    return raw[columns].set_axis(names, axis=1)


# --- Scoring checkpoints: the plan, and reading the scores back ---


@dataclass
class NgramSets:
    """The sequences every checkpoint is scored on, and the statistics they come from."""

    tokens: np.ndarray  # [3n, L]: unigram samples, bigram samples, held-out rows
    labels: np.ndarray  # the set of each row
    cond: sp.csr_matrix  # bigram P[prev, next]
    unigram_probs: np.ndarray
    identity: str

    def rows(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.labels == name)


def ngram_statistics(suite: Suite, max_rows: int | None = None, progress: bool = True):
    """Unigram counts and the bigram count matrix of the training rows (cached in the package cache)."""
    rows = suite.training_rows()
    n = min(rows.n_rows, max_rows or rows.n_rows)
    vocab = max(spec.vocab for spec in suite.models.values())
    identity = data_identity(suite.data_prefix)
    holds = {"suite": suite.name, "data": identity, "rows": n, "vocab": vocab, "orders": [1, 2]}
    path = checked.location("ngrams", holds, ".npz")
    if checked.usable(path, holds):
        return ngrams.load_counts(path)
    tokens = rows.stream(n)
    unigrams = ngrams.count_unigrams(tokens, vocab, progress=progress)
    bigrams = ngrams.count_bigrams(tokens, vocab, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    ngrams.save_counts(path, unigrams, bigrams)
    checked.seal(path, holds, f"unigram and bigram counts of the first {n} training rows of {suite.name}")
    return unigrams, bigrams


def make_sets(
    suite: Suite, n_sequences: int, seed: int = 0, max_rows: int | None = None, progress: bool = True
) -> NgramSets:
    """Seeded unigram and bigram samples of the training-row length, plus the first held-out rows."""
    unigrams, bigrams = ngram_statistics(suite, max_rows, progress)
    probs = unigrams / unigrams.sum()
    cond = ngrams.conditional(bigrams)
    rng = np.random.default_rng(seed)
    uni = ngrams.sample_unigram(probs, n_sequences, suite.row_len, rng)
    bi = ngrams.sample_bigram(cond, probs, n_sequences, suite.row_len, rng)
    held = suite.heldout_rows()
    if held.n_rows < n_sequences:
        raise ValueError(f"the held-out set has {held.n_rows} rows; n_sequences={n_sequences} needs as many")
    tokens = np.concatenate([uni, bi, held.rows(0, n_sequences).astype(np.int64)])
    labels = np.repeat(np.array(SETS), n_sequences)
    identity = content_key(
        [data_identity(suite.data_prefix), n_sequences, seed, max_rows, hashlib.sha256(tokens.tobytes()).hexdigest()]
    )[:16]
    return NgramSets(tokens, labels, cond, probs, identity)


@dataclass
class Scored(Scores):
    """Per-row losses and divergences of every checkpoint, and per-position losses of the final ones."""

    sets: NgramSets
    per_row: pd.DataFrame  # model, step, row, set, loss, kl_bigram, js_bigram, kl_unigram, js_unigram
    positions: pd.DataFrame  # model, step, set, position, loss (final checkpoints)


@dataclass
class Prepared(Plan):
    """The plan, and the sets it scores."""

    sets: NgramSets
    n_sequences: int
    seed: int
    max_rows: int | None

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        identity = {"identity": self.sets.identity, "n_sequences": self.n_sequences, "seed": self.seed}
        return "ngram_sets", {"suite": self.suite.name, **identity, "training_rows": self.max_rows or "all"}


def prepare(
    profile: str,
    models: list[str] | None = None,
    steps: list[int] | None = None,
    n_sequences: int | None = None,
    seed: int = 0,
    max_rows: int | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    progress: bool = True,
) -> Prepared:
    """Loss on unigram/bigram samples and held-out text, and KL/JS to the n-gram models, for every checkpoint."""
    import torch

    suite, models = scored_suite(profile, FINDING.name, models)
    batch_size = suite.default(FINDING.name, "batch_size", batch_size)
    steps = sorted(steps or (PYTHIA_STEPS if suite.pythia_schedule else suite.steps))
    n_sequences = suite.default(FINDING.name, "n_sequences", n_sequences) or min(
        1024 if suite.pythia_schedule else 256, suite.heldout_rows().n_rows
    )
    sets = make_sets(suite, n_sequences, seed, max_rows, progress)
    dev = torch.device(device) if device else default_device()
    jobs = []
    for m in models:
        precision = run_dtype(suite, FINDING.name, m, dev, dtype)
        for s in steps:
            params = {"dtype": precision, "per_position": s == suite.final_step}
            jobs.append(Job(suite.checkpoint(m, s), len(sets.tokens), tuple(sorted(params.items()))))

    def score(model, start, stop, params):
        tokens = sets.tokens[start:stop]
        check_vocabulary(model, tokens, start, "sequence")
        losses = token_losses(model, tokens, batch_size=batch_size)
        frame = pd.DataFrame({"loss": losses.mean(1), **dict.fromkeys(DIVERGENCES, np.nan)})
        held = np.flatnonzero(sets.labels[start:stop] == "heldout")  # divergences are read on held-out text only
        if len(held):
            div = ngram_divergences(model, tokens[held], sets.cond, sets.unigram_probs, batch_size=batch_size)
            for name, values in div.items():
                frame.loc[held, name] = np.nanmean(values, axis=1)
        if params["per_position"]:
            frame["position_loss"] = list(losses.astype(np.float32))
        return frame

    task = scoring_task(
        FINDING,
        suite,
        data=sets.identity,
        scorer=versions.LOSSES,
        jobs=jobs,
        score=score,
        rows=len(sets.tokens),
        chunk_rows=CHUNK_ROWS,
        device=dev,
        row_tokens=sets.tokens.shape[1],
    )
    return Prepared(task, suite, models, steps, sets=sets, n_sequences=n_sequences, seed=seed, max_rows=max_rows)


def score_suite(
    profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None, progress: bool = True, **options
) -> Scored:
    """Score every checkpoint (cached, resumable) and return per-row results and per-position curves.

    `options` are those of `prepare`."""
    prep = prepare(profile, progress=progress, **options)
    sets = prep.sets
    results, report = sweep_plan(prep, writer, cache, progress)
    frames, positions = [], []
    for (ckpt, _), frame in results.items():
        frame = frame.assign(model=ckpt.model, step=ckpt.step, set=sets.labels[frame.row.to_numpy()])
        if "position_loss" in frame:
            for name, group in frame.groupby("set"):
                curve = np.stack(group.position_loss.to_numpy()).mean(0)
                positions.append(
                    pd.DataFrame(
                        {
                            "model": ckpt.model,
                            "step": ckpt.step,
                            "set": name,
                            "position": np.arange(1, len(curve) + 1),
                            "loss": curve,
                        }
                    )
                )
            frame = frame.drop(columns="position_loss")
        frames.append(frame)
    positions = (
        pd.concat(positions, ignore_index=True)
        if positions
        else pd.DataFrame(columns=["model", "step", "set", "position", "loss"])
    )
    per_row = pd.concat(frames, ignore_index=True)
    return Scored.of(prep, report, sets=sets, per_row=per_row, positions=positions)


def losses_for(
    profile: str, writer: ResultWriter | None = None, seed: int = 0, **scoring
) -> tuple[pd.DataFrame, Scored | None, int]:
    """The loss table of a profile, the scores behind it (None when published), and its early section's end."""
    if profile == "published":
        return load_losses(writer), None, early_section_end(get_suite("pythia"))
    scored = score_suite(profile, writer, seed=seed, **scoring)
    return scored_losses(scored, seed), scored, early_section_end(scored.suite)


# --- Analysis: pure functions from tables to tables ---


def curve_noise(losses: pd.DataFrame, per_row: pd.DataFrame | None = None, seed: int = 0) -> dict[tuple, Noise]:
    """Each run's own measurement noise, per (model, variant, order): a paired bootstrap over the scored sequences
    where per-sequence losses exist (`per_row`: model as run name, step, row, set, loss), else the authors'
    released per-checkpoint bounds. Each curve's resamples are seeded by `seed` and the curve's name."""
    noise = {}
    if per_row is not None:
        for (run, order), group in per_row.groupby(["model", "set"], sort=True):
            values = group.pivot(index="step", columns="row", values="loss").sort_index()
            if values.isna().any().any():
                raise ValueError(f"{run} {order}: not every sequence is scored at every step")
            key = (*run_of(run), order)
            rng = np.random.default_rng([seed, int(content_key(list(key))[:8], 16)])
            noise[key] = PairedBootstrap.of(values.to_numpy(), rng)
        return noise
    if "authors_bound_high" not in losses:
        raise ValueError("no noise source: pass per-sequence losses, or a table with the authors' bounds")
    for key, curve in losses.groupby(["model", "variant", "order"], observed=True, sort=True):
        curve = curve.sort_values("step")
        half = (curve.authors_bound_high - curve.authors_bound_low).to_numpy() / 2
        noise[tuple(str(k) for k in key)] = PointBounds(half, intervals.AUTHORS_BOUND)
    return noise


def curve_summary(losses: pd.DataFrame, per_row: pd.DataFrame | None = None, seed: int = 0) -> pd.DataFrame:
    """Per (model, variant, order): the U shape over the whole curve (`curves.u_shape`, judged against that run's
    own noise, `curve_noise`), the final and lowest loss, and the noise method. Same columns on every profile."""
    noise = curve_noise(losses, per_row, seed)
    rows = []
    for (model, variant, order), curve in losses.groupby(["model", "variant", "order"], observed=True, sort=True):
        curve = curve.sort_values("step")
        own = noise[(str(model), str(variant), str(order))]
        shape = u_shape(curve.step.to_numpy(), curve.loss.to_numpy(), own)
        best = curve.loc[curve.loss.idxmin()]
        rows.append(
            {
                "model": model,
                "variant": variant,
                "order": order,
                **shape,
                "final_step": int(curve.step.max()),
                "final_loss": float(curve.loss.iloc[-1]),
                "min_step": int(best.step),
                "min_loss": float(best.loss),
                "noise_method": own.method,
                "noise_floor": NOISE_FLOOR,
            }
        )
    return pd.DataFrame(rows)


def early_section_end(suite: Suite) -> int:
    """The last checkpoint of the suite's log-spaced early section (512 on Pythia): after it checkpoints are even."""
    steps = [s for s in suite.steps if s > 0]
    gaps = np.diff(steps)
    even = next((i for i in range(len(gaps) - 1) if gaps[i] == gaps[i + 1]), max(len(steps) - 2, 0))
    return steps[max(even - 1, 0)]


def _seeded(frame: pd.DataFrame) -> pd.DataFrame:
    """The main and seed runs of every (model, order) released or scored with seeds (warm-ups apart)."""
    seeded = {(m, o) for m, o, v in zip(frame.model, frame.order, frame.variant) if v.startswith("seed")}
    keep = [(m, o) in seeded and not v.startswith("warmup") for m, o, v in zip(frame.model, frame.order, frame.variant)]
    return frame[keep]


def seed_bands(losses: pd.DataFrame) -> pd.DataFrame:
    """Per seeded model, order and step: the loss over its runs (main and seeds; warmup variants excluded)."""
    runs = _seeded(losses)
    return (
        runs.groupby(["model", "order", "step"], observed=True)
        .loss.agg(n_runs="count", mean="mean", std="std", min="min", max="max")
        .reset_index()
    )


def seed_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """Does the shape replicate? Per model with seeds and order: how many runs are U-shaped, where their first
    minima fall, each run's rise (measured in that run) with a t interval over runs, and the spread of the final
    level across runs, which says how far runs end apart, not whether one of them rises."""
    runs = _seeded(summary)
    rows = []
    for (model, order), sub in runs.groupby(["model", "order"], observed=True, sort=True):
        low, high = intervals.t_mean(sub.rise)
        rows.append(
            {
                "model": model,
                "order": order,
                "n_runs": len(sub),
                "u_shaped_runs": int(sub.u_shaped.sum()),
                "second_descent_runs": int(sub.second_descent.sum()),
                "first_min_step_min": sub.first_min_step.min(),
                "first_min_step_max": sub.first_min_step.max(),
                "rise_mean": float(sub.rise.mean()),
                "rise_ci95_low": low,
                "rise_ci95_high": high,
                "rise_min": float(sub.rise.min()),
                "rise_max": float(sub.rise.max()),
                "final_level_mean": float(sub.final_loss.mean()),
                "final_level_sd_across_runs": float(sub.final_loss.std()),
            }
        )
    return pd.DataFrame(rows)


def scored_losses(scored: Scored, seed: int = 0) -> pd.DataFrame:
    """Long table shaped like the published one: model, variant (`main`, or `seed<N>` for a run named
    `<model>-seed<N>`), order (set), step, loss and its 95% percentile bootstrap interval over sequences
    (`loss_ci95_low/high`)."""
    rng = np.random.default_rng(seed)
    rows = []
    for (run, step, name), group in scored.per_row.groupby(["model", "step", "set"], sort=True):
        low, high = intervals.bootstrap_mean(group.loss.to_numpy(), rng)
        model, variant = run_of(run)
        rows.append(
            {
                "model": model,
                "variant": variant,
                "order": name,
                "step": step,
                "loss": group.loss.mean(),
                "loss_ci95_low": low,
                "loss_ci95_high": high,
            }
        )
    df = pd.DataFrame(rows)
    order = sorted({run_of(m)[0] for m in scored.models}, key=lambda m: scored.suite.spec(m).params)
    df["model"] = pd.Categorical(df.model, order, ordered=True)
    return df.sort_values(["model", "variant", "order", "step"], ignore_index=True)


def _power_of_two(values: pd.Series) -> pd.Series:
    """Which values are powers of two (1, 2, 4, …)."""
    return (values > 0) & ((values & (values - 1)) == 0)


def _main_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of main runs (not `<model>-seed<N>`) of a table with a `model` column of run names."""
    return frame[[run_of(m)[1] == "main" for m in frame.model]]


def divergences(scored: Scored) -> pd.DataFrame:
    """Mean per-token KL and JS between the n-gram models and each checkpoint (main runs), on held-out text."""
    held = scored.per_row[scored.per_row.set == "heldout"]
    held = _main_runs(held)
    out = held.groupby(["model", "step"])[list(DIVERGENCES)].mean().reset_index()
    out["params"] = out.model.map(lambda m: scored.suite.spec(m).params)
    return out.sort_values(["params", "step"], ignore_index=True)


def parameter_counts(profile: str, losses: pd.DataFrame) -> dict[str, int]:
    """Parameter count of every model in a loss table (published: the Pythia sizes)."""
    suite = get_suite("pythia") if profile == "published" else get_suite(profile)
    return {str(m): suite.spec(str(m)).params for m in losses.model.unique()}


# --- Figures ---


def loss_figure(losses: pd.DataFrame, unit: str = "loss"):
    """Loss on unigram- and bigram- (and, where released, trigram-) sampled sequences against step, one line per
    model (main runs)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    main = losses[losses.variant == "main"]
    orders = [order for order in RELEASED_ORDERS if order in set(main.order)]
    fig, axes = plt.subplots(1, len(orders), figsize=(5 * len(orders), 3.8), sharey=True)
    for ax, order in zip(axes, orders):
        sns.lineplot(main[main.order == order], x="step", y=unit, hue="model", ax=ax, palette="viridis")
        step_axis(ax)
        ax.set_title(f"sequences sampled from the {order} model")
        ax.set_ylabel("mean loss (nats)" if unit == "loss" else "mean loss (bits per byte)")
    axes[0].get_legend().remove()
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def authors_loss_figure(losses: pd.DataFrame):
    """The loss figure as the authors draw it: bits per byte of the main runs on each released order against
    step + 1 on a log₂ axis, their bounds as bands, the n-gram entropies as dotted floors."""
    import matplotlib.pyplot as plt

    main = losses[losses.variant == "main"]
    orders = [order for order in RELEASED_ORDERS if order in set(main.order)]
    colors = _model_colors(main)
    fig, axes = plt.subplots(1, len(orders), figsize=(5 * len(orders), 4), sharey=True)
    for ax, order in zip(axes, orders):
        for model, curve in main[main.order == order].groupby("model", observed=True):
            x = curve.step + 1
            low, high = (curve[f"authors_bound_{end}"] * PILE_BITS_PER_BYTE for end in ("low", "high"))
            ax.fill_between(x, low, high, color=colors[model], alpha=0.17, linewidth=0)
            ax.plot(x, curve.loss_bpb, color=colors[model], marker="o", markersize=2, label=str(model))
        ax.axhline(ENTROPY_FLOORS_BPB[order], color="black", linestyle=":", linewidth=1.5)
        log2_axis(ax)
        ax.set_title(f"{order} sequences (dotted: entropy, {ENTROPY_FLOORS_BPB[order]} bits per byte)", fontsize=9)
    axes[0].set_ylabel("loss (bits per byte)")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Loss on n-gram-sampled text over training ({BOUND_BANDS})", fontsize=9)
    fig.tight_layout()
    return fig


def released_kl_figure(released: pd.DataFrame):
    """The released KL(n-gram ‖ model) of the main runs over training; a bigram series the release got wrong
    is drawn dashed and named so, not hidden."""
    import matplotlib.pyplot as plt

    main = released[released.variant == "main"]
    colors = _model_colors(main)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column in zip(axes, ("kl_unigram", "kl_bigram")):
        for model, curve in main.groupby("model", observed=True):
            disputed = column == "kl_bigram" and bool(curve.bigram_kl_known_defect.all())
            label = f"{model} (released before the fix: disputed)" if disputed else str(model)
            ax.plot(
                curve.step + 1, curve[column], color=colors[model], linestyle="--" if disputed else "-", label=label
            )
        log2_axis(ax)
        ax.set_ylabel("KL (nats per token)")
        ax.set_title(f"released KL({column.split('_')[1]} model ‖ checkpoint)", fontsize=9)
    axes[1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def warmup_figure(losses: pd.DataFrame, released: pd.DataFrame):
    """The warm-up runs beside the main ones (14m and 70m): loss and released KL on unigram and bigram text."""
    import matplotlib.pyplot as plt

    runs = [(m, v) for m, v in zip(released.model, released.variant) if v.startswith("warmup")]
    models = sorted({m for m, _ in runs}, key=MODEL_ORDER.index)
    fig, axes = plt.subplots(len(models), 4, figsize=(15, 3.2 * len(models)), squeeze=False)
    panels = [("loss", order) for order in ORDERS] + [("kl", order) for order in ORDERS]
    for row, model in zip(axes, models):
        variants = ["main", *sorted({v for m, v in runs if m == model})]
        for ax, (kind, order) in zip(row, panels):
            for variant, color in zip(variants, ("tab:blue", "tab:orange", "tab:green")):
                if kind == "loss":
                    curve = losses[(losses.model == model) & (losses.variant == variant) & (losses.order == order)]
                    y = curve.loss
                else:
                    curve = released[(released.model == model) & (released.variant == variant)]
                    y = curve[f"kl_{order}"]
                ax.plot(curve.step + 1, y, color=color, marker="o", markersize=2, label=variant)
            disputed = kind == "kl" and order == "bigram" and model in KL_BEFORE_FIX
            ax.set_title(
                f"{model}: {order} {kind}" + (" (released before the fix: disputed)" if disputed else ""), fontsize=8
            )
            ax.set_ylabel("nats" if kind == "loss" else "KL (nats per token)")
            log2_axis(ax)
        row[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def in_context_figure(positions: pd.DataFrame, order_models: list[tuple[str, str]]):
    """Loss by token position at several steps, one panel per (order, model), as the authors draw it: bits per
    byte against position on a log₂ axis, a line per step with the authors' bounds as bands, the entropy dotted."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    columns = min(3, len(order_models))
    rows = -(-len(order_models) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.4 * rows), squeeze=False, sharey=True)
    for ax, (order, model) in zip(axes.flat, order_models):
        sub = positions[(positions.order == order) & (positions.model == model)]
        steps = sorted(set(sub.step))
        for step, color in zip(steps, sns.color_palette("plasma_r", len(steps))):
            line = sub[sub.step == step]
            low, high = (line[f"authors_bound_{end}"] * PILE_BITS_PER_BYTE for end in ("low", "high"))
            ax.fill_between(line.position, low, high, color=color, alpha=0.17, linewidth=0)
            ax.plot(line.position, line.loss_bpb, color=color, marker="o", markersize=2, label=f"{step:,}")
        ax.axhline(ENTROPY_FLOORS_BPB[order], color="black", linestyle=":", linewidth=1.5)
        log2_axis(ax, "token position")
        ax.set_title(f"{model}, {order} sequences", fontsize=9)
        ax.set_ylabel("loss (bits per byte)")
        ax.legend(title="step", fontsize=6, title_fontsize=7)
    for ax in axes.flat[len(order_models) :]:
        ax.set_visible(False)
    fig.suptitle(f"Loss by position at several steps ({BOUND_BANDS}; dotted: the n-gram entropy)", fontsize=9)
    fig.tight_layout()
    return fig


def _model_colors(frame: pd.DataFrame) -> dict:
    import seaborn as sns

    models = list(frame.model.cat.remove_unused_categories().cat.categories)
    return dict(zip(models, sns.color_palette("viridis", len(models))))


def seed_lines_figure(losses: pd.DataFrame, released: pd.DataFrame):
    """Every seed as a line, as the authors draw it: a column per seeded size, rows for unigram and bigram loss
    and KL; the main run bold. The released bigram KL of these sizes is disputed (predates the authors' fix)."""
    import matplotlib.pyplot as plt

    seeded = [m for m in MODEL_ORDER if any(v.startswith("seed") for v in losses.variant[losses.model == m])]
    panels = [("loss", order) for order in ORDERS] + [("kl", order) for order in ORDERS]
    fig, axes = plt.subplots(len(panels), len(seeded), figsize=(3.6 * len(seeded), 2.6 * len(panels)), squeeze=False)
    for column, model in enumerate(seeded):
        for row, (kind, order) in enumerate(panels):
            ax = axes[row, column]
            table = losses[losses.order == order] if kind == "loss" else released
            runs = table[(table.model == model) & ~table.variant.str.startswith("warmup")]
            for variant, curve in runs.groupby("variant", sort=True):
                y = curve.loss if kind == "loss" else curve[f"kl_{order}"]
                main = variant == "main"
                ax.plot(
                    curve.step + 1,
                    y,
                    color="black" if main else "tab:blue",
                    linewidth=1.6 if main else 0.6,
                    alpha=1 if main else 0.6,
                    label="main run" if main else None,
                )
            disputed = kind == "kl" and order == "bigram" and model in KL_BEFORE_FIX
            ax.set_title(f"{model}: {order} {kind}" + (" (disputed)" if disputed else ""), fontsize=8)
            log2_axis(ax)
    axes[0, -1].legend(fontsize=7)
    fig.suptitle("Each seed's run (thin) and the main run (bold)", fontsize=9)
    fig.tight_layout()
    return fig


def seed_figure(bands: pd.DataFrame, order: str = "bigram"):
    """Seed spread (min–max band, mean line) of one n-gram order's curve per seeded model."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    models = list(bands.model.cat.remove_unused_categories().cat.categories)
    colors = sns.color_palette("viridis", len(models))
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for color, model in zip(colors, models):
        band = bands[(bands.model == model) & (bands.order == order)]
        ax.fill_between(band.step, band["min"], band["max"], color=color, alpha=0.25)
        ax.plot(band.step, band["mean"], color=color, label=f"{model} ({int(band.n_runs.max())} runs)")
    step_axis(ax)
    ax.set_ylabel("mean loss (nats)")
    ax.set_title(f"{order} sequences: spread over seeds (min–max)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def divergence_figure(div: pd.DataFrame):
    """KL(n-gram ‖ model) on held-out text against step."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, col in zip(axes, ["kl_unigram", "kl_bigram"]):
        sns.lineplot(div, x="step", y=col, hue="model", ax=ax, palette="viridis", marker="o", markersize=3)
        step_axis(ax)
        ax.set_ylabel("nats per token")
        ax.set_title(f"KL({col.split('_')[1]} model ‖ checkpoint) on held-out text", fontsize=9)
    axes[0].get_legend().remove()
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def position_figure(positions: pd.DataFrame):
    """Loss by position at the final checkpoint: falling with position means the model uses its context."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    sns.lineplot(positions, x="position", y="loss", hue="model", style="set", ax=ax, palette="viridis")
    ax.set_xscale("log")
    ax.set_ylabel("mean loss (nats)")
    ax.set_title("per-position loss at the final checkpoint", fontsize=9)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def comparison_figure(published: pd.DataFrame, scored: pd.DataFrame, label: str, order: str = "bigram"):
    """The published bigram-sample curves beside this profile's (main runs)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    main = (("published (Pythia)", published[published.variant == "main"]), (label, scored[scored.variant == "main"]))
    for ax, (name, df) in zip(axes, main):  # main runs: one curve per model, no estimator drawing at random
        sub = df[df.order == order].copy()
        sub["model"] = sub.model.cat.remove_unused_categories()
        sns.lineplot(sub, x="step", y="loss", hue="model", ax=ax, palette="viridis")
        step_axis(ax)
        ax.set_title(f"{name}: loss on {order}-sampled sequences", fontsize=9)
        ax.set_ylabel("mean loss (nats)")
        sns.move_legend(ax, "upper right", fontsize=6, title=None)
    fig.tight_layout()
    return fig


# --- Claims and the sentences that state them ---


def describe_curves(summary: pd.DataFrame, label: str, order: str = "bigram") -> list[str]:
    """One sentence per main run, read from the `curve_summary` columns: the U, its minimum, any second descent."""
    lines = []
    for row in summary[(summary.order == order) & (summary.variant == "main")].itertuples():
        if not row.u_shaped:
            lines.append(
                f"{label} {row.model}: no U shape (no minimum followed by a rise beyond the noise, "
                f"{row.noise_method}); lowest {row.min_loss:.3f} nats at step {row.min_step}, "
                f"final {row.final_loss:.3f}."
            )
            continue
        again = (
            f"falls below that minimum again from step {row.second_descent_step:.0f} (lowest after the peak "
            f"{row.lowest_after_peak:.3f}, beyond the noise {row.descent_threshold:.3f})"
            if row.second_descent
            else f"does not fall below that minimum again by more than the noise (lowest after the peak "
            f"{row.lowest_after_peak:.3f})"
        )
        lines.append(
            f"{label} {row.model}: U shape, first minimum {row.first_min_loss:.3f} nats at step "
            f"{row.first_min_step:.0f}, rising to {row.peak_after_min_loss:.3f} at step "
            f"{row.peak_after_min_step:.0f} (rise {row.rise:.3f} > {row.rise_threshold:.3f}, "
            f"{row.noise_method}); {again}; final {row.final_loss:.3f}."
        )
    return lines


def claims(summary: pd.DataFrame, params: dict[str, int], early_end: int) -> list[Claim]:
    """The four simplicity-bias claims on one profile's `curve_summary` (bigram-sampled sequences), and the U shape
    on trigram-sampled ones where the profile has them (the authors' later release).

    `params` gives each model's parameter count (size order); `early_end` the last early checkpoint."""

    def main_runs(order: str) -> pd.DataFrame:
        runs = summary[(summary.order == order) & (summary.variant == "main")]
        return runs.assign(params=lambda d: d.model.astype(str).map(params)).sort_values("params")

    main, trigram = main_runs("bigram"), main_runs("trigram")
    return [
        u_shape_claim(main),
        early_minimum_claim(main, early_end),
        second_descent_claim(main),
        seeds_claim(seed_runs(summary[summary.order == "bigram"])),
        *([u_shape_claim(trigram, "trigram")] if len(trigram) else []),
    ]


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(frame.model.astype(str)) or "none"


def u_shape_claim(main: pd.DataFrame, order: str = "bigram") -> Claim:
    id = "simplicity_bias.u_shape" + ("" if order == "bigram" else f".{order}")
    test = (
        f"every size's {order} curve (main run) has a local minimum (at least halfway down from the initial to the "
        "lowest loss) followed by a rise larger than that run's own noise of the difference (paired bootstrap "
        f"over sequences, else the authors' per-checkpoint bounds; floor {NOISE_FLOOR} nats each side)"
    )
    u = main[main.u_shaped]
    return judged(
        id,
        STATEMENTS[id],
        test,
        len(u) == len(main) and len(main) > 0,
        f"U shape at {len(u)} of {len(main)} sizes ({_names(u)}); none at {_names(main[~main.u_shaped])}",
        u_shaped=len(u),
        sizes=len(main),
    )


def early_minimum_claim(main: pd.DataFrame, early_end: int) -> Claim:
    id = "simplicity_bias.early_minimum"
    test = f"every U-shaped size has its first minimum at or before step {early_end} (the early log-spaced section)"
    u = main[main.u_shaped]
    if u.empty:
        return untestable(id, STATEMENTS[id], test, "no size shows a U shape")
    late = u[u.first_min_step > early_end]
    steps = ", ".join(f"{m} {s:.0f}" for m, s in zip(u.model.astype(str), u.first_min_step))
    return judged(
        id,
        STATEMENTS[id],
        test,
        late.empty,
        f"first minima at steps: {steps}; later than {early_end}: {_names(late)}",
        early_end=early_end,
        late=len(late),
        u_shaped=len(u),
    )


def second_descent_claim(main: pd.DataFrame) -> Claim:
    id = "simplicity_bias.second_descent"
    test = (
        "the largest size falls below its first minimum again after the rise, and every size larger than one "
        "that does also does (sizes in parameter order)"
    )
    u = main[main.u_shaped]
    if u.empty:
        return untestable(id, STATEMENTS[id], test, "no size shows a U shape, so there is no first minimum to pass")
    flags = u.second_descent.to_numpy(bool)
    upward_closed = not any(flags[i] and not flags[i + 1 :].all() for i in range(len(flags)))
    passed = bool(flags[-1]) and upward_closed
    return judged(
        id,
        STATEMENTS[id],
        test,
        passed,
        f"second descent at {_names(u[u.second_descent])}; not at {_names(u[~u.second_descent])}",
        descending=int(flags.sum()),
        u_shaped=len(u),
        largest_descends=bool(flags[-1]),
        upward_closed=upward_closed,
    )


def seeds_claim(runs: pd.DataFrame) -> Claim:
    """Judged on `seed_runs` (bigram rows): the shape replicates across runs of each seeded size."""
    id = "simplicity_bias.seeds_agree"
    test = (
        f"for every size with at least {MIN_SEEDED_RUNS} runs, all runs agree on the U shape (each judged "
        "against its own noise), their first minima lie within a factor of 2 in step (adjacent log-spaced "
        "checkpoints), and where U-shaped the t interval over runs of each run's rise lies above 0"
    )
    seeded = runs[runs.n_runs >= MIN_SEEDED_RUNS] if len(runs) else runs
    if seeded.empty:
        return untestable(id, STATEMENTS[id], test, "one run per size: no seeds to compare")
    parts, ok = [], True
    for row in seeded.itertuples():
        agree = row.u_shaped_runs in (0, row.n_runs)
        close = row.u_shaped_runs == 0 or row.first_min_step_max <= 2 * row.first_min_step_min
        rises = row.u_shaped_runs == 0 or row.rise_ci95_low > 0
        ok &= bool(agree and close and rises)
        minima = (
            f", first minimum at steps {row.first_min_step_min:.0f}–{row.first_min_step_max:.0f}, rise "
            f"{row.rise_mean:.3f} [{row.rise_ci95_low:.3f}, {row.rise_ci95_high:.3f}] over runs"
            if row.u_shaped_runs
            else ""
        )
        parts.append(f"{row.model}: {row.u_shaped_runs}/{row.n_runs} U-shaped{minima}")
    return judged(id, STATEMENTS[id], test, ok, "; ".join(parts), seeded_sizes=len(seeded))


def published_claims(writer: ResultWriter | None = None) -> tuple[pd.DataFrame, list[Claim]]:
    """The released loss curves and the claims judged on them (for side-by-side comparison)."""
    published = load_losses(writer)
    return published, claims(
        curve_summary(published), parameter_counts("published", published), early_section_end(get_suite("pythia"))
    )


# --- The notebook's analysis, section by section ---


def analyse(result: Result, **params: Any) -> None:
    """Loss curves on n-gram-sampled text, their U shapes, the seed spread, the divergences, then the claims."""
    out, profile = result.writer, result.profile
    losses, scored, early_end = losses_for(profile, out, **params)  # all are scoring options
    result.section("scores")
    result.table("losses", losses, PUBLISHED_LOSS_NOTES if scored is None else SCORED_LOSS_NOTES)
    per_row = None if scored is None else scored.per_row
    summary = result.table("curve_summary", curve_summary(losses, per_row, params.get("seed", 0)))
    if scored is not None:
        r = scored.report
        result.show(
            f"{len(r.scored)} checkpoints scored now, {len(r.cached)} read from the cache; early "
            f"(log-spaced) section ends at step {early_end}"
        )

    result.section("curves")
    result.figure("loss_nats", loss_figure(losses, "loss"))
    bits_per_byte = PILE_BITS_PER_BYTE if scored is None else scored.suite.bits_per_byte  # published: the Pile
    if scored is None:
        result.figure("loss_bits_per_byte", authors_loss_figure(losses))
    elif bits_per_byte is not None:
        result.figure(
            "loss_bits_per_byte", loss_figure(losses.assign(loss_bpb=losses.loss * bits_per_byte), "loss_bpb")
        )

    result.section("summary")
    main = summary[(summary.variant == "main") & (summary.order == "bigram")]
    result.show(main.drop(columns=["variant", "order"]).round(3))
    result.show("\n".join(describe_curves(summary, profile)))

    released = released_divergences(out) if scored is None else None  # drawn with the seeds, tabulated below

    result.section("seeds")
    if losses.variant.str.startswith("seed").any():
        bands = result.table("seed_bands", seed_bands(losses))
        result.show(result.table("seed_runs", seed_runs(summary), SEED_RUN_NOTES).round(3))
        result.figure("seed_spread_bigram", seed_figure(bands, "bigram"))
        if scored is None:
            result.figure("seeds", seed_lines_figure(losses, released))
    else:
        result.show(
            "One run per size here: nothing to replicate. Each curve's shape is judged against its own noise "
            "(curve_summary.csv, noise_method)."
        )

    result.section("divergence")
    if scored is not None:
        div = result.table("divergences", divergences(scored))
        result.figure("kl_divergence", divergence_figure(div))
    else:
        result.table("released_divergences", released)
        result.show(released[(released.step == 0) & (released.variant == "main")].round(3))
        result.figure("kl_divergence", released_kl_figure(released))
        result.figure("warmups", warmup_figure(losses, released))

    result.section("in_context")
    if scored is not None:
        positions = _main_runs(scored.positions)
        if len(positions):
            result.table("position_loss", positions)
            result.figure("position_loss", position_figure(positions))
    else:
        positions = released_positions(out)
        drawn = result.table("position_loss", positions[_power_of_two(positions.position)], POSITION_NOTES)
        result.figure("in_context_12b", in_context_figure(drawn, [(order, "pythia-12b") for order in ORDERS]))
        sizes = list(drawn[drawn.order == "trigram"].model.cat.remove_unused_categories().cat.categories)
        trigram = drawn[(drawn.order != "trigram") | (drawn.step != 0)]  # step 0 left out, as the authors' plot does
        result.figure("in_context_trigram", in_context_figure(trigram, [("trigram", m) for m in sizes]))

    result.section("claims")
    judged_on = {profile: claims(summary, parameter_counts(profile, losses), early_end)}
    if scored is not None:
        published, judged_on["published"] = published_claims(out)
        result.figure("comparison_bigram", comparison_figure(published, losses, profile))
    result.judge(judged_on)
