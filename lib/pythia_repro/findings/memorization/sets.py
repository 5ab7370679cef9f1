"""The authors' memorized sets, row by row (EleutherAI/pythia-memorized-evals): what each checkpoint memorized.

Pure functions from the sets (sorted row indices per split, `data.memorized_evals`) to tables, and their figures:
the share of rows memorized (EMP Fig. 8), the correlation of two sets over the rows both were scored on (EMP
Figs. 1, 3 and 9: the Pearson correlation of the two 0/1 vectors, phi), precision and recall of one set predicting
another (EMP Figs. 2 and 10), and the memorized rows per training batch (Pythia Fig. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...data.memorized_evals import ROWS_PER_STEP, Split
from ...report import intervals

Sets = dict[Split, np.ndarray]
FRACTION_NOTES = {"fraction_ci95_low": intervals.WILSON, "fraction_ci95_high": intervals.WILSON}
PR_NOTES = {f"{m}_ci95_{end}": intervals.WILSON for m in ("precision", "recall") for end in ("low", "high")}


def suite_of(split: Split) -> str:
    return "deduplicated" if split.deduplicated else "standard"


def counts(sets: Sets, params: dict[str, int]) -> pd.DataFrame:
    """Per split: rows scored (every row the checkpoint was trained on), rows memorized, and their share (Wilson)."""
    rows = [
        {
            "split": s.name,
            "suite": suite_of(s),
            "model": s.model,
            "params": params[s.model.removesuffix("-deduped")],
            "step": s.step,
            "rows_evaluated": s.rows_evaluated,
            "memorized": len(index),
        }
        for s, index in sets.items()
    ]
    out = pd.DataFrame(rows).sort_values(["suite", "params", "step"], ignore_index=True)
    out["fraction"] = out.memorized / out.rows_evaluated
    out["fraction_ci95_low"], out["fraction_ci95_high"] = intervals.wilson(out.memorized, out.rows_evaluated)
    return out


def _below(index: np.ndarray, rows: int) -> np.ndarray:
    return index[: np.searchsorted(index, rows)]


def phi(a: np.ndarray, b: np.ndarray, rows: int) -> float:
    """Pearson correlation of two sets' 0/1 vectors over rows [0, rows): (n·n11 − n1·n2) / √(n1(n−n1)n2(n−n2))."""
    a, b = _below(a, rows), _below(b, rows)
    n1, n2 = len(a), len(b)
    n11 = len(np.intersect1d(a, b, assume_unique=True))
    denominator = np.sqrt(float(n1) * (rows - n1) * n2 * (rows - n2))
    return float((rows * n11 - n1 * n2) / denominator) if denominator > 0 else float("nan")


def correlations(sets: Sets, splits: list[Split]) -> pd.DataFrame:
    """Phi of every pair of `splits` (both orders, and 1 on the diagonal), over the rows both were scored on."""
    rows = []
    for a in splits:
        for b in splits:
            common = min(a.rows_evaluated, b.rows_evaluated)
            rows.append({"a": a.name, "b": b.name, "rows": common, "phi": phi(sets[a], sets[b], common)})
    return pd.DataFrame(rows)


def precision_recall(sets: Sets, target: Split, predictors: list[Split], rows: int) -> pd.DataFrame:
    """Each predictor's memorized set as a prediction of the target's, over rows [0, rows): precision (share of
    its rows the target memorized) and recall (share of the target's rows it holds), Wilson 95% intervals."""
    goal = _below(sets[target], rows)
    out = []
    for p in predictors:
        flagged = _below(sets[p], rows)
        hits = len(np.intersect1d(flagged, goal, assume_unique=True))
        out.append(
            {
                "target": target.name,
                "predictor": p.name,
                "model": p.model,
                "step": p.step,
                "rows": rows,
                "tp_rows": hits,
                "predicted_rows": len(flagged),
                "target_rows": len(goal),
            }
        )
    df = pd.DataFrame(out)
    for metric, n in (("precision", "predicted_rows"), ("recall", "target_rows")):
        df[metric] = df.tp_rows / df[n].where(df[n] > 0)
        df[f"{metric}_ci95_low"], df[f"{metric}_ci95_high"] = intervals.wilson(df.tp_rows, df[n])
    return df


def per_batch(split: Split, index: np.ndarray) -> np.ndarray:
    """Memorized rows in each training batch (step) the checkpoint was trained on."""
    return np.bincount(index // ROWS_PER_STEP, minlength=split.step)[: split.step]


# --- Figures ---


def fraction_figure(table: pd.DataFrame):
    """Share of the rows seen that each final model memorized, standard against deduplicated (EMP Fig. 8)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for suite, marker in (("standard", "o-"), ("deduplicated", "s--")):
        sub = table[(table.suite == suite) & (table.step == table.step.max())].sort_values("params")
        ax.errorbar(
            sub.params,
            100 * sub.fraction,
            yerr=[100 * (sub.fraction - sub.fraction_ci95_low), 100 * (sub.fraction_ci95_high - sub.fraction)],
            fmt=marker,
            capsize=2,
            label=suite,
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("% of the rows seen memorized")
    ax.legend()
    fig.tight_layout()
    return fig


def correlation_figure(panels: dict[str, pd.DataFrame]):
    """One heatmap of phi per panel (EMP Figs. 1, 3, 9)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4), squeeze=False)
    for ax, (title, table) in zip(axes[0], panels.items()):
        order = list(dict.fromkeys(table.a))
        matrix = table.pivot(index="a", columns="b", values="phi").loc[order, order]
        sns.heatmap(matrix, annot=len(order) <= 10, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def precision_recall_figure(table: pd.DataFrame, title: str):
    """Precision and recall of each predictor with Wilson intervals (EMP Fig. 10)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    x = np.arange(len(table))
    for offset, metric in ((-0.15, "precision"), (0.15, "recall")):
        values = table[metric]
        below, above = values - table[f"{metric}_ci95_low"], table[f"{metric}_ci95_high"] - values
        ax.errorbar(
            x + offset,
            values,
            yerr=[below.clip(lower=0).fillna(0), above.clip(lower=0).fillna(0)],  # rounding can cross the value
            fmt="o",
            capsize=2,
            label=metric,
        )
    ax.set_xticks(x, table.predictor, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
