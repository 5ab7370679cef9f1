"""Beyond the EMP paper: a learned predictor of which rows the target will memorize, at a compute budget.

The paper predicts with one 0/1 signal at a time (memorized by a smaller model, or by an early checkpoint).
Here a logistic model (statsmodels) combines what is available by the time the target reaches step s: how
far each of its checkpoints up to s reproduces the row (matched prefix / 32), the fractional k=32 scores of
the smaller final models that cost no more than the target up to s, how often the row's 32-token prefix and
64-token window occur in the tokens seen up to s (tokengrams suffix-array counts), the cheapest model's loss
on the row, and the row's position, and each threshold predictor's own 0/1 flag. It is fitted on half of the
rows and evaluated on the other half (identical windows always fall in the same half, memorized rows in both in
the same share), read at the precision of the best threshold predictor among its inputs, then compared with the
threshold predictors at equal compute, by the same interpolation as `memorization.equal_compute_comparison`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...paths import cache_home
from ...report import intervals
from ...report.claims import Claim, judged, untestable
from .equal_compute import EARLY, SMALLER, equal_compute_comparison
from .scores import Scored

SPLIT_SEED = 0
PRECISION_TARGET = 0.9
PREFIX, WINDOW = 32, 64


IN_MEMORY_TOKENS = 1 << 27  # above this, the suffix array is built on disk (10 bytes per token)


def occurrence_counts(stream: np.ndarray, queries: np.ndarray, in_memory: int = IN_MEMORY_TOKENS) -> np.ndarray:
    """How often each query (a row of token ids) occurs anywhere in `stream`, by a tokengrams suffix array:
    in memory for small streams, memory-mapped in a temporary folder of the package cache for large ones."""
    import tempfile

    from tokengrams import InMemoryIndex, MemmapIndex

    if len(stream) == 0:
        return np.zeros(len(queries), np.int64)
    vocab = int(max(stream.max(), queries.max())) + 1
    if len(stream) <= in_memory:
        index = InMemoryIndex(np.asarray(stream, np.uint16).tolist(), vocab)
        return np.array([index.count(q) for q in np.asarray(queries).tolist()], np.int64)
    folder = cache_home() / "ngram-index"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        text, table = f"{tmp}/tokens.bin", f"{tmp}/tokens.idx"
        np.asarray(stream, np.uint16).tofile(text)
        index = MemmapIndex.build(text, table, vocab, False)
        return np.array([index.count(q) for q in np.asarray(queries).tolist()], np.int64)


def split_groups(windows: np.ndarray, truth: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fit (True) or evaluate (False) per row. Every copy of a 64-token window is one group that is never split, and
    the groups go to two halves by scikit-learn's `StratifiedGroupKFold` (shuffled, seeded), so that both halves
    hold memorized rows in about the same share. (Contiguous blocks of rows, each copy with its first occurrence,
    put every often-copied passage in the first block: on the micro suite 324 memorized rows to fit, 29 to
    evaluate, none of them flagged by any smaller model.)"""
    from sklearn.model_selection import StratifiedGroupKFold

    _, groups = np.unique(windows, axis=0, return_inverse=True)
    folds = StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=seed)
    fit_rows, _ = next(folds.split(np.zeros(len(truth)), truth, groups.reshape(-1)))
    fit = np.zeros(len(truth), bool)
    fit[fit_rows] = True
    return fit


@dataclass
class Features:
    """Per common row: the inputs of the learned predictor at one budget, the truth, and the split."""

    step: int  # the target's checkpoint step that sets the budget
    table: pd.DataFrame  # feature columns, one row per common row
    truth: np.ndarray  # memorized by the target's final checkpoint
    fit: np.ndarray  # True: fitting split
    compute_fraction: float  # compute of all inputs / target's final compute
    inputs: tuple[str, ...] = ()  # the threshold predictors among the inputs, named as in `threshold_rows`


