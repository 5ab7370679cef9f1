"""Finding 1: which training rows a large model memorizes can be predicted from cheaper runs.

Published profile: precision and recall of memorized-row prediction from the
authors' confusion matrices (Biderman et al. 2023), for (a) a smaller model
predicting pythia-12b and (b) an intermediate checkpoint predicting the same
model's final checkpoint, set against the predictor's training compute.
"""

from __future__ import annotations

import pandas as pd

from ..reference import ReferenceDataError
from ..results import ResultWriter
from ..suite import V0_NAMES, pythia_suite
from . import Finding, reference_input

FINDING = Finding("memorization", "Emergent and predictable memorization", ("published",))

CONFUSION_FILE = "published/memorization/confusion_matrices.csv"
EXPERIMENTS = {
    "smaller_model_predicts_largest": "smaller model → pythia-12b (same checkpoint)",
    "checkpoint_predicts_final": "checkpoint → same model's final",
}
TARGET = "pythia-12b"
# The authors scored checkpoints every 20,000 steps from step 23,000; rows seen = 1024 × step.
EVALUATED_STEPS = tuple(range(23_000, 143_001, 20_000))
CELLS = ["tp", "fn", "fp", "tn"]
COLUMNS = ["experiment", "model", "model_v0_name", "checkpoint_million_sequences", *CELLS, "precision", "recall"]


def step_for_million_sequences(million: int, rows_per_step: int = 1024) -> int:
    """The evaluated step whose rows seen (×1e6, as labelled in the paper) is `million`."""
    step = min(EVALUATED_STEPS, key=lambda s: abs(s * rows_per_step / 1e6 - million))
    if abs(step * rows_per_step / 1e6 - million) >= 1:
        raise ValueError(f"no evaluated step has seen ~{million}M sequences")
    return step


def load_confusion(writer: ResultWriter | None = None) -> pd.DataFrame:
    """The published confusion matrices (fractions of rows), checked, with the step of each checkpoint."""
    path = reference_input(CONFUSION_FILE, writer)
    df = pd.read_csv(path)
    missing = set(COLUMNS) - set(df.columns)
    if missing:
        raise ReferenceDataError(f"{path}: missing columns {sorted(missing)}")
    sums = df[CELLS].sum(axis=1)
    if not sums.between(0.999, 1.001).all():
        raise ReferenceDataError(f"{path}: confusion cells do not sum to 1 in rows {list(df.index[~sums.between(0.999, 1.001)])}")
    df["step"] = df["checkpoint_million_sequences"].map(step_for_million_sequences)
    return df


def precision_recall(confusion: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and predictor compute per (experiment, model, checkpoint), derived from the cells."""
    suite = pythia_suite()
    final_compute = suite.compute(TARGET, suite.final_step)
    df = confusion.copy()
    df["precision"] = df.tp / (df.tp + df.fp)
    df["recall"] = df.tp / (df.tp + df.fn)
    df["predicted_memorized"] = df.tp + df.fp
    df["target_memorized"] = df.tp + df.fn
    df["params"] = df.model.map(lambda m: suite.spec(m).params)
    df["compute"] = [suite.compute(m, s) for m, s in zip(df.model, df.step)]
    df["compute_fraction_of_12b_final"] = df.compute / final_compute
    keep = ["experiment", "model", "model_v0_name", "params", "checkpoint_million_sequences", "step",
            "precision", "recall", "predicted_memorized", "target_memorized", "compute",
            "compute_fraction_of_12b_final"]
    return df[keep].sort_values(["experiment", "params", "step"], ignore_index=True)


def headline(pr: pd.DataFrame) -> pd.DataFrame:
    """Two kinds of predictor of pythia-12b's final memorization: smaller final models, and 12b checkpoints."""
    final = pr.step.max()
    smaller = pr[(pr.experiment == "smaller_model_predicts_largest") & (pr.step == final) & (pr.model != TARGET)]
    early = pr[(pr.experiment == "checkpoint_predicts_final") & (pr.model == TARGET) & (pr.step < final)]
    out = pd.concat([
        smaller.assign(kind="smaller model, fully trained", predictor=smaller.model + " (final)"),
        early.assign(kind="intermediate checkpoint of 12b",
                     predictor=TARGET + " @ " + early.checkpoint_million_sequences.astype(str) + "M sequences"),
    ])
    return out[["kind", "predictor", "compute_fraction_of_12b_final", "precision", "recall"]].reset_index(drop=True)


def grid(pr: pd.DataFrame, experiment: str, value: str) -> pd.DataFrame:
    """Model × checkpoint table of one metric, models ordered by size."""
    sub = pr[pr.experiment == experiment]
    table = sub.pivot(index="model", columns="checkpoint_million_sequences", values=value)
    table = table.reindex([m for m in V0_NAMES if m in table.index])
    table.columns = [f"{c}M" for c in table.columns]
    return table.reset_index()


def compute_figure(head: pd.DataFrame):
    """Precision and recall against the predictor's compute, for both kinds of predictor."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    for ax, metric in zip(axes, ["precision", "recall"]):
        sns.lineplot(head, x="compute_fraction_of_12b_final", y=metric, hue="kind", style="kind",
                     markers=True, dashes=False, ax=ax)
        ax.set_xscale("log")
        ax.set_xlabel("predictor compute / pythia-12b final compute")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{metric} of predicting pythia-12b's memorized rows")
    axes[1].get_legend().remove()
    fig.tight_layout()
    return fig


def grid_figure(pr: pd.DataFrame):
    """Heatmaps of precision and recall over model × checkpoint for both experiments."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for row, experiment in zip(axes, EXPERIMENTS):
        for ax, metric in zip(row, ["precision", "recall"]):
            table = grid(pr, experiment, metric).set_index("model")
            sns.heatmap(table, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", cbar=False, ax=ax)
            ax.set_title(f"{metric}: {EXPERIMENTS[experiment]}", fontsize=9)
            ax.set_xlabel("predictor checkpoint (sequences seen)")
            ax.set_ylabel("")
    fig.tight_layout()
    return fig


def equal_compute_comparison(head: pd.DataFrame) -> pd.DataFrame:
    """For each 12b checkpoint, the fully trained smaller model closest in compute (log scale), side by side."""
    import numpy as np

    early = head[head.kind == "intermediate checkpoint of 12b"]
    smaller = head[head.kind == "smaller model, fully trained"]
    rows = []
    for ck in early.itertuples():
        gap = np.abs(np.log(smaller.compute_fraction_of_12b_final.to_numpy()) - np.log(ck.compute_fraction_of_12b_final))
        sm = smaller.iloc[int(gap.argmin())]
        rows.append({"checkpoint": ck.predictor, "checkpoint_compute": ck.compute_fraction_of_12b_final,
                     "checkpoint_precision": ck.precision, "checkpoint_recall": ck.recall,
                     "smaller_model": sm.predictor, "smaller_compute": sm.compute_fraction_of_12b_final,
                     "smaller_precision": sm.precision, "smaller_recall": sm.recall,
                     "checkpoint_has_higher_recall": bool(ck.recall > sm.recall)})
    return pd.DataFrame(rows)
