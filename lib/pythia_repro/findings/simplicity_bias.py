"""Finding 2: the distributional simplicity bias (Belrose et al. 2024, language part).

Published profile: the authors' per-checkpoint mean loss on sequences sampled
from unigram and bigram models of the Pile, for every released model and seed.
A curve that first falls, then rises (a U shape) means the model first fits the
n-gram statistics and then moves beyond them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..plots import NATS_TO_BITS_PER_BYTE_PILE, step_axis
from ..reference import ReferenceDataError, paths
from ..results import ResultWriter
from ..suite import V0_NAMES
from . import Finding, reference_input

FINDING = Finding("simplicity_bias", "Distributional simplicity bias", ("published",))

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


def curve_summary(losses: pd.DataFrame) -> pd.DataFrame:
    """Per curve: the global minimum, the first (early) minimum, values at 1000/2000/143000, and the U-shape test."""
    rows = []
    for (model, variant, order), curve in losses.groupby(["model", "variant", "order"], observed=True):
        early = curve[curve.step <= EARLY_STEPS]
        first = early.loc[early.loss.idxmin()]
        best = curve.loc[curve.loss.idxmin()]
        at1000, at2000, final = (_value_at(curve, s) for s in (1000, 2000, curve.step.max()))
        rows.append({
            "model": model, "variant": variant, "order": order,
            "min_loss": best.loss, "min_step": int(best.step),
            "early_min_loss": first.loss, "early_min_step": int(first.step),
            "loss_step_1000": at1000, "loss_step_2000": at2000,
            "final_step": int(curve.step.max()), "final_loss": final,
            "rises_after_early_min": bool(max(at1000, at2000) > first.loss),
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
