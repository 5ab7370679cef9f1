"""Finding 3: few-shot arithmetic accuracy follows how often an operand appeared in training.

Published profile: the authors' per-operand accuracies (Pythia paper, after
Razeghi et al. 2022) for seven deduplicated models, six checkpoints, five shot
counts and two operations. The per-checkpoint operand counts were never
released, so the frequent-vs-rare gap is computed for a ranking the user gives
(default: a labelled proxy) next to the largest gap any ranking could produce.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..reference import ReferenceDataError, paths
from ..results import ResultWriter
from ..suite import V0_NAMES, pythia_suite
from . import Finding, reference_input

FINDING = Finding("term_frequency", "Term frequency effects over training", ("published",))

FOLDER = "published/term_frequency"
OPERATIONS = ("multiplication", "addition")
OPERANDS = range(100)
_TASK = re.compile(r"^num_reasoning_arithmetic_(multiplication|addition)_(\d+)$")
COLUMNS = ["model", "checkpoint", "task", "fewshot", "acc", "acc_stderr"]
OLD_TO_CURRENT = {f"{old}-deduped": f"{new}-deduped" for new, old in V0_NAMES.items()}
MAGNITUDE_PROXY = "magnitude"


def model_names() -> pd.DataFrame:
    """The file (old) name and current name of every released model."""
    rows = [{"file_name": p.rsplit("/", 1)[1].removesuffix(".csv")} for p in paths(FOLDER)]
    df = pd.DataFrame(rows)
    df["model"] = df.file_name.map(OLD_TO_CURRENT)
    suite = pythia_suite()
    df["params"] = df.model.map(lambda m: suite.spec(m).params)
    return df.sort_values("params", ignore_index=True)


def load_accuracy(writer: ResultWriter | None = None) -> pd.DataFrame:
    """Long table: model (current name), step, operation, operand x1, shots, acc, acc_stderr."""
    frames = []
    for row in model_names().itertuples():
        path = f"{FOLDER}/{row.file_name}.csv"
        local = reference_input(path, writer)
        raw = pd.read_csv(local)
        missing = set(COLUMNS) - set(raw.columns)
        if missing:
            raise ReferenceDataError(f"{local}: missing columns {sorted(missing)}")
        parsed = raw.task.str.extract(_TASK)
        if parsed.isna().any().any():
            bad = raw.task[parsed.isna().any(axis=1)].iloc[0]
            raise ReferenceDataError(f"{local}: unrecognised task name {bad!r}")
        frames.append(pd.DataFrame({
            "model": row.model, "params": row.params, "step": raw.checkpoint.astype(int),
            "operation": parsed[0], "x1": parsed[1].astype(int), "shots": raw.fewshot.astype(int),
            "acc": raw.acc.astype(float), "acc_stderr": raw.acc_stderr.astype(float),
        }))
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["params", "step", "operation", "shots", "x1"], ignore_index=True)


def mean_accuracy(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy over the 100 operands per model × step × shots × operation."""
    return (acc.groupby(["model", "params", "operation", "shots", "step"]).acc
            .agg(mean_acc="mean", n_operands="count").reset_index()
            .sort_values(["params", "operation", "shots", "step"], ignore_index=True))


def operand_ranking(ranking: str | Path = MAGNITUDE_PROXY) -> pd.Series:
    """A frequency score per operand 0–99 (higher = more frequent).

    `ranking="magnitude"` is a proxy, not the paper's counts: it assumes smaller
    numbers are more frequent in web text, so it is confounded with difficulty.
    Otherwise a CSV path with columns `operand,count` (e.g. counts from the Pile).
    """
    if str(ranking) == MAGNITUDE_PROXY:
        return pd.Series([-float(x) for x in OPERANDS], index=list(OPERANDS), name="score")
    table = pd.read_csv(ranking)
    if not {"operand", "count"} <= set(table.columns):
        raise ValueError(f"{ranking}: a ranking CSV needs columns 'operand' and 'count'")
    scores = table.set_index("operand")["count"].reindex(list(OPERANDS))
    if scores.isna().any():
        raise ValueError(f"{ranking}: no count for operands {list(scores.index[scores.isna()])}")
    return scores.astype(float).rename("score")


def frequency_gap(acc: pd.DataFrame, scores: pd.Series, k: int = 10) -> pd.DataFrame:
    """Accuracy gap in points: k most frequent minus k least frequent operands, and the largest gap any ranking gives."""
    order = scores.sort_values(kind="stable")
    rare, frequent = list(order.index[:k]), list(order.index[-k:])
    rows = []
    for key, group in acc.groupby(["model", "params", "operation", "shots", "step"]):
        by_operand = group.set_index("x1").acc
        sorted_acc = by_operand.sort_values().to_numpy()
        rows.append({
            **dict(zip(["model", "params", "operation", "shots", "step"], key)),
            "gap_points": 100 * (by_operand[frequent].mean() - by_operand[rare].mean()),
            "max_gap_points": 100 * (sorted_acc[-k:].mean() - sorted_acc[:k].mean()),
        })
    return pd.DataFrame(rows).sort_values(["params", "operation", "shots", "step"], ignore_index=True)


def heatmap_figure(acc: pd.DataFrame, model: str, shots: int):
    """Per-operand accuracy over checkpoints, one panel per operation."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sub = acc[(acc.model == model) & (acc.shots == shots)]
    fig, axes = plt.subplots(1, 2, figsize=(9, 7), sharey=True)
    for ax, op in zip(axes, OPERATIONS):
        table = sub[sub.operation == op].pivot(index="x1", columns="step", values="acc")
        sns.heatmap(table, vmin=0, vmax=1, cmap="viridis", ax=ax, cbar=op == OPERATIONS[-1])
        ax.set_title(f"{model}, {op}, {shots}-shot", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("operand x1")
    fig.tight_layout()
    return fig


def gap_figure(gaps: pd.DataFrame, shots: tuple[int, ...] = (0, 4, 16), operation: str = "multiplication"):
    """Gap (points) against step per model, one panel per shot count; dashed: the largest possible gap."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sub = gaps[(gaps.operation == operation) & gaps.shots.isin(shots)]
    models = list(sub.sort_values("params").model.unique())
    fig, axes = plt.subplots(1, len(shots), figsize=(4 * len(shots), 3.6), sharey=True)
    for ax, k in zip(axes, shots):
        panel = sub[sub.shots == k]
        sns.lineplot(panel, x="step", y="gap_points", hue="model", hue_order=models, palette="viridis",
                     marker="o", ax=ax, legend=k == shots[-1])
        sns.lineplot(panel, x="step", y="max_gap_points", hue="model", hue_order=models, palette="viridis",
                     ax=ax, linestyle="--", alpha=0.4, legend=False)
        ax.set_title(f"{operation}, {k}-shot")
        ax.set_ylabel("top-10 minus bottom-10 accuracy (points)")
    sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1), title="solid: ranking\ndashed: best ranking")
    fig.tight_layout()
    return fig
