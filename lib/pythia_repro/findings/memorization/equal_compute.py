"""Predictors compared at equal compute: a target checkpoint against the smaller models' curve, interpolated.

Shared by the memorization finding (the paper's two threshold predictors) and its learned predictor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...report import intervals

METRICS = {"precision": "predicted_rows", "recall": "target_rows"}  # metric → its denominator
SMALLER, EARLY = "smaller model, fully trained", "intermediate checkpoint of the target"
EQUAL_COMPUTE_COLUMNS = [
    "checkpoint",
    "checkpoint_compute",
    "metric",
    "checkpoint_value",
    "checkpoint_ci95_low",
    "checkpoint_ci95_high",
    "checkpoint_hits",
    "checkpoint_n",
    "smaller_below",
    "smaller_above",
    "smaller_below_hits",
    "smaller_below_n",
    "smaller_above_hits",
    "smaller_above_n",
    "weight_above",
    "smaller_value",
    "smaller_ci95_low",
    "smaller_ci95_high",
    "status",
]
EQUAL_COMPUTE_NOTES = {
    "checkpoint_ci95_low": intervals.WILSON,
    "checkpoint_ci95_high": intervals.WILSON,
    "smaller_ci95_low": intervals.INTERPOLATED_WILSON,
    "smaller_ci95_high": intervals.INTERPOLATED_WILSON,
    "smaller_value": "smaller models' value interpolated linearly in log compute",
}


def equal_compute_comparison(head: pd.DataFrame) -> pd.DataFrame:
    """Each checkpoint of the target against the smaller models' curve at the same compute, per metric.

    The smaller, fully trained models' precision and recall (and their Wilson bounds) are interpolated
    linearly in log(compute) between the two models that bracket the checkpoint's compute. A checkpoint
    outside the smaller models' compute range is reported as out of range, never paired with a model."""
    early = head[head.kind == EARLY]
    smaller = head[head.kind == SMALLER].sort_values("compute_fraction_of_target_final", ignore_index=True)
    x = np.log(smaller.compute_fraction_of_target_final.to_numpy())
    rows = []
    for ck in early.itertuples():
        cx = np.log(ck.compute_fraction_of_target_final)
        for metric, denominator in METRICS.items():
            row = {
                "checkpoint": ck.predictor,
                "checkpoint_compute": ck.compute_fraction_of_target_final,
                "metric": metric,
                "checkpoint_value": getattr(ck, metric),
                "checkpoint_ci95_low": getattr(ck, f"{metric}_ci95_low"),
                "checkpoint_ci95_high": getattr(ck, f"{metric}_ci95_high"),
                "checkpoint_hits": ck.tp_rows,
                "checkpoint_n": getattr(ck, denominator),
            }
            rows.append({**row, **_interpolated(smaller, x, cx, metric)})
    out = pd.DataFrame(rows, columns=EQUAL_COMPUTE_COLUMNS)
    undefined = out.checkpoint_value.isna() & (out.status == "compared")
    out.loc[undefined, "status"] = "not comparable (checkpoint: " + out.metric[undefined] + " undefined, no row)"
    out["difference"] = out.checkpoint_value - out.smaller_value
    out["winner"] = np.select(
        [out.difference > 0, out.difference < 0, out.difference == 0], ["checkpoint", "smaller model", "tie"], ""
    )
    out["beyond_intervals"] = (out.checkpoint_ci95_low > out.smaller_ci95_high) | (
        out.checkpoint_ci95_high < out.smaller_ci95_low
    )
    return out


def _interpolated(smaller: pd.DataFrame, x: np.ndarray, cx: float, metric: str) -> dict:
    """The smaller models' metric at log-compute `cx`, or the reason it cannot be read there."""
    empty = {
        "smaller_below": "",
        "smaller_above": "",
        "smaller_below_hits": np.nan,
        "smaller_below_n": np.nan,
        "smaller_above_hits": np.nan,
        "smaller_above_n": np.nan,
        "weight_above": np.nan,
        "smaller_value": np.nan,
        "smaller_ci95_low": np.nan,
        "smaller_ci95_high": np.nan,
    }
    if len(x) < 2 or not x[0] <= cx <= x[-1]:
        span = f"{np.exp(x[0]):.3g}–{np.exp(x[-1]):.3g}" if len(x) else "none"
        return {**empty, "status": f"out of range (smaller models' compute {span})"}
    hi = int(np.clip(np.searchsorted(x, cx), 1, len(x) - 1))
    lo = hi - 1
    w = float((cx - x[lo]) / (x[hi] - x[lo]))
    pick = lambda col: (1 - w) * smaller.at[lo, col] + w * smaller.at[hi, col]  # noqa: E731
    denominator = METRICS[metric]
    out = {
        "smaller_below": smaller.predictor[lo],
        "smaller_above": smaller.predictor[hi],
        "smaller_below_hits": smaller.tp_rows[lo],
        "smaller_below_n": smaller[denominator][lo],
        "smaller_above_hits": smaller.tp_rows[hi],
        "smaller_above_n": smaller[denominator][hi],
        "weight_above": w,
        "smaller_value": pick(metric),
        "smaller_ci95_low": pick(f"{metric}_ci95_low"),
        "smaller_ci95_high": pick(f"{metric}_ci95_high"),
    }
    undefined = [smaller.predictor[i] for i in (lo, hi) if np.isnan(smaller.at[i, metric])]
    status = f"not comparable ({', '.join(undefined)}: {metric} undefined, no row)" if undefined else "compared"
    return {**out, "status": status}


def equal_compute_verdicts(equal: pd.DataFrame) -> pd.DataFrame:
    """Per metric: how many comparable points each kind of predictor wins, and by how much (points)."""
    rows = []
    for metric in METRICS:
        sub = equal[equal.metric == metric]
        done = sub[sub.status == "compared"]
        diff = 100 * done.difference
        wins = {who: done.winner == who for who in ("checkpoint", "smaller model")}
        rows.append(
            {
                "metric": metric,
                "checkpoints": len(sub),
                "comparable": len(done),
                "out_of_range_or_undefined": len(sub) - len(done),
                "checkpoint_wins": int(wins["checkpoint"].sum()),
                "smaller_wins": int(wins["smaller model"].sum()),
                "ties": int((done.winner == "tie").sum()),
                "checkpoint_wins_beyond_intervals": int((wins["checkpoint"] & done.beyond_intervals).sum()),
                "smaller_wins_beyond_intervals": int((wins["smaller model"] & done.beyond_intervals).sum()),
                "mean_difference_points": diff.mean() if len(done) else np.nan,
                "min_difference_points": diff.min() if len(done) else np.nan,
                "max_difference_points": diff.max() if len(done) else np.nan,
            }
        )
    return pd.DataFrame(rows)