def features(scored: Scored, step: int) -> Features:
    """The predictor's inputs available once the target has trained to `step`: its checkpoints' matched prefixes,
    the fractional scores of the smaller final models that cost no more than that, duplicate counts in the tokens
    seen, the cheapest model's loss and the row's position. Compute: every distinct model trained for an input."""
    suite, target, n, final = scored.suite, scored.target, scored.common_rows, scored.suite.final_step
    flags = scored.flags[scored.flags.model == target]
    rows = suite.training_rows()
    windows = rows.windows(0, n, WINDOW)
    seen = rows.rows(0, min(suite.rows_per_step * step, rows.n_rows)).reshape(-1)
    budget = suite.compute(target, step)
    table = pd.DataFrame(
        {
            f"prefix_step{s}": flags[flags.step == s].sort_values("row").prefix_len.to_numpy() / PREFIX
            for s in scored.steps
            if s <= step
        }
    )
    smaller = [m for m in scored.models if m != target and suite.compute(m, final) <= budget]
    for model in smaller:
        finals = scored.finals[(scored.finals.model == model) & (scored.finals.row < n)].sort_values("row")
        table[f"score_{model}"] = finals.score.to_numpy()
    for column in list(table.columns):  # each threshold predictor's own 0/1 signal, so the fit can copy it
        table[f"memorized_{column.split('_', 1)[1]}"] = (table[column] == 1).astype(float)
    table["log_prefix_count"] = np.log1p(occurrence_counts(seen, windows[:, :PREFIX]))
    table["log_window_count"] = np.log1p(occurrence_counts(seen, windows))
    cheapest = scored.losses.sort_values("row")
    table["cheapest_loss"] = cheapest.loss.to_numpy()
    table["position"] = np.arange(n) / n
    truth = flags[flags.step == final].sort_values("row").memorized.to_numpy(bool)
    trained = {(target, step), (cheapest.model.iloc[0], final), *((m, final) for m in smaller)}
    compute = sum(suite.compute(m, s) for m, s in trained) / suite.compute(target, final)
    inputs = tuple(f"{target} @ step{s}" for s in scored.steps if s <= step) + tuple(
        f"{m} @ step{final}" for m in smaller
    )
    return Features(step, table, truth, split_groups(windows, truth, SPLIT_SEED), compute, inputs)


@dataclass
class Fitted:
    coefficients: pd.DataFrame  # term, coef, stderr, z, p_value, fit
    probability: np.ndarray  # for every row (fitting and evaluation)


RIDGE = 0.01  # penalty of the fallback fit, per row
COEF_DIGITS = 6  # significant digits kept of fitted values: beyond them, re-runs differ by float32 noise in the inputs
COEFFICIENT_NOTES = dict.fromkeys(("coef", "stderr", "z", "p_value"), f"rounded to {COEF_DIGITS} significant digits")


def _rounded(values) -> np.ndarray:
    return np.array([float(f"{v:.{COEF_DIGITS}g}") for v in np.asarray(values, dtype=float)])


