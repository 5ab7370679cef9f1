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

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import ngrams
from ..hashing import content_key
from ..paths import cache_home
from ..plan import Job, ScoringTask, SweepReport, sweep
from ..plots import NATS_TO_BITS_PER_BYTE_PILE, step_axis
from ..reference import ReferenceDataError, paths
from ..results import ResultWriter
from ..score_cache import ScoreCache, data_identity
from ..scoring import ngram_divergences, token_losses
from ..suite import V0_NAMES, Suite, default_device, default_dtype, get_suite
from . import Finding, record_checkpoints, reference_input, scored_models

FINDING = Finding("simplicity_bias", "Distributional simplicity bias", ("published", "micro", "pythia"))

FOLDER = "published/simplicity_bias"
_RUN_FILE = re.compile(r"means_ngrams_model_(pythia-[0-9.]+[mb])(?:-(seed\d+|warmup\d+))?_1024\.csv$")
ORDERS = ("unigram", "bigram")
EARLY_STEPS = 512  # the first minimum is looked for among steps ≤ this
MODEL_ORDER = ["pythia-14m", *V0_NAMES]


def released_runs() -> pd.DataFrame:
    """The released loss files: one row per (model, variant) with its reference path."""
    rows = []
    for path in paths(FOLDER):
        match = _RUN_FILE.search(path)
        if match:
            rows.append({"model": match[1], "variant": match[2] or "main", "path": path})
    return pd.DataFrame(rows)