def fit(feat: Features) -> Fitted:
    """Logistic regression on the fitting rows (standardized features), by maximum likelihood with standard
    errors; where the classes separate (or the fit does not converge), a ridge-penalized fit without standard
    errors, and the table says so."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

    x = feat.table.loc[:, feat.table[feat.fit].std() > 0]
    mean, std = x[feat.fit].mean(), x[feat.fit].std()
    design = sm.add_constant((x - mean) / std, has_constant="add")
    y = feat.truth.astype(float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in exp on the way to a separation
            result = sm.Logit(y[feat.fit], design[feat.fit]).fit(disp=0, maxiter=200)
        coef = pd.DataFrame(
            {
                "term": design.columns,
                "coef": _rounded(result.params),
                "stderr": _rounded(result.bse),
                "z": _rounded(result.tvalues),
                "p_value": _rounded(result.pvalues),
                "fit": "maximum likelihood",
            }
        )
        return Fitted(coef, np.asarray(result.predict(design)))
    except (PerfectSeparationError, PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError):
        glm = sm.GLM(y[feat.fit], design[feat.fit], family=sm.families.Binomial())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = glm.fit_regularized(alpha=RIDGE, L1_wt=0.0).params
        coef = pd.DataFrame(
            {
                "term": design.columns,
                "coef": _rounded(params),
                "stderr": np.nan,
                "z": np.nan,
                "p_value": np.nan,
                "fit": f"ridge-penalized, alpha {RIDGE} (classes separate)",
            }
        )
        return Fitted(coef, np.asarray(glm.predict(np.asarray(params), design)))


def pr_curve(score: np.ndarray, truth: np.ndarray) -> pd.DataFrame:
    """Precision and recall at every distinct score threshold (predict memorized when score ≥ threshold)."""
    order = np.argsort(-score, kind="stable")
    s, t = score[order], truth[order].astype(int)
    tp, k = np.cumsum(t), np.arange(1, len(t) + 1)
    last = np.r_[s[1:] != s[:-1], True]
    return pd.DataFrame({"threshold": s[last], "tp": tp[last], "predicted": k[last], "positives": t.sum()})


def average_precision(curve: pd.DataFrame) -> float:
    """Area under the precision–recall curve as the mean precision at each new true positive (step-wise)."""
    if curve.positives.iloc[0] == 0:
        return np.nan
    recall = curve.tp / curve.positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * curve.tp / curve.predicted))


def operating_point(
    curve: pd.DataFrame, precision_at_least: float | None = None, recall_at_least: float | None = None
) -> dict:
    """The threshold with the most recall at precision ≥ a floor (or most precision at recall ≥ a floor)."""
    precision, recall = curve.tp / curve.predicted, curve.tp / curve.positives
    if precision_at_least is not None:
        ok = curve[precision >= precision_at_least - 1e-12]
        pick = ok.loc[(ok.tp / ok.positives).idxmax()] if len(ok) else None
    else:
        ok = curve[recall >= recall_at_least - 1e-12]
        pick = ok.loc[(ok.tp / ok.predicted).idxmax()] if len(ok) else None
    if pick is None:
        return {"tp": 0, "predicted": 0, "positives": int(curve.positives.iloc[0])}
    return {"tp": int(pick.tp), "predicted": int(pick.predicted), "positives": int(pick.positives)}


def _metrics(prefix: str, tp: int, predicted: int, positives: int) -> dict:
    (p_low,), (p_high,) = intervals.wilson([tp], [predicted])
    (r_low,), (r_high,) = intervals.wilson([tp], [positives])
    return {
        f"{prefix}precision": tp / predicted if predicted else np.nan,
        f"{prefix}precision_ci95_low": p_low,
        f"{prefix}precision_ci95_high": p_high,
        f"{prefix}recall": tp / positives if positives else np.nan,
        f"{prefix}recall_ci95_low": r_low,
        f"{prefix}recall_ci95_high": r_high,
    }


def threshold_rows(scored: Scored, evaluate: np.ndarray) -> pd.DataFrame:
    """The paper's threshold predictors on the evaluation rows: each smaller final model and each target
    checkpoint, with the compute of its input."""
    suite, target, final = scored.suite, scored.target, scored.suite.final_step
    flags = scored.flags.sort_values("row")
    truth = flags[(flags.model == target) & (flags.step == final)].memorized.to_numpy(bool)[evaluate]
    rows = []
    for model in scored.models:
        for step in [final] if model != target else [s for s in scored.steps if s < final]:
            pred = flags[(flags.model == model) & (flags.step == step)].memorized.to_numpy(bool)[evaluate]
            kind = SMALLER if model != target else EARLY
            rows.append(
                {
                    "predictor": f"{model} @ step{step}",
                    "kind": kind,
                    "inputs": f"{model} step{step} flags",
                    "compute_fraction_of_target_final": suite.compute(model, step) / suite.compute(target, final),
                    **_metrics("", int((pred & truth).sum()), int(pred.sum()), int(truth.sum())),
                }
            )
    return pd.DataFrame(rows)


LEARNED = "learned (logistic)"


def best_input(thresholds: pd.DataFrame, inputs: tuple[str, ...]) -> pd.Series:
    """The threshold predictor among `inputs` with the most recall on the evaluation rows (then the most precision)."""
    own = thresholds[thresholds.predictor.isin(inputs)].copy()
    own["precision"] = own.precision.fillna(0.0)
    return own.sort_values(["recall", "precision"], ascending=False, kind="stable").iloc[0]


def reading(curve: pd.DataFrame, best: pd.Series) -> dict:
    """The learned predictor read at its best input's precision (recall compared) and at its recall (precision
    compared); where no input flags a row, at precision `PRECISION_TARGET`."""
    floor = float(best.precision) if best.recall > 0 else PRECISION_TARGET
    at_precision = operating_point(curve, precision_at_least=floor)
    at_recall = operating_point(curve, recall_at_least=best.recall)
    at_90 = operating_point(curve, precision_at_least=PRECISION_TARGET)
    return {
        "best_input": best.predictor,
        "best_input_precision": best.precision if best.recall > 0 else np.nan,
        "best_input_recall": best.recall,
        "read_at_precision": floor,
        **_metrics("", at_precision["tp"], at_precision["predicted"], at_precision["positives"]),
        **_metrics("at_equal_recall_", at_recall["tp"], at_recall["predicted"], at_recall["positives"]),
        "recall_at_precision_0.9": at_90["tp"] / at_90["positives"] if at_90["positives"] else np.nan,
        "average_precision": average_precision(curve),
    }


def evaluate(scored: Scored) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per budget (each target checkpoint before the final): the learned predictor on the evaluation rows, read
    against the best threshold predictor among its own inputs (`reading`), with its average precision; beside
    the threshold predictors and the fitted coefficients.

    Returns (table, coefficients, calibration)."""
    budgets = [s for s in scored.steps if s < scored.suite.final_step]
    feats = [features(scored, s) for s in budgets]
    evaluate_rows = ~feats[0].fit
    thresholds = threshold_rows(scored, evaluate_rows)
    rows, coefs, calib = [], [], []
    for feat in feats:
        fitted = fit(feat)
        truth, prob = feat.truth[~feat.fit], fitted.probability[~feat.fit]
        rows.append(
            {
                "predictor": f"{LEARNED} @ step{feat.step}",
                "kind": LEARNED,
                "inputs": ", ".join(feat.table.columns),
                "compute_fraction_of_target_final": feat.compute_fraction,
                **reading(pr_curve(prob, truth), best_input(thresholds, feat.inputs)),
                "fit": fitted.coefficients.fit.iloc[0],
                "evaluation_rows": int((~feat.fit).sum()),
                "evaluation_positives": int(truth.sum()),
                "fitting_rows": int(feat.fit.sum()),
                "fitting_positives": int(feat.truth[feat.fit].sum()),
            }
        )
        coefs.append(fitted.coefficients.assign(step=feat.step))
        bins = np.minimum((prob * 10).astype(int), 9)
        calib.append(
            pd.DataFrame({"step": feat.step, "bin": bins, "predicted": prob, "observed": truth})
            .groupby(["step", "bin"])
            .agg(predicted=("predicted", "mean"), observed=("observed", "mean"), rows=("observed", "size"))
            .reset_index()
        )
    table = pd.concat([thresholds, pd.DataFrame(rows)], ignore_index=True)
    return table, pd.concat(coefs, ignore_index=True), pd.concat(calib, ignore_index=True)


TABLE_NOTES = {
    f"{prefix}{m}_ci95_{end}": intervals.WILSON
    for prefix in ("", "at_equal_recall_")
    for m in ("precision", "recall")
    for end in ("low", "high")
}


def _curve_at(curve: pd.DataFrame, learned: pd.DataFrame, name: str) -> pd.DataFrame:
    """A threshold predictor family's recall, interpolated in log compute at each learned predictor's compute."""
    head = pd.concat([curve.assign(kind=SMALLER), learned.assign(kind=EARLY)], ignore_index=True)
    head = head.assign(tp_rows=0, predicted_rows=0, target_rows=0)
    cmp = equal_compute_comparison(head)
    cmp = cmp[cmp.metric == "recall"]
    family = "smaller models'" if name == "smaller" else "target checkpoints'"
    return pd.DataFrame(
        {
            "predictor": cmp.checkpoint.to_numpy(),
            f"{name}_recall_interpolated": cmp.smaller_value.to_numpy(),
            f"{name}_status": cmp.status.str.replace("smaller models'", family).to_numpy(),
        }
    )


def equal_compute(table: pd.DataFrame) -> pd.DataFrame:
    """Each learned predictor against both threshold families at its own compute: the smaller models' curve and
    the target checkpoints' curve, each interpolated in log compute (out of range: not compared)."""
    learned = table[table.kind == LEARNED]
    out = (
        learned[["predictor", "compute_fraction_of_target_final", "recall", "evaluation_positives"]]
        .rename(columns={"recall": "learned_recall"})
        .reset_index(drop=True)
    )
    for name, kind in (("smaller", SMALLER), ("checkpoint", EARLY)):
        out = out.merge(_curve_at(table[table.kind == kind], learned, name), on="predictor")
    out["best_threshold_recall"] = out[["smaller_recall_interpolated", "checkpoint_recall_interpolated"]].max(axis=1)
    out["learned_minus_best_points"] = 100 * (out.learned_recall - out.best_threshold_recall)
    bounds = [
        intervals.newcombe(a * n, n, b * n, n) if not np.isnan(b) else (np.nan, np.nan)
        for a, b, n in zip(out.learned_recall, out.best_threshold_recall, out.evaluation_positives)
    ]
    low, high = zip(*bounds) if bounds else ((), ())
    out["learned_minus_best_ci95_low"], out["learned_minus_best_ci95_high"] = 100 * np.array(low), 100 * np.array(high)
    return out