def load_losses(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Long table: model, variant, step, order, loss (nats), its 95% bounds, and loss in bits per byte."""
    frames = []
    for run in released_runs().itertuples():
        local = reference_input(run.path, writer)
        raw = pd.read_csv(local)
        for order in ORDERS:
            cols = ["step", f"mean_{order}_loss", f"bottom_conf_{order}_loss", f"top_conf_{order}_loss"]
            missing = set(cols) - set(raw.columns)
            if missing:
                raise ReferenceDataError(f"{local}: missing columns {sorted(missing)}")
            part = raw[cols].set_axis(["step", "loss", "loss_low", "loss_high"], axis=1)
            frames.append(part.assign(model=run.model, variant=run.variant, order=order))
    df = pd.concat(frames, ignore_index=True)
    df["loss_bpb"] = df.loss * NATS_TO_BITS_PER_BYTE_PILE
    df["model"] = pd.Categorical(df.model, [m for m in MODEL_ORDER if m in set(df.model)], ordered=True)
    return df.sort_values(["model", "variant", "order", "step"], ignore_index=True)[
        ["model", "variant", "order", "step", "loss", "loss_low", "loss_high", "loss_bpb"]]


def _value_at(curve: pd.DataFrame, step: int) -> float:
    hit = curve.loc[curve.step == step, "loss"]
    return float(hit.iloc[0]) if len(hit) else np.nan


def curve_summary(losses: pd.DataFrame, early_steps: int = EARLY_STEPS,
                  rise_steps: tuple[int, int] = (1000, 2000)) -> pd.DataFrame:
    """Per curve: the global minimum, the first (early) minimum, values at the rise steps and the end, the U test.

    Pythia's early section is steps ≤ 512 (the log-spaced checkpoints) and the rise is read at steps 1000
    and 2000; a scaled-down suite passes its own equivalents.
    """
    rows = []
    for (model, variant, order), curve in losses.groupby(["model", "variant", "order"], observed=True):
        early = curve[curve.step <= early_steps]
        first = early.loc[early.loss.idxmin()]
        best = curve.loc[curve.loss.idxmin()]
        at_a, at_b, final = (_value_at(curve, s) for s in (*rise_steps, curve.step.max()))
        rows.append({
            "model": model, "variant": variant, "order": order,
            "min_loss": best.loss, "min_step": int(best.step),
            "early_min_loss": first.loss, "early_min_step": int(first.step),
            f"loss_step_{rise_steps[0]}": at_a, f"loss_step_{rise_steps[1]}": at_b,
            "final_step": int(curve.step.max()), "final_loss": final,
            "rises_after_early_min": bool(max(at_a, at_b) > first.loss),
            "final_below_early_min": bool(final < first.loss),
        })
    return pd.DataFrame(rows)


def seed_spread(summary: pd.DataFrame, losses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Across the released seeds (main run included, warmup variants excluded): curve bands and summary spread."""
    seeded = {m for m, v in zip(losses.model, losses.variant) if v.startswith("seed")}
    runs = losses[losses.model.isin(seeded) & ~losses.variant.str.startswith("warmup")]
    bands = (runs.groupby(["model", "order", "step"], observed=True).loss
             .agg(n_runs="count", mean="mean", std="std", min="min", max="max").reset_index())
    per_run = summary[summary.model.isin(seeded) & ~summary.variant.str.startswith("warmup")]
    spread = (per_run.groupby(["model", "order"], observed=True)
              .agg(n_runs=("variant", "count"), early_min_step_min=("early_min_step", "min"),
                   early_min_step_max=("early_min_step", "max"), early_min_loss_mean=("early_min_loss", "mean"),
                   early_min_loss_std=("early_min_loss", "std"), final_loss_mean=("final_loss", "mean"),
                   final_loss_std=("final_loss", "std"), share_rising=("rises_after_early_min", "mean"),
                   share_final_below_early_min=("final_below_early_min", "mean"))
              .reset_index())
    return bands, spread


def loss_figure(losses: pd.DataFrame, unit: str = "loss"):
    """Loss on unigram- and bigram-sampled sequences against step, one line per model (main runs)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    main = losses[losses.variant == "main"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, order in zip(axes, ORDERS):
        sns.lineplot(main[main.order == order], x="step", y=unit, hue="model", ax=ax, palette="viridis")
        step_axis(ax)
        ax.set_title(f"sequences sampled from the {order} model")
        ax.set_ylabel("mean loss (nats)" if unit == "loss" else "mean loss (bits per byte)")
    axes[0].get_legend().remove()
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1))
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


# -- micro and pythia profiles: losses and divergences computed here ----------------------------

SCORER = "simplicity-v2"  # v2: KL summed per distinct previous-token row (float32 sums in another order)
SETS = ("unigram", "bigram", "heldout")
PYTHIA_STEPS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 4000, 8000, 16000, 33000, 66000,
                131000, 143000)
CHUNK_ROWS = 4096


@dataclass
class NgramSets:
    """The sequences every checkpoint is scored on, and the statistics they come from."""

    tokens: np.ndarray        # [3n, L]: unigram samples, bigram samples, held-out rows
    labels: np.ndarray        # the set of each row
    cond: sp.csr_matrix       # bigram P[prev, next]
    unigram_probs: np.ndarray
    identity: str

    def rows(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.labels == name)


def ngram_statistics(suite: Suite, max_rows: int | None = None, progress: bool = True):
    """Unigram counts and the bigram count matrix of the training rows (cached in the package cache)."""
    rows = suite.training_rows()
    n = min(rows.n_rows, max_rows or rows.n_rows)
    vocab = max(spec.vocab for spec in suite.models.values())
    path = cache_home() / "ngrams" / f"{suite.name}-{data_identity(suite)}-{n}-{vocab}.npz"
    if path.is_file():
        return ngrams.load_counts(path)
    tokens = rows.rows(0, n).reshape(-1)
    unigrams = ngrams.count_unigrams(tokens, vocab, progress=progress)
    bigrams = ngrams.count_bigrams(tokens, vocab, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    ngrams.save_counts(path, unigrams, bigrams)
    return unigrams, bigrams


def make_sets(suite: Suite, n_sequences: int, seed: int = 0, max_rows: int | None = None,
              progress: bool = True) -> NgramSets:
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
    identity = content_key([data_identity(suite), n_sequences, seed, max_rows,
                            hashlib.sha256(tokens.tobytes()).hexdigest()])[:16]
    return NgramSets(tokens, labels, cond, probs, identity)


@dataclass
class Scored:
    suite: Suite
    models: list[str]
    steps: list[int]
    sets: NgramSets
    per_row: pd.DataFrame  # model, step, row, set, loss, kl_bigram, js_bigram, kl_unigram, js_unigram
    positions: pd.DataFrame  # model, step, set, position, loss (final checkpoints)
    report: SweepReport


@dataclass
class Prepared:
    """The scoring task of a profile and the sets it scores."""

    task: ScoringTask
    suite: Suite
    models: list[str]
    steps: list[int]
    sets: NgramSets
    n_sequences: int
    seed: int
    max_rows: int | None


def prepare(profile: str, models: list[str] | None = None, steps: list[int] | None = None,
            n_sequences: int | None = None, seed: int = 0, max_rows: int | None = None,
            batch_size: int | None = None, device: str | None = None, progress: bool = True) -> Prepared:
    """Loss on unigram/bigram samples and held-out text, and KL/JS to the n-gram models, for every checkpoint."""
    import torch

    suite = get_suite(profile)
    models = scored_models(suite, models)
    steps = sorted(steps or (PYTHIA_STEPS if profile == "pythia" else suite.steps))
    n_sequences = n_sequences or (1024 if profile == "pythia" else 256)
    sets = make_sets(suite, n_sequences, seed, max_rows, progress)
    dev = torch.device(device) if device else default_device()
    jobs = []
    for m in models:
        dtype = str(default_dtype(suite.spec(m), dev)).removeprefix("torch.")
        for s in steps:
            params = {"dtype": dtype, "per_position": s == suite.final_step}
            jobs.append(Job(suite.checkpoint(m, s), len(sets.tokens), tuple(sorted(params.items()))))

    def score(model, start, stop, params):
        tokens = sets.tokens[start:stop]
        losses = token_losses(model, tokens, batch_size=batch_size)
        div = ngram_divergences(model, tokens, sets.cond, sets.unigram_probs, batch_size=batch_size)
        frame = pd.DataFrame({"loss": losses.mean(1), **{k: np.nanmean(v, axis=1) for k, v in div.items()}})
        if params["per_position"]:
            frame["position_loss"] = list(losses.astype(np.float32))
        return frame

    task = ScoringTask("simplicity_bias", suite.name, sets.identity, SCORER, jobs, score,
                       available=lambda c: len(sets.tokens), chunk_rows=CHUNK_ROWS, device=str(dev))
    return Prepared(task, suite, models, steps, sets, n_sequences, seed, max_rows)


def score_suite(profile: str, writer: ResultWriter | None = None, cache: ScoreCache | None = None,
                progress: bool = True, **options) -> Scored:
    """Score every checkpoint (cached, resumable) and return per-row results and per-position curves.

    `options` are those of `prepare`."""
    prep = prepare(profile, progress=progress, **options)
    sets = prep.sets
    results, report = sweep(prep.task, cache=cache, progress=progress)
    if writer:
        writer.record_runtime(device=prep.task.device, suite=prep.suite.name)
        writer.record_input("ngram_sets", suite=prep.suite.name, identity=sets.identity, n_sequences=prep.n_sequences,
                            seed=prep.seed, training_rows=prep.max_rows or "all")
        record_checkpoints(writer, prep.suite, (job.checkpoint for job in prep.task.jobs))
    frames, positions = [], []
    for (ckpt, _), frame in results.items():
        frame = frame.assign(model=ckpt.model, step=ckpt.step, set=sets.labels[frame.row.to_numpy()])
        if "position_loss" in frame:
            for name, group in frame.groupby("set"):
                curve = np.stack(group.position_loss.to_numpy()).mean(0)
                positions.append(pd.DataFrame({"model": ckpt.model, "step": ckpt.step, "set": name,
                                               "position": np.arange(1, len(curve) + 1), "loss": curve}))
            frame = frame.drop(columns="position_loss")
        frames.append(frame)
    positions = pd.concat(positions, ignore_index=True) if positions else pd.DataFrame(
        columns=["model", "step", "set", "position", "loss"])
    return Scored(prep.suite, prep.models, prep.steps, sets, pd.concat(frames, ignore_index=True), positions, report)


def bootstrap_ci(values: np.ndarray, rng: np.random.Generator, n_boot: int = 1000) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean."""
    means = rng.choice(values, size=(n_boot, len(values))).mean(1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def scored_losses(scored: Scored, seed: int = 0) -> pd.DataFrame:
    """Long table shaped like the published one: model, variant, order (set), step, loss and 95% bootstrap bounds."""
    rng = np.random.default_rng(seed)
    rows = []
    for (model, step, name), group in scored.per_row.groupby(["model", "step", "set"], sort=True):
        low, high = bootstrap_ci(group.loss.to_numpy(), rng)
        rows.append({"model": model, "variant": "main", "order": name, "step": step,
                     "loss": group.loss.mean(), "loss_low": low, "loss_high": high})
    df = pd.DataFrame(rows)
    order = sorted(scored.models, key=lambda m: scored.suite.spec(m).params)
    df["model"] = pd.Categorical(df.model, order, ordered=True)
    return df.sort_values(["model", "order", "step"], ignore_index=True)


def divergences(scored: Scored) -> pd.DataFrame:
    """Mean per-token KL and JS between the n-gram models and each checkpoint, on held-out text."""
    held = scored.per_row[scored.per_row.set == "heldout"]
    cols = ["kl_bigram", "js_bigram", "kl_unigram", "js_unigram"]
    out = held.groupby(["model", "step"])[cols].mean().reset_index()
    out["params"] = out.model.map(lambda m: scored.suite.spec(m).params)
    return out.sort_values(["params", "step"], ignore_index=True)


def schedule_markers(suite: Suite) -> tuple[int, tuple[int, int]]:
    """The suite's equivalents of Pythia's early section (steps ≤ 512) and rise steps (1000, 2000).

    The early section is the log-spaced part of the schedule: it ends where the gaps between checkpoints
    stop growing and become even; the rise is read at the first two evenly spaced checkpoints.
    """
    steps = [s for s in suite.steps if s > 0]
    gaps = np.diff(steps)
    even = next((i for i in range(len(gaps) - 1) if gaps[i] == gaps[i + 1]), max(len(steps) - 2, 0))
    return steps[max(even - 1, 0)], (steps[even], steps[min(even + 1, len(steps) - 1)])


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
    """The published bigram-sample curves beside this profile's."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (name, df) in zip(axes, (("published (Pythia)", published[published.variant == "main"]), (label, scored))):
        sub = df[df.order == order].copy()
        sub["model"] = sub.model.cat.remove_unused_categories()
        sns.lineplot(sub, x="step", y="loss", hue="model", ax=ax, palette="viridis")
        step_axis(ax)
        ax.set_title(f"{name}: loss on {order}-sampled sequences", fontsize=9)
        ax.set_ylabel("mean loss (nats)")
        sns.move_legend(ax, "upper right", fontsize=6, title=None)
    fig.tight_layout()
    return fig


def describe_u_shape(summary: pd.DataFrame, label: str) -> list[str]:
    """Plain sentences: does each model's bigram-sample loss fall, rise, and fall again?"""
    lines = []
    for row in summary[summary.order == "bigram"].itertuples():
        shape = ("U shape: rises after its early minimum" if row.rises_after_early_min
                 else "NO U shape: does not rise after its early minimum")
        end = "ends below that minimum" if row.final_below_early_min else "ends above it"
        lines.append(f"{label} {row.model}: early minimum {row.early_min_loss:.3f} nats at step {row.early_min_step}; "
                     f"{shape}; {end} (final {row.final_loss:.3f}). Lowest {row.min_loss:.3f} at step "
                     f"{row.min_step}, then {row.final_loss - row.min_loss:+.3f} nats by the end.")
    return lines


def losses_for(profile: str, writer: ResultWriter | None = None, seed: int = 0,
               **scoring) -> tuple[pd.DataFrame, Scored | None, tuple[int, tuple[int, int]]]:
    """The loss table of a profile, the scores behind it (None when published), and its early/rise steps."""
    if profile == "published":
        return load_losses(writer), None, (EARLY_STEPS, (1000, 2000))
    scored = score_suite(profile, writer, seed=seed, **scoring)
    return scored_losses(scored, seed), scored, schedule_markers(scored.suite)