EQUAL_COMPUTE_NOTES = {  # recall points; both recalls on the same held-out positives, taken as independent samples
    "learned_minus_best_ci95_low": intervals.NEWCOMBE,
    "learned_minus_best_ci95_high": intervals.NEWCOMBE,
}


STATEMENT = (
    "A learned combination of cheap signals finds more of the rows the target will memorize than the best "
    "single threshold predictor at equal compute (this package, beyond the EMP paper)"
)


def learned_claim(comparison: pd.DataFrame | None) -> Claim:
    """Recall at its best input's precision beats the better threshold family (smaller models, target
    checkpoints), each interpolated at the learned predictor's compute, beyond the noise at most budgets, and on
    average."""
    id = "memorization.learned_predictor"
    test = (
        "on held-out rows (groups of identical windows, stratified), the learned predictor's recall at the "
        "precision of the best threshold predictor among its inputs (0.9 where none flags a row) exceeds "
        "the better of the smaller models' and the target checkpoints' recall, interpolated in log compute at "
        "its compute, beyond the difference's Newcombe interval (the two recalls as independent samples of the "
        "held-out positives: conservative) at most budgets where either is in range, and on average"
    )
    if comparison is None:
        return untestable(
            id,
            STATEMENT,
            test,
            "the published files hold aggregate matrices, not per-row scores, so no predictor can be fitted from them",
        )
    usable = comparison.dropna(subset=["learned_minus_best_points"])
    if usable.empty:
        return untestable(id, STATEMENT, test, "no budget whose compute lies inside a threshold family's range")
    wins = int((usable.learned_minus_best_ci95_low > 0).sum())
    mean = float(usable.learned_minus_best_points.mean())
    cells = "; ".join(
        f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]"
        for d, lo, hi in zip(
            usable.learned_minus_best_points, usable.learned_minus_best_ci95_low, usable.learned_minus_best_ci95_high
        )
    )
    return judged(
        id,
        STATEMENT,
        test,
        wins > len(usable) / 2 and mean > 0,
        f"learned beats the best threshold predictor beyond the interval at {wins} of {len(usable)} budgets, by "
        f"{mean:+.1f} recall points on average (per budget: {cells})",
        wins=wins,
        budgets=len(usable),
        mean_points=mean,
    )


def figure(table: pd.DataFrame, calibration: pd.DataFrame, target: str):
    """Recall against compute for the three kinds of predictor, and the learned predictor's calibration."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    sns.lineplot(
        table,
        x="compute_fraction_of_target_final",
        y="recall",
        hue="kind",
        style="kind",
        markers=True,
        dashes=False,
        ax=axes[0],
    )
    axes[0].set_xscale("log")
    axes[0].set_xlabel(f"compute of the inputs / {target} final compute")
    axes[0].set_ylabel("recall (held-out rows)")
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("learned: read at its best input's precision", fontsize=9)
    sns.move_legend(axes[0], "upper left", title=None, fontsize=7)
    last = calibration[calibration.step == calibration.step.max()]
    axes[1].plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    axes[1].plot(last.predicted, last.observed, marker="o", label=f"learned @ step{last.step.max()}")
    axes[1].set_xlabel("predicted probability (bin mean)")
    axes[1].set_ylabel("share memorized by the target")
    axes[1].set_title("calibration on held-out rows", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig
